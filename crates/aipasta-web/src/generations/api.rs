//! The plan's generation endpoints.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use aipasta_core::media::{self, ImageFormat, KEPT_FORMATS};
use aipasta_engine::Image;
use aipasta_store::generations::{self, GenerationRow};

use super::{FailureSummary, OutcomeSummary, begin, failure_status, sse, usd};
use crate::auth::api::ClientInfo;
use crate::auth::{Access, Caller, Routes};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use aipasta_engine::Source;
use aipasta_engine::prepare::{GenerateInput, Unsupported};

pub fn routes() -> Routes {
    use Access::User;
    Routes::new()
        // Model ids contain slashes, so the id is the path up to `/generate`.
        .post("/api/models/{*id}", User, generate_for_model)
        .post("/api/ai/generate", User, generate_unified)
        .post("/api/ai/stream", User, stream_unified)
        .get("/api/generations/{id}", User, details)
        .get("/api/generations/{id}/stream", User, reattach)
        .post("/api/generations/{id}/cancel", User, cancel)
        .get("/api/generations/{id}/image", User, image)
}

/// `POST /api/models/{id}/generate`.
async fn generate_for_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(input): Json<GenerateInput>,
) -> ApiResult<Response> {
    let Some(model) = path.trim_matches('/').strip_suffix("/generate") else {
        return Err(ApiError::not_found(
            "No such endpoint. Generate with POST /api/models/{id}/generate.",
        ));
    };
    let client = ClientInfo::from_request(&headers, Some(address));
    respond(&state, &caller, model, input, &client).await
}

/// The unified form: the model in the body.
#[derive(Deserialize)]
struct UnifiedInput {
    #[serde(alias = "modelId")]
    model: String,
    #[serde(flatten)]
    input: GenerateInput,
}

/// `POST /api/ai/generate`: streams when the body says `stream: true`.
async fn generate_unified(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<UnifiedInput>,
) -> ApiResult<Response> {
    let client = ClientInfo::from_request(&headers, Some(address));
    respond(&state, &caller, &body.model, body.input, &client).await
}

/// `POST /api/ai/stream`: always streams.
async fn stream_unified(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(mut body): Json<UnifiedInput>,
) -> ApiResult<Response> {
    body.input.stream = true;
    let client = ClientInfo::from_request(&headers, Some(address));
    respond(&state, &caller, &body.model, body.input, &client).await
}

async fn respond(
    state: &AppState,
    caller: &Caller,
    model: &str,
    input: GenerateInput,
    client: &ClientInfo,
) -> ApiResult<Response> {
    let source = if caller.is_api_key() {
        Source::Api
    } else {
        Source::Playground
    };
    let live = begin(
        state,
        caller,
        model,
        &input,
        source,
        Unsupported::Refuse,
        client,
    )
    .await?;
    if input.stream {
        return Ok(sse::attach(live));
    }
    let outcome = live.wait().await;
    let data = OutcomeSummary::new(&live.id, &live.model_slug, &outcome);
    Ok(match &outcome.error {
        None => Json(Answer {
            success: true,
            error: None,
            data,
        })
        .into_response(),
        Some(error) => (
            failure_status(&outcome),
            Json(Answer {
                success: false,
                error: Some(FailureSummary::new(error)),
                data,
            }),
        )
            .into_response(),
    })
}

/// A generate call's answer: the plan's envelope around the summary.
#[derive(Serialize)]
struct Answer<'a> {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<FailureSummary<'a>>,
    data: OutcomeSummary<'a>,
}

/// A generation the caller owns, or 404 (another account's id is as unknown as a made-up one).
async fn owned_row(state: &AppState, caller: &Caller, id: &str) -> ApiResult<GenerationRow> {
    state
        .engine
        .generation(id, caller.id())
        .await?
        .ok_or_else(|| ApiError::not_found("No generation of yours has that id."))
}

/// `GET /api/generations/{id}`: the record, or for a running generation its text so far.
async fn details(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if let Some(live) = state.engine.live(&id)
        && live.user_id == caller.id()
        && live.outcome().is_none()
    {
        return Ok(Json(json!({
            "success": true,
            "data": {
                "id": live.id,
                "model": live.model_slug,
                "status": "pending",
                "content": live.content(),
                "createdAt": live.created_at,
            }
        })));
    }
    let row = owned_row(&state, &caller, &id).await?;
    let images = generations::count_assets(&state.db, &row.id).await?;
    Ok(Json(
        json!({"success": true, "data": row_json(&row, images)}),
    ))
}

