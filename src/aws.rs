//! AWS calls without an SDK client for the service: credentials and region from the standard
//! chain (environment, profiles, SSO, roles), and the SigV4 headers of one request. Used for
//! Amazon Managed Prometheus (`prometheus::client`, service `aps`) and CodeDeploy
//! ([`crate::codedeploy`], service `codedeploy`). Errors are one line, through [`crate::redact`].

use std::time::SystemTime;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::redact;

/// The standard chain's credentials and region, `what` naming the caller in messages (e.g.
/// `CodeDeploy`). The secret and session token are remembered by the redactor.
pub fn chain(runtime: &tokio::runtime::Runtime, what: &str) -> Result<(Credentials, Option<String>), String> {
    let none = || {
        format!(
            "no AWS credentials found for {what}: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), \
             or run where a role is available"
        )
    };
    let sdk = runtime.block_on(aws_config::defaults(BehaviorVersion::latest()).load());
    let provider = sdk.credentials_provider().ok_or_else(none)?;
    let credentials = runtime.block_on(provider.provide_credentials()).map_err(|e| {
        let why = redact::text(redact::chain(&e));
        if why.contains("no credentials found in chain") || why.contains("provider was not enabled") {
            none()
        } else {
            format!("the AWS credentials for {what} could not be loaded: {why}")
        }
    })?;
    redact::remember(credentials.secret_access_key());
    if let Some(token) = credentials.session_token() {
        redact::remember(token);
    }
    Ok((credentials, sdk.region().map(|r| r.to_string())))
}

/// The headers that sign `POST url` with `body` and `headers` (which are signed too) for
/// `service` in `region` at `time`: Authorization, X-Amz-Date, and X-Amz-Security-Token with
/// temporary credentials. `host` is added from the URL.
pub fn sigv4_post(
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    credentials: &Credentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            Some(match u.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .ok_or_else(|| format!("`{url}` is not a URL with a host"))?;
    let mut signed: Vec<(&str, &str)> = headers.to_vec();
    signed.push(("host", host.as_str()));
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into();
    let signable = SignableRequest::new("POST", url, signed.iter().copied(), SignableBody::Bytes(body))
        .map_err(|e| format!("cannot sign the request: {e}"))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| format!("cannot sign the request: {e}"))?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}
