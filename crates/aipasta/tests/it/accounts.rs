//! Accounts end to end, on every backend: sign-up and sign-in, sessions and CSRF, bearer tokens,
//! API keys and scopes, suspension, password change, export, deletion and brute-force lockout.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use aipasta_store::accounts;

use crate::helpers::{
    BrowserSession, Reply, backends, browser_client_from, csrf_from, limiters, spawn_app,
    spawn_app_with, spawn_app_with_limiter,
};

#[tokio::test]
async fn sign_up_sign_in_session_and_sign_out_through_the_api() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ada = app.sign_up("Ada", "  Ada@Example.COM ").await;
        assert_eq!(ada.email, "ada@example.com");

        let signin = app
            .anonymous()
            .post(
                "/api/auth/signin",
                json!({ "email": "ADA@example.com", "password": ada.password }),
            )
            .await;
        assert_eq!(
            signin.status,
            StatusCode::OK,
            "{backend:?}: emails are normalised"
        );
        let body = signin.json();
        assert_eq!(body["success"], true);
        assert_eq!(body["user"]["email"], "ada@example.com");
        assert_eq!(body["user"]["role"], "user");
        let token = body["token"].as_str().unwrap();

        let (_, anonymous) = app.get_json("/api/auth/session").await;
        assert!(anonymous["user"].is_null());
        let session = app.bearer(token).get("/api/auth/session").await.json();
        assert_eq!(session["user"]["id"], ada.id.as_str());

        // A taken email, a weak password and a bad email are clear 4xx answers.
        let again = app.anonymous().post("/api/auth/signup",
            json!({ "name": "Other", "email": "ada@example.com", "password": "another long phrase" })).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.json()["error"]["code"], "email_taken");
        for (email, password, code) in [
            ("bob@example.com", "short", "validation_error"),
            ("bob@example.com", "password123", "validation_error"),
            ("not-an-email", "a long enough phrase", "validation_error"),
        ] {
            let response = app
                .anonymous()
                .post(
                    "/api/auth/signup",
                    json!({ "name": "Bob", "email": email, "password": password }),
                )
                .await;
            assert_eq!(
                response.status,
                StatusCode::BAD_REQUEST,
                "{email} / {password}"
            );
            assert_eq!(response.json()["error"]["code"], code);
        }
        let wrong = app
            .anonymous()
            .post(
                "/api/auth/signin",
                json!({ "email": "ada@example.com", "password": "not the password" }),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let unknown = app
            .anonymous()
            .post(
                "/api/auth/signin",
                json!({ "email": "nobody@example.com", "password": "not the password" }),
            )
            .await;
        assert_eq!(
            unknown.status,
            StatusCode::UNAUTHORIZED,
            "unknown and wrong look the same"
        );
        let stored = accounts::find_user_by_email(&app.db, "ada@example.com")
            .await
            .unwrap()
            .unwrap();
        assert!(stored.password_hash.unwrap().starts_with("$argon2id$"));
    }
}

