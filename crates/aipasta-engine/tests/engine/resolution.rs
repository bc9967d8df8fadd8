//! Which endpoint and key serve a model ([`aipasta_engine::ProviderDirectory::resolve`]): the
//! operator's OpenAI-compatible endpoints, endpoints an admin added (guarded unless allowed
//! private addresses), and for the built-in providers the caller's own key, then an admin's,
//! then the environment's. A model with no usable endpoint or key is refused before any call.

use aipasta_core::secret_box::key_hint;
use aipasta_engine::{Change, GenerationError, Network};
use aipasta_mock::{OPENAI_CHAT_PATH, OPENROUTER_CHAT_PATH};
use aipasta_providers::ProviderKind;
use aipasta_providers::generate::{ApiKey, Upstream};
use aipasta_store::catalog::{ModelRow, find_model};
use aipasta_store::providers::{
    NewProviderEndpoint, OPENAI_COMPATIBLE, ProviderEndpointUpdate, SealedKey, create_endpoint,
    set_user_key, update_endpoint,
};
use aipasta_store::testing::{backends, create_account};

use crate::support::{CHAT, ENDPOINT_KEY, Harness, chat_model, prompt, wait};

async fn model(h: &Harness, slug: &str) -> ModelRow {
    find_model(&h.db, slug).await.unwrap().unwrap()
}

async fn resolve(
    h: &Harness,
    slug: &str,
    user_id: &str,
) -> Result<(Upstream, Network), GenerationError> {
    h.engine
        .directory
        .resolve(&h.db, &model(h, slug).await, user_id)
        .await
}

fn key_of(upstream: &Upstream) -> Option<&str> {
    upstream.api_key.as_ref().map(ApiKey::expose)
}

fn sealed(h: &Harness, key: &str) -> SealedKey {
    SealedKey {
        sealed: h.engine.directory.secret_box().seal(key),
        hint: key_hint(key),
    }
}

fn new_endpoint(
    name: &str,
    kind: &str,
    base_url: String,
    key: Option<SealedKey>,
) -> NewProviderEndpoint {
    NewProviderEndpoint {
        name: name.into(),
        kind: kind.into(),
        base_url,
        api_key: key,
        allow_private: false,
        is_active: true,
        created_by: None,
    }
}

#[tokio::test]
async fn the_operators_endpoint_is_trusted_and_called_with_its_key() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let (upstream, network) = resolve(&h, CHAT, &h.user.id).await.unwrap();
        assert_eq!(network, Network::Trusted, "{backend:?}");
        assert_eq!(upstream.kind, ProviderKind::OpenAiCompatible);
        assert_eq!(upstream.name, "local");
        // Configured with a trailing slash; calls go to `{base}/chat/completions`.
        assert_eq!(upstream.base_url, h.mock.openai_base_url());
        assert_eq!(key_of(&upstream), Some(ENDPOINT_KEY));
    }
}

#[tokio::test]
async fn a_built_in_provider_without_a_key_is_refused_before_any_call() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let openrouter = h.add_model(chat_model("openrouter", "vendor/model")).await;
        let huggingface = h.add_model(chat_model("huggingface", "org/model")).await;
        let elsewhere = h.add_model(chat_model("elsewhere", "model")).await;
        for (slug, provider, reason) in [
            (
                &openrouter,
                "openrouter",
                "no OpenRouter API key is configured",
            ),
            (
                &huggingface,
                "huggingface",
                "no Hugging Face token is configured",
            ),
            (
                &elsewhere,
                "elsewhere",
                "that endpoint is not configured or is turned off",
            ),
        ] {
            let error = match h.start_generation(slug, &prompt("hello", true)).await {
                Ok(live) => panic!("{backend:?}: {} started on {provider}", live.id),
                Err(error) => error,
            };
            assert_eq!(
                error,
                GenerationError::ProviderNotConfigured {
                    model: format!("Test {}", slug.split_once('/').unwrap().1),
                    provider: provider.into(),
                    reason,
                },
                "{backend:?}"
            );
            assert_eq!(
                (error.code(), error.param()),
                ("provider_not_configured", None)
            );
        }
        assert_eq!(h.mock.request_count(OPENROUTER_CHAT_PATH), 0);
        assert_eq!(h.stored_generations().await, 0, "{backend:?}");
    }
}

