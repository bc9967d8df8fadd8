//! The binary's configuration and lifecycle, run as a real process: precedence of flags,
//! environment and `.env`; secret redaction; `migrate`; start-up, health and SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_aipasta");

/// Runs `aipasta` in `dir` with only `env` set (plus PATH), so the developer's own
/// environment cannot leak into the result.
fn aipasta(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BINARY);
    command.current_dir(dir).args(args).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        command.env("PATH", path);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("run aipasta: {e}"))
}

fn effective_config(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut all_args = vec!["config"];
    all_args.extend_from_slice(args);
    let output = aipasta(dir, &all_args, env);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("config JSON: {e}"))
}

#[test]
fn flags_override_environment_which_overrides_dotenv() {
    let dir = tempfile::tempdir().expect("temp dir");
    let defaults = effective_config(dir.path(), &[], &[]);
    assert_eq!(defaults["bind"], "127.0.0.1:3000");
    assert_eq!(defaults["data_dir"], "./data");
    assert_eq!(defaults["database_url"], "sqlite://./data/aipasta.db");

    std::fs::write(
        dir.path().join(".env"),
        "AIPASTA_BIND=127.0.0.1:4001\nAIPASTA_DATA_DIR=/from/dotenv\n",
    )
    .expect("write .env");
    let from_dotenv = effective_config(dir.path(), &[], &[]);
    assert_eq!(from_dotenv["bind"], "127.0.0.1:4001");
    assert_eq!(from_dotenv["data_dir"], "/from/dotenv");

    let from_env = effective_config(dir.path(), &[], &[("AIPASTA_BIND", "127.0.0.1:4002")]);
    assert_eq!(from_env["bind"], "127.0.0.1:4002", "environment beats .env");
    assert_eq!(
        from_env["data_dir"], "/from/dotenv",
        ".env still fills the rest"
    );

    let from_flag = effective_config(
        dir.path(),
        &["--bind", "127.0.0.1:4003"],
        &[("AIPASTA_BIND", "127.0.0.1:4002")],
    );
    assert_eq!(
        from_flag["bind"], "127.0.0.1:4003",
        "a flag beats the environment"
    );
}

#[test]
fn secrets_never_appear_in_output_or_help() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = [(
        "AIPASTA_DATABASE_URL",
        "postgres://app:hunter2@db.internal:5432/aipasta",
    )];
    let config = effective_config(dir.path(), &[], &env);
    assert_eq!(
        config["database_url"],
        "postgres://app:***@db.internal:5432/aipasta"
    );

    let help = aipasta(dir.path(), &["--help"], &env);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("AIPASTA_DATABASE_URL"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn version_flag_prints_the_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = aipasta(dir.path(), &["--version"], &[]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("aipasta {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn migrate_creates_the_sqlite_database_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("state");
    let data_dir_arg = data_dir.display().to_string();
    let first = aipasta(dir.path(), &["migrate", "--data-dir", &data_dir_arg], &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("Applied migrations"));
    assert!(data_dir.join("aipasta.db").exists());
    assert!(
        data_dir.join("aipasta.db-wal").exists()
            || data_dir.join("aipasta.db-shm").exists()
            || wal_mode(&data_dir),
        "SQLite runs in WAL mode"
    );

    let second = aipasta(dir.path(), &["migrate", "--data-dir", &data_dir_arg], &[]);
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));
}

/// WAL mode is recorded in the database header (bytes 18 and 19 are 2 in WAL mode).
fn wal_mode(data_dir: &Path) -> bool {
    std::fs::read(data_dir.join("aipasta.db"))
        .map(|bytes| bytes.len() > 19 && bytes[18] == 2 && bytes[19] == 2)
        .unwrap_or(false)
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("state").display().to_string();
    let output = aipasta(
        dir.path(),
        &["migrate", "--data-dir", &data_dir],
        &[("AIPASTA_LOG_FORMAT", "json")],
    );
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "migrate logs the migrations it applied");
    for line in lines {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(event["level"].is_string(), "{line}");
    }
}

#[test]
fn serve_starts_answers_health_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("state").display().to_string();
    let mut child = Command::new(BINARY)
        .current_dir(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir", &data_dir])
        .env("AIPASTA_LOG_FORMAT", "json")
        .env_remove("AIPASTA_DATABASE_URL")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aipasta serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("aipasta exited before listening"))
            .expect("read log line");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest
                .trim_end_matches(['"', '}'])
                .split('"')
                .next()
                .unwrap_or("")
                .to_owned();
        }
    };

    let health: Value = reqwest::blocking_get_json(&format!("http://{address}/api/health"));
    assert_eq!(health["data"]["status"], "ok");
    assert_eq!(health["data"]["database"], "sqlite");

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exit status after SIGTERM: {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "aipasta did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("received SIGTERM")),
        "{rest:?}"
    );
}