#[tokio::test]
async fn browser_sessions_need_csrf_tokens_and_rotate_at_sign_in() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ada = app.sign_up("Ada", "ada@example.com").await;
        let browser = BrowserSession::new(&app);

        let before = csrf_from(&browser.page("/auth/signin").await);
        let forged = browser
            .post_form(
                "/auth/signin",
                &[
                    ("email", ada.email.as_str()),
                    ("password", ada.password.as_str()),
                ],
            )
            .await;
        assert_eq!(
            forged.status,
            StatusCode::FORBIDDEN,
            "{backend:?}: no token, no sign-in"
        );

        let signed_in = browser
            .post_form(
                "/auth/signin",
                &[
                    ("email", ada.email.as_str()),
                    ("password", ada.password.as_str()),
                    ("csrf_token", before.as_str()),
                    ("next", "/models"),
                ],
            )
            .await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
        assert_eq!(signed_in.header("location"), "/models");
        let cookies: Vec<String> = signed_in
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let session_cookie = cookies
            .iter()
            .find(|c| c.starts_with("aipasta_session="))
            .expect("session cookie");
        assert!(
            session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"),
            "{session_cookie}"
        );

        let settings = browser.get("/dashboard/settings").await;
        assert_eq!(settings.status, StatusCode::OK);
        let html = settings.text();
        assert!(html.contains("ada@example.com"));
        let after = csrf_from(&html);
        assert_ne!(before, after, "the CSRF token is rotated at sign-in");

        // The JSON API with the session cookie: refused without the token, accepted with it.
        // Built by hand: the CSRF header (and the origin) are what is tested.
        let body = json!({ "theme": "dark" });
        let put_settings = |headers: &[(&str, &str)]| {
            let mut request = browser.client.put(app.url("/api/users/settings"));
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            Reply::read(request.json(&body))
        };
        let refused = put_settings(&[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(refused.json()["error"]["code"], "csrf_failed");
        let stale = put_settings(&[("x-csrf-token", &before)]).await;
        assert_eq!(
            stale.status,
            StatusCode::FORBIDDEN,
            "the pre-sign-in token no longer works"
        );
        let accepted = put_settings(&[("x-csrf-token", &after)]).await;
        assert_eq!(accepted.status, StatusCode::OK);
        let cross_site =
            put_settings(&[("x-csrf-token", &after), ("origin", "https://evil.example")]).await;
        assert_eq!(
            cross_site.status,
            StatusCode::FORBIDDEN,
            "another origin is refused"
        );
        let user = accounts::find_user_by_id(&app.db, &ada.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.theme, "dark");

        // The saved theme is what the pages render.
        let home = browser.page("/").await;
        assert!(home.contains(r#"data-theme="dark""#));

        // Sign out ends this browser's session on the server (sign-up made another one).
        let before_out = accounts::list_sessions(&app.db, &ada.id)
            .await
            .unwrap()
            .len();
        let out = browser
            .post_form("/auth/signout", &[("csrf_token", after.as_str())])
            .await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(
            accounts::list_sessions(&app.db, &ada.id)
                .await
                .unwrap()
                .len(),
            before_out - 1
        );
        let settings = browser.get("/dashboard/settings").await;
        assert_eq!(
            settings.status,
            StatusCode::SEE_OTHER,
            "signed out: back to sign-in"
        );
        assert!(
            settings
                .header("location")
                .starts_with("/auth/signin?next=")
        );
    }
}

#[tokio::test]
async fn api_keys_are_shown_once_scoped_revocable_and_private() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ada = app.sign_up("Ada", "ada@example.com").await;
        let eve = app.sign_up("Eve", "eve@example.com").await;

        let created = app
            .user(&ada)
            .post(
                "/api/users/api-keys",
                json!({ "name": "script", "scopes": ["read"], "expiresInDays": 30 }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{backend:?}");
        let created = created.json();
        let key = created["data"]["key"].as_str().unwrap().to_owned();
        let key_id = created["data"]["id"].as_str().unwrap().to_owned();
        assert!(key.starts_with(created["data"]["prefix"].as_str().unwrap()));

        let listed = app.user(&ada).get("/api/users/api-keys").await.json();
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
        assert!(
            listed["data"][0]["key"].is_null(),
            "the full key is never listed"
        );
        let stored: Vec<(String,)> = aipasta_store::Query::new("SELECT key_hash FROM api_keys")
            .fetch_all(&app.db)
            .await
            .unwrap();
        assert_ne!(stored[0].0, key, "only a hash is stored");

        let with_key = app.bearer(&key);
        let profile = with_key.get("/api/users/profile").await;
        assert_eq!(profile.status, StatusCode::OK, "read scope reads");
        let manage = with_key.get("/api/users/api-keys").await;
        assert_eq!(
            manage.status,
            StatusCode::FORBIDDEN,
            "keys cannot manage the account"
        );
        let write = with_key
            .put("/api/users/profile", json!({ "name": "Mallory" }))
            .await;
        assert_eq!(write.status, StatusCode::FORBIDDEN);

        // Another account cannot see or revoke it: 404, as if it did not exist.
        let key_path = format!("/api/users/api-keys/{key_id}");
        let theirs = app.user(&eve).delete(&key_path).await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
        assert_eq!(
            with_key.get("/api/users/profile").await.status,
            StatusCode::OK
        );

        let revoked = app.user(&ada).delete(&key_path).await;
        assert_eq!(revoked.status, StatusCode::OK);
        let after = with_key.get("/api/users/profile").await;
        assert_eq!(
            after.status,
            StatusCode::UNAUTHORIZED,
            "a revoked key stops working at once"
        );

        let bad_scope = app
            .user(&ada)
            .post(
                "/api/users/api-keys",
                json!({ "name": "x", "scopes": ["root"] }),
            )
            .await;
        assert_eq!(bad_scope.status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn suspension_stops_sessions_tokens_and_keys_at_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ada = app.sign_up("Ada", "ada@example.com").await;
        let key = app
            .user(&ada)
            .post(
                "/api/users/api-keys",
                json!({ "name": "k", "scopes": ["read", "generate"] }),
            )
            .await
            .json();
        let key = key["data"]["key"].as_str().unwrap().to_owned();
        let browser = BrowserSession::new(&app);
        browser.sign_in(&ada, None).await;
        assert_eq!(
            browser.get("/api/users/profile").await.status,
            StatusCode::OK
        );

        // Both bearer credentials work first, so their callers are cached when the suspension
        // comes: the cache must not outlive it.
        for _ in 0..2 {
            assert_eq!(
                app.user(&ada).get("/api/users/profile").await.status,
                StatusCode::OK
            );
            assert_eq!(
                app.bearer(&key).get("/api/users/profile").await.status,
                StatusCode::OK
            );
        }

        accounts::set_status(&app.db, &ada.id, "suspended")
            .await
            .unwrap();

        assert_eq!(
            browser.get("/api/users/profile").await.status,
            StatusCode::UNAUTHORIZED,
            "{backend:?}: session"
        );
        assert_eq!(
            app.user(&ada).get("/api/users/profile").await.status,
            StatusCode::UNAUTHORIZED,
            "JWT"
        );
        assert_eq!(
            app.bearer(&key).get("/api/users/profile").await.status,
            StatusCode::UNAUTHORIZED,
            "API key"
        );
        let signin = app
            .anonymous()
            .post(
                "/api/auth/signin",
                json!({ "email": "ada@example.com", "password": ada.password }),
            )
            .await;
        assert_eq!(signin.status, StatusCode::UNAUTHORIZED);
        assert_eq!(signin.json()["error"]["code"], "invalid_credentials");
    }
}

/// Until a password is proven right on an account that can use it, nothing tells a right one
/// from a wrong one: a suspended account answers both alike (status, body) after the same
/// argon2 work, as an unknown email does.
#[tokio::test]
async fn a_suspended_account_answers_a_right_password_exactly_as_a_wrong_one() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ada = app.sign_up("Ada", "ada@example.com").await;
        accounts::set_status(&app.db, &ada.id, "suspended")
            .await
            .unwrap();
        // What one argon2 verification costs on this machine now, at its fastest.
        let mut argon2 = std::time::Duration::MAX;
        for _ in 0..3 {
            let started = std::time::Instant::now();
            aipasta_web::auth::password::verify("guess".into(), None).await;
            argon2 = argon2.min(started.elapsed());
        }
        let attempt = |email: &'static str, password: String| {
            let app = &app;
            async move {
                let started = std::time::Instant::now();
                let response = app
                    .anonymous()
                    .post(
                        "/api/auth/signin",
                        json!({ "email": email, "password": password }),
                    )
                    .await;
                (response.status, response.text(), started.elapsed())
            }
        };
        let right = attempt("ada@example.com", ada.password.clone()).await;
        let wrong = attempt("ada@example.com", "not her password".into()).await;
        let unknown = attempt("nobody@example.com", "not her password".into()).await;
        assert_eq!(
            right.0,
            StatusCode::UNAUTHORIZED,
            "{backend:?}: {}",
            right.1
        );
        for (what, other) in [("a wrong password", &wrong), ("an unknown email", &unknown)] {
            assert_eq!(
                (right.0, &right.1),
                (other.0, &other.1),
                "{backend:?}: the right password answers as {what} does"
            );
        }
        for (what, (_, _, took)) in [("right", &right), ("wrong", &wrong), ("unknown", &unknown)] {
            assert!(
                *took >= argon2 / 2,
                "{backend:?}: the {what} password's answer took {took:?}, less than an argon2 \
                 verification ({argon2:?}): it skipped the work"
            );
        }
        let body: Value = serde_json::from_str(&right.1).unwrap();
        assert_eq!(body["error"]["code"], "invalid_credentials");
    }
}

