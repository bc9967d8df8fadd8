//! The access matrix: every route the router has, called by every kind of caller. Routes are
//! registered through `aipasta_web::auth::Routes`, which cannot hold a route without a rule, so
//! a new route is in this walk the day it is added.

use reqwest::{Method, StatusCode};
use serde_json::json;

use aipasta_web::auth::Access;

use crate::helpers::{TestApp, TestUser, backends, spawn_app, spawn_app_with};

const CSRF: &str = "matrix-csrf-token-0123456789abcdefghijklmnop";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    User,
    Moderator,
    Admin,
    /// A user's key with the `read` scope.
    ReadKey,
    /// An admin's everyday key: `read` and `generate`, no `admin`.
    AdminKey,
    /// An admin's key with the `admin` scope (and `read`, `generate`).
    AdminScopedKey,
}

const EVERYONE: [Who; 7] = [
    Who::Anonymous,
    Who::User,
    Who::Moderator,
    Who::Admin,
    Who::ReadKey,
    Who::AdminKey,
    Who::AdminScopedKey,
];

/// The walk sends hundreds of requests per account within seconds: it measures access, so
/// the API rate limits must not answer first (their own tests cover them).
fn generous_limits() -> aipasta_web::WebConfig {
    let plenty: aipasta_web::ratelimit::Limit = "100000/min,burst=100000".parse().unwrap();
    aipasta_web::WebConfig {
        limits: aipasta_web::ratelimit::RateLimitSettings {
            api_per_account: plenty,
            api_per_ip: plenty,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn concrete(path: &str) -> String {
    path.replace("{*rest}", "anything/here")
        .replace("{*id}", "nobody/nothing")
        .replace("{id}", "00000000-0000-7000-8000-000000000000")
        .replace("{hash}", "0000000000000000")
        .replace("{name}", "app.css")
}

fn expected_allowed(access: Access, who: Who, method: &Method) -> bool {
    let read = *method == Method::GET;
    match (access, who) {
        (Access::Public, _) => true,
        (_, Who::Anonymous) => false,
        (Access::User, Who::ReadKey) => read,
        // Keys never manage an account, whatever their scopes.
        (Access::Account, Who::ReadKey | Who::AdminKey | Who::AdminScopedKey) => false,
        (Access::User | Access::Account, _) => true,
        // An admin's key reaches admin and moderator routes only with the `admin` scope.
        (Access::Moderator | Access::Admin, Who::AdminKey) => false,
        (Access::Moderator | Access::Admin, Who::AdminScopedKey) => true,
        (Access::Moderator, Who::Moderator | Who::Admin) => true,
        (Access::Moderator, _) => false,
        (Access::Admin, Who::Admin) => true,
        (Access::Admin, _) => false,
    }
}

/// The keys the walk calls with, by who holds them.
struct Keys {
    read: String,
    admin_everyday: String,
    admin_scoped: String,
}

impl Keys {
    fn of(&self, who: Who) -> Option<&str> {
        match who {
            Who::ReadKey => Some(&self.read),
            Who::AdminKey => Some(&self.admin_everyday),
            Who::AdminScopedKey => Some(&self.admin_scoped),
            _ => None,
        }
    }
}

/// Creates a key for `user` with `scopes`; answers the status and the JSON answer.
async fn create_key(
    app: &TestApp,
    user: &TestUser,
    scopes: &[&str],
) -> (StatusCode, serde_json::Value) {
    app.call(
        user,
        Method::POST,
        "/api/users/api-keys",
        Some(json!({ "name": format!("{scopes:?}"), "scopes": scopes })),
    )
    .await
}

async fn request(
    app: &TestApp,
    who: Who,
    users: &[(Who, TestUser)],
    keys: &Keys,
    method: &Method,
    path: &str,
) -> reqwest::Response {
    // A browser's double-submit CSRF pair, so what is measured is access, not forgery checks.
    let mut builder = app
        .client
        .request(method.clone(), app.url(path))
        .header("cookie", format!("aipasta_csrf={CSRF}"))
        .header("x-csrf-token", CSRF);
    match who {
        Who::Anonymous => {}
        Who::ReadKey | Who::AdminKey | Who::AdminScopedKey => {
            builder = builder.bearer_auth(keys.of(who).expect("key"));
        }
        _ => {
            let user = users
                .iter()
                .find(|(w, _)| *w == who)
                .map(|(_, u)| u)
                .expect("user");
            builder = builder.bearer_auth(&user.token);
        }
    }
    if matches!(*method, Method::POST | Method::PUT | Method::DELETE) {
        builder = builder.json(&json!({}));
    }
    builder
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

#[tokio::test]
async fn every_route_enforces_its_access_rule_for_every_caller() {
    for backend in backends() {
        walk_every_route(backend).await;
    }
}

async fn walk_every_route(backend: aipasta_store::Backend) {
    let app = spawn_app_with(backend, generous_limits(), false).await;
    let user = app.sign_up("User", "user@example.com").await;
    let moderator = app.sign_up("Mod", "mod@example.com").await;
    let admin = app.sign_up("Admin", "admin@example.com").await;
    aipasta_store::accounts::set_role(&app.db, &moderator.id, "moderator")
        .await
        .unwrap();
    aipasta_store::accounts::set_role(&app.db, &admin.id, "admin")
        .await
        .unwrap();
    let key_of = |answer: serde_json::Value| answer["data"]["key"].as_str().unwrap().to_owned();
    let keys = Keys {
        read: key_of(create_key(&app, &user, &["read"]).await.1),
        admin_everyday: key_of(create_key(&app, &admin, &["read", "generate"]).await.1),
        admin_scoped: key_of(
            create_key(&app, &admin, &["read", "generate", "admin"])
                .await
                .1,
        ),
    };
    let users = [
        (Who::User, user),
        (Who::Moderator, moderator),
        (Who::Admin, admin),
    ];

    let routes = aipasta_web::routes();
    let rules = routes.rules();
    assert!(
        rules.len() > 30,
        "the walk covers the whole router ({} rules)",
        rules.len()
    );
    let mut checked = 0;
    for rule in rules {
        // Deleting the account would remove the caller for the rest of the walk, and signing
        // out would end its tokens; their access is the same as every other `Account` or
        // `Public` route's, which the walk covers.
        let ends_the_caller = [
            "/api/users/account",
            "/dashboard/settings/delete",
            "/api/auth/signout",
            "/auth/signout",
        ];
        if ends_the_caller.contains(&rule.path.as_str()) && rule.method != Method::GET {
            continue;
        }
        let path = concrete(&rule.path);
        for who in EVERYONE {
            let response = request(&app, who, &users, &keys, &rule.method, &path).await;
            let status = response.status();
            let allowed = expected_allowed(rule.access, who, &rule.method);
            let denied = status == StatusCode::UNAUTHORIZED
                || status == StatusCode::FORBIDDEN
                || (status == StatusCode::SEE_OTHER
                    && response
                        .headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .is_some_and(|l| l.starts_with("/auth/signin?next=")));
            assert_eq!(
                !denied, allowed,
                "{backend:?}: {} {} ({:?}) as {who:?}: status {status}",
                rule.method, rule.path, rule.access
            );
            if !allowed && who == Who::Anonymous && path.starts_with("/api/") {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{} {}",
                    rule.method,
                    rule.path
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 150, "{checked} checks");
    let guarded = rules
        .iter()
        .filter(|r| matches!(r.access, Access::Admin | Access::Moderator))
        .count();
    assert!(
        guarded >= 10,
        "the walk covers the admin routes ({guarded})"
    );
}

/// Only an admin grants the `admin` scope: a user's or a moderator's attempt is a 403 naming
/// `scopes` and creates nothing; an admin's key says what it carries.
#[tokio::test]
async fn only_admins_can_create_a_key_with_the_admin_scope() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let user = app.sign_up("User", "user@example.com").await;
        let moderator = app.sign_up("Mod", "mod@example.com").await;
        let admin = app.sign_up("Admin", "admin@example.com").await;
        aipasta_store::accounts::set_role(&app.db, &moderator.id, "moderator")
            .await
            .unwrap();
        aipasta_store::accounts::set_role(&app.db, &admin.id, "admin")
            .await
            .unwrap();
        for (who, person) in [("user", &user), ("moderator", &moderator)] {
            let (status, answer) = create_key(&app, person, &["read", "admin"]).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}: {who}");
            assert_eq!(answer["success"], false);
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.starts_with("scopes:"), "{who}: {message}");
            let keys = aipasta_store::accounts::list_api_keys(&app.db, &person.id)
                .await
                .unwrap();
            assert!(keys.is_empty(), "{backend:?}: {who}'s refused key exists");
        }
        let (status, everyday) = create_key(&app, &admin, &["read", "generate"]).await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(everyday["data"]["warning"].is_null(), "{everyday}");
        let (status, scoped) = create_key(&app, &admin, &["admin"]).await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}");
        assert_eq!(scoped["data"]["scopes"], json!(["admin"]));
        assert!(
            scoped["data"]["warning"]
                .as_str()
                .is_some_and(|w| w.contains("act as an admin")),
            "{scoped}"
        );

        // The key's power follows its owner's role: demoted, the admin's key is refused.
        let key = scoped["data"]["key"].as_str().unwrap();
        let users = async || app.bearer(key).get("/api/admin/users").await.status;
        assert_eq!(users().await, StatusCode::OK);
        aipasta_store::accounts::set_role(&app.db, &admin.id, "user")
            .await
            .unwrap();
        assert_eq!(users().await, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn ids_of_other_accounts_answer_404_not_403() {
    for backend in backends() {
        other_accounts_ids(backend).await;
    }
}

async fn other_accounts_ids(backend: aipasta_store::Backend) {
    let app = spawn_app(backend).await;
    let ada = app.sign_up("Ada", "ada@example.com").await;
    let eve = app.sign_up("Eve", "eve@example.com").await;
    let sessions = aipasta_store::accounts::list_sessions(&app.db, &ada.id)
        .await
        .unwrap();
    let ada_session = &sessions[0].id;
    let response = app
        .user(&eve)
        .delete(&format!("/api/users/sessions/{ada_session}"))
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(
        aipasta_store::accounts::list_sessions(&app.db, &ada.id)
            .await
            .unwrap()
            .len(),
        1,
        "untouched"
    );
    let _ = ada;
}
