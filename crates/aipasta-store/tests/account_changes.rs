//! `Db::accounts_version`, which caches of request callers trust: every change to what a caller
//! is (status, role, limits, profile, preferences, password, a key's revocation, deletion) moves
//! it, on every backend this run covers; reads and the once-a-minute "last used" stamp do not.

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
