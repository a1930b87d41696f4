//! `perfcert bake` against a real Prometheus (tests/common/prom.rs) with series backfilled in
//! the past, and `--deployed-at` set so that the whole bake window is already over: every poll
//! is judged at once, so a 4-minute bake takes a fraction of a second. The exit code of each
//! status, the poll that stops a breaching bake, and the signed, create-only archived record.

mod common;

use std::path::Path;
use std::process::Output;

use common::bake::{Data, data, day, setup};
use common::prom::Prometheus;
use common::{command, text};

fn bake(dir: &Path, d: &Data, service: &str) -> Output {
    bake_for(dir, d, service, "4m")
}

fn bake_for(dir: &Path, d: &Data, service: &str, duration: &str) -> Output {
    command(dir)
        .args(["bake", "--service", service, "--version", "v1.4.2", "--baseline", "stable.json"])
        .args(["--deployed-at", &d.deployed.to_string(), "--duration", duration, "--poll", "1m"])
        .args(["--key", "cosign.key", "--archive", "archive"])
        .output()
        .unwrap()
}

fn record(dir: &Path) -> serde_json::Value {
    common::bake::read_record(&dir.join("perf_verification.json"))
}

#[test]
fn a_healthy_bake_passes_with_a_signed_record_archived_create_only() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir_with_keys();
    setup(dir.path(), &prom.url);
    let started = std::time::Instant::now();
    let out = bake(dir.path(), &d, "steady");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(started.elapsed().as_secs() < 30, "a past window is judged without waiting");
    let log = text(&out);
    assert_eq!(log.matches("poll ").count(), 4, "one line per poll: {log}");
    assert!(log.contains("poll 4 at ") && log.contains("PASS (4m judged)"), "{log}");

    let rec = record(dir.path());
    assert_eq!((&rec["status"], &rec["polls"], &rec["stopped_early"]), (&"PASS".into(), &4.into(), &false.into()));
    assert_eq!(rec["service"], "steady");
    assert_eq!(rec["version"], "v1.4.2");
    let deployed = jiff::Timestamp::from_second(d.deployed).unwrap().to_string();
    assert_eq!(rec["deployed_at"], deployed);
    assert_eq!(rec["sources"][0]["endpoint"], prom.url);
    assert_eq!(rec["sources"][0]["query"], "latency_p95{service=\"steady\"}");
    assert_eq!(rec["baseline"]["ref"], "stable.json");
    assert_eq!(rec["baseline"]["values"]["latency_p95"], 200.0);
    assert_eq!(rec["drift"]["status"], "PASS");
    assert_eq!(rec["slo"].as_array().unwrap().len(), 4, "four complete 1-minute windows against max");
    assert_eq!(rec["perfcert_version"], env!("CARGO_PKG_VERSION"));

    // Archived: the same bytes, signed by the key, the statement naming their sha256.
    let day = day(dir.path());
    let archived = dir.path().join(format!("archive/daily/{day}/steady-v1.4.2.verify.json"));
    let bytes = std::fs::read(&archived).unwrap();
    assert_eq!(bytes, std::fs::read(dir.path().join("perf_verification.json")).unwrap());
    let bundle =
        std::fs::read_to_string(dir.path().join(format!("archive/daily/{day}/steady-v1.4.2.verify.sigstore.json")))
            .unwrap();
    let public = std::fs::read_to_string(dir.path().join("cosign.pub")).unwrap();
    let statement =
        perfcert::signing::verify_other_with_key(&public, &bundle, "https://perfcert.dev/verification/v1").unwrap();
    // The same signature check as a certificate's, which refuses it: a record is no certificate.
    assert!(matches!(
        perfcert::signing::verify_with_key(&public, &bundle),
        Err(perfcert::signing::VerifyError::PredicateType(_))
    ));
    assert!(statement.signs_sha256(&perfcert::signing::sha256_hex(&bytes)));
    assert_eq!(statement.subject[0].name, "steady-v1.4.2.verify.json");
    assert_eq!(statement.predicate, rec);
    // Another key does not verify it.
    let other = common::workdir_with_keys();
    let other_pub = std::fs::read_to_string(other.path().join("cosign.pub")).unwrap();
    assert!(matches!(
        perfcert::signing::verify_other_with_key(&other_pub, &bundle, "https://perfcert.dev/verification/v1"),
        Err(perfcert::signing::VerifyError::KeyHint(_) | perfcert::signing::VerifyError::Signature)
    ));

    // `perfcert verify` checks it as it checks a certificate, and exits by its status.
    let rel = format!("archive/daily/{day}/steady-v1.4.2.verify.json");
    let out =
        command(dir.path()).args(["verify", &rel, "--key", "cosign.pub", "--service", "steady"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("verdict      PASS (steady v1.4.2, baked from "), "{}", text(&out));
    assert!(text(&out).contains("OK: the record file is exactly the signed predicate"), "{}", text(&out));
    let other_key = other.path().join("cosign.pub").display().to_string();
    let out = command(dir.path()).args(["verify", &rel, "--key", &other_key]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let out = command(dir.path()).args(["verify", &rel, "--key", "cosign.pub", "--version", "v9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    // Changed, or under another name: not authentic.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    let changed = String::from_utf8(bytes.clone()).unwrap().replace("\"PASS\"", "\"FAIL\"");
    std::fs::write(copy.join("steady-v1.4.2.verify.json"), changed).unwrap();
    std::fs::write(copy.join("steady-v1.4.2.verify.sigstore.json"), &bundle).unwrap();
    let out =
        command(dir.path()).args(["verify", "copy/steady-v1.4.2.verify.json", "--key", "cosign.pub"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("the file differs from the record that was signed"), "{}", text(&out));
    std::fs::write(copy.join("other-v1.verify.json"), &bytes).unwrap();
    std::fs::write(copy.join("other-v1.verify.sigstore.json"), &bundle).unwrap();
    let out =
        command(dir.path()).args(["verify", "copy/other-v1.verify.json", "--key", "cosign.pub"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("signed as steady-v1.4.2.verify.json, not as other-v1.verify.json"), "{}", text(&out));

    // A second bake of the same version that day: STEM.2; the first record is untouched.
    let out = bake(dir.path(), &d, "steady");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read(&archived).unwrap(), bytes);
    let second = dir.path().join(format!("archive/daily/{day}/steady-v1.4.2.2.verify.json"));
    assert!(second.exists(), "{}", text(&out));
    assert!(text(&out).contains("steady-v1.4.2.2.verify.json"), "{}", text(&out));
}

#[test]
fn an_slo_breach_rolls_back_at_the_first_breaching_window() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir_with_keys();
    setup(dir.path(), &prom.url);
    let out = bake(dir.path(), &d, "breach");
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    let log = text(&out);
    assert_eq!(log.matches("poll ").count(), 3, "stops at the poll that sees the window: {log}");
    let window = jiff::Timestamp::from_second(d.deployed + 120).unwrap().to_string();
    assert!(log.contains(&format!("SLO breach, latency_p95 mean 350 > max 300 in the window from {window}")), "{log}");
    let rec = record(dir.path());
    assert_eq!((&rec["status"], &rec["polls"], &rec["stopped_early"]), (&"ROLLBACK".into(), &3.into(), &true.into()));
    assert_eq!(rec["slo_breach"]["window_start"], window);
    let archived = format!("archive/daily/{}/breach-v1.4.2.verify.json", day(dir.path()));
    assert!(dir.path().join(&archived).exists());
    // An archive that cannot be written: after a ROLLBACK one error line and exit 6 all the
    // same; after a PASS it is the exit (3).
    std::fs::write(dir.path().join("not-a-dir"), "").unwrap();
    for (service, code) in [("breach", 6), ("steady", 3)] {
        let mut args = common::bake::args(&d, service, "4m");
        let at = args.iter().position(|a| a == "--archive").unwrap();
        args[at + 1] = "not-a-dir".into();
        let out = command(dir.path()).args(args).args(["--key", "cosign.key"]).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{}", text(&out));
        assert!(text(&out).contains("not-a-dir"), "{}", text(&out));
        assert_eq!(text(&out).contains("(the bake's ROLLBACK stands: exit 6)"), code == 6, "{}", text(&out));
    }
    // Verified, it exits 6 as the bake did.
    let out = command(dir.path()).args(["verify", &archived, "--key", "cosign.pub"]).output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(text(&out).contains("verdict      ROLLBACK (breach v1.4.2"), "{}", text(&out));
}

#[test]
fn a_gappy_series_is_inconclusive_and_bad_inputs_fail_before_any_poll() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir_with_keys();
    setup(dir.path(), &prom.url);
    let out = bake_for(dir.path(), &d, "gappy", "10m");
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("poll 10 at ") && text(&out).contains("INCONCLUSIVE (10m judged)"), "{}", text(&out));
    let rec = record(dir.path());
    assert_eq!((&rec["status"], &rec["polls"]), (&"INCONCLUSIVE".into(), &10.into()));
    let windows = rec["drift"]["metrics"][0]["windows"].as_array().unwrap();
    assert_eq!(windows.iter().filter(|w| w["status"] == "NODATA").count(), 4, "minutes 6 to 10");

    // A baseline without the metric: judged against nothing, INCONCLUSIVE, said once (not per poll).
    std::fs::write(dir.path().join("stable.json"), "{\"metrics\": {\"throughput\": 1000}}\n").unwrap();
    let out = bake(dir.path(), &d, "steady");
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert_eq!(text(&out).matches("stable.json has no value for it").count(), 1, "{}", text(&out));
    setup(dir.path(), &prom.url);

    // A wrong password is refused before the first poll, and nothing is written.
    std::fs::remove_file(dir.path().join("perf_verification.json")).unwrap();
    let out = command(dir.path())
        .args(["bake", "--service", "steady", "--version", "v2", "--baseline", "stable.json"])
        .args(["--deployed-at", &d.deployed.to_string(), "--duration", "4m", "--key", "cosign.key"])
        .env("COSIGN_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!text(&out).contains("poll "), "{}", text(&out));
    assert!(!dir.path().join("perf_verification.json").exists());
    // A bad span names the flag's expected form.
    let out = command(dir.path())
        .args(["bake", "--service", "s", "--version", "v", "--baseline", "stable.json", "--deployed-at", "0"])
        .args(["--duration", "30x", "--key", "cosign.key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("expected a whole number of s, m or h"), "{}", text(&out));
}

#[test]
fn a_bake_shorter_than_a_window_is_refused_and_early_polls_say_when_the_first_window_ends() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir_with_keys();
    setup(dir.path(), &prom.url);
    // Shorter than drift.window (1m): exit 2 before any poll; nothing signed or archived.
    let out = bake_for(dir.path(), &d, "steady", "30s");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--duration 30s is shorter than drift.window 1m"), "{}", text(&out));
    assert!(!text(&out).contains("poll "), "{}", text(&out));
    assert!(!dir.path().join("perf_verification.json").exists());
    assert!(!dir.path().join("archive").exists());

    // A poll before the first complete window says when it ends, not INCONCLUSIVE.
    let out = command(dir.path())
        .args(["bake", "--service", "steady", "--version", "v1.4.2", "--baseline", "stable.json"])
        .args(["--deployed-at", &d.deployed.to_string(), "--duration", "2m", "--poll", "30s"])
        .args(["--key", "cosign.key", "--archive", "archive"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let at = |s: i64| jiff::Timestamp::from_second(d.deployed + s).unwrap().to_string();
    let log = text(&out);
    assert!(log.contains(&format!("poll 1 at {}: waiting: the first 1m window ends {}", at(30), at(60))), "{log}");
    assert_eq!(log.matches("waiting:").count(), 1, "{log}");
    assert!(!log.contains("INCONCLUSIVE"), "{log}");
    assert!(log.contains(&format!("poll 2 at {}: PASS", at(60))), "{log}");
}

#[test]
fn a_record_is_filed_under_the_day_of_its_window_and_verify_knows_it_by_its_content() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir_with_keys();
    setup(dir.path(), &prom.url);
    // A bake judged long after its window (no data then: INCONCLUSIVE) is archived under the
    // day of its window's end, and says when it was made.
    let out = command(dir.path())
        .args(["bake", "--service", "steady", "--version", "v1.4.2", "--baseline", "stable.json"])
        .args(["--deployed-at", "2020-01-01T23:58:00Z", "--duration", "2m", "--poll", "1m"])
        .args(["--key", "cosign.key", "--archive", "archive"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert_eq!(day(dir.path()), "20200102", "the day of judged_to 2020-01-02T00:00:00Z, not the wall clock's");
    let rec = record(dir.path());
    assert_eq!(rec["window"]["judged_to"], "2020-01-02T00:00:00Z");
    let made: jiff::Timestamp = rec["made_at"].as_str().unwrap().parse().unwrap();
    assert!((jiff::Timestamp::now().as_second() - made.as_second()).abs() < 300, "{made}");

    // The record bake wrote to --output, alone: it is said to be bake's working copy, and the
    // archived copy is named (the day of judged_to), exit 2.
    let out = command(dir.path()).args(["verify", "perf_verification.json", "--key", "cosign.pub"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let log = text(&out);
    assert!(log.contains("perf_verification.json: a bake record written by `perfcert bake --output`"), "{log}");
    assert!(
        log.contains("verify the archived copy daily/20200102/steady-v1.4.2.verify.json (or STEM.N.verify.json"),
        "{log}"
    );
    assert!(!log.contains("pass --bundle"), "{log}");
    // With the archived bundle: a record (by the bundle's predicate type), not a certificate;
    // genuine but copied, so exit 2 (not 4), naming the archived copy to verify.
    let bundle = "archive/daily/20200102/steady-v1.4.2.verify.sigstore.json";
    let out = command(dir.path())
        .args(["verify", "perf_verification.json", "--bundle", bundle, "--key", "cosign.pub"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let log = text(&out);
    assert!(!log.contains("expected certificate") && !log.contains("predicate type"), "{log}");
    assert!(log.contains("a copy of a genuine bake record"), "{log}");
    assert!(log.contains("signed as steady-v1.4.2.verify.json, not as perf_verification.json"), "{log}");
    assert!(
        log.contains("verify the archived copy daily/20200102/steady-v1.4.2.verify.json in the bake's --archive"),
        "{log}"
    );
    // A changed copy is still not authentic (exit 4).
    let mut changed = record(dir.path());
    changed["polls"] = serde_json::json!(99);
    std::fs::write(dir.path().join("changed.json"), serde_json::to_vec_pretty(&changed).unwrap()).unwrap();
    let out = command(dir.path())
        .args(["verify", "changed.json", "--bundle", bundle, "--key", "cosign.pub"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    // The archived copy verifies, and exits 5 as the bake did.
    let out = command(dir.path())
        .args(["verify", "archive/daily/20200102/steady-v1.4.2.verify.json", "--key", "cosign.pub"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
}

/// The schema is not vacuous: a record it accepts is refused once changed.
#[test]
fn the_schema_refuses_a_record_with_a_wrong_field() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir_with_keys();
    setup(dir.path(), &prom.url);
    let out = bake(dir.path(), &d, "breach");
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    let rec = record(dir.path());
    for (pointer, value) in [
        ("/status", serde_json::json!("OK")),
        ("/polls", serde_json::json!(0)),
        ("/slo/0/mean", serde_json::json!("350")),
        ("/drift/status", serde_json::json!("GREEN")),
        ("/baseline/sha256", serde_json::json!("abc")),
    ] {
        let mut bad = rec.clone();
        *bad.pointer_mut(pointer).unwrap() = value;
        let refused = std::panic::catch_unwind(|| common::bake::check_schema(&bad));
        assert!(refused.is_err(), "{pointer} accepted");
    }
}

const AWS_SECRET: &str = "codedeploy-test-secret-never-printed";

/// A bake with --codedeploy-deployment-id against the CodeDeploy stand-in, AWS settings from the
/// environment only.
fn bake_codedeploy(dir: &Path, d: &Data, service: &str, id: &str, endpoint: &str) -> Output {
    // gappy is INCONCLUSIVE once its NODATA windows come, from minute 6.
    let duration = if service == "gappy" { "10m" } else { "4m" };
    let mut cmd = command(dir);
    cmd.args(common::bake::args(d, service, duration))
        .args(["--key", "cosign.key", "--codedeploy-deployment-id", id])
        .env("AWS_ACCESS_KEY_ID", "AKIDBAKE")
        .env("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_CODEDEPLOY", endpoint)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL");
    cmd.output().unwrap()
}

/// On a roll-back signal bake asks CodeDeploy, SigV4-signed (checked with botocore), to stop
/// the deployment with autoRollbackEnabled; the record says so and what CodeDeploy answered. A
/// refused stop is one line on stderr and the exit stays 6; PASS, FAIL and INCONCLUSIVE never call.
#[test]
fn a_rollback_asks_codedeploy_to_stop_and_roll_back_and_nothing_else_does() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let stub = common::prom::CodeDeployStub::start("AKIDBAKE", AWS_SECRET, "eu-west-1");
    let dir = common::workdir_with_keys();
    setup(dir.path(), &prom.url);

    let out = bake_codedeploy(dir.path(), &d, "breach", "d-ABC123", &stub.endpoint);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(text(&out).contains("CodeDeploy: deployment d-ABC123 Pending"), "{}", text(&out));
    let requests = stub.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let r = &requests[0];
    assert_eq!(r["verified"], true, "{r}");
    assert_eq!(r["target"], "CodeDeploy_20141006.StopDeployment");
    assert_eq!(r["content_type"], "application/x-amz-json-1.1");
    let body: serde_json::Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({ "deploymentId": "d-ABC123", "autoRollbackEnabled": true }));
    let rec = record(dir.path());
    assert_eq!(
        rec["codedeploy"],
        serde_json::json!({ "deployment_id": "d-ABC123", "stop_requested": true, "status": "Pending",
                            "status_message": "Stopping deployment d-ABC123", "error": null })
    );

    // CodeDeploy refuses (already completed): one line on stderr, exit 6 all the same, recorded.
    let out = bake_codedeploy(dir.path(), &d, "breach", "d-DONE", &stub.endpoint);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    let log = text(&out);
    let errors: Vec<&str> = log.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(
        errors,
        ["error: CodeDeploy did not stop deployment d-DONE: DeploymentAlreadyCompletedException: The deployment \
          d-DONE is already completed."]
    );
    let rec = record(dir.path());
    assert_eq!((&rec["codedeploy"]["stop_requested"], &rec["codedeploy"]["status"]), (&true.into(), &().into()));
    assert!(rec["codedeploy"]["error"].as_str().unwrap().starts_with("DeploymentAlreadyCompletedException"));
    assert_eq!(stub.requests().len(), 2);

    // Not reachable at all: still one line, still 6.
    let out = bake_codedeploy(dir.path(), &d, "breach", "d-X", "http://127.0.0.1:9");
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(text(&out).contains("error: CodeDeploy did not stop deployment d-X: http://127.0.0.1:9"), "{}", text(&out));
    assert!(!text(&out).contains(AWS_SECRET));

    // PASS and INCONCLUSIVE: no call; the record says none was requested.
    for (service, code) in [("steady", 0), ("gappy", 5)] {
        let out = bake_codedeploy(dir.path(), &d, service, "d-OTHER", &stub.endpoint);
        assert_eq!(out.status.code(), Some(code), "{}", text(&out));
        assert_eq!(record(dir.path())["codedeploy"]["stop_requested"], false);
    }
    assert_eq!(stub.requests().len(), 2, "never called on 0 or 5");
    // Without the flag the record says null.
    let out = bake(dir.path(), &d, "breach");
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert_eq!(record(dir.path())["codedeploy"], serde_json::Value::Null);
    assert_eq!(stub.requests().len(), 2);

    // No region: refused before the first poll.
    let mut cmd = command(dir.path());
    cmd.args(common::bake::args(&d, "breach", "4m"))
        .args(["--key", "cosign.key", "--codedeploy-deployment-id", "d-1"])
        .env("AWS_ACCESS_KEY_ID", "AKIDBAKE")
        .env("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        .env("AWS_CONFIG_FILE", dir.path().join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("no AWS region for CodeDeploy") && !text(&out).contains("poll "), "{}", text(&out));
}

#[test]
fn a_baseline_that_ends_after_the_deploy_or_is_of_another_service_is_refused_before_any_poll() {
    let d = data();
    let dir = common::workdir_with_keys();
    // Nothing listens: the refusals come before the first request.
    setup(dir.path(), "http://127.0.0.1:9");
    let at = |s: i64| jiff::Timestamp::from_second(s).unwrap().to_string();
    let write = |service: &str, to: i64| {
        let doc = serde_json::json!({
            "service": service, "metrics": { "latency_p95": 200 },
            "collected": { "from": at(d.deployed - 3600), "to": at(to),
                "sources": { "latency_p95": { "query": "latency_p95{service=\"steady\"}", "aggregate": "mean" } } }
        });
        std::fs::write(dir.path().join("stable.json"), doc.to_string()).unwrap();
    };
    write("steady", d.deployed + 60);
    let out = bake(dir.path(), &d, "steady");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "stable.json: the collected window (collected.to) ends at {}, after --deployed-at ({})",
            at(d.deployed + 60),
            at(d.deployed)
        )),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("poll "), "{}", text(&out));
    write("checkout", d.deployed);
    let out = bake(dir.path(), &d, "steady");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("is collected of service `checkout`, and --service is `steady`"), "{}", text(&out));
    write("steady", d.deployed);
    let out = bake(dir.path(), &d, "steady");
    assert_eq!(out.status.code(), Some(3), "accepted, then the unreachable source: {}", text(&out));
}

/// Issue 17 trial: a first bake needs no collected file. `--baseline-from/--baseline-to` is
/// drift's range baseline (the same query over a past range, which must end by
/// --deployed-at), and the record says its baseline was that range. A bake record used as the
/// baseline unchecked says how to check it, key-signed or keyless.
#[test]
fn a_first_bake_takes_its_baseline_from_a_past_range() {
    let d = data();
    let Some(prom) = Prometheus::start(&d.openmetrics) else { return };
    let dir = common::workdir_with_keys();
    setup(dir.path(), &prom.url);
    std::fs::remove_file(dir.path().join("stable.json")).unwrap();
    let at = |s: i64| jiff::Timestamp::from_second(s).unwrap().to_string();
    let bake_range = |from: i64, to: i64| {
        command(dir.path())
            .args(["bake", "--service", "steady", "--version", "v1.4.2"])
            .args(["--baseline-from", &at(from), "--baseline-to", &at(to)])
            .args(["--deployed-at", &d.deployed.to_string(), "--duration", "4m", "--poll", "1m"])
            .args(["--key", "cosign.key", "--archive", "archive"])
            .output()
            .unwrap()
    };
    let out = bake_range(d.deployed - 300, d.deployed + 60);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "--baseline-to ({}) is after --deployed-at ({})",
            at(d.deployed + 60),
            at(d.deployed)
        )),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("poll "), "{}", text(&out));
    assert!(!dir.path().join("archive").exists(), "nothing archived");

    let out = bake_range(d.deployed - 300, d.deployed);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rec = record(dir.path());
    let baseline = &rec["baseline"];
    assert_eq!(baseline["kind"], "range", "{baseline:#}");
    assert_eq!(baseline["range"]["from"], at(d.deployed - 300).as_str(), "{baseline:#}");
    assert_eq!(baseline["range"]["to"], at(d.deployed).as_str(), "{baseline:#}");
    assert!(baseline["sha256"].is_null(), "{baseline:#}");
    let mean = baseline["values"]["latency_p95"].as_f64().unwrap();
    assert!((194.0..=206.0).contains(&mean), "the mean of steady's samples before the deploy: {mean}");

    // --baseline and a range are one or the other.
    let out = command(dir.path())
        .args(["bake", "--service", "steady", "--version", "v1.4.2", "--baseline", "x.json"])
        .args(["--baseline-from", &at(d.deployed - 300), "--baseline-to", &at(d.deployed)])
        .args(["--deployed-at", &d.deployed.to_string(), "--key", "cosign.key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // That record as the next bake's baseline, unchecked: the warning says how to check it
    // either way (its window ends after this --deployed-at, so it is then refused).
    std::fs::copy(dir.path().join("perf_verification.json"), dir.path().join("previous.json")).unwrap();
    let out = command(dir.path())
        .args(["bake", "--service", "steady", "--version", "v1.4.3", "--baseline", "previous.json"])
        .args(["--deployed-at", &d.deployed.to_string(), "--duration", "4m", "--key", "cosign.key"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "previous.json: a bake record used as the baseline without checking its signature; pass --baseline-key \
             PUB (key-signed), or check it first with `perfcert verify previous.json --certificate-identity ... \
             --certificate-oidc-issuer ...` (keyless)"
        ),
        "{err}"
    );
    assert!(!err.contains("cosign.pub to verify it"), "{err}");
}