/// Someone guessing from one address locks that address out of the account, never the owner:
/// the right password from another address signs in, with the guesser still locked, on every
/// rate limiter (memory, Redis).
#[tokio::test]
async fn guessing_from_one_address_never_locks_the_owner_out() {
    for limiter in limiters().await {
        let limiter_name = limiter.backend_name();
        let mut config = aipasta_web::WebConfig::default();
        // Short delays: the test is about who is refused, not about waiting.
        config.limits.login_guard.first_delay = std::time::Duration::from_millis(1);
        config.limits.login_guard.max_delay = std::time::Duration::from_millis(5);
        let app =
            spawn_app_with_limiter(aipasta_store::Backend::Sqlite, config, false, limiter).await;
        // Redis outlives the test: a fresh account, so no earlier run's counts apply.
        let email = format!("ada-{}@example.com", aipasta_core::id::new_id());
        let ada = app.sign_up("Ada", &email).await;
        let attempt = |client: &reqwest::Client, password: &str| {
            Reply::read(
                client
                    .post(app.url("/api/auth/signin"))
                    .json(&json!({ "email": email, "password": password })),
            )
        };
        let guesser = browser_client_from(2);
        let owner = browser_client_from(3);
        for round in 0..25 {
            let status = attempt(&guesser, "guess guess guess").await.status;
            assert!(
                status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS,
                "{limiter_name}: guess {round} answered {status}"
            );
        }
        let locked = attempt(&guesser, &ada.password).await;
        assert_eq!(
            locked.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{limiter_name}: the guessing address stays locked, even with the right password"
        );

        let mistyped = attempt(&owner, "pasta al dente 24").await;
        assert_eq!(
            mistyped.status,
            StatusCode::UNAUTHORIZED,
            "{limiter_name}: the owner's address is not refused on the guesser's account"
        );
        let signed_in = attempt(&owner, &ada.password).await;
        assert_eq!(
            signed_in.status,
            StatusCode::OK,
            "{limiter_name}: the owner signs in from an address with no failures"
        );
        assert_eq!(signed_in.json()["user"]["id"], ada.id.as_str());
        assert_eq!(
            attempt(&guesser, "guess guess guess").await.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{limiter_name}: the owner's success does not unlock the guesser"
        );
    }
}

