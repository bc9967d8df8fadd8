//! `/api/auth/...`: sign up, sign in, the current session, sign out; and the account logic the
//! sign-in pages share.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use aipasta_core::account::{AccountError, Email, Role, UserStatus, check_password, parse_name};
use aipasta_core::clock::now_ms;
use aipasta_store::accounts::{self, NewUser, UserRow};

use super::identity::{Caller, Identity};
use super::tokens::{Claims, random_token, sha256_hex, sign_jwt};
use super::{Access, Routes, password};
use crate::api::Failure;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Routes {
    use Access::Public;
    Routes::new()
        .api(Public, routes!(signup))
        .api(Public, routes!(signin))
        .api(Public, routes!(session))
        .api(Public, routes!(signout))
}

/// Why signing up or in did not work, in words for the person.
#[derive(Debug)]
pub enum AuthFailure {
    Invalid(String),
    EmailTaken,
    /// A wrong email or password, or an account that cannot sign in (suspended, deleted):
    /// one answer for all, so a password is never confirmed for an account that cannot use it.
    WrongCredentials,
    Internal(String),
}

impl AuthFailure {
    pub fn message(&self) -> String {
        match self {
            AuthFailure::Invalid(message) => message.clone(),
            // Says no more than the sign-up form must: the address cannot be used here.
            AuthFailure::EmailTaken => "An account with this email already exists. Sign in instead.".into(),
            AuthFailure::WrongCredentials => "That email and password do not match an active account. A suspended account cannot sign in: ask the operator of this instance.".into(),
            AuthFailure::Internal(_) => "Something went wrong on our side; try again in a moment.".into(),
        }
    }
}

impl From<AccountError> for AuthFailure {
    fn from(error: AccountError) -> AuthFailure {
        AuthFailure::Invalid(error.to_string())
    }
}

impl From<AuthFailure> for ApiError {
    fn from(failure: AuthFailure) -> ApiError {
        let message = failure.message();
        match failure {
            AuthFailure::Invalid(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "validation_error", message)
            }
            AuthFailure::EmailTaken => ApiError::new(StatusCode::CONFLICT, "email_taken", message),
            AuthFailure::WrongCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", message)
            }
            AuthFailure::Internal(cause) => ApiError::internal(&cause),
        }
    }
}

/// The role an account gets from `AIPASTA_ADMIN_EMAILS`, else what it has.
fn configured_role(state: &AppState, email: &str, current: &str) -> String {
    if state.config.auth.admin_emails.iter().any(|e| e == email) {
        Role::Admin.as_str().to_owned()
    } else {
        current.to_owned()
    }
}

/// A sign-up that passed every check but the database's own: its account can be created.
pub struct Registration {
    name: String,
    email: Email,
    password: String,
}

/// Checks a sign-up: the name, the email, the password policy, and that no account has the
/// email yet (checked again, race-free, when the account is created).
pub async fn check_registration(
    state: &AppState,
    name: &str,
    email: &str,
    password_text: &str,
) -> Result<Registration, AuthFailure> {
    let name = parse_name(name)?;
    let email = Email::parse(email)?;
    check_password(password_text)?;
    let taken = accounts::find_user_by_email(&state.db, email.as_str())
        .await
        .map_err(|e| AuthFailure::Internal(e.to_string()))?;
    if taken.is_some() {
        return Err(AuthFailure::EmailTaken);
    }
    Ok(Registration {
        name,
        email,
        password: password_text.to_owned(),
    })
}

/// Creates the account of a checked sign-up.
pub async fn register(
    state: &AppState,
    registration: Registration,
) -> Result<UserRow, AuthFailure> {
    let Registration {
        name,
        email,
        password,
    } = registration;
    let hash = password::hash(password)
        .await
        .map_err(AuthFailure::Internal)?;
    let new = NewUser {
        email: email.as_str().to_owned(),
        name,
        password_hash: Some(hash),
        role: configured_role(state, email.as_str(), Role::User.as_str()),
        email_verified: false,
        image: None,
        identity: ("credentials".into(), email.as_str().to_owned()),
    };
    match accounts::create_user(&state.db, &new).await {
        Ok(user) => Ok(user),
        Err(error) if error.is_unique_violation() => Err(AuthFailure::EmailTaken),
        Err(error) => Err(AuthFailure::Internal(error.to_string())),
    }
}

/// Checks an email and password. Every refusal is [`AuthFailure::WrongCredentials`] after the
/// same argon2 work: an unknown email, a wrong password, and any password of an account that
/// cannot sign in (suspended, deleted) look and take alike.
pub async fn authenticate(
    state: &AppState,
    email: &str,
    password_text: &str,
) -> Result<UserRow, AuthFailure> {
    let Ok(email) = Email::parse(email) else {
        // Same work as a real check, so a malformed email is not faster to try.
        password::verify(password_text.to_owned(), None).await;
        return Err(AuthFailure::WrongCredentials);
    };
    let user = accounts::find_user_by_email(&state.db, email.as_str())
        .await
        .map_err(|e| AuthFailure::Internal(e.to_string()))?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = password::verify(password_text.to_owned(), stored).await;
    let Some(user) = user.filter(|u| matches && u.status == UserStatus::Active.as_str()) else {
        return Err(AuthFailure::WrongCredentials);
    };
    let role = configured_role(state, &user.email, &user.role);
    if role != user.role {
        accounts::set_role(&state.db, &user.id, &role)
            .await
            .map_err(|e| AuthFailure::Internal(e.to_string()))?;
    }
    Ok(user)
}

