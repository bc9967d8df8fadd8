//! A database that runs out of space, then gets it back: writes fail while it is full and work
//! again once space returns, on the same pool.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

use aipasta_store::testing::{TestDatabase, cap_sqlite_size};
use aipasta_store::{Backend, Query};

#[tokio::test]
async fn sqlite_writes_recover_once_space_returns() {
    let (_guard, db) = TestDatabase::migrated(Backend::Sqlite).await;
    Query::new("CREATE TABLE blob_store (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        .execute(&db)
        .await
        .unwrap();
    cap_sqlite_size(&db, Some(2)).await;
    let mut failures = 0;
    for round in 0..20 {
        let mut tx = db
            .begin()
            .await
            .unwrap_or_else(|e| panic!("begin while full (round {round}): {e}"));
        let written = Query::new("INSERT INTO blob_store (data) VALUES ($1)")
            .bind(vec![7_u8; 64 * 1024])
            .execute(&mut tx)
            .await;
        match written {
            Ok(_) => {
                if tx.commit().await.is_err() {
                    failures += 1;
                }
            }
            Err(error) => {
                assert!(error.to_string().contains("full"), "{error}");
                failures += 1;
            }
        }
    }
    assert!(failures > 0, "the cap made writes fail");
    cap_sqlite_size(&db, None).await;
    for round in 0..20 {
        let mut tx = db
            .begin()
            .await
            .unwrap_or_else(|e| panic!("begin after space returned (round {round}): {e}"));
        Query::new("INSERT INTO blob_store (data) VALUES ($1)")
            .bind(vec![7_u8; 1024])
            .execute(&mut tx)
            .await
            .unwrap_or_else(|e| panic!("write after space returned (round {round}): {e}"));
        tx.commit().await.unwrap();
    }
}