/// Behind a reverse proxy every request arrives from the proxy's address, so per-address locks
/// need the client it names: with the proxy trusted (`AIPASTA_TRUSTED_PROXIES`), a guesser behind
/// it locks only its own forwarded address and the owner behind the same proxy signs in; from a
/// peer that is not trusted, `X-Forwarded-For` is ignored and cannot dodge the lock.
#[tokio::test]
async fn behind_a_trusted_proxy_the_lock_follows_the_forwarded_client() {
    let mut config = aipasta_web::WebConfig::default();
    config.limits.login_guard.slow_after = 100;
    config.limits.login_guard.lock_after = 3;
    config.server.trusted_proxies = vec!["127.0.0.2/32".parse().unwrap()];
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config, false).await;
    let ada = app.sign_up("Ada", "ada@example.com").await;
    // Built by hand: the forwarded-for header is what is tested.
    let attempt = |client: &reqwest::Client, forwarded_for: &str, password: &str| {
        Reply::read(
            client
                .post(app.url("/api/auth/signin"))
                .header("x-forwarded-for", forwarded_for)
                .json(&json!({ "email": "ada@example.com", "password": password })),
        )
    };
    let proxy = browser_client_from(2);
    for _ in 0..3 {
        let status = attempt(&proxy, "203.0.113.5", "guess guess guess")
            .await
            .status;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt(&proxy, "203.0.113.5", &ada.password).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the guesser's forwarded address is locked"
    );
    // A client's own made-up entry to the left of the proxy's does not help the guesser.
    assert_eq!(
        attempt(&proxy, "198.51.100.7, 203.0.113.5", &ada.password)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS,
        "only the address the proxy appended counts"
    );
    let owner = attempt(&proxy, "198.51.100.7", &ada.password).await;
    assert_eq!(
        owner.status,
        StatusCode::OK,
        "the owner behind the same proxy signs in"
    );

    // An untrusted peer's header is ignored: its failures lock its own address whatever it says.
    let untrusted = browser_client_from(3);
    for n in 0..3 {
        let status = attempt(&untrusted, &format!("192.0.2.{n}"), "guess guess guess")
            .await
            .status;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt(&untrusted, "192.0.2.200", &ada.password)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS,
        "a header from a peer that is not a trusted proxy changes nothing"
    );
}

