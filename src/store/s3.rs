//! An archive in Amazon S3 (or an S3-compatible store), through aws-sdk-s3.
//!
//! Like `signing::keyless`, this module talks to the network, on a single-threaded runtime it
//! owns. Writes are create-only (`If-None-Match: *`): an object is never replaced. A create
//! refused because the key exists is success when the stored bytes are ours (a retried upload
//! whose first response was lost) and a [`S3Error::Conflict`] otherwise. Transient failures
//! (503 SlowDown, 500, connection resets, timeouts) are retried by the SDK with backoff, a
//! bounded number of times (3 attempts, or `AWS_MAX_ATTEMPTS`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockMode, ServerSideEncryption};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use aws_sdk_s3::config::ProvideCredentials;

use super::{Archive, Put, StoreError};
use crate::redact::{self, Redacted};

/// The object metadata key holding the object's sha256 (hex): `x-amz-meta-sha256`.
pub const SHA256_METADATA: &str = "sha256";

/// `s3://BUCKET[/PREFIX]`: where an archive lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
}

impl S3Location {
    /// The key of `relative` (e.g. `20261122/x.cert.json`) under the prefix.
    pub fn key(&self, relative: &str) -> String {
        if self.prefix.is_empty() { relative.to_string() } else { format!("{}/{relative}", self.prefix) }
    }

    pub fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix.as_str() {
            "" => write!(f, "s3://{}", self.bucket),
            p => write!(f, "s3://{}/{p}", self.bucket),
        }
    }
}

impl FromStr for S3Location {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let rest =
            value.strip_prefix("s3://").ok_or_else(|| format!("expected s3://BUCKET[/PREFIX], found `{value}`"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if !valid_bucket(bucket) {
            return Err(format!(
                "`{bucket}` is not a bucket name (3-63 characters: lowercase letters, digits, `.` and `-`), in `{value}`"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|part| part.is_empty() || part == "." || part == "..") && !prefix.is_empty() {
            return Err(format!("the prefix in `{value}` has an empty, `.` or `..` segment"));
        }
        Ok(S3Location { bucket: bucket.to_string(), prefix: prefix.to_string() })
    }
}

fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
}

/// Server-side encryption asked for on upload (default: the bucket's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    Aes256,
    Kms { key_id: Option<String> },
}

/// Object Lock retention asked for on upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub compliance: bool,
    pub until: jiff::Timestamp,
}

/// How objects are written.
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    pub encryption: Option<Encryption>,
    pub retention: Option<Retention>,
}

/// A failed S3 operation, said in one line: operation, object, HTTP status, code and message.
/// What the server or the SDK said is kept only as [`Redacted`] text: an endpoint or proxy
/// that echoes the request would otherwise show the session token and the signature.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("{op} {url}: {detail}")]
    Failed { op: &'static str, url: String, status: Option<u16>, detail: Redacted },
    #[error("{url}: already exists with other content; it is never overwritten")]
    Conflict { url: String },
    #[error("{url}: no such object")]
    NotFound { url: String },
    #[error("{0}")]
    Setup(String),
}

impl S3Error {
    fn from_sdk<E, R>(op: &'static str, url: String, err: SdkError<E, R>) -> S3Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
        SdkError<E, R>: HttpStatus,
    {
        let status = err.http_status();
        let detail = match &err {
            SdkError::ServiceError(ctx) => {
                let e = ctx.err();
                let mut s = status.map(|s| format!("HTTP {s}")).unwrap_or_default();
                for part in [e.code(), e.message()].into_iter().flatten() {
                    s.push_str(if s.is_empty() { "" } else { ": " });
                    s.push_str(part);
                }
                if s.is_empty() { "service error".to_string() } else { s }
            }
            SdkError::TimeoutError(_) => "timed out".to_string(),
            other => redact::chain(other),
        };
        let detail = redact::text(detail);
        S3Error::Failed { op, url, status, detail }
    }

    fn status(&self) -> Option<u16> {
        match self {
            S3Error::Failed { status, .. } => *status,
            _ => None,
        }
    }
}

/// The HTTP status of a failed SDK call, if a response came back.
trait HttpStatus {
    fn http_status(&self) -> Option<u16>;
}

impl<E> HttpStatus for SdkError<E, aws_sdk_s3::config::http::HttpResponse> {
    fn http_status(&self) -> Option<u16> {
        self.raw_response().map(|r| r.status().as_u16())
    }
}

/// A connected client and the runtime it runs on.
pub struct Store {
    runtime: tokio::runtime::Runtime,
    client: Client,
    /// A custom endpoint, for messages.
    endpoint: Option<String>,
}

const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and \
    AWS_SECRET_ACCESS_KEY), or run where a role is available (EC2, ECS, or a CI web identity)";

