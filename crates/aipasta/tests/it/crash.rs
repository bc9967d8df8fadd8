//! `kill -9` under load loses nothing a client saw: the real binary is killed twice while
//! clients generate, whole and streamed; after a restart, every answer a client received is
//! stored as it was received, and every stream whose id a client saw has its row.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aipasta_mock::{MockConfig, MockServer};
use aipasta_store::testing::{TestDatabase, backends};
use aipasta_store::{Backend, Query};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_aipasta");
/// A model of the mock's OpenRouter list: the server syncs OpenRouter at start (it has a key),
/// which deprecates models the mock does not list.
const MODEL: &str = "mistralai/mistral-brio-2";
const CLIENTS: usize = 8;

/// `aipasta serve` as a child process.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(data_dir: &str, database_url: Option<&str>, mock: &MockServer) -> Server {
        let mut command = Command::new(BINARY);
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir", data_dir])
            .env("AIPASTA_LOG_FORMAT", "json")
            .env("AIPASTA_LOG", "warn,aipasta=info,aipasta_web=info")
            .env("AIPASTA_OPENROUTER_BASE_URL", mock.openrouter_base_url())
            .env("AIPASTA_OPENROUTER_API_KEY", "sk-or-v1-test")
            // The load below is far above the default per-account limit.
            .env("AIPASTA_API_RATE_LIMIT", "100000/min,burst=100000")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match database_url {
            Some(url) => command.env("AIPASTA_DATABASE_URL", url),
            None => command.env_remove("AIPASTA_DATABASE_URL"),
        };
        let mut child = command.spawn().expect("spawn aipasta serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let address = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("aipasta exited before listening"))
                .expect("read log line");
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split('"').next().unwrap_or("").to_owned();
            }
        };
        // Keep reading, so a full pipe never blocks the server.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Server { child, address }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// SIGKILL, as a crash or the OOM killer would.
    fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }
}

/// A test that fails half-way leaves no server behind.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What clients received: whole answers and streams that ended with `done` as `(id, text)`,
/// and the ids of streams whose `start` they saw.
#[derive(Default)]
struct Seen {
    answered: Vec<(String, String)>,
    stream_ids: Vec<String>,
}

async fn client_loop(
    client: reqwest::Client,
    url: String,
    token: String,
    streamed: bool,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) {
    while !stop.load(Ordering::Relaxed) {
        let sent = client
            .post(&url)
            .bearer_auth(&token)
            .json(&json!({ "prompt": "crash test", "stream": streamed }))
            .send()
            .await;
        let Ok(mut response) = sent else {
            continue;
        };
        if !response.status().is_success() {
            continue;
        }
        if !streamed {
            if let Ok(body) = response.json::<Value>().await
                && let (Some(id), Some(text)) = (
                    body["data"]["id"].as_str(),
                    body["data"]["content"].as_str(),
                )
            {
                let mut seen = seen.lock().unwrap();
                seen.answered.push((id.to_owned(), text.to_owned()));
            }
            continue;
        }
        let mut buffer = String::new();
        let mut id = None;
        let mut text = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let name = block
                    .lines()
                    .find_map(|l| l.strip_prefix("event:"))
                    .map(str::trim);
                let data: Value = block
                    .lines()
                    .find_map(|l| l.strip_prefix("data:"))
                    .and_then(|d| serde_json::from_str(d.trim()).ok())
                    .unwrap_or(Value::Null);
                match name {
                    Some("start") => {
                        let started = data["id"].as_str().unwrap_or_default().to_owned();
                        seen.lock().unwrap().stream_ids.push(started.clone());
                        id = Some(started);
                    }
                    Some("delta") => text.push_str(data["content"].as_str().unwrap_or_default()),
                    Some("done") => {
                        if let Some(id) = id.take() {
                            seen.lock()
                                .unwrap()
                                .answered
                                .push((id, std::mem::take(&mut text)));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Runs the clients against `server` for `load`, then kills it with SIGKILL mid-load.
async fn load_then_kill(server: Server, token: &str, seen: &Arc<Mutex<Seen>>, load: Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::new();
    let url = server.url(&format!("/api/models/{MODEL}/generate"));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            tokio::spawn(client_loop(
                client.clone(),
                url.clone(),
                token.to_owned(),
                i % 2 == 1,
                stop.clone(),
                seen.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(load).await;
    server.kill_9();
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let _ = tokio::time::timeout(Duration::from_secs(10), client).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_loses_nothing_a_client_saw() {
    for backend in backends() {
        let mock = MockServer::start(MockConfig::default()).await;
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data").display().to_string();
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(TestDatabase::create(Backend::Postgres).await),
        };
        let database_url = database.as_ref().map(|d| d.url.as_str());

        let server = Server::start(&data_dir, database_url, &mock);
        let signed_up: Value = reqwest::Client::new()
            .post(server.url("/api/auth/signup"))
            .json(&json!({"name": "Crash", "email": "crash@example.com", "password": "pasta al dente 42"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = signed_up["token"].as_str().expect("a token").to_owned();
        // Room for the whole load in the month's token allowance.
        {
            let db = match &database {
                Some(database) => database.connect().await,
                None => aipasta_store::Db::open_sqlite_in(std::path::Path::new(&data_dir))
                    .await
                    .unwrap(),
            };
            Query::new("UPDATE users SET monthly_token_limit = 100000000")
                .execute(&db)
                .await
                .unwrap();
            db.close().await;
        }

        let seen = Arc::new(Mutex::new(Seen::default()));
        load_then_kill(server, &token, &seen, Duration::from_millis(1500)).await;
        let server = Server::start(&data_dir, database_url, &mock);
        load_then_kill(server, &token, &seen, Duration::from_millis(1500)).await;

        let server = Server::start(&data_dir, database_url, &mock);
        let health = reqwest::get(server.url("/api/health")).await.unwrap();
        assert!(health.status().is_success(), "{backend:?}");
        let db = match &database {
            Some(database) => database.connect().await,
            None => aipasta_store::Db::open_sqlite_in(std::path::Path::new(&data_dir))
                .await
                .unwrap(),
        };
        let seen = std::mem::take(&mut *seen.lock().unwrap());
        assert!(
            seen.answered.len() > 20,
            "{backend:?}: the load was too light to prove anything ({} answers)",
            seen.answered.len()
        );
        let started = Instant::now();
        let mut lost = Vec::new();
        for (id, text) in &seen.answered {
            let stored: Option<(String, String)> =
                Query::new("SELECT status, output_content FROM generations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&db)
                    .await
                    .unwrap();
            if stored.as_ref() != Some(&("success".to_owned(), text.clone())) {
                lost.push((id.clone(), stored));
            }
        }
        assert!(
            lost.is_empty(),
            "{backend:?}: {} of {} answers clients received are not stored as received: {lost:?}",
            lost.len(),
            seen.answered.len()
        );
        for id in &seen.stream_ids {
            let found: Option<(String,)> =
                Query::new("SELECT status FROM generations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&db)
                    .await
                    .unwrap();
            assert!(
                found.is_some(),
                "{backend:?}: the stream {id} a client saw has no row"
            );
        }
        eprintln!(
            "{backend:?}: {} answers and {} stream ids checked in {:?}",
            seen.answered.len(),
            seen.stream_ids.len(),
            started.elapsed()
        );
        db.close().await;
        server.kill_9();
    }
}
