//! Generated images, on both databases, against the mock: only real raster images (PNG, JPEG,
//! WebP, GIF, told by their bytes) are kept, with their true type whatever the provider
//! claimed; an HTML, SVG, JavaScript or empty "image" ends the generation as an `error` with
//! nothing stored; every stored image is served sandboxed, `nosniff`, with a file name; a row
//! stored before the check holding HTML is never served as HTML; `/v1/images/generations`
//! carries only checked images in both forms.

use std::collections::BTreeMap;

use aipasta_core::catalog::{Capabilities, ModelFacts};
use aipasta_engine::EnvEndpoint;
use aipasta_mock::{HfTask, MockConfig, MockImage, MockServer, OPENAI_IMAGES_PATH, Script};
use aipasta_providers::generate::ApiKey;
use aipasta_store::{Backend, Query};
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, TestUser, backends, mock_provider_config, spawn_app_with};

/// An image model of the environment's OpenAI-compatible endpoint `local` (the mock's `/v1`).
const OPENAI_MODEL: &str = "local/pixel-painter";
/// A Hugging Face text-to-image model (the mock's inference API).
const HF_MODEL: &str = "mock/painter";
/// The policy of every stored asset's response.
const SANDBOX: &str = "sandbox; default-src 'none'";

struct Setup {
    mock: MockServer,
    app: TestApp,
    user: TestUser,
}

async fn start(backend: Backend) -> Setup {
    let mock = MockServer::start(MockConfig::default()).await;
    let mut config = mock_provider_config(&mock);
    config.engine.providers.openai_compatible = vec![EnvEndpoint {
        name: "local".into(),
        base_url: mock.openai_base_url(),
        api_key: Some(ApiKey::new("sk-local")),
    }];
    let app = spawn_app_with(backend, config, false).await;
    add_image_models(&app, &mock).await;
    let user = app.sign_up("Painter", "painter@example.com").await;
    Setup { mock, app, user }
}

/// `local/pixel-painter`, an image model on the environment's OpenAI-compatible endpoint
/// `local` (the mock).
pub(crate) async fn add_local_image_model(app: &TestApp) {
    let facts = ModelFacts {
        provider: "local".into(),
        provider_model_id: "pixel-painter".into(),
        slug: OPENAI_MODEL.into(),
        name: "pixel-painter".into(),
        description: None,
        category: "image-generation".into(),
        tags: Vec::new(),
        pricing: Default::default(),
        capabilities: Capabilities {
            image_generation: true,
            ..Capabilities::default()
        },
        input_modalities: vec!["text".into()],
        output_modalities: vec!["image".into()],
        context_length: None,
        max_output_tokens: None,
        supported_parameters: Vec::new(),
        parameter_defaults: BTreeMap::new(),
        developer: None,
        hugging_face_id: None,
        license: None,
        released_at: None,
        downloads: None,
    };
    aipasta_store::catalog::upsert_provider_models(&app.db, "local", &[facts], false)
        .await
        .unwrap();
}

/// `local/pixel-painter` and the Hugging Face `mock/painter`, both image models.
pub(crate) async fn add_image_models(app: &TestApp, mock: &MockServer) {
    add_local_image_model(app).await;
    Query::new(
        "INSERT INTO models (id, slug, name, display_name, provider, provider_model_id, \
         cap_image_generation, created_at, updated_at) \
         VALUES ($1, 'mock/painter', 'Painter', 'Painter', 'huggingface', 'mock/painter', TRUE, 1, 1)",
    )
    .bind(aipasta_core::id::new_id())
    .execute(&app.db)
    .await
    .unwrap();
    app.db.note_catalog_change();
    mock.set_hf_task(HF_MODEL, HfTask::TextToImage);
}

impl Setup {
    /// `POST /api/ai/generate` in image mode: the status and the answer.
    async fn generate(&self, model: &str) -> (StatusCode, Value) {
        self.app
            .call(
                &self.user,
                Method::POST,
                "/api/ai/generate",
                Some(json!({"model": model, "mode": "image", "prompt": "a bowl of pasta"})),
            )
            .await
    }

    /// The image route's answer for the user.
    async fn image(&self, id: &str, index: usize) -> Reply {
        self.app
            .user(&self.user)
            .get(&format!("/api/generations/{id}/image?index={index}"))
            .await
    }

    fn script_for(&self, model: &str, script: Script) {
        let path = if model == HF_MODEL {
            aipasta_mock::hf_inference_path(HF_MODEL)
        } else {
            OPENAI_IMAGES_PATH.to_owned()
        };
        self.mock.push_script(&path, script);
    }

