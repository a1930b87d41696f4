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

/// The code and message of an AWS JSON protocol error body (`{"__type": "prefix#Code",
/// "message": "..."}`; also `code`/`Code`, `Message`): the code without its namespace. Either is
/// `None` when the body does not say it (or is not JSON); callers quote the body instead.
pub fn error_fields(body: &str) -> (Option<String>, Option<String>) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else { return (None, None) };
    let field = |keys: &[&str]| keys.iter().find_map(|k| v.get(*k)?.as_str().map(str::to_string));
    let code = field(&["__type", "code", "Code"]).map(|c| c.rsplit('#').next().unwrap_or(&c).to_string());
    (code, field(&["message", "Message"]))
}

/// The endpoint from the SDKs' standard variables: the first of `vars` (e.g.
/// `AWS_ENDPOINT_URL_CLOUDWATCH`, `AWS_ENDPOINT_URL`) that `env` finds non-empty, else
/// `default`. Any userinfo (`http://USER:PASSWORD@host`) is stripped, and the password
/// remembered by the redactor: SigV4 signs the request (a URL's credentials would not be used)
/// and the endpoint is printed in messages, so a password must never reach them.
pub fn endpoint(vars: &[&str], env: impl Fn(&str) -> Option<String>, default: impl FnOnce() -> String) -> String {
    let set = vars.iter().find_map(|name| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()));
    match set {
        Some(url) => without_userinfo(&url),
        None => default(),
    }
}

/// `url` without the `USER[:PASSWORD]@` of its authority (the password goes to the redactor).
pub fn without_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            if let Some((_, password)) = authority[..at].split_once(':') {
                redact::remember(password);
            }
            format!("{}{}{}", &url[..scheme_end], &authority[at + 1..], &rest[authority_end..])
        }
        None => url.to_string(),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_never_keeps_its_userinfo() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        let vars = ["AWS_ENDPOINT_URL_X", "AWS_ENDPOINT_URL"];
        let got = endpoint(&vars, env(&[("AWS_ENDPOINT_URL", "http://u:s3cretpass@127.0.0.1:9/p?q=1")]), String::new);
        assert_eq!(got, "http://127.0.0.1:9/p?q=1");
        assert_eq!(endpoint(&vars, env(&[("AWS_ENDPOINT_URL_X", " https://only@h ")]), String::new), "https://h");
        assert_eq!(endpoint(&vars, env(&[("AWS_ENDPOINT_URL_X", "http://h:1/a@b")]), String::new), "http://h:1/a@b");
        assert_eq!(endpoint(&vars, env(&[("AWS_ENDPOINT_URL", " ")]), || "https://d".into()), "https://d");
        // The password is redacted wherever else it might show.
        assert!(!redact::text("failed at http://u:s3cretpass@h").contains("s3cretpass"));
    }
}