impl Store {
    /// Credentials and region from the standard AWS chain (environment, profiles, SSO, container
    /// and instance roles). `endpoint` (or `AWS_ENDPOINT_URL`) selects an S3-compatible store,
    /// addressed path-style; without a configured region it defaults to us-east-1 there.
    pub fn connect(endpoint: Option<&str>) -> Result<Store, S3Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| S3Error::Setup(format!("cannot start the network runtime: {e}")))?;
        let custom_endpoint = endpoint.is_some()
            || ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
                .iter()
                .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(Duration::from_secs(30))
            .operation_timeout(Duration::from_secs(120))
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(max_attempts()));
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        let sdk = runtime.block_on(loader.load());
        let mut config = aws_sdk_s3::config::Builder::from(&sdk);
        if sdk.region().is_none() {
            if !custom_endpoint {
                return Err(S3Error::Setup(
                    "no AWS region: set AWS_REGION (or a region in your AWS profile)".to_string(),
                ));
            }
            config = config.region(aws_sdk_s3::config::Region::new("us-east-1"));
        }
        if custom_endpoint {
            config = config.force_path_style(true);
        }
        // Resolve credentials now, so that a machine without any says so in a sentence before
        // anything is signed, not in the SDK's error chain after.
        let provider = sdk.credentials_provider().ok_or_else(|| S3Error::Setup(NO_CREDENTIALS.to_string()))?;
        let credentials = runtime.block_on(provider.provide_credentials()).map_err(|e| {
            let why = redact::text(redact::chain(&e));
            // CredentialsNotLoaded: no provider in the chain had any (its Display says so).
            if why.contains("no credentials found in chain") || why.contains("provider was not enabled") {
                S3Error::Setup(NO_CREDENTIALS.to_string())
            } else {
                S3Error::Setup(format!("the AWS credentials could not be loaded: {why}"))
            }
        })?;
        // Whatever the chain resolved (a profile, SSO, a web identity): never shown.
        redact::remember(credentials.secret_access_key());
        if let Some(token) = credentials.session_token() {
            redact::remember(token);
        }
        let endpoint = endpoint.map(str::to_string).or_else(|| {
            ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|v| !v.is_empty()))
        });
        Ok(Store { runtime, client: Client::from_conf(config.build()), endpoint })
    }

    /// Creates `bucket/key` with `bytes`, never replacing an object (see the module docs).
    pub fn put_new(
        &self,
        bucket: &str,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        options: &PutOptions,
    ) -> Result<Put, S3Error> {
        let url = format!("s3://{bucket}/{key}");
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
        let sha_hex = crate::signing::hex(digest.as_ref());
        let put = || {
            let mut req = self
                .client
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(ByteStream::from(bytes.to_vec()))
                .content_type(content_type)
                .if_none_match("*")
                .metadata(SHA256_METADATA, &sha_hex)
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(STANDARD.encode(digest.as_ref()));
            match &options.encryption {
                Some(Encryption::Aes256) => req = req.server_side_encryption(ServerSideEncryption::Aes256),
                Some(Encryption::Kms { key_id }) => {
                    req = req.server_side_encryption(ServerSideEncryption::AwsKms);
                    if let Some(id) = key_id {
                        req = req.ssekms_key_id(id);
                    }
                }
                None => {}
            }
            if let Some(r) = options.retention {
                let mode = if r.compliance { ObjectLockMode::Compliance } else { ObjectLockMode::Governance };
                req = req
                    .object_lock_mode(mode)
                    .object_lock_retain_until_date(aws_sdk_s3::primitives::DateTime::from_secs(r.until.as_second()));
            }
            let url = url.clone();
            async move { req.send().await.map(|_| ()).map_err(|e| S3Error::from_sdk("PutObject", url, e)) }
        };
        let mut result = self.runtime.block_on(put());
        // 409: a concurrent conditional write on the same key (AWS); the SDK does not retry it.
        if result.as_ref().err().and_then(S3Error::status) == Some(409) {
            result = self.runtime.block_on(put());
        }
        match result {
            Ok(()) => Ok(Put::Created),
            Err(e) if matches!(e.status(), Some(412 | 409)) => {
                if self.holds(bucket, key, bytes, &sha_hex)? {
                    Ok(Put::AlreadyThere)
                } else {
                    Err(S3Error::Conflict { url })
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the existing object holds exactly `bytes`.
    fn holds(&self, bucket: &str, key: &str, bytes: &[u8], sha_hex: &str) -> Result<bool, S3Error> {
        let stored = self.get(bucket, key)?;
        Ok(stored.len() == bytes.len() && crate::signing::sha256_hex(&stored) == sha_hex)
    }

    /// The object's bytes.
    pub fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, S3Error> {
        self.runtime.block_on(fetch(self.client.clone(), bucket.to_string(), key.to_string()))
    }

    /// Every key under `prefix` (all pages).
    pub fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, S3Error> {
        let url = format!("s3://{bucket}/{prefix}");
        self.runtime.block_on(async {
            let mut keys = vec![];
            let mut pages = self.client.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.plain(bucket, S3Error::from_sdk("ListObjectsV2", url.clone(), e)))?;
                keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
            }
            Ok(keys)
        })
    }

    /// The usual first-contact failures in a sentence: no bucket, no access, refused
    /// credentials, no connection. Others are kept as the SDK said them.
    fn plain(&self, bucket: &str, e: S3Error) -> S3Error {
        let S3Error::Failed { status, detail, .. } = &e else { return e };
        let at = match &self.endpoint {
            Some(url) => format!("s3://{bucket} (at {url})"),
            None => format!("s3://{bucket}"),
        };
        let says = |code: &str| detail.contains(code);
        let sentence = if says("NoSuchBucket") || *status == Some(404) {
            format!("{at}: no such bucket")
        } else if says("InvalidAccessKeyId") || says("SignatureDoesNotMatch") || says("ExpiredToken") {
            format!("{at}: the AWS credentials were refused ({}); check AWS_PROFILE or the access key", detail)
        } else if says("AccessDenied") || *status == Some(403) {
            format!(
                "{at}: access denied; the credentials need s3:ListBucket on the prefix (see the README's IAM policy)"
            )
        } else if status.is_none() {
            format!("{at}: cannot reach S3: {detail}")
        } else {
            return e;
        };
        S3Error::Setup(sentence)
    }

    /// Deletes an object (only a claim this run made and could not use).
    pub fn delete(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        let url = format!("s3://{bucket}/{key}");
        self.runtime.block_on(async {
            self.client
                .delete_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| S3Error::from_sdk("DeleteObject", url, e))
        })
    }

    /// The objects' bytes, fetched a few at a time; in the order asked.
    pub fn get_many(&self, bucket: &str, keys: &[String]) -> Vec<Result<Vec<u8>, S3Error>> {
        let mut all = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(16) {
            self.runtime.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for (i, key) in chunk.iter().enumerate() {
                    let fetched = fetch(self.client.clone(), bucket.to_string(), key.clone());
                    set.spawn(async move { (i, fetched.await) });
                }
                let mut done: Vec<_> = set.join_all().await;
                done.sort_by_key(|(i, _)| *i);
                all.extend(done.into_iter().map(|(_, r)| r));
            });
        }
        all
    }
}

