//! `Db::accounts_version`, which caches of request callers trust: every change to what a caller
//! is (status, role, limits, profile, preferences, password, the tokens' validity, a key's
//! revocation, deletion) moves it, on every backend this run covers; reads and the
//! once-a-minute "last used" stamp do not. And the writes that move it do what they say.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

use aipasta_store::accounts::{self, PreferencesUpdate, ProfileUpdate, create_api_key};
use aipasta_store::testing::{TestDatabase, backends, create_account};

#[tokio::test]
async fn every_change_to_an_account_or_key_moves_the_version() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        let user = create_account(&db, "ada@example.com", "user").await;
        let key = create_api_key(&db, &user.id, "k", "ap_x", "hash", "[\"read\"]", None)
            .await
            .unwrap();

        let before = db.accounts_version();
        accounts::find_user_by_id(&db, &user.id).await.unwrap();
        accounts::find_api_key(&db, "hash").await.unwrap().unwrap();
        assert_eq!(
            db.accounts_version(),
            before,
            "{backend:?}: reads and the last-used stamp change nothing a caller is"
        );

        let mut seen = before;
        let mut moved = |what: &str, db: &aipasta_store::Db| {
            let now = db.accounts_version();
            assert!(now > seen, "{backend:?}: {what} must move the version");
            seen = now;
        };
        accounts::set_status(&db, &user.id, "suspended")
            .await
            .unwrap();
        moved("set_status", &db);
        accounts::set_role(&db, &user.id, "moderator")
            .await
            .unwrap();
        moved("set_role", &db);
        accounts::set_usage_limits(&db, &user.id, Some(5), "pro")
            .await
            .unwrap();
        moved("set_usage_limits", &db);
        accounts::set_password_hash(&db, &user.id, "new-hash")
            .await
            .unwrap();
        moved("set_password_hash", &db);
        accounts::revoke_tokens(&db, &user.id).await.unwrap();
        moved("revoke_tokens", &db);
        let change = accounts::AccountChange {
            role: Some("user".into()),
            ..accounts::AccountChange::default()
        };
        accounts::change_account(&db, &user.id, &change)
            .await
            .unwrap();
        moved("change_account", &db);
        let profile = ProfileUpdate {
            name: Some("Ada L.".into()),
            ..ProfileUpdate::default()
        };
        accounts::update_profile(&db, &user.id, &profile)
            .await
            .unwrap();
        moved("update_profile", &db);
        let preferences = PreferencesUpdate {
            theme: Some("dark".into()),
            ..PreferencesUpdate::default()
        };
        accounts::update_preferences(&db, &user.id, &preferences)
            .await
            .unwrap();
        moved("update_preferences", &db);
        assert!(
            accounts::revoke_api_key(&db, &user.id, &key.id)
                .await
                .unwrap()
        );
        moved("revoke_api_key", &db);
        assert!(accounts::delete_account(&db, &user.id).await.unwrap());
        moved("delete_account", &db);

        // Clones share the counter: the engine and the web layer hold clones of one handle.
        let clone = db.clone();
        accounts::set_status(&clone, "nobody", "active")
            .await
            .unwrap();
        assert!(db.accounts_version() > seen, "{backend:?}: clones share it");
    }
}

#[tokio::test]
async fn an_admin_change_the_database_refuses_changes_nothing() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        let user = create_account(&db, "ada@example.com", "user").await;
        // A status the schema refuses, beside fields it accepts: none of them may land.
        let change = accounts::AccountChange {
            role: Some("moderator".into()),
            status: Some("bogus".into()),
            subscription: Some("pro".into()),
            monthly_token_limit: Some(Some(5)),
        };
        let refused = accounts::change_account(&db, &user.id, &change).await;
        assert!(
            refused.is_err(),
            "{backend:?}: the schema allows status 'bogus'"
        );
        let stored = accounts::find_user_by_id(&db, &user.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                stored.role.as_str(),
                stored.status.as_str(),
                stored.subscription.as_str()
            ),
            ("user", "active", "free"),
            "{backend:?}"
        );
        assert_eq!(stored.monthly_token_limit, None, "{backend:?}");

        let change = accounts::AccountChange {
            status: Some("suspended".into()),
            monthly_token_limit: Some(None),
            ..change
        };
        accounts::change_account(&db, &user.id, &change)
            .await
            .unwrap();
        let stored = accounts::find_user_by_id(&db, &user.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                stored.role.as_str(),
                stored.status.as_str(),
                stored.subscription.as_str()
            ),
            ("moderator", "suspended", "pro"),
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn a_password_change_or_a_sign_out_moves_tokens_valid_after_forward_only() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        let user = create_account(&db, "ada@example.com", "user").await;
        assert_eq!(
            user.tokens_valid_after, 0,
            "{backend:?}: no token refused at first"
        );
        let valid_after = |db: aipasta_store::Db, id: String| async move {
            accounts::find_user_by_id(&db, &id)
                .await
                .unwrap()
                .unwrap()
                .tokens_valid_after
        };
        let before = aipasta_core::clock::now_ms();
        accounts::set_password_hash(&db, &user.id, "new-hash")
            .await
            .unwrap();
        let after_change = valid_after(db.clone(), user.id.clone()).await;
        assert!(
            after_change >= before,
            "{backend:?}: {after_change} < {before}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        accounts::revoke_tokens(&db, &user.id).await.unwrap();
        let after_sign_out = valid_after(db.clone(), user.id.clone()).await;
        assert!(after_sign_out > after_change, "{backend:?}");
        // A value from the future (a clock that later stepped back) is never moved back.
        let future = after_sign_out + 3_600_000;
        aipasta_store::Query::new("UPDATE users SET tokens_valid_after = $1 WHERE id = $2")
            .bind(future)
            .bind(user.id.as_str())
            .execute(&db)
            .await
            .unwrap();
        accounts::revoke_tokens(&db, &user.id).await.unwrap();
        assert_eq!(
            valid_after(db.clone(), user.id.clone()).await,
            future,
            "{backend:?}"
        );
    }
}