#[tokio::test]
async fn built_in_keys_come_from_the_caller_then_an_admin_then_the_environment() {
    for backend in backends() {
        let h = Harness::start_with(backend, |settings| {
            settings.providers.openrouter_api_key = Some(ApiKey::new("env-key"));
        })
        .await;
        let slug = h.add_model(chat_model("openrouter", "vendor/model")).await;
        let bob = create_account(&h.db, "bob@example.com", "user").await;
        let key = async |user_id: &str| {
            let (upstream, network) = resolve(&h, &slug, user_id).await.unwrap();
            assert_eq!(network, Network::Trusted);
            key_of(&upstream).map(str::to_owned)
        };
        assert_eq!(
            key(&h.user.id).await.as_deref(),
            Some("env-key"),
            "{backend:?}"
        );

        create_endpoint(
            &h.db,
            &new_endpoint(
                "openrouter",
                "openrouter",
                String::new(),
                Some(sealed(&h, "admin-key")),
            ),
        )
        .await
        .unwrap();
        set_user_key(&h.db, &h.user.id, "openrouter", &sealed(&h, "ada-key"))
            .await
            .unwrap();
        // Cached until the engine is told (or within seconds, on another instance).
        assert_eq!(
            key(&h.user.id).await.as_deref(),
            Some("env-key"),
            "{backend:?}"
        );
        h.engine.changed(Change::Providers);
        assert_eq!(
            key(&h.user.id).await.as_deref(),
            Some("ada-key"),
            "{backend:?}"
        );
        assert_eq!(
            key(&bob.id).await.as_deref(),
            Some("admin-key"),
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn an_admins_endpoint_is_guarded_unless_allowed_private_addresses() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let slug = h.add_model(chat_model("lab", "lab-chat")).await;
        let endpoint = create_endpoint(
            &h.db,
            &new_endpoint(
                "lab",
                OPENAI_COMPATIBLE,
                h.mock.openai_base_url(),
                Some(sealed(&h, "lab-key")),
            ),
        )
        .await
        .unwrap();
        let (upstream, network) = resolve(&h, &slug, &h.user.id).await.unwrap();
        assert_eq!(network, Network::Guarded, "{backend:?}");
        assert_eq!(
            key_of(&upstream),
            Some("lab-key"),
            "the sealed key is opened for the call"
        );

        update_endpoint(
            &h.db,
            &endpoint.id,
            &ProviderEndpointUpdate {
                allow_private: Some(true),
                ..ProviderEndpointUpdate::default()
            },
        )
        .await
        .unwrap();
        h.engine.changed(Change::Providers);
        let live = h
            .start_generation(&slug, &prompt("hello", false))
            .await
            .unwrap();
        assert_eq!(wait(&live).await.status, "success", "{backend:?}");
        let sent = h.mock.requests(OPENAI_CHAT_PATH);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].header("authorization"), Some("Bearer lab-key"));
        assert_eq!(sent[0].json().unwrap()["model"], "lab-chat");

        update_endpoint(
            &h.db,
            &endpoint.id,
            &ProviderEndpointUpdate {
                is_active: Some(false),
                ..ProviderEndpointUpdate::default()
            },
        )
        .await
        .unwrap();
        h.engine.changed(Change::Providers);
        let error = resolve(&h, &slug, &h.user.id).await.unwrap_err();
        assert_eq!(
            error.code(),
            "provider_not_configured",
            "{backend:?}: turned off"
        );
    }
}