    fn requests_to(&self, model: &str) -> usize {
        if model == HF_MODEL {
            self.mock
                .requests(&aipasta_mock::hf_inference_path(HF_MODEL))
                .len()
        } else {
            self.mock.requests(OPENAI_IMAGES_PATH).len()
        }
    }
}

/// The stored row's status and error message, and how many images it kept.
async fn stored(app: &TestApp, id: &str) -> (String, Option<String>, i64) {
    app.state.engine.flush().await;
    let row = aipasta_store::generations::find_generation(&app.db, id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no row for {id}"));
    let images = aipasta_store::generations::count_assets(&app.db, id)
        .await
        .unwrap();
    (row.status, row.error_message, images)
}

/// Each hostile "image", which model gets it, and what the message must say it looks like.
fn hostile_cases() -> Vec<(&'static str, &'static str, Vec<MockImage>, &'static str)> {
    vec![
        (
            "HTML",
            OPENAI_MODEL,
            vec![MockImage::html()],
            "it looks like HTML",
        ),
        (
            "HTML claiming to be a PNG",
            OPENAI_MODEL,
            vec![MockImage::html().claiming("image/png")],
            "it looks like HTML",
        ),
        (
            "SVG with a script element",
            OPENAI_MODEL,
            vec![MockImage::svg_script()],
            "it looks like SVG",
        ),
        (
            "SVG with onload",
            OPENAI_MODEL,
            vec![MockImage::svg_onload().claiming("image/png")],
            "it looks like SVG",
        ),
        (
            "JavaScript",
            OPENAI_MODEL,
            vec![MockImage::javascript()],
            "it looks like JavaScript",
        ),
        (
            "an empty image",
            OPENAI_MODEL,
            vec![MockImage {
                bytes: Vec::new(),
                claimed_type: Some("image/png".into()),
            }],
            "it is empty",
        ),
        (
            "a real PNG, then JavaScript",
            OPENAI_MODEL,
            vec![MockImage::png(), MockImage::javascript()],
            "image 2 is not a PNG, JPEG, WebP or GIF (it looks like JavaScript); none of them was kept.",
        ),
        (
            "HTML loading the JavaScript of the second image",
            OPENAI_MODEL,
            vec![MockImage::html(), MockImage::javascript()],
            "image 1 is not a PNG, JPEG, WebP or GIF (it looks like HTML); none of them was kept.",
        ),
        (
            "Hugging Face SVG",
            HF_MODEL,
            vec![MockImage::svg_script()],
            "it looks like SVG",
        ),
        (
            "Hugging Face HTML claiming to be a PNG",
            HF_MODEL,
            vec![MockImage::html().claiming("image/png")],
            "it looks like HTML",
        ),
    ]
}

#[tokio::test]
async fn hostile_images_are_refused_when_the_generation_is_recorded() {
    for backend in backends() {
        let s = start(backend).await;
        for (name, model, images, says) in hostile_cases() {
            let before = s.requests_to(model);
            s.script_for(model, Script::images(images));
            let (status, answer) = s.generate(model).await;
            assert_eq!(
                status,
                StatusCode::BAD_GATEWAY,
                "{backend:?} {name}: {answer}"
            );
            assert_eq!(answer["success"], false, "{name}");
            assert_eq!(answer["error"]["code"], "upstream_malformed", "{name}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("is not a PNG, JPEG, WebP or GIF") && message.contains(says),
                "{name}: {message}"
            );
            assert!(
                message.ends_with("it was not kept.")
                    || message.ends_with("none of them was kept."),
                "{name}: {message}"
            );
            assert_eq!(answer["data"]["images"], json!([]), "{name}");
            // Refused once: not retried (the config allows 3 attempts).
            assert_eq!(s.requests_to(model), before + 1, "{name}");

            let id = answer["data"]["id"].as_str().unwrap();
            let (status, error, kept) = stored(&s.app, id).await;
            assert_eq!(status, "error", "{backend:?} {name}");
            assert_eq!(error.as_deref(), Some(message), "{name}");
            assert_eq!(kept, 0, "{backend:?} {name}: no bytes of it are stored");
            // Nothing to serve, and the refusal still carries the sandbox policy.
            for index in 0..2 {
                let response = s.image(id, index).await;
                assert_eq!(response.status, StatusCode::NOT_FOUND, "{name}");
                assert_eq!(response.headers["content-security-policy"], SANDBOX);
                assert_eq!(response.headers["x-content-type-options"], "nosniff");
                assert!(
                    response.headers["content-type"]
                        .to_str()
                        .unwrap()
                        .starts_with("application/json")
                );
            }
        }
        // Messages name the provider.
        s.script_for(HF_MODEL, Script::images([MockImage::svg_onload()]));
        let (_, answer) = s.generate(HF_MODEL).await;
        assert_eq!(
            answer["error"]["message"],
            "Hugging Face returned an image that is not a PNG, JPEG, WebP or GIF (it looks like \
             SVG); it was not kept."
        );
        s.script_for(OPENAI_MODEL, Script::images([MockImage::html()]));
        let (_, answer) = s.generate(OPENAI_MODEL).await;
        assert_eq!(
            answer["error"]["message"],
            "local returned an image that is not a PNG, JPEG, WebP or GIF (it looks like HTML); \
             it was not kept."
        );
    }
}

/// Headers every stored image is served with, `format`'s type and extension.
fn assert_asset_headers(response: &Reply, id: &str, index: usize, mime: &str, ext: &str) {
    let headers = &response.headers;
    assert_eq!(headers["content-type"], mime);
    let policies: Vec<_> = headers.get_all("content-security-policy").iter().collect();
    assert_eq!(policies, [SANDBOX], "exactly the sandbox policy");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-disposition"],
        format!("inline; filename=\"aipasta-{id}-{index}.{ext}\"").as_str()
    );
}