/// Bearer JWTs carry no server state, so a password change or a sign-out moves the account's
/// `tokens_valid_after`: the tokens issued before stop working at once (cached callers
/// included), the ones issued after work.
#[tokio::test]
async fn tokens_issued_before_a_password_change_or_a_sign_out_stop_working() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ada = app.sign_up("Ada", "ada@example.com").await;
        let sign_in = |password: &'static str| {
            let app = &app;
            async move {
                let response = app
                    .anonymous()
                    .post(
                        "/api/auth/signin",
                        json!({ "email": "ada@example.com", "password": password }),
                    )
                    .await;
                assert_eq!(response.status, StatusCode::OK);
                response.json()["token"].as_str().unwrap().to_owned()
            }
        };
        let profile = async |token: &str| app.bearer(token).get("/api/users/profile").await;
        let from_sign_up = ada.token.clone();
        let from_sign_in = sign_in("pasta al dente 42").await;
        for _ in 0..2 {
            // Twice: the second answer comes from the cached caller.
            assert_eq!(profile(&from_sign_in).await.status, StatusCode::OK);
        }
        let changed = app
            .bearer(&from_sign_in)
            .post(
                "/api/users/password",
                json!({ "currentPassword": "pasta al dente 42", "newPassword": "a brand new phrase" }),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{backend:?}");
        for (what, token) in [("sign-in", &from_sign_in), ("sign-up", &from_sign_up)] {
            let refused = profile(token).await;
            assert_eq!(
                refused.status,
                StatusCode::UNAUTHORIZED,
                "{backend:?}: the {what} token from before the password change"
            );
        }
        let after_change = sign_in("a brand new phrase").await;
        assert_eq!(
            profile(&after_change).await.status,
            StatusCode::OK,
            "{backend:?}: a token issued after the change works"
        );

        // Signing out through the API with the token ends it (and its elders).
        let out = app
            .bearer(&after_change)
            .send(Method::POST, "/api/auth/signout", None)
            .await;
        assert_eq!(out.status, StatusCode::OK);
        assert_eq!(
            profile(&after_change).await.status,
            StatusCode::UNAUTHORIZED,
            "{backend:?}: signed out"
        );

        // Signing out of a browser session ends the tokens issued before it too.
        let before_browser_out = sign_in("a brand new phrase").await;
        assert_eq!(profile(&before_browser_out).await.status, StatusCode::OK);
        let browser = BrowserSession::new(&app);
        // Her password since the change.
        let ada = crate::helpers::TestUser {
            password: "a brand new phrase".to_owned(),
            ..ada
        };
        let signed_in = browser.sign_in(&ada, None).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
        let settings = browser.page("/dashboard/settings").await;
        let out = browser
            .post_form(
                "/auth/signout",
                &[("csrf_token", csrf_from(&settings).as_str())],
            )
            .await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(
            profile(&before_browser_out).await.status,
            StatusCode::UNAUTHORIZED,
            "{backend:?}: a browser's sign-out"
        );
        let fresh = sign_in("a brand new phrase").await;
        assert_eq!(
            profile(&fresh).await.status,
            StatusCode::OK,
            "{backend:?}: a token issued after the sign-out works"
        );
    }
}

/// A sign-up that is refused (a bad email, a weak password, a taken email) says why and does
/// not count against the address's limit on created accounts; only created accounts do.
#[tokio::test]
async fn refused_sign_ups_do_not_use_up_the_sign_up_limit() {
    let mut config = aipasta_web::WebConfig::default();
    config.limits.signup_per_ip = aipasta_web::ratelimit::Limit::per_hour(2);
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config, false).await;
    app.sign_up("Ada", "ada@example.com").await;
    let sign_up = async |email: &str, password: &str| {
        app.anonymous()
            .post(
                "/api/auth/signup",
                json!({ "name": "Bob", "email": email, "password": password }),
            )
            .await
    };
    let mistakes = [
        (
            "not-an-email",
            "a long enough phrase",
            StatusCode::BAD_REQUEST,
        ),
        ("bob@example.com", "short", StatusCode::BAD_REQUEST),
        ("bob@example.com", "password123", StatusCode::BAD_REQUEST),
        (
            "ada@example.com",
            "a long enough phrase",
            StatusCode::CONFLICT,
        ),
    ];
    for round in 0..3 {
        for (email, password, status) in mistakes {
            let response = sign_up(email, password).await;
            assert_eq!(
                response.status, status,
                "round {round}: {email} / {password}"
            );
            let body = response.json();
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                !message.contains("Too many"),
                "{email} / {password}: {message}"
            );
        }
    }
    let taken = sign_up("ada@example.com", "a long enough phrase")
        .await
        .json();
    assert_eq!(
        taken["error"]["message"], "An account with this email already exists. Sign in instead.",
        "no mention of a password reset that does not exist"
    );

    let second = sign_up("bob@example.com", "a long enough phrase").await;
    assert_eq!(
        second.status,
        StatusCode::CREATED,
        "twelve refusals used up nothing"
    );
    let third = sign_up("carol@example.com", "a long enough phrase").await;
    assert_eq!(
        third.status,
        StatusCode::TOO_MANY_REQUESTS,
        "two accounts were created"
    );
    let body = third.json();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Too many accounts were created"),
        "{body}"
    );
    // Past the limit, a mistake is still answered as itself.
    for (email, password, status) in mistakes {
        let response = sign_up(email, password).await;
        assert_eq!(
            response.status, status,
            "after the limit: {email} / {password}"
        );
    }

    // The page says the same, beside its form (from another address: this one's attempts
    // are used up).
    let browser = BrowserSession::from_address(&app, 4);
    let page = browser.page("/auth/signup").await;
    let refused = browser
        .post_form(
            "/auth/signup",
            &[
                ("name", "Ada again"),
                ("email", "ada@example.com"),
                ("password", "a long enough phrase"),
                ("csrf_token", csrf_from(&page).as_str()),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let html = refused.text();
    assert!(html.contains("An account with this email already exists. Sign in instead."));
    assert!(!html.contains("reset your password"));
}

/// An admin's change to an account is checked whole before anything is written: a refused
/// field leaves the others as they were.
#[tokio::test]
async fn a_refused_part_of_an_admin_change_changes_nothing() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.sign_up("Admin", "admin@example.com").await;
        accounts::set_role(&app.db, &admin.id, "admin")
            .await
            .unwrap();
        let ada = app.sign_up("Ada", "ada@example.com").await;
        let path = format!("/api/admin/users/{}", ada.id);
        for change in [
            json!({ "role": "moderator", "status": "bogus" }),
            json!({ "role": "moderator", "subscription": "platinum" }),
            json!({ "status": "suspended", "monthlyLimit": -5 }),
            json!({ "subscription": "pro", "role": "emperor" }),
        ] {
            let (status, body) = app
                .call(&admin, Method::PUT, &path, Some(change.clone()))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}: {change}");
            assert_eq!(body["error"]["code"], "validation_error");
            let stored = accounts::find_user_by_id(&app.db, &ada.id)
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
                "{backend:?}: {change} changed something"
            );
            assert_eq!(stored.monthly_token_limit, None);
        }
        let whole = json!({ "role": "moderator", "status": "suspended", "subscription": "pro", "monthlyLimit": 7 });
        let (status, _) = app.call(&admin, Method::PUT, &path, Some(whole)).await;
        assert_eq!(status, StatusCode::OK);
        let stored = accounts::find_user_by_id(&app.db, &ada.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                stored.role.as_str(),
                stored.status.as_str(),
                stored.subscription.as_str()
            ),
            ("moderator", "suspended", "pro")
        );
        assert_eq!(stored.monthly_token_limit, Some(7));
    }
}