/// The signal handlers are in place by the time the server says it listens: a SIGTERM sent at
/// that moment stops it gracefully (exit code 0) rather than killing it.
#[test]
fn a_sigterm_as_soon_as_it_listens_stops_it_gracefully() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("state").display().to_string();
    let mut child = Command::new(BINARY)
        .current_dir(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir", &data_dir])
        .env("AIPASTA_LOG_FORMAT", "json")
        .env_remove("AIPASTA_DATABASE_URL")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aipasta serve");
    let _log = until_listening(&mut child);
    sigterm(&child);
    let status = child.wait().expect("wait");
    assert!(
        status.success(),
        "exit status after an early SIGTERM: {status}"
    );
}

/// A tiny blocking GET for the process test (the test itself is synchronous).
mod reqwest {
    pub fn blocking_get_json(url: &str) -> serde_json::Value {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            ::reqwest::get(url)
                .await
                .unwrap_or_else(|e| panic!("GET {url}: {e}"))
                .json()
                .await
                .unwrap_or_else(|e| panic!("JSON from {url}: {e}"))
        })
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

#[test]
fn database_passwords_in_the_query_are_redacted_in_config_and_connection_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = closed_port();
    for url in [
        format!("postgres://app@127.0.0.1:{port}/aipasta?password=hunter2"),
        format!("postgres://app@127.0.0.1:{port}/aipasta?sslmode=disable&password=hunter2"),
        format!("postgres://127.0.0.1:{port}/aipasta?user=app&PassWord=hunter2"),
        format!("postgres://app:hunter2@127.0.0.1:{port}/aipasta?sslmode=disable"),
    ] {
        let env = [("AIPASTA_DATABASE_URL", url.as_str())];
        let config = effective_config(dir.path(), &[], &env);
        let shown = config["database_url"].as_str().expect("database_url");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
        assert!(
            shown.contains(&format!("127.0.0.1:{port}/aipasta")),
            "{shown}"
        );

        // The connection fails (nothing listens there), after the pool's 5 s: the error names
        // the URL, redacted, and nothing logs the password. Twice is enough to show it.
        if !url.contains("PassWord") && !url.contains("&password") {
            continue;
        }
        let output = aipasta(dir.path(), &["migrate"], &env);
        assert!(!output.status.success());
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(said.contains("could not connect to postgres://"), "{said}");
        assert!(!said.contains("hunter2"), "{said}");
    }
}

/// Starts `aipasta serve` on a free port with `args`, waits until it says it listens, then
/// stops it with SIGTERM and waits for it to exit.
fn serve_once(dir: &Path, args: &[&str]) {
    let mut child = Command::new(BINARY)
        .current_dir(dir)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .env_clear()
        .env("AIPASTA_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aipasta serve");
    let _log = until_listening(&mut child);
    sigterm(&child);
    // Only the files it made matter here, not how it stopped.
    child.wait().expect("wait");
}

#[cfg(unix)]
#[test]
fn the_data_directory_the_database_and_the_secret_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("state").join("deeper");
    serve_once(dir.path(), &["--data-dir", &data_dir.display().to_string()]);
    assert_eq!(mode(&data_dir), 0o700, "the data directory");
    assert_eq!(mode(&dir.path().join("state")), 0o700, "a parent it made");
    assert_eq!(
        mode(&data_dir.join("secret.key")),
        0o600,
        "the server secret"
    );
    for file in ["aipasta.db", "aipasta.db-wal", "aipasta.db-shm"] {
        let path = data_dir.join(file);
        if file == "aipasta.db" || path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        }
    }

    // A command that makes the secret before it opens the database makes the directory the
    // same way; a SQLite file named by URL is private too.
    let other = dir.path().join("other");
    let url = format!("sqlite://{}", dir.path().join("named.db").display());
    let output = aipasta(
        dir.path(),
        &[
            "models",
            "sync",
            "--provider",
            "openrouter",
            "--openrouter-base-url",
            &format!("http://127.0.0.1:{}/api/v1", closed_port()),
            "--data-dir",
            &other.display().to_string(),
        ],
        &[("AIPASTA_DATABASE_URL", &url)],
    );
    assert!(!output.status.success(), "nothing answers at that address");
    assert_eq!(mode(&other), 0o700, "the data directory");
    assert_eq!(mode(&other.join("secret.key")), 0o600, "the server secret");
    assert_eq!(
        mode(&dir.path().join("named.db")),
        0o600,
        "the named SQLite file"
    );
}

/// Reads `child`'s log until it says it is listening; the rest of the log, kept open so the
/// server can still write to it.
fn until_listening(child: &mut Child) -> std::io::Lines<BufReader<ChildStderr>> {
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("aipasta exited before listening"))
            .expect("read log line");
        if line.contains("listening on http://") {
            return lines;
        }
    }
}

fn sigterm(child: &Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
}
