//! Brute-force protection around signing in and up: the sign-in guard (`ratelimit::sign_in`:
//! per address, per account and per account from one address, kept in Redis when configured
//! so every instance sees the same counts), and the sign-up limits per address.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use aipasta_store::accounts::UserRow;

use super::api::{AuthFailure, ClientInfo, authenticate, check_registration, register};
use crate::error::ApiError;
use crate::ratelimit::{Decision, SignInDecision, SignInKeys, keys, too_many_requests};
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

/// Creates an account, refusing an address that tried too often or created too many. Only
/// created accounts count against `signup_per_ip`: a mistake (a taken email, a weak password,
/// a malformed address) is answered as itself and uses up only the more generous
/// `signup_attempts_per_ip`. (Two sign-ups racing for one email may both be counted; the loser
/// is then told the email is taken.)
pub async fn guarded_register(
    state: &AppState,
    client: &ClientInfo,
    name: &str,
    email: &str,
    password: &str,
) -> Result<UserRow, Refusal> {
    let limits = &state.config.limits;
    let ip = client_ip(client);
    let attempts = keys::ip(keys::SIGN_UP_ATTEMPT, ip);
    if let Decision::Limited { retry_after } = state
        .limiter
        .check(&attempts, limits.signup_attempts_per_ip, 1)
        .await
    {
        return Err(refusal(
            retry_after,
            "Too many sign-up attempts from this address. Wait a moment and try again.",
        ));
    }
    let registration = check_registration(state, name, email, password)
        .await
        .map_err(Refusal::Failed)?;
    let created = keys::ip(keys::SIGN_UP, ip);
    if let Decision::Limited { retry_after } =
        state.limiter.check(&created, limits.signup_per_ip, 1).await
    {
        return Err(refusal(
            retry_after,
            "Too many accounts were created from this address. Wait a while and try again.",
        ));
    }
    register(state, registration).await.map_err(Refusal::Failed)
}

/// Signs in behind the sign-in guard (see `ratelimit::sign_in`): refused while this address is
/// too fast or locked, slowed while failures pile up, never locked because of what other
/// addresses did.
pub async fn guarded_authenticate(
    state: &AppState,
    client: &ClientInfo,
    email: &str,
    password: &str,
) -> Result<UserRow, Refusal> {
    let limits = &state.config.limits;
    // Hashed account keys (no plain emails in Redis) and IPv6 clients grouped by /64.
    let keys = SignInKeys::new(email, client_ip(client));
    match state.limiter.sign_in_check(&keys, limits).await {
        SignInDecision::Proceed { wait } => {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        SignInDecision::TooFast { retry_after } => {
            return Err(refusal(
                retry_after,
                "Too many sign-in attempts. Wait a moment and try again.",
            ));
        }
        SignInDecision::Locked { retry_after } => {
            return Err(refusal(
                retry_after,
                &format!(
                    "Too many failed sign-ins from this address. Sign-in from here is paused; \
                     try again {}.",
                    crate::ratelimit::wait_phrase(retry_after)
                ),
            ));
        }
    }
    match authenticate(state, email, password).await {
        Ok(user) => {
            state.limiter.sign_in_succeeded(&keys).await;
            Ok(user)
        }
        Err(failure) => {
            if matches!(failure, AuthFailure::WrongCredentials) {
                state.limiter.sign_in_failed(&keys, limits).await;
            }
            Err(Refusal::Failed(failure))
        }
    }
}