/// A key must say what it may do: none is refused, in the API (400 naming `scopes`) and on
/// the settings page (its form error), and nothing is created.
#[tokio::test]
async fn a_key_without_a_scope_is_refused_not_given_read() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ada = app.sign_up("Ada", "ada@example.com").await;
        for body in [
            json!({ "name": "bare", "scopes": [] }),
            json!({ "name": "bare" }),
        ] {
            let (status, answer) = app
                .call(
                    &ada,
                    Method::POST,
                    "/api/users/api-keys",
                    Some(body.clone()),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}: {body}");
            assert_eq!(answer["error"]["code"], "validation_error");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.starts_with("scopes:"), "{message}");
        }

        let browser = BrowserSession::new(&app);
        browser.sign_in(&ada, None).await;
        let settings = browser.page("/dashboard/settings").await;
        let refused = browser
            .post_form(
                "/dashboard/settings/api-keys",
                &[
                    ("name", "bare"),
                    ("csrf_token", csrf_from(&settings).as_str()),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{backend:?}");
        let html = refused.text();
        assert!(
            html.contains(
                r#"<p class="form-error" role="alert">scopes: choose at least one scope"#
            ),
            "{backend:?}: the form says why"
        );
        assert!(!html.contains("data-new-key"), "no key shown");
        assert!(
            accounts::list_api_keys(&app.db, &ada.id)
                .await
                .unwrap()
                .is_empty(),
            "{backend:?}: no key created"
        );
    }
}