/// The stored generation in the plan's shape.
pub fn row_json(row: &GenerationRow, images: i64) -> Value {
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
    json!({
        "id": row.id,
        "modelId": row.model_id,
        "sessionId": row.session_id,
        "source": row.source,
        "input": {
            "prompt": row.prompt,
            "systemPrompt": row.system_prompt,
            "messages": parse(&row.messages),
            "parameters": parse(&row.parameters),
        },
        "output": {
            "content": row.output_content,
            "finishReason": row.finish_reason,
            "usage": {
                "promptTokens": row.prompt_tokens,
                "completionTokens": row.completion_tokens,
                "totalTokens": row.total_tokens,
            },
            "images": (0..images).map(|i| format!("/api/generations/{}/image?index={i}", row.id)).collect::<Vec<_>>(),
        },
        "metadata": {
            "duration": row.duration_ms,
            "timeToFirstToken": row.time_to_first_token_ms,
            "cost": usd(row.cost_nanos),
            "costNanos": row.cost_nanos,
            "provider": row.provider,
            "modelVersion": row.model_version,
            "providerGenerationId": row.provider_generation_id,
            "details": row.error_details.as_deref().map(parse),
        },
        "status": row.status,
        "error": row.error_code.as_ref().map(|code| json!({"code": code, "message": row.error_message})),
        "visibility": row.visibility,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    })
}

/// `GET /api/generations/{id}/stream`: reattach. A generation that already ended replays as
/// its whole text and its ending.
async fn reattach(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if let Some(live) = state.engine.live(&id)
        && live.user_id == caller.id()
    {
        return Ok(sse::attach(live));
    }
    let row = owned_row(&state, &caller, &id).await?;
    Ok(sse::replay(&row))
}

/// `POST /api/generations/{id}/cancel`.
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if let Some(live) = state.engine.live(&id)
        && live.user_id == caller.id()
    {
        live.cancel();
        let outcome = live.wait().await;
        return Ok(Json(json!({
            "success": true,
            "data": OutcomeSummary::new(&live.id, &live.model_slug, &outcome),
        })));
    }
    let row = owned_row(&state, &caller, &id).await?;
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "already_finished",
        format!("This generation already ended ({}).", row.status),
    ))
}

#[derive(Deserialize)]
struct ImageQuery {
    #[serde(default)]
    index: i64,
}

/// The `Content-Security-Policy` of every stored asset's response: a document of its own that
/// may run nothing and load nothing, should a browser ever treat it as one.
pub const ASSET_CONTENT_SECURITY_POLICY: &str = "sandbox; default-src 'none'";

/// `GET /api/generations/{id}/image?index=0`: one stored image, re-sniffed (rows written before
/// images were checked may hold anything), with its true type, sandboxed, never sniffed by the
/// browser, named with its true extension. The handler's errors (404, 410) carry the sandbox
/// policy too; refusals before it (401, a malformed `index`) carry the site's.
async fn image(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<ImageQuery>,
) -> Response {
    let mut response = match stored_image(&state, &caller, &id, query.index).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(ASSET_CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn stored_image(
    state: &AppState,
    caller: &Caller,
    id: &str,
    index: i64,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found("This generation has no image at that index.");
    let position = usize::try_from(index).map_err(|_| not_found())?;
    let image = state
        .engine
        .image(id, caller.id(), position)
        .await?
        .ok_or_else(not_found)?;
    let format = servable_image(id, position, &image)?;
    Ok((
        [
            (header::CONTENT_TYPE, format.mime_type().to_owned()),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "inline; filename=\"aipasta-{id}-{index}.{}\"",
                    format.extension()
                ),
            ),
        ],
        // Shares the outcome's (or the row's) bytes rather than copying them.
        Body::from(axum::body::Bytes::from_owner(image.bytes)),
    )
        .into_response())
}

/// The stored image's true format, or a 410 for bytes that are no raster image (only rows
/// written before images were checked can hold such bytes): they are never served.
pub(crate) fn servable_image(
    generation: &str,
    position: usize,
    image: &Image,
) -> Result<ImageFormat, ApiError> {
    ImageFormat::sniff(&image.bytes).ok_or_else(|| {
        tracing::warn!(
            %generation,
            position,
            stored_type = %image.mime_type,
            "a stored image is not a raster image; not served"
        );
        ApiError::new(
            StatusCode::GONE,
            "image_not_served",
            format!(
                "This image is not {KEPT_FORMATS} (it {}), so it is not served. It was stored \
                 before AI Pasta checked the images providers return.",
                media::looks_like(&image.bytes)
            ),
        )
    })
}
