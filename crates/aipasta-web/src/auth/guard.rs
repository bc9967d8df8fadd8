//! Brute-force protection around signing in and up: token buckets per IP and per account, and
//! a lockout that slows, then refuses, repeated failures (kept in Redis when configured, so
//! every instance sees the same counts).

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use aipasta_core::account::Email;
use aipasta_store::accounts::UserRow;

use super::api::{AuthFailure, ClientInfo, authenticate};
use crate::error::ApiError;
use crate::ratelimit::{Decision, LoginDecision, keys, too_many_requests};
use crate::state::AppState;

/// Why a guarded sign-in or sign-up did not go ahead.
#[derive(Debug)]
pub enum Refusal {
    /// Rate limited or locked out: say so and when to come back.
    Limited {
        retry_after: Duration,
        message: String,
    },
    Failed(AuthFailure),
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Limited { message, .. } => message.clone(),
            Refusal::Failed(failure) => failure.message(),
        }
    }

    /// The JSON API's answer.
    pub fn into_api_response(self) -> Response {
        match self {
            Refusal::Limited {
                retry_after,
                message,
            } => too_many_requests(retry_after, &message),
            Refusal::Failed(failure) => ApiError::from(failure).into_response(),
        }
    }

    /// The status a page answers with beside its form.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Limited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Refusal::Failed(AuthFailure::WrongCredentials) => StatusCode::UNAUTHORIZED,
            Refusal::Failed(AuthFailure::Suspended) => StatusCode::FORBIDDEN,
            Refusal::Failed(AuthFailure::EmailTaken) => StatusCode::CONFLICT,
            Refusal::Failed(AuthFailure::Internal(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            Refusal::Failed(AuthFailure::Invalid(_)) => StatusCode::BAD_REQUEST,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Refusal::Limited { retry_after, .. } => Some(*retry_after),
            Refusal::Failed(_) => None,
        }
    }
}

fn refusal(retry_after: Duration, message: &str) -> Refusal {
    Refusal::Limited {
        retry_after,
        message: message.to_owned(),
    }
}

fn client_ip(client: &ClientInfo) -> std::net::IpAddr {
    client
        .ip
        .as_deref()
        .and_then(|ip| ip.parse().ok())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// Refused when this IP has signed up too often.
pub async fn signup_allowed(state: &AppState, client: &ClientInfo) -> Result<(), Refusal> {
    let limit = state.config.limits.signup_per_ip;
    match state
        .limiter
        .check(&keys::ip(keys::SIGN_UP, client_ip(client)), limit, 1)
        .await
    {
        Decision::Allowed { .. } => Ok(()),
        Decision::Limited { retry_after } => Err(refusal(
            retry_after,
            "Too many accounts were created from this address. Wait a while and try again.",
        )),
    }
}

/// Signs in with brute-force protection: per-IP and per-account rate limits, then a lockout
/// after repeated failures.
pub async fn guarded_authenticate(
    state: &AppState,
    client: &ClientInfo,
    email: &str,
    password: &str,
) -> Result<UserRow, Refusal> {
    let limits = &state.config.limits;
    // Hashed account keys (no plain emails in Redis) and IPv6 clients grouped by /64.
    let ip_key = keys::ip(keys::SIGN_IN, client_ip(client));
    let account_key = keys::account(
        keys::SIGN_IN,
        &Email::parse(email)
            .map(|e| e.as_str().to_owned())
            .unwrap_or_else(|_| email.trim().to_lowercase()),
    );
    for (key, limit) in [
        (&ip_key, limits.signin_per_ip),
        (&account_key, limits.signin_per_account),
    ] {
        if let Decision::Limited { retry_after } = state.limiter.check(key, limit, 1).await {
            return Err(refusal(
                retry_after,
                "Too many sign-in attempts. Wait a moment and try again.",
            ));
        }
    }
    // The stricter of the address's and the account's state, waited once.
    let by_ip = state
        .limiter
        .login_check(&ip_key, &limits.login_guard)
        .await;
    let by_account = state
        .limiter
        .login_check(&account_key, &limits.login_guard)
        .await;
    match by_ip.stricter(by_account) {
        LoginDecision::Allowed => {}
        LoginDecision::Delay(delay) => tokio::time::sleep(delay).await,
        LoginDecision::Locked { retry_after } => {
            return Err(refusal(
                retry_after,
                &format!(
                    "Too many failed sign-ins. Sign-in is paused for this account or address; try again {}.",
                    crate::ratelimit::wait_phrase(retry_after)
                ),
            ));
        }
    }
    match authenticate(state, email, password).await {
        Ok(user) => {
            state.limiter.login_succeeded(&account_key).await;
            Ok(user)
        }
        Err(failure) => {
            if matches!(failure, AuthFailure::WrongCredentials) {
                state
                    .limiter
                    .login_failed(&ip_key, &limits.login_guard)
                    .await;
                state
                    .limiter
                    .login_failed(&account_key, &limits.login_guard)
                    .await;
            }
            Err(Refusal::Failed(failure))
        }
    }
}