#[tokio::test]
async fn password_change_ends_other_sessions_and_export_and_deletion_work() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ada = app.sign_up("Ada", "ada@example.com").await;
        // A second browser session (sign-up made the first).
        let other = BrowserSession::new(&app);
        other.sign_in(&ada, None).await;
        assert_eq!(
            accounts::list_sessions(&app.db, &ada.id)
                .await
                .unwrap()
                .len(),
            2
        );

        let wrong = app
            .user(&ada)
            .post(
                "/api/users/password",
                json!({ "currentPassword": "nope nope nope", "newPassword": "a brand new phrase" }),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        let changed = app
            .user(&ada)
            .post(
                "/api/users/password",
                json!({ "currentPassword": ada.password, "newPassword": "a brand new phrase" }),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{backend:?}");
        // The JWT it was changed with ended with the old password; the answer brings a new one.
        let ada = crate::helpers::TestUser {
            token: changed.json()["data"]["token"].as_str().unwrap().to_owned(),
            ..ada
        };
        assert!(
            accounts::list_sessions(&app.db, &ada.id)
                .await
                .unwrap()
                .is_empty(),
            "every other session ended"
        );
        assert_eq!(
            other.get("/api/users/profile").await.status,
            StatusCode::UNAUTHORIZED
        );

        let updated = app.user(&ada).put("/api/users/profile",
            json!({ "name": "Ada L.", "bio": "Engines.", "website": "https://ada.example", "preferences": { "theme": "light" } }))
            .await;
        assert_eq!(updated.status, StatusCode::OK);
        let bad_site = app
            .user(&ada)
            .put(
                "/api/users/profile",
                json!({ "website": "javascript:alert(1)" }),
            )
            .await;
        assert_eq!(bad_site.status, StatusCode::BAD_REQUEST);

        let export = app.user(&ada).get("/api/users/export").await;
        assert_eq!(export.status, StatusCode::OK);
        assert!(export.header("content-disposition").contains("attachment"));
        let export = export.json();
        assert_eq!(export["profile"]["name"], "Ada L.");
        assert_eq!(export["settings"]["theme"], "light");
        for section in [
            "generations",
            "favorites",
            "presets",
            "apiKeys",
            "identities",
        ] {
            assert!(export[section].is_array(), "{section}");
        }

        let refused = app
            .user(&ada)
            .send(
                Method::DELETE,
                "/api/users/account",
                Some(json!({ "password": "wrong wrong" })),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let deleted = app
            .user(&ada)
            .send(
                Method::DELETE,
                "/api/users/account",
                Some(json!({ "password": "a brand new phrase" })),
            )
            .await;
        assert_eq!(deleted.status, StatusCode::OK);
        assert!(
            accounts::find_user_by_id(&app.db, &ada.id)
                .await
                .unwrap()
                .is_none(),
            "erased"
        );
        let signin = app
            .anonymous()
            .post(
                "/api/auth/signin",
                json!({ "email": "ada@example.com", "password": "a brand new phrase" }),
            )
            .await;
        assert_eq!(signin.status, StatusCode::UNAUTHORIZED);
    }
}

/// The lock holds the account for the address that failed (another address: see
/// `guessing_from_one_address_never_locks_the_owner_out`).
#[tokio::test]
async fn repeated_failed_sign_ins_lock_the_account_from_that_address_with_a_clear_429() {
    let mut config = aipasta_web::WebConfig::default();
    config.limits.login_guard.slow_after = 100;
    config.limits.login_guard.lock_after = 4;
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config, false).await;
    let ada = app.sign_up("Ada", "ada@example.com").await;
    let attempt = async |password: &str| {
        app.anonymous()
            .post(
                "/api/auth/signin",
                json!({ "email": "ada@example.com", "password": password }),
            )
            .await
    };
    for _ in 0..4 {
        assert_eq!(
            attempt("guess guess guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = attempt("guess guess guess").await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = locked.header("retry-after").parse().unwrap();
    assert!(retry >= 1);
    let body = locked.json();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("try again")
    );
    let _ = ada;
    let right = attempt("pasta al dente 42").await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password, from that address, waits out the lock"
    );
}

#[tokio::test]
async fn admin_emails_make_admins_and_admin_create_works_from_the_command_line() {
    let mut config = aipasta_web::WebConfig::default();
    config.auth.admin_emails = vec!["boss@example.com".into()];
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config, false).await;
    let boss = app.sign_up("Boss", "Boss@Example.com").await;
    let session = app.user(&boss).get("/api/auth/session").await.json();
    assert_eq!(session["user"]["role"], "admin");

    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().display().to_string();
    let run = |args: Vec<String>| {
        std::process::Command::new(env!("CARGO_BIN_EXE_aipasta"))
            .args(args)
            .env_remove("AIPASTA_DATABASE_URL")
            .env("AIPASTA_LOG", "warn")
            .output()
            .unwrap()
    };
    let args = |password: &str| -> Vec<String> {
        [
            "admin",
            "create",
            "--email",
            "root@example.com",
            "--password",
            password,
            "--data-dir",
            &data_dir,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    };
    let weak = run(args("short"));
    assert!(!weak.status.success(), "the password policy applies");
    let created = run(args("a long admin phrase"));
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stdout).contains("Created the admin account"));
    let again = run(args("another admin phrase"));
    assert!(String::from_utf8_lossy(&again.stdout).contains("is now an admin"));
    let db = aipasta_store::Db::open_sqlite_in(dir.path()).await.unwrap();
    let root = accounts::find_user_by_email(&db, "root@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(root.role, "admin");
}

#[tokio::test]
async fn the_api_is_rate_limited_per_account_with_retry_after() {
    let mut config = aipasta_web::WebConfig::default();
    config.limits.api_per_account = aipasta_web::ratelimit::Limit::per_minute(3);
    let app = spawn_app_with(aipasta_store::Backend::Sqlite, config, false).await;
    let ada = app.sign_up("Ada", "ada@example.com").await;
    for _ in 0..3 {
        assert_eq!(
            app.user(&ada).get("/api/users/profile").await.status,
            StatusCode::OK
        );
    }
    let limited = app.user(&ada).get("/api/users/profile").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.header("retry-after").parse::<u64>().unwrap() >= 1);
    assert_eq!(limited.json()["error"]["code"], "rate_limited");
    assert_eq!(
        app.get("/api/health").await.status(),
        StatusCode::OK,
        "health checks are exempt"
    );
}

