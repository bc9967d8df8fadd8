//! `Db::begin` is for writing: a transaction that reads, then writes after another connection
//! wrote in between, must still commit (on SQLite a deferred transaction fails there).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

use std::time::Duration;

use aipasta_store::Query;
use aipasta_store::testing::{TestDatabase, backends};

#[tokio::test]
async fn a_transaction_that_reads_then_writes_survives_a_concurrent_writer() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        Query::new("CREATE TABLE tally (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)")
            .execute(&db)
            .await
            .unwrap();
        Query::new("INSERT INTO tally (id, n) VALUES (1, 0), (2, 0)")
            .execute(&db)
            .await
            .unwrap();

        let mut tx = db.begin().await.unwrap();
        let before: i64 = Query::new("SELECT n FROM tally WHERE id = 1")
            .fetch_scalar(&mut tx)
            .await
            .unwrap();
        // Another connection writes while the transaction is open.
        let other = tokio::spawn({
            let db = db.clone();
            async move {
                Query::new("UPDATE tally SET n = n + 1 WHERE id = 2")
                    .execute(&db)
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        Query::new("UPDATE tally SET n = $1 WHERE id = 1")
            .bind(before + 1)
            .execute(&mut tx)
            .await
            .unwrap_or_else(|e| panic!("{backend:?}: the transaction's write failed: {e}"));
        tx.commit().await.unwrap();
        other.await.unwrap().unwrap();

        let tally: Vec<(i64,)> = Query::new("SELECT n FROM tally ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
        assert_eq!(tally, vec![(1,), (1,)], "{backend:?}: both writes are kept");
    }
}