/// One object's bytes; a missing key is [`S3Error::NotFound`].
async fn fetch(client: Client, bucket: String, key: String) -> Result<Vec<u8>, S3Error> {
    let url = format!("s3://{bucket}/{key}");
    let out = match client.get_object().bucket(&bucket).key(&key).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Err(S3Error::NotFound { url }),
        Err(e) => return Err(S3Error::from_sdk("GetObject", url, e)),
    };
    let body = out.body.collect().await.map_err(|e| S3Error::Failed {
        op: "GetObject",
        url,
        status: None,
        detail: redact::text(format_args!("reading the body: {}", redact::chain(&e))),
    })?;
    Ok(body.to_vec())
}

/// An archive under an S3 prefix.
pub struct S3Archive {
    store: Store,
    location: S3Location,
    options: PutOptions,
}

impl S3Archive {
    /// Connects (region and credentials resolved, see [`Store::connect`]); `options` apply to
    /// every object this archive creates.
    pub fn connect(location: S3Location, endpoint: Option<&str>, options: PutOptions) -> Result<S3Archive, S3Error> {
        Ok(S3Archive { store: Store::connect(endpoint)?, location, options })
    }

    pub fn location(&self) -> &S3Location {
        &self.location
    }

    fn map(&self, e: S3Error) -> StoreError {
        match e {
            S3Error::NotFound { url } => StoreError::NotFound { at: url },
            S3Error::Conflict { url } => StoreError::Taken { at: url },
            e => StoreError::S3(e),
        }
    }
}

