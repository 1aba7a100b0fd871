//! The `tillval` binary: it serves on the port it says, shuts down cleanly on SIGTERM, refuses
//! production without a secret, and prints the demo tokens.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_tillval");

#[test]
fn serve_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("bin.db").display());
    let mut child = Command::new(BINARY)
        .args([
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
            "--database",
            &database,
        ])
        .env_remove("TILLVAL_JWT_SECRET")
        .env_remove("TILLVAL_ENV")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the address is printed")
        .to_owned();
    let graphiql = lines.next().unwrap().unwrap();
    assert!(graphiql.contains("/graphiql"), "{graphiql}");
    let health = url.replace("/graphql", "/health");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async { reqwest::get(&health).await.unwrap().status().as_u16() });
    assert_eq!(status, 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exits cleanly: {status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop within 10 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_token_ttl_past_the_bounds_is_refused_without_a_panic() {
    for ttl in [
        "18446744073709551615",
        "9223372036854775807",
        "0",
        "-1",
        "31536001",
    ] {
        let output = Command::new(BINARY)
            .args(["token", "--tenant", "anna-svensson", "--ttl", ttl])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{ttl}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Within clap's range but past the maximum lifetime: refused by the issuer, in words.
    let output = Command::new(BINARY)
        .args(["token", "--tenant", "anna-svensson", "--ttl", "2000000"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("lives longer than"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn production_without_a_secret_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("prod.db").display());
    let output = Command::new(BINARY)
        .args([
            "serve",
            "--production",
            "--bind",
            "127.0.0.1:0",
            "--database",
            &database,
        ])
        .env_remove("TILLVAL_JWT_SECRET")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("TILLVAL_JWT_SECRET"));
    let output = Command::new(BINARY)
        .args(["serve", "--bind", "127.0.0.1:0", "--database", &database])
        .env("TILLVAL_ENV", "production")
        .env_remove("TILLVAL_JWT_SECRET")
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "TILLVAL_ENV=production counts too"
    );
}

#[test]
fn a_bad_trusted_documents_manifest_refuses_to_start_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("t.db").display());
    let wrong = dir.path().join("wrong.json");
    let zeros = "0".repeat(64);
    std::fs::write(
        &wrong,
        format!("{{\"{zeros}\": \"{{ terms {{ version }} }}\"}}"),
    )
    .unwrap();
    let cases = [
        (wrong.display().to_string(), "SHA-256 is"),
        (
            dir.path().join("missing.json").display().to_string(),
            "reading the trusted documents",
        ),
    ];
    for (manifest, why) in cases {
        let output = Command::new(BINARY)
            .args(["serve", "--bind", "127.0.0.1:0", "--database", &database])
            .args(["--trusted-documents", &manifest])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{manifest}");
        assert!(stderr.contains(why), "{manifest}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn documents_prints_the_manifest_file() {
    let output = Command::new(BINARY).arg("documents").output().unwrap();
    assert!(output.status.success());
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../trusted-documents.json");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        std::fs::read_to_string(file).unwrap()
    );
}

#[test]
fn demo_tokens_are_json_with_every_seed_case() {
    let output = Command::new(BINARY)
        .args(["demo", "tokens", "--json"])
        .env("TILLVAL_JWT_SECRET", "x".repeat(40))
        .output()
        .unwrap();
    assert!(output.status.success());
    let tenants: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let cases: Vec<&str> = tenants
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["case"].as_str().unwrap())
        .collect();
    assert_eq!(
        cases,
        ["free", "debt", "ongoing_order", "unpaid_fee", "piece_unit"]
    );
    for tenant in tenants.as_array().unwrap() {
        assert_eq!(tenant["token"].as_str().unwrap().split('.').count(), 3);
        assert!(
            tenant["rentalObjectId"]
                .as_str()
                .unwrap()
                .starts_with("gid://tillval/RentalObject/")
        );
    }
    let token = Command::new(BINARY)
        .args(["token", "--tenant", "ola", "--role", "staff", "--ttl", "60"])
        .env("TILLVAL_JWT_SECRET", "x".repeat(40))
        .output()
        .unwrap();
    assert!(token.status.success());
    let auth = tillval_graphql::auth::Auth::new("x".repeat(40).as_bytes()).unwrap();
    let identity = auth
        .verify(String::from_utf8(token.stdout).unwrap().trim())
        .unwrap();
    assert_eq!(
        identity,
        tillval_graphql::auth::Identity::Staff("ola".into())
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != "examples" {
                copy_dir(&path, &to.join(entry.file_name()));
            }
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn serve_watch_publishes_a_changed_folder_and_keeps_the_set_when_the_change_is_broken() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    copy_dir(&repo.join("rules"), &rules);
    let secret = "a-watch-test-secret-that-is-long-enough";
    let database = format!("sqlite://{}", dir.path().join("watch.db").display());
    let mut child = Command::new(BINARY)
        .args([
            "serve",
            "--demo",
            "--watch",
            "--bind",
            "127.0.0.1:0",
            "--database",
            &database,
            "--rules",
        ])
        .arg(&rules)
        .env("TILLVAL_JWT_SECRET", secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let token = tillval_graphql::auth::Auth::new(secret.as_bytes())
        .unwrap()
        .issue("anna-svensson", tillval_graphql::auth::Role::Tenant, 600)
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rule_set = || {
        runtime.block_on(async {
            let body = serde_json::json!({ "query": "{ catalogue(rentalObjectId: \"gid://tillval/RentalObject/lgh-1002\") { ruleSetVersion } }" });
            let client = reqwest::Client::new();
            let value: serde_json::Value =
                client.post(&url).bearer_auth(&token).json(&body).send().await.unwrap().json().await.unwrap();
            value["data"]["catalogue"]["ruleSetVersion"].as_str().unwrap_or("").to_owned()
        })
    };
    let wait_for = |wanted: &str| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = rule_set();
            if got == wanted {
                return;
            }
            assert!(Instant::now() < deadline, "still {got}, wanted {wanted}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait_for("1.0.0");
    let manifest = std::fs::read_to_string(rules.join("ruleset.toml")).unwrap();
    std::fs::write(
        rules.join("ruleset.toml"),
        manifest.replace("version = \"1.0.0\"", "version = \"1.1.0\""),
    )
    .unwrap();
    wait_for("1.1.0");
    // A broken change is refused; the running set stays.
    std::fs::write(
        rules.join("key_blocks.rhai"),
        "fn key_blocks(tenant, key) { [ ",
    )
    .unwrap();
    std::fs::write(
        rules.join("ruleset.toml"),
        manifest.replace("version = \"1.0.0\"", "version = \"1.2.0\""),
    )
    .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(rule_set(), "1.1.0");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[test]
fn webhooks_add_prints_the_secret_once_and_list_never_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("hooks.db").display());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(BINARY)
            .args(args)
            .args(["--database", &database])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = run(&[
        "webhooks",
        "add",
        "https://tf.example/hooks",
        "--description",
        "TF",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("secret (shown this once): "))
        .unwrap()
        .to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let (code, out, _) = run(&["webhooks", "list"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("https://tf.example/hooks"), "{out}");
    assert!(!out.contains(&secret), "the list shows the secret");
    assert!(out.contains("outbox: 0 pending"), "{out}");
    for bad in ["ftp://tf.example/", "not a url", "https://u:p@tf.example/"] {
        let (code, out, err) = run(&["webhooks", "add", bad]);
        assert_eq!(code, Some(2), "{bad}: {out}{err}");
        assert!(err.starts_with("url:"), "{bad}: {err}");
    }
}

#[test]
fn import_takes_a_file_all_or_nothing_and_says_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("import.db").display());
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let run = |args: &[&str]| {
        let out = std::process::Command::new(BINARY)
            .args(args)
            .args(["--database", &database])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let good = write(
        "facts.jsonl",
        "{\"type\":\"tenant\",\"id\":\"eva-ek\",\"version\":1,\"name\":\"Eva Ek\"}\n\
         {\"type\":\"debt\",\"id\":\"eva-ek\",\"version\":1,\"amount\":125000,\"currency\":\"SEK\"}\n",
    );
    let (code, out, err) = run(&["import", &good]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.starts_with("imported: 2 applied, 0 unchanged, 0 older"),
        "{out}"
    );
    let (code, out, _) = run(&["import", &good]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("imported: 0 applied, 2 unchanged"), "{out}");

    // A CSV by its ending, with one bad row: exit 2, every problem, nothing changed.
    let bad = write(
        "facts.csv",
        "type,id,version,name\ntenant,olle-ek,1,Olle Ek\ntenant,kim ek,1,Kim\n",
    );
    let (code, out, err) = run(&["import", &bad]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        err.contains("BAD_VALUE: line 3, field id"),
        "the problem names its line and field: {err}"
    );
    assert!(
        err.contains("refused: 1 problem(s), nothing changed"),
        "{err}"
    );
    // Olle's good row was not kept: alone, it is new.
    let olle = write(
        "olle.csv",
        "type,id,version,name\ntenant,olle-ek,1,Olle Ek\n",
    );
    let (code, out, _) = run(&["import", &olle]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("imported: 1 applied, 0 unchanged"), "{out}");
    let missing = dir.path().join("no-such-file.jsonl").display().to_string();
    let (code, _, err) = run(&["import", &missing]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no-such-file.jsonl"), "{err}");
}

#[test]
fn webhook_settings_that_would_deliver_twice_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("flags.db").display());
    for (flags, says) in [
        (
            vec!["--webhook-lease-secs", "5", "--webhook-timeout-secs", "10"],
            "must be longer than --webhook-timeout-secs",
        ),
        (vec!["--webhook-attempts", "0"], "webhook-attempts"),
        (vec!["--webhook-backoff-ms", "5"], "webhook-backoff-ms"),
    ] {
        let output = Command::new(BINARY)
            .args(["serve", "--bind", "127.0.0.1:0", "--database", &database])
            .args(&flags)
            .env_remove("TILLVAL_JWT_SECRET")
            .env_remove("TILLVAL_ENV")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{flags:?}");
        assert!(stderr.contains(says), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn backup_copies_a_serving_database_and_the_copy_serves() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    let database = format!("sqlite://{}", live.display());
    let mut child = Command::new(BINARY)
        .args([
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
            "--database",
            &database,
        ])
        .env_remove("TILLVAL_JWT_SECRET")
        .env_remove("TILLVAL_ENV")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = lines.next().unwrap().unwrap();
    assert!(started.contains("http://"), "{started}");

    // While it serves.
    let copy = dir.path().join("backup.db");
    let out = Command::new(BINARY)
        .args(["backup", copy.to_str().unwrap(), "--database", &database])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("integrity ok"), "{stdout}");
    let cases: u64 = stdout
        .split(", ")
        .find_map(|part| part.strip_suffix(" cases"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(cases >= 2, "{stdout}");
    child.kill().unwrap();
    child.wait().unwrap();

    // Again to the same name: refused, and the copy is untouched.
    let size = std::fs::metadata(&copy).unwrap().len();
    let out = Command::new(BINARY)
        .args(["backup", copy.to_str().unwrap(), "--database", &database])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("never overwrites"));
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), size);

    // Restored: the copy is a database the server (and a backup of it) reads.
    let restored = format!("sqlite://{}", copy.display());
    let again = dir.path().join("backup-of-backup.db");
    let out = Command::new(BINARY)
        .args(["backup", again.to_str().unwrap(), "--database", &restored])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{cases} cases")), "{stdout}");
}
