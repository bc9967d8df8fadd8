//! Provider endpoints and users' provider keys, on every backend this run covers: create,
//! unique names, partial updates, delete, key upserts and their removal with the account, and
//! keys sealed with the real `SecretBox` surviving the round trip through the database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

use aipasta_core::secret_box::{SecretBox, key_hint};
use aipasta_store::Db;
use aipasta_store::accounts::delete_account;
use aipasta_store::providers::{
    self, EndpointError, NewProviderEndpoint, OPENAI_COMPATIBLE, ProviderEndpointUpdate, SealedKey,
};
use aipasta_store::testing::{TestDatabase, backends, create_account};

const SERVER_SECRET: &[u8] = b"a test server secret of at least 32 characters";

fn sealed(secret_box: &SecretBox, key: &str) -> SealedKey {
    SealedKey {
        sealed: secret_box.seal(key),
        hint: key_hint(key),
    }
}

async fn user(db: &Db, email: &str) -> String {
    create_account(db, email, "admin").await.id
}

fn ollama(created_by: Option<String>, key: Option<SealedKey>) -> NewProviderEndpoint {
    NewProviderEndpoint {
        name: "ollama".into(),
        kind: OPENAI_COMPATIBLE.into(),
        base_url: "http://localhost:11434/v1".into(),
        api_key: key,
        allow_private: true,
        is_active: true,
        created_by,
    }
}

#[tokio::test]
async fn endpoints_are_created_listed_found_and_deleted() {
    let secret_box = SecretBox::for_provider_keys(SERVER_SECRET);
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        let admin = user(&db, "admin@example.com").await;
        let key = "sk-local-0123456789abcdef";
        let created = providers::create_endpoint(
            &db,
            &ollama(Some(admin.clone()), Some(sealed(&secret_box, key))),
        )
        .await
        .expect("create endpoint");
        assert_eq!(created.name, "ollama");
        assert_eq!(created.kind, "openai-compatible");
        assert!(created.allow_private && created.is_active, "{backend:?}");
        assert_eq!(created.created_by.as_deref(), Some(admin.as_str()));
        assert_eq!(created.api_key_hint.as_deref(), Some("sk-…cdef"));
        assert_eq!(created.created_at, created.updated_at);

        // The sealed key is stored as sealed, and opens to the key again.
        let found = providers::find_endpoint_by_name(&db, "ollama")
            .await
            .unwrap()
            .expect("found by name");
        let stored = found.api_key_sealed.clone().expect("a sealed key");
        assert!(
            stored.starts_with("v1.") && !stored.contains(key),
            "{stored}"
        );
        assert_eq!(secret_box.open(&stored).unwrap(), key);
        assert!(!format!("{found:?}").contains(&stored), "Debug hides it");
        assert_eq!(
            providers::find_endpoint(&db, &created.id)
                .await
                .unwrap()
                .map(|e| e.name),
            Some("ollama".to_owned())
        );

        // A built-in provider's row, with an admin-stored key.
        providers::create_endpoint(
            &db,
            &NewProviderEndpoint {
                name: "openrouter".into(),
                kind: "openrouter".into(),
                base_url: "https://openrouter.ai/api/v1".into(),
                api_key: Some(sealed(&secret_box, "sk-or-v1-abcdef0123456789c3f9")),
                allow_private: false,
                is_active: true,
                created_by: None,
            },
        )
        .await
        .expect("built-in row");
        let names: Vec<String> = providers::list_endpoints(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["ollama", "openrouter"], "{backend:?}");

        assert!(providers::delete_endpoint(&db, &created.id).await.unwrap());
        assert!(!providers::delete_endpoint(&db, &created.id).await.unwrap());
        assert!(
            providers::find_endpoint_by_name(&db, "ollama")
                .await
                .unwrap()
                .is_none()
        );

        // Deleting the admin keeps the endpoints they created.
        let local = providers::create_endpoint(&db, &ollama(Some(admin.clone()), None))
            .await
            .unwrap();
        assert_eq!(local.api_key_sealed, None);
        assert_eq!(local.api_key_hint, None);
        assert!(delete_account(&db, &admin).await.unwrap());
        let kept = providers::find_endpoint(&db, &local.id).await.unwrap();
        assert_eq!(kept.map(|e| e.created_by), Some(None), "{backend:?}");
    }
}