#[tokio::test]
async fn admins_manage_users_limits_and_settings() {
    let app = spawn_app(aipasta_store::Backend::Sqlite).await;
    let admin = app.sign_up("Admin", "admin@example.com").await;
    accounts::set_role(&app.db, &admin.id, "admin")
        .await
        .unwrap();
    let ada = app.sign_up("Ada", "ada@example.com").await;

    let before = app.user(&ada).get("/api/users/settings").await.json();
    assert_eq!(
        before["data"]["usage"]["monthlyLimit"], 10_000,
        "the plan's default"
    );
    let set = app
        .user(&admin)
        .put(
            "/api/admin/settings",
            json!({ "monthlyTokenLimit": 50_000 }),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    let after = app.user(&ada).get("/api/users/settings").await.json();
    assert_eq!(after["data"]["usage"]["monthlyLimit"], 50_000);

    let ada_path = format!("/api/admin/users/{}", ada.id);
    let changed = app
        .user(&admin)
        .put(
            &ada_path,
            json!({ "monthlyLimit": 1_000_000, "subscription": "pro" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let mine = app.user(&ada).get("/api/users/profile").await.json();
    assert_eq!(mine["data"]["usage"]["monthlyLimit"], 1_000_000);
    assert_eq!(mine["data"]["usage"]["subscription"], "pro");

    let suspended = app
        .user(&admin)
        .put(&ada_path, json!({ "status": "suspended" }))
        .await;
    assert_eq!(suspended.status, StatusCode::OK);
    assert_eq!(
        app.user(&ada).get("/api/users/profile").await.status,
        StatusCode::UNAUTHORIZED
    );
    let bad = app
        .user(&admin)
        .put(&ada_path, json!({ "role": "emperor" }))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let self_demote = app
        .user(&admin)
        .put(
            &format!("/api/admin/users/{}", admin.id),
            json!({ "role": "user" }),
        )
        .await;
    assert_eq!(self_demote.status, StatusCode::BAD_REQUEST);
}

/// U+0000 in a client's free text is stored, never a 500: PostgreSQL's text cannot hold it, so
/// the replacement character stands in there; SQLite keeps it. Where control characters are
/// refused (a name), the answer is a 400 that leaves the stored profile as it was, and looking
/// an account up by such text finds nothing rather than failing.
#[tokio::test]
async fn text_with_nul_characters_from_a_client_is_stored_on_every_backend() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ada = app.sign_up("Ada", "ada@example.com").await;
        let stored = |text: &str| match backend {
            aipasta_store::Backend::Postgres => text.replace('\0', "\u{fffd}"),
            aipasta_store::Backend::Sqlite => text.to_owned(),
        };
        let profile = "/api/users/profile";

        let free_text = json!({ "bio": "\0 first \0", "github": "ada\0l" });
        let (status, _) = app.call(&ada, Method::PUT, profile, Some(free_text)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        let (_, read) = app.call(&ada, Method::GET, profile, None).await;
        assert_eq!(
            read["data"]["profile"]["bio"],
            stored("\0 first \0"),
            "{backend:?}"
        );
        assert_eq!(
            read["data"]["profile"]["github"],
            stored("ada\0l"),
            "{backend:?}"
        );

        let bad_name = json!({ "name": "Ada\0Lovelace", "bio": "replaced" });
        let (status, error) = app.call(&ada, Method::PUT, profile, Some(bad_name)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}");
        assert_eq!(error["success"], false, "{backend:?}");
        let (_, read) = app.call(&ada, Method::GET, profile, None).await;
        assert_eq!(read["data"]["name"], "Ada", "{backend:?}");
        assert_eq!(
            read["data"]["profile"]["bio"],
            stored("\0 first \0"),
            "{backend:?}"
        );

        let preset = json!({ "name": "nul\0preset", "systemPrompt": "\0" });
        let (status, created) = app
            .call(&ada, Method::POST, "/api/users/presets", Some(preset))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}");
        assert_eq!(
            created["data"]["name"],
            stored("nul\0preset"),
            "{backend:?}"
        );

        let signin = app
            .anonymous()
            .post(
                "/api/auth/signin",
                json!({ "email": "ada\0@example.com", "password": ada.password }),
            )
            .await;
        assert!(
            signin.status.is_client_error(),
            "{backend:?}: an unknown email is refused, not a 500 ({})",
            signin.status
        );
    }
}