/// Client facts recorded with a session.
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    pub fn from_request(headers: &HeaderMap, address: Option<SocketAddr>) -> ClientInfo {
        ClientInfo {
            ip: address.map(|a| a.ip().to_string()),
            user_agent: headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }
}

/// Starts a browser session: a new session token and a new CSRF token (rotated at sign-in, so
/// nothing planted before it survives). Answers the `Set-Cookie` values.
pub async fn start_session(
    state: &AppState,
    user: &UserRow,
    client: &ClientInfo,
) -> Result<Vec<String>, AuthFailure> {
    let auth = &state.config.auth;
    let token = random_token(32);
    let csrf = random_token(32);
    let expires = now_ms() + auth.session_ttl.as_millis() as i64;
    accounts::create_session(
        &state.db,
        &sha256_hex(&token),
        &user.id,
        &csrf,
        client.ip.as_deref(),
        client.user_agent.as_deref(),
        expires,
    )
    .await
    .map_err(|e| AuthFailure::Internal(e.to_string()))?;
    accounts::touch_last_login(&state.db, &user.id)
        .await
        .map_err(|e| AuthFailure::Internal(e.to_string()))?;
    Ok(vec![
        auth.cookie(auth.session_cookie(), &token, Some(auth.session_ttl)),
        auth.cookie(auth.csrf_cookie(), &csrf, None),
    ])
}

/// Signs the caller out: ends their browser session (if any) and every JWT the account was
/// issued until now, which carry no server state of their own to end one by one. An API key
/// signs nothing out (it is not a sign-in; revoke it instead). Answers the cookies that clear
/// the session.
pub async fn end_session(state: &AppState, identity: &Identity) -> Vec<String> {
    let auth = &state.config.auth;
    if let Some(caller) = &identity.0
        && !caller.is_api_key()
    {
        if let Some(session_id) = caller.session_id()
            && let Err(error) = accounts::revoke_session(&state.db, caller.id(), session_id).await
        {
            tracing::warn!(%error, "could not end a session");
        }
        if let Err(error) = accounts::revoke_tokens(&state.db, caller.id()).await {
            tracing::warn!(%error, "could not end an account's bearer tokens");
        }
    }
    vec![
        auth.expired_cookie(auth.session_cookie()),
        auth.expired_cookie(auth.csrf_cookie()),
    ]
}

/// The signed-in account, as the sign-in answers show it.
#[derive(Serialize, ToSchema)]
pub struct AuthUser {
    id: String,
    email: String,
    name: String,
    /// `user`, `moderator` or `admin`.
    role: String,
    /// The avatar's address.
    #[schema(required = true)]
    image: Option<String>,
}

impl AuthUser {
    pub fn new(user: &UserRow, role: &str) -> AuthUser {
        AuthUser {
            id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            role: role.to_owned(),
            image: user.image.clone(),
        }
    }
}

/// A sign-up's or sign-in's answer: the account and a bearer token (not in `data`).
#[derive(Serialize, ToSchema)]
pub struct AuthAnswer {
    /// Always `true`.
    success: bool,
    user: AuthUser,
    /// A JWT for `Authorization: Bearer`.
    token: String,
}

/// Who is signed in: the account and how it came, or `user: null` for nobody.
#[derive(Serialize, ToSchema)]
pub struct AuthSession {
    /// Always `true`.
    success: bool,
    /// The signed-in account, or `null`.
    #[schema(required = true)]
    user: Option<AuthUser>,
    /// How the caller signed in: `session` (a browser session), `bearer` (a JWT) or `api_key`.
    /// Absent when nobody is signed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<&'static str>,
}

/// A sign-out's answer.
#[derive(Serialize, ToSchema)]
pub struct AuthSignedOut {
    /// Always `true`.
    success: bool,
}

/// A new bearer JWT for `user`, valid for `AuthSettings::jwt_ttl` from now. `user` must be
/// read after any sign-out or password change this token follows: it is issued after the
/// account's `tokens_valid_after` even within the same millisecond, so it always works.
pub fn jwt_for(state: &AppState, user: &UserRow, role: &str) -> String {
    let ttl = i64::try_from(state.config.auth.jwt_ttl.as_secs()).unwrap_or(i64::MAX / 2);
    let issued = now_ms().max(user.tokens_valid_after.saturating_add(1));
    let claims = Claims::issued(user.id.clone(), role.to_owned(), issued, ttl);
    sign_jwt(&claims, state.config.auth.jwt_key())
}

