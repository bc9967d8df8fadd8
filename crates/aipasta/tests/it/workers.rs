//! The server's background work starts with `aipasta_web::serve` (the launcher the binary and
//! these tests share), under the engine's supervisor, and stops with it.

use std::time::{Duration, Instant};

use aipasta_engine::sync::EndpointSource;
use aipasta_mock::{MockConfig, MockServer, OPENAI_MODELS_PATH};
use aipasta_store::testing::{TestDatabase, backends, create_account};
use aipasta_store::{Db, Query};
use aipasta_web::WebConfig;

use crate::helpers::serve_app;

async fn sessions(db: &Db) -> i64 {
    Query::new("SELECT COUNT(*) FROM auth_sessions")
        .fetch_scalar::<i64>(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn expired_sessions_are_removed_when_the_server_starts() {
    for backend in backends() {
        let (database, db) = TestDatabase::migrated(backend).await;
        let user = create_account(&db, "ada@example.com", "user").await;
        let now = aipasta_core::clock::now_ms();
        for (hash, expires_at) in [("expired", now - 1_000), ("current", now + 3_600_000)] {
            aipasta_store::accounts::create_session(
                &db, hash, &user.id, "csrf", None, None, expires_at,
            )
            .await
            .unwrap();
        }
        assert_eq!(sessions(&db).await, 2, "{backend:?}");

        let app = serve_app(database, db.clone(), WebConfig::default()).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while sessions(&db).await != 1 {
            assert!(
                Instant::now() < deadline,
                "{backend:?}: the expired session is still there"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            app.state
                .engine
                .workers
                .running()
                .contains(&"session expiry"),
            "{backend:?}: the hourly expiry goes on"
        );
        let state = app.state.clone();
        app.stop().await.0.expect("the server stops cleanly");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            state.engine.workers.running(),
            Vec::<&str>::new(),
            "{backend:?}: every worker stops with the server"
        );
    }
}

#[tokio::test]
async fn the_periodic_sync_runs_while_the_server_does_and_stops_with_it() {
    let backend = backends()[0];
    let mock = MockServer::start(MockConfig::default()).await;
    let mut config = WebConfig::default();
    config.sync.openai_compatible = vec![EndpointSource {
        name: "local".into(),
        base_url: mock.openai_base_url(),
        api_key: None,
    }];
    config.sync_interval = Some(Duration::from_millis(100));
    let (database, db) = TestDatabase::migrated(backend).await;
    let app = serve_app(database, db, config).await;
    // One sync at start, then one every 100 ms.
    let deadline = Instant::now() + Duration::from_secs(5);
    while mock.request_count(OPENAI_MODELS_PATH) < 4 {
        assert!(
            Instant::now() < deadline,
            "the endpoint was asked {} times for its models",
            mock.request_count(OPENAI_MODELS_PATH)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await.0.expect("the server stops cleanly");
    let asked = mock.request_count(OPENAI_MODELS_PATH);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        mock.request_count(OPENAI_MODELS_PATH),
        asked,
        "no sync after the server stopped"
    );
}
