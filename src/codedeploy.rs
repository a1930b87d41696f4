//! Asking AWS CodeDeploy to stop a deployment and roll it back (PERF-003 §7): one
//! `StopDeployment` call, AWS JSON 1.1 (`X-Amz-Target: CodeDeploy_20141006.StopDeployment`),
//! SigV4-signed for service `codedeploy` with credentials and region from the standard AWS chain
//! ([`crate::aws`]), without an SDK client. The endpoint is `AWS_ENDPOINT_URL_CODEDEPLOY`, else
//! `AWS_ENDPOINT_URL`, else `https://codedeploy.REGION.amazonaws.com`. Errors are one line,
//! through [`crate::redact`]. One request, timed out (5 s to connect, 30 s in all), not retried.

use std::time::{Duration, SystemTime};

use crate::redact;

/// CodeDeploy's answer to a stop: `Pending` or `Succeeded`, and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    pub status: String,
    pub message: Option<String>,
}

/// The endpoint for `region`, from the standard variables (`env` looks one up).
pub fn endpoint(region: &str, env: impl Fn(&str) -> Option<String>) -> String {
    crate::aws::endpoint(&["AWS_ENDPOINT_URL_CODEDEPLOY", "AWS_ENDPOINT_URL"], env, || {
        format!("https://codedeploy.{region}.amazonaws.com")
    })
}

/// The request body: stop `deployment_id` and roll back to the last good revision.
pub fn body(deployment_id: &str) -> String {
    serde_json::json!({ "deploymentId": deployment_id, "autoRollbackEnabled": true }).to_string()
}

/// Reads CodeDeploy's answer: the status on 200, else the error's type and message in one line.
pub fn parse(status: u16, text: &str) -> Result<Stopped, String> {
    let doc: Option<serde_json::Value> = serde_json::from_str(text).ok();
    let field = |name: &str| doc.as_ref().and_then(|d| d.get(name)).and_then(|v| v.as_str()).map(str::to_string);
    if status == 200 {
        return match field("status") {
            Some(s) => Ok(Stopped { status: s, message: field("statusMessage") }),
            None => Err(format!("HTTP 200 without a status: {}", one_line(text))),
        };
    }
    // `__type` may be `com.amazonaws.codedeploy#DeploymentAlreadyCompletedException`.
    Err(match crate::aws::error_fields(text) {
        (Some(k), Some(m)) => format!("{k}: {}", one_line(&m)),
        (Some(k), None) => format!("{k} (HTTP {status})"),
        (None, Some(m)) => format!("HTTP {status}: {}", one_line(&m)),
        (None, None) => format!("HTTP {status}: {}", one_line(text)),
    })
}

fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = joined.chars().take(300).collect();
    redact::text(short).to_string()
}

/// Credentials and a region are available: checked before a bake, so that a roll-back it
/// signals can be acted on.
pub fn check() -> Result<(), String> {
    let runtime = runtime()?;
    let (_, region) = crate::aws::chain(&runtime, "CodeDeploy")?;
    region.map(|_| ()).ok_or_else(no_region)
}

/// Stops `deployment_id` with `autoRollbackEnabled: true`.
pub fn stop(deployment_id: &str) -> Result<Stopped, String> {
    let runtime = runtime()?;
    let (credentials, region) = crate::aws::chain(&runtime, "CodeDeploy")?;
    let region = region.ok_or_else(no_region)?;
    let url = endpoint(&region, |name| std::env::var(name).ok());
    let body = body(deployment_id);
    let headers =
        [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", "CodeDeploy_20141006.StopDeployment")];
    let signed = crate::aws::sigv4_post(
        &url,
        &headers,
        body.as_bytes(),
        &credentials,
        &region,
        "codedeploy",
        SystemTime::now(),
    )?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("perfcert/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {}", redact::text(e)))?;
    let mut request = http.post(&url).body(body);
    for (name, value) in headers.iter().map(|&(k, v)| (k.to_string(), v.to_string())).chain(signed) {
        request = request.header(name, value);
    }
    let (status, text) = runtime
        .block_on(async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            Ok::<_, reqwest::Error>((status, response.text().await?))
        })
        .map_err(|e| format!("{url}: {}", redact::text(redact::chain(&e))))?;
    parse(status, &text)
}

fn no_region() -> String {
    "no AWS region for CodeDeploy: set AWS_REGION (or a region in the AWS profile)".into()
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the network runtime: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_the_service_variable_then_the_global_one_then_aws() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        assert_eq!(endpoint("eu-west-1", env(&[])), "https://codedeploy.eu-west-1.amazonaws.com");
        assert_eq!(endpoint("eu-west-1", env(&[("AWS_ENDPOINT_URL", "http://a")])), "http://a");
        let both = env(&[("AWS_ENDPOINT_URL", "http://a"), ("AWS_ENDPOINT_URL_CODEDEPLOY", "http://b")]);
        assert_eq!(endpoint("eu-west-1", both), "http://b");
        assert_eq!(
            endpoint("us-east-1", env(&[("AWS_ENDPOINT_URL_CODEDEPLOY", " ")])),
            "https://codedeploy.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn answers_and_errors_are_read_in_one_line() {
        assert_eq!(body("d-1"), r#"{"autoRollbackEnabled":true,"deploymentId":"d-1"}"#);
        assert_eq!(
            parse(200, r#"{"status":"Pending","statusMessage":"Stopping"}"#),
            Ok(Stopped { status: "Pending".into(), message: Some("Stopping".into()) })
        );
        assert_eq!(
            parse(
                400,
                r#"{"__type":"com.amazonaws.codedeploy#DeploymentAlreadyCompletedException","message":"done\nalready"}"#
            ),
            Err("DeploymentAlreadyCompletedException: done already".into())
        );
        assert_eq!(parse(403, r#"{"message":"denied"}"#), Err("HTTP 403: denied".into()));
        assert_eq!(parse(502, "<html>bad\ngateway</html>"), Err("HTTP 502: <html>bad gateway</html>".into()));
        assert!(parse(200, "{}").unwrap_err().contains("without a status"));
    }
}
