//! A small WebDriver client for browser tests: starts `chromedriver`, opens headless Chromium,
//! and offers the handful of commands the tests use. Set `AIPASTA_BROWSER_TESTS=1` (CI does) to
//! make a missing browser a failure instead of a skip.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const REQUIRED_VAR: &str = "AIPASTA_BROWSER_TESTS";

pub struct Browser {
    client: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

#[derive(Clone, Debug)]
pub struct Element(String);

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

impl Browser {
    /// Starts a browser, or answers `None` (after saying why) when none is installed and
    /// browser tests are not required.
    pub async fn start() -> Option<Browser> {
        let required = std::env::var(REQUIRED_VAR).is_ok_and(|v| v == "1" || v == "true");
        let driver = find_program(&["chromedriver"]);
        let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            assert!(
                !required,
                "{REQUIRED_VAR} is set but chromedriver or chromium is not installed \
                 (Debian packages: chromium chromium-driver)"
            );
            eprintln!(
                "SKIPPED browser test: chromium/chromedriver not installed (set {REQUIRED_VAR}=1 to require them)"
            );
            return None;
        };
        Some(Browser::launch(&driver, &chromium).await)
    }

    async fn launch(driver: &Path, chromium: &Path) -> Browser {
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let client = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let ready = client.get(format!("{base}/status")).send().await;
            if let Ok(response) = ready {
                let status: Value = response.json().await.unwrap_or_default();
                if status["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:loggingPrefs": { "browser": "ALL" },
                "goog:chromeOptions": {
                    "binary": chromium.display().to_string(),
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--disable-quic", "--no-first-run",
                        "--window-size=1280,900",
                        format!("--user-data-dir={}", profile.path().display()),
                    ]
                }
            }}
        });
        let response: Value = client
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session JSON");
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"))
            .to_owned();
        Browser {
            client,
            base,
            session,
            driver,
            _profile: profile,
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.client.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status();
        let value: Value = response.json().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "WebDriver {path} failed ({status}): {value}"
        );
        value["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn refresh(&self) {
        self.command(reqwest::Method::POST, "/refresh", Some(json!({})))
            .await;
    }

    pub async fn find(&self, css: &str) -> Element {
        let value = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        let id = value[ELEMENT_KEY].as_str();
        Element(
            id.unwrap_or_else(|| panic!("no element for {css}: {value}"))
                .to_owned(),
        )
    }

    pub async fn click(&self, element: &Element) {
        let path = format!("/element/{}/click", element.0);
        self.command(reqwest::Method::POST, &path, Some(json!({})))
            .await;
    }

    /// Types `text` into an input, as a person would (key events included).
    pub async fn type_text(&self, element: &Element, text: &str) {
        let path = format!("/element/{}/value", element.0);
        self.command(reqwest::Method::POST, &path, Some(json!({ "text": text })))
            .await;
    }

    /// Evaluates `script` until it returns a truthy value, or fails after `seconds`.
    pub async fn wait_for(&self, script: &str, seconds: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let value = self.eval(script).await;
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!(0)
                && value != json!("");
            if truthy {
                return value;
            }
            assert!(Instant::now() < deadline, "timed out waiting for: {script}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `script` (a function body; `return` gives the result) in the page.
    pub async fn eval(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// Browser console entries at level SEVERE (errors, CSP violations, failed loads).
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self
            .command(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({ "type": "browser" })),
            )
            .await;
        entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn set_window_size(&self, width: u32, height: u32) {
        let rect = json!({ "width": width, "height": height });
        self.command(reqwest::Method::POST, "/window/rect", Some(rect))
            .await;
    }
}

impl Browser {
    /// Ends the WebDriver session, which quits Chromium, and waits for the answer. Blocking
    /// (plain HTTP over a socket) because it runs in `Drop`.
    fn end_session(&self) {
        use std::io::{Read, Write};
        let Some(address) = self.base.strip_prefix("http://") else {
            return;
        };
        let Ok(mut stream) = std::net::TcpStream::connect(address) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.session
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Killing chromedriver alone leaves its Chromium running (a CI machine collected
        // 144 Chromium processes over one test run): end the session first.
        self.end_session();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