#[tokio::test]
async fn names_are_unique_slugs_and_built_in_names_are_reserved() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        providers::create_endpoint(&db, &ollama(None, None))
            .await
            .unwrap();
        let duplicate = providers::create_endpoint(&db, &ollama(None, None)).await;
        assert!(
            matches!(&duplicate, Err(EndpointError::NameTaken(name)) if name == "ollama"),
            "{backend:?}: {duplicate:?}"
        );
        assert_eq!(
            duplicate.unwrap_err().to_string(),
            "an endpoint named \"ollama\" already exists"
        );

        for (kind, name) in [
            (OPENAI_COMPATIBLE, "Ollama"),
            (OPENAI_COMPATIBLE, "my endpoint"),
            (OPENAI_COMPATIBLE, "openrouter"),
            ("huggingface", "hf"),
        ] {
            let mut new = ollama(None, None);
            new.kind = kind.into();
            new.name = name.into();
            let refused = providers::create_endpoint(&db, &new).await;
            assert!(
                matches!(refused, Err(EndpointError::InvalidName(_))),
                "{backend:?}: {kind} {name}: {refused:?}"
            );
        }
        let mut unknown = ollama(None, None);
        unknown.kind = "anthropic".into();
        unknown.name = "anthropic".into();
        assert!(matches!(
            providers::create_endpoint(&db, &unknown).await,
            Err(EndpointError::InvalidKind(_))
        ));
        assert_eq!(providers::list_endpoints(&db).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn updates_change_only_what_they_name() {
    let secret_box = SecretBox::for_provider_keys(SERVER_SECRET);
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        let first_key = sealed(&secret_box, "sk-first-key-0123456789");
        let created = providers::create_endpoint(&db, &ollama(None, Some(first_key.clone())))
            .await
            .unwrap();
        let vllm = providers::create_endpoint(
            &db,
            &NewProviderEndpoint {
                name: "vllm".into(),
                ..ollama(None, None)
            },
        )
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;

        // Only the base URL.
        let updated = providers::update_endpoint(
            &db,
            &created.id,
            &ProviderEndpointUpdate {
                base_url: Some("http://10.0.0.5:11434/v1".into()),
                ..ProviderEndpointUpdate::default()
            },
        )
        .await
        .unwrap()
        .expect("updated");
        assert_eq!(updated.base_url, "http://10.0.0.5:11434/v1");
        assert_eq!(updated.name, "ollama");
        assert!(updated.allow_private && updated.is_active);
        assert_eq!(
            updated.api_key_sealed, created.api_key_sealed,
            "{backend:?}"
        );
        assert_eq!(updated.api_key_hint, created.api_key_hint);
        assert_eq!(updated.created_at, created.created_at);
        assert!(updated.updated_at > created.updated_at, "{backend:?}");

        // Flags, a new name and a new key.
        let second_key = sealed(&secret_box, "sk-second-key-abcdefghij");
        let updated = providers::update_endpoint(
            &db,
            &created.id,
            &ProviderEndpointUpdate {
                name: Some("home-ollama".into()),
                allow_private: Some(false),
                is_active: Some(false),
                api_key: Some(Some(second_key.clone())),
                ..ProviderEndpointUpdate::default()
            },
        )
        .await
        .unwrap()
        .expect("updated");
        assert_eq!(updated.name, "home-ollama");
        assert!(!updated.allow_private && !updated.is_active, "{backend:?}");
        assert_eq!(updated.base_url, "http://10.0.0.5:11434/v1");
        assert_eq!(updated.api_key_hint.as_deref(), Some("sk-…ghij"));
        let stored = updated.api_key_sealed.clone().unwrap();
        assert_eq!(
            secret_box.open(&stored).unwrap(),
            "sk-second-key-abcdefghij"
        );

        // Removing the key clears the hint with it.
        let updated = providers::update_endpoint(
            &db,
            &created.id,
            &ProviderEndpointUpdate {
                api_key: Some(None),
                ..ProviderEndpointUpdate::default()
            },
        )
        .await
        .unwrap()
        .expect("updated");
        assert_eq!(updated.api_key_sealed, None);
        assert_eq!(updated.api_key_hint, None);
        assert_eq!(updated.name, "home-ollama");

        // Renaming onto another endpoint's name is a conflict and changes nothing.
        let clash = providers::update_endpoint(
            &db,
            &created.id,
            &ProviderEndpointUpdate {
                name: Some(vllm.name.clone()),
                base_url: Some("http://elsewhere.example/v1".into()),
                ..ProviderEndpointUpdate::default()
            },
        )
        .await;
        assert!(
            matches!(clash, Err(EndpointError::NameTaken(ref name)) if name == "vllm"),
            "{backend:?}: {clash:?}"
        );
        let unchanged = providers::find_endpoint(&db, &created.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(unchanged.name, "home-ollama");
        assert_eq!(unchanged.base_url, "http://10.0.0.5:11434/v1");

        let bad_name = providers::update_endpoint(
            &db,
            &created.id,
            &ProviderEndpointUpdate {
                name: Some("Bad Name".into()),
                ..ProviderEndpointUpdate::default()
            },
        )
        .await;
        assert!(matches!(bad_name, Err(EndpointError::InvalidName(_))));

        let missing = providers::update_endpoint(
            &db,
            "no-such-id",
            &ProviderEndpointUpdate {
                is_active: Some(true),
                ..ProviderEndpointUpdate::default()
            },
        )
        .await
        .unwrap();
        assert!(missing.is_none());
    }
}

#[tokio::test]
async fn user_keys_are_upserted_listed_as_hints_and_removed_with_the_account() {
    let secret_box = SecretBox::for_provider_keys(SERVER_SECRET);
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        let ada = user(&db, "ada@example.com").await;
        let bob = user(&db, "bob@example.com").await;
        assert!(
            providers::list_user_keys(&db, &ada)
                .await
                .unwrap()
                .is_empty()
        );

        let first = providers::set_user_key(
            &db,
            &ada,
            "openrouter",
            &sealed(&secret_box, "sk-or-v1-first0123456789aaaa"),
        )
        .await
        .unwrap();
        assert_eq!(first.api_key_hint, "sk-or-…aaaa");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;

        // Setting it again replaces the key and keeps when it was first stored.
        let second = providers::set_user_key(
            &db,
            &ada,
            "openrouter",
            &sealed(&secret_box, "sk-or-v1-second0123456789bbbb"),
        )
        .await
        .unwrap();
        assert_eq!(second.created_at, first.created_at, "{backend:?}");
        assert!(second.updated_at > first.updated_at, "{backend:?}");
        assert_eq!(second.api_key_hint, "sk-or-…bbbb");
        let stored = providers::find_user_key(&db, &ada, "openrouter")
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(
            secret_box.open(&stored.api_key_sealed).unwrap(),
            "sk-or-v1-second0123456789bbbb"
        );
        assert!(!format!("{stored:?}").contains(&stored.api_key_sealed));

        providers::set_user_key(
            &db,
            &ada,
            "huggingface",
            &sealed(&secret_box, "hf_abcdefghijklmnopqrstuvwx"),
        )
        .await
        .unwrap();
        providers::set_user_key(
            &db,
            &bob,
            "huggingface",
            &sealed(&secret_box, "hf_bobbobbobbobbobbobbobzzzz"),
        )
        .await
        .unwrap();

        let hints = providers::list_user_keys(&db, &ada).await.unwrap();
        let listed: Vec<(&str, &str)> = hints
            .iter()
            .map(|h| (h.provider.as_str(), h.api_key_hint.as_str()))
            .collect();
        assert_eq!(
            listed,
            [("huggingface", "hf_…uvwx"), ("openrouter", "sk-or-…bbbb")],
            "{backend:?}"
        );

        // Only the providers the table knows.
        let unknown = providers::set_user_key(
            &db,
            &ada,
            "openai",
            &sealed(&secret_box, "sk-proj-whatever0123456789"),
        )
        .await;
        assert!(unknown.is_err(), "{backend:?}");

        assert!(
            providers::delete_user_key(&db, &ada, "huggingface")
                .await
                .unwrap()
        );
        assert!(
            !providers::delete_user_key(&db, &ada, "huggingface")
                .await
                .unwrap()
        );
        assert_eq!(providers::list_user_keys(&db, &ada).await.unwrap().len(), 1);

        // Deleting the account deletes its keys, and only its keys.
        assert!(delete_account(&db, &ada).await.unwrap());
        assert!(
            providers::find_user_key(&db, &ada, "openrouter")
                .await
                .unwrap()
                .is_none(),
            "{backend:?}"
        );
        assert!(
            providers::list_user_keys(&db, &ada)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(providers::list_user_keys(&db, &bob).await.unwrap().len(), 1);
    }
}