#[tokio::test]
async fn real_images_are_kept_with_the_type_their_bytes_say() {
    for backend in backends() {
        let s = start(backend).await;
        let cases = [
            (OPENAI_MODEL, MockImage::png(), "image/png", "png"),
            (
                OPENAI_MODEL,
                MockImage::jpeg().claiming("image/png"),
                "image/jpeg",
                "jpg",
            ),
            (
                OPENAI_MODEL,
                MockImage::webp().claiming("image/jpeg"),
                "image/webp",
                "webp",
            ),
            (
                OPENAI_MODEL,
                MockImage::gif().claiming("text/html"),
                "image/gif",
                "gif",
            ),
            (
                HF_MODEL,
                MockImage::jpeg().claiming("image/png"),
                "image/jpeg",
                "jpg",
            ),
            (
                HF_MODEL,
                MockImage::gif().claiming("image/svg+xml"),
                "image/gif",
                "gif",
            ),
        ];
        for (model, image, mime, ext) in cases {
            let bytes = image.bytes.clone();
            s.script_for(model, Script::images([image]));
            let (status, answer) = s.generate(model).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{backend:?} {model} {mime}: {answer}"
            );
            let id = answer["data"]["id"].as_str().unwrap().to_owned();
            assert_eq!(
                answer["data"]["images"],
                json!([format!("/api/generations/{id}/image?index=0")])
            );
            let (status, _, kept) = stored(&s.app, &id).await;
            assert_eq!((status.as_str(), kept), ("success", 1));
            let asset = aipasta_store::generations::find_asset(&s.app.db, &id, 0)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(asset.mime_type, mime, "the true type is stored");
            let response = s.image(&id, 0).await;
            assert_eq!(response.status, StatusCode::OK);
            assert_asset_headers(&response, &id, 0, mime, ext);
            assert_eq!(response.body, bytes);
        }
        // Several real images: all kept, each with its own type.
        s.script_for(
            OPENAI_MODEL,
            Script::images([MockImage::png(), MockImage::gif(), MockImage::jpeg()]),
        );
        let (status, answer) = s.generate(OPENAI_MODEL).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let id = answer["data"]["id"].as_str().unwrap();
        assert_eq!(answer["data"]["images"].as_array().unwrap().len(), 3);
        for (index, (mime, ext)) in [
            ("image/png", "png"),
            ("image/gif", "gif"),
            ("image/jpeg", "jpg"),
        ]
        .into_iter()
        .enumerate()
        {
            let response = s.image(id, index).await;
            assert_eq!(response.status, StatusCode::OK);
            assert_asset_headers(&response, id, index, mime, ext);
        }
    }
}

#[tokio::test]
async fn an_image_stored_before_the_check_is_never_served_as_html() {
    for backend in backends() {
        let s = start(backend).await;
        let (status, answer) = s.generate(OPENAI_MODEL).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let id = answer["data"]["id"].as_str().unwrap().to_owned();
        s.app.state.engine.flush().await;
        // What an earlier version could have stored: an upstream's HTML, typed as it claimed.
        let html = MockImage::html().bytes;
        Query::new(
            "UPDATE generation_assets SET bytes = $1, mime_type = 'text/html' \
             WHERE generation_id = $2",
        )
        .bind(html)
        .bind(id.as_str())
        .execute(&s.app.db)
        .await
        .unwrap();
        let response = s.image(&id, 0).await;
        assert_eq!(response.status, StatusCode::GONE, "{backend:?}");
        let headers = response.headers.clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{headers:?}"
        );
        assert_eq!(headers["content-security-policy"], SANDBOX);
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers.get("content-disposition").is_none());
        let body = response.json();
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["code"], "image_not_served");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("it looks like HTML"), "{message}");
        assert!(!message.contains("<script"), "{message}");
    }
}