fn with_cookies(mut response: Response, cookies: Vec<String>) -> Response {
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

pub fn respond_with_cookies(response: Response, cookies: Vec<String>) -> Response {
    with_cookies(response, cookies)
}

/// A new account.
#[derive(Deserialize, ToSchema)]
#[schema(as = AuthSignupRequest)]
struct SignupBody {
    /// The name people see.
    name: String,
    #[schema(format = Email)]
    email: String,
    /// The password, as the password policy allows.
    password: String,
}

/// An email and password.
#[derive(Deserialize, ToSchema)]
#[schema(as = AuthSigninRequest)]
struct SigninBody {
    email: String,
    password: String,
}

/// Sign up
///
/// Creates an account, starts a browser session (its cookies) and answers the account and a
/// bearer token (JWT). Only created accounts count against the address's sign-up limit; a
/// refused sign-up says why.
#[utoipa::path(
    post,
    path = "/api/auth/signup",
    request_body = SignupBody,
    responses(
        (status = 201, description = "The account and its token; the session cookies are set.", body = AuthAnswer),
        (status = 400, description = "A refused email, name or password (`validation_error`).", body = Failure),
        (status = 409, description = "An account with this email exists (`email_taken`).", body = Failure),
        (status = 429, description = "Too many accounts created, or sign-up attempts, from this address (`Retry-After`).", body = Failure),
    ),
)]
async fn signup(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<SignupBody>,
) -> Result<Response, ApiError> {
    let client = ClientInfo::from_request(&headers, Some(address));
    let user = match crate::auth::guard::guarded_register(
        &state,
        &client,
        &body.name,
        &body.email,
        &body.password,
    )
    .await
    {
        Ok(user) => user,
        Err(refusal) => return Ok(refusal.into_api_response()),
    };
    let cookies = start_session(&state, &user, &client).await?;
    let token = jwt_for(&state, &user, &user.role);
    let answer = AuthAnswer {
        success: true,
        user: AuthUser::new(&user, &user.role),
        token,
    };
    let response = (StatusCode::CREATED, Json(answer)).into_response();
    Ok(with_cookies(response, cookies))
}

/// Sign in
///
/// Starts a browser session (its cookies) and answers the account and a bearer token (JWT)
/// for `Authorization: Bearer`, valid for an hour, until a sign-out or a password change.
#[utoipa::path(
    post,
    path = "/api/auth/signin",
    request_body = SigninBody,
    responses(
        (status = 200, description = "The account and its token; the session cookies are set.", body = AuthAnswer),
        (status = 401, description = "Wrong email or password, or an account that cannot sign in (`invalid_credentials`).", body = Failure),
        (status = 429, description = "Too many attempts or failures from this address (`Retry-After`).", body = Failure),
    ),
)]
async fn signin(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<SigninBody>,
) -> Result<Response, ApiError> {
    let client = ClientInfo::from_request(&headers, Some(address));
    let user = match crate::auth::guard::guarded_authenticate(
        &state,
        &client,
        &body.email,
        &body.password,
    )
    .await
    {
        Ok(user) => user,
        Err(refusal) => return Ok(refusal.into_api_response()),
    };
    let role = configured_role(&state, &user.email, &user.role);
    let cookies = start_session(&state, &user, &client).await?;
    let token = jwt_for(&state, &user, &role);
    let answer = AuthAnswer {
        success: true,
        user: AuthUser::new(&user, &role),
        token,
    };
    Ok(with_cookies(Json(answer).into_response(), cookies))
}

/// Who is signed in
///
/// The caller's account and how it came (`via`: a browser session, a JWT or an API key), or
/// `user: null` when nobody is signed in. Never an error for a missing sign-in.
#[utoipa::path(
    get,
    path = "/api/auth/session",
    responses((status = 200, description = "The caller, or `user: null`.", body = AuthSession)),
)]
async fn session(identity: Identity) -> Json<AuthSession> {
    Json(match identity.0 {
        Some(caller) => AuthSession {
            success: true,
            user: Some(AuthUser::new(&caller.user, caller.role.as_str())),
            via: Some(match caller.credential {
                super::identity::Credential::Session { .. } => "session",
                super::identity::Credential::Bearer => "bearer",
                super::identity::Credential::ApiKey { .. } => "api_key",
            }),
        },
        None => AuthSession {
            success: true,
            user: None,
            via: None,
        },
    })
}

/// Sign out
///
/// Ends the browser session, and every JWT the account was issued until now (on every
/// device), and clears the session cookies. An API key signs nothing out: revoke it instead.
#[utoipa::path(
    post,
    path = "/api/auth/signout",
    responses((status = 200, description = "Signed out; the session cookies are cleared.", body = AuthSignedOut)),
)]
async fn signout(State(state): State<AppState>, identity: Identity) -> Response {
    let cookies = end_session(&state, &identity).await;
    with_cookies(
        Json(AuthSignedOut { success: true }).into_response(),
        cookies,
    )
}

/// The caller, for handlers that need the full account row.
pub fn caller_user(caller: &Caller) -> &UserRow {
    &caller.user
}