impl Archive for S3Archive {
    fn root(&self) -> String {
        self.location.to_string()
    }

    fn show(&self, relative: &str) -> String {
        self.location.url(&self.location.key(relative))
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        let l = &self.location;
        let prefix = if l.prefix.is_empty() { String::new() } else { format!("{}/", l.prefix) };
        let keys = self.store.list(&l.bucket, &prefix).map_err(|e| self.map(e))?;
        Ok(keys.into_iter().filter_map(|k| k.strip_prefix(&prefix).map(str::to_string)).collect())
    }

    fn list_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let l = &self.location;
        let root = if l.prefix.is_empty() { String::new() } else { format!("{}/", l.prefix) };
        let keys = self.store.list(&l.bucket, &format!("{root}{prefix}")).map_err(|e| self.map(e))?;
        Ok(keys.into_iter().filter_map(|k| k.strip_prefix(&root).map(str::to_string)).collect())
    }

    fn read(&self, relative: &str) -> Result<Vec<u8>, StoreError> {
        self.store.get(&self.location.bucket, &self.location.key(relative)).map_err(|e| self.map(e))
    }

    fn read_many(&self, relative: &[String]) -> Vec<Result<Vec<u8>, StoreError>> {
        let keys: Vec<String> = relative.iter().map(|r| self.location.key(r)).collect();
        self.store.get_many(&self.location.bucket, &keys).into_iter().map(|r| r.map_err(|e| self.map(e))).collect()
    }

    fn create(&self, relative: &str, bytes: &[u8]) -> Result<Put, StoreError> {
        let key = self.location.key(relative);
        self.store
            .put_new(&self.location.bucket, &key, bytes, "application/json", &self.options)
            .map_err(|e| self.map(e))
    }

    fn release_claim(&self, names: &super::Names) -> Result<(), StoreError> {
        self.store.delete(&self.location.bucket, &self.location.key(&names.claim())).map_err(|e| self.map(e))
    }
}

fn max_attempts() -> u32 {
    std::env::var("AWS_MAX_ATTEMPTS").ok().and_then(|v| v.parse().ok()).filter(|n| (1..=10).contains(n)).unwrap_or(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_say_what_is_wrong() {
        let l: S3Location = "s3://perf-certs/team/a/".parse().unwrap();
        assert_eq!(l, S3Location { bucket: "perf-certs".into(), prefix: "team/a".into() });
        assert_eq!(l.key("20261122/x.cert.json"), "team/a/20261122/x.cert.json");
        assert_eq!(l.to_string(), "s3://perf-certs/team/a");
        let root: S3Location = "s3://perf-certs".parse().unwrap();
        assert_eq!(root.key("d/x"), "d/x");
        for (bad, says) in [
            ("perf-certs/a", "expected s3://BUCKET"),
            ("s3://", "not a bucket name"),
            ("s3://Perf_Certs/a", "not a bucket name"),
            ("s3://ab", "not a bucket name"),
            ("s3://perf-certs/a//b", "empty, `.` or `..` segment"),
            ("s3://perf-certs/../b", "empty, `.` or `..` segment"),
        ] {
            let err = bad.parse::<S3Location>().unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