// ---- /v1/images/generations ----

async fn create_key(app: &TestApp, user: &TestUser) -> String {
    let (status, body) = app
        .call(
            user,
            Method::POST,
            "/api/users/api-keys",
            Some(json!({"name": "sdk", "scopes": ["read", "generate"]})),
        )
        .await;
    assert!(status.is_success(), "{body}");
    body["data"]["key"].as_str().expect("a key").to_owned()
}

async fn v1_images(
    app: &TestApp,
    key: &str,
    body: Value,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let reply = app.bearer(key).post("/v1/images/generations", body).await;
    let body = reply.json();
    (reply.status, reply.headers, body)
}

#[tokio::test]
async fn v1_images_carry_only_checked_images_in_both_forms() {
    for backend in backends() {
        let s = start(backend).await;
        let key = create_key(&s.app, &s.user).await;
        for format in ["b64_json", "url"] {
            for images in [
                vec![MockImage::html()],
                vec![MockImage::svg_script()],
                vec![MockImage::png(), MockImage::javascript()],
            ] {
                s.script_for(OPENAI_MODEL, Script::images(images));
                let (status, headers, body) = v1_images(
                    &s.app,
                    &key,
                    json!({"model": OPENAI_MODEL, "prompt": "x", "response_format": format}),
                )
                .await;
                assert_eq!(
                    status,
                    StatusCode::BAD_GATEWAY,
                    "{backend:?} {format}: {body}"
                );
                assert!(body.get("data").is_none(), "{body}");
                assert_eq!(body["error"]["type"], "server_error", "{body}");
                assert_eq!(body["error"]["code"], "upstream_malformed", "{body}");
                let message = body["error"]["message"].as_str().unwrap();
                assert!(
                    message.contains("is not a PNG, JPEG, WebP or GIF") && message.contains("kept"),
                    "{message}"
                );
                let id = headers["x-aipasta-generation-id"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                let (status, error, kept) = stored(&s.app, &id).await;
                assert_eq!(status, "error");
                assert_eq!(error.as_deref(), Some(message));
                assert_eq!(kept, 0);
            }
        }

        // A real JPEG claimed as a PNG: the JPEG's bytes in b64_json, its true type by URL.
        let jpeg = MockImage::jpeg();
        s.script_for(
            OPENAI_MODEL,
            Script::images([jpeg.clone().claiming("image/png")]),
        );
        let (status, _, body) =
            v1_images(&s.app, &key, json!({"model": OPENAI_MODEL, "prompt": "x"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body["data"][0]["b64_json"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes, jpeg.bytes);

        s.script_for(
            OPENAI_MODEL,
            Script::images([jpeg.clone().claiming("text/html")]),
        );
        let (status, headers, body) = v1_images(
            &s.app,
            &key,
            json!({"model": OPENAI_MODEL, "prompt": "x", "response_format": "url"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = headers["x-aipasta-generation-id"].to_str().unwrap();
        let url = body["data"][0]["url"].as_str().unwrap();
        // The URL as given (absolute), not a path on the app.
        let response = Reply::read(s.app.client.get(url).bearer_auth(&key)).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_asset_headers(&response, id, 0, "image/jpeg", "jpg");
        assert_eq!(response.body, jpeg.bytes);
    }
}

// ---- the playground without JavaScript ----

#[tokio::test]
async fn the_playground_form_shows_a_refused_image_as_an_error_not_an_image() {
    use crate::playground::{output_of, page, post_form_to, signed_in};
    for backend in backends() {
        let s = start(backend).await;
        let client = signed_in(&s.app, &s.user).await;
        let (status, html) = page(
            &client,
            &s.app,
            &format!("/models/{OPENAI_MODEL}/playground"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        s.script_for(
            OPENAI_MODEL,
            Script::images([MockImage::png(), MockImage::svg_onload()]),
        );
        let (status, answered) = post_form_to(
            &client,
            &s.app,
            OPENAI_MODEL,
            &html,
            &[("mode", "image"), ("prompt", "a bowl of pasta")],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        let area = output_of(&answered);
        assert!(
            area.contains(
                "local returned 2 images, and image 2 is not a PNG, JPEG, WebP or GIF (it looks \
                 like SVG); none of them was kept."
            ),
            "{area}"
        );
        assert!(!area.contains("<img"), "no image, broken or not: {area}");
        assert!(!area.contains("/image?index="), "{area}");
    }
}
