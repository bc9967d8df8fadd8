//! Every route declares who may call it. Routes are registered through [`Routes`], which
//! records the rule beside the handler, so a route cannot exist without one, and the test of
//! the access matrix walks the same list. JSON routes (`/api`, `/v1`) are registered with
//! [`Routes::api`] from their `#[utoipa::path]` annotation, so a JSON route cannot exist
//! without its OpenAPI operation either: the document is derived from the same list.

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use utoipa::openapi::OpenApi;
use utoipa_axum::router::UtoipaMethodRouter;

use aipasta_core::account::{Role, Scope};

use super::identity::{Caller, Identity};
use crate::error::ApiError;
use crate::pages::is_api_path;
use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Anyone.
    Public,
    /// Any signed-in caller. API keys are accepted: with the `read` scope for reads, with the
    /// `generate` scope for anything that changes state.
    User,
    /// A person signed in with a browser session or a JWT: managing the account itself
    /// (keys, password, deletion) is never open to an API key.
    Account,
    /// Moderators and admins, with a browser session, a JWT, or an API key holding the `admin`
    /// scope (which only an admin can grant): an everyday key never carries the role's power.
    Moderator,
    /// Admins only, with the same credentials as [`Access::Moderator`].
    Admin,
}

/// The route path of [`Routes::api_documented_only`]: no route is added.
const DOCUMENTED_ONLY: &str = "";

/// One registered route and its rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub method: Method,
    /// The path as the router matches it (`{*id}` for a wildcard).
    pub path: String,
    pub access: Access,
}

/// A router that cannot hold a route without an access rule, nor a JSON route without its
/// OpenAPI operation.
pub struct Routes {
    router: Router<AppState>,
    rules: Vec<Rule>,
    /// The documented operations of the JSON routes, with their schemas.
    openapi: OpenApi,
}

impl Default for Routes {
    fn default() -> Routes {
        Routes::new()
    }
}

impl Routes {
    pub fn new() -> Routes {
        Routes {
            router: Router::new(),
            rules: Vec::new(),
            openapi: OpenApi::default(),
        }
    }

    /// Adds `handler` for `method` on `path`, callable by `access`. JSON routes go through
    /// [`Routes::api`] instead.
    ///
    /// # Panics
    ///
    /// When axum cannot route `method` (an extension method such as `PURGE`): registering it
    /// under another method would give the route a rule nobody declared. Also when `path` is a
    /// JSON route (`/api/...`, `/v1/...`): those must be documented. Routes are built once at
    /// start-up, so this stops the server before it serves anything.
    pub fn route<H, T>(
        self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        assert!(
            !is_api_path(path),
            "{path} is a JSON route: register it with Routes::api, from its #[utoipa::path] annotation"
        );
        let Ok(filter) = MethodFilter::try_from(method.clone()) else {
            panic!(
                "cannot register {method} {path}: axum routes only GET, POST, PUT, PATCH, DELETE, \
                 HEAD, OPTIONS, TRACE and CONNECT"
            );
        };
        self.add(vec![method], path, access, on(filter, handler))
    }

    /// Adds a documented JSON route, callable by `access`: `routes!(handler)` from
    /// `utoipa_axum`, where `handler` carries a `#[utoipa::path]` annotation. The operation
    /// enters the document with who may call it (its security and a sentence in its
    /// description), the errors that rule can answer, and a stable operation id.
    pub fn api(self, access: Access, documented: UtoipaMethodRouter<AppState>) -> Routes {
        self.api_routed(None, access, documented)
    }

    /// [`Routes::api`] for an operation the router serves under another path than the one
    /// documented: `POST /api/models/{id}/generate` is matched by `/api/models/{*id}`, since a
    /// model id contains slashes.
    pub fn api_at(
        self,
        route_path: &'static str,
        access: Access,
        documented: UtoipaMethodRouter<AppState>,
    ) -> Routes {
        self.api_routed(Some(route_path), access, documented)
    }

    /// Documents an operation that another registered route answers: `POST
    /// /api/models/{id}/favorite` is dispatched by the generate route's handler, which owns
    /// `POST /api/models/{*id}` (with the same access rule).
    pub fn api_documented_only(
        self,
        access: Access,
        documented: UtoipaMethodRouter<AppState>,
    ) -> Routes {
        self.api_routed(Some(DOCUMENTED_ONLY), access, documented)
    }

    fn api_routed(
        mut self,
        route_path: Option<&'static str>,
        access: Access,
        (schemas, paths, method_router): UtoipaMethodRouter<AppState>,
    ) -> Routes {
        for (documented_path, mut item) in paths.paths {
            let methods = crate::apidocs::annotate(&documented_path, &mut item, access);
            if route_path != Some(DOCUMENTED_ONLY) {
                let path = route_path.map_or_else(|| documented_path.clone(), str::to_owned);
                assert!(
                    is_api_path(&path),
                    "{path} is not a JSON route; register pages with Routes::route"
                );
                self = self.add(methods, &path, access, method_router.clone());
            }
            let documented_path = documented_path.replace("{*", "{");
            match self.openapi.paths.paths.get_mut(&documented_path) {
                Some(existing) => existing.merge_operations(item),
                None => {
                    self.openapi.paths.paths.insert(documented_path, item);
                }
            }
        }
        let known = &mut self
            .openapi
            .components
            .get_or_insert_with(Default::default)
            .schemas;
        for (name, schema) in schemas {
            // Two types of one name would silently share one schema: the document would
            // describe one of them wrongly.
            if let Some(existing) = known.get(&name) {
                assert!(
                    *existing == schema,
                    "two different types are documented as the schema {name}: rename one \
                     (#[schema(as = ...)])"
                );
            }
            known.insert(name, schema);
        }
        self
    }

    fn add(
        mut self,
        methods: Vec<Method>,
        path: &str,
        access: Access,
        method_router: MethodRouter<AppState>,
    ) -> Routes {
        let method_router =
            method_router.route_layer(from_fn(move |request: Request, next: Next| {
                enforce(access, request, next)
            }));
        self.router = self.router.route(path, method_router);
        self.rules.extend(methods.into_iter().map(|method| Rule {
            method,
            path: path.to_owned(),
            access,
        }));
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Routes {
        self.route(Method::GET, path, access, handler)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Routes {
        self.route(Method::POST, path, access, handler)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Routes {
        self.route(Method::PUT, path, access, handler)
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Routes {
        self.route(Method::DELETE, path, access, handler)
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.rules.extend(other.rules);
        let (known, theirs) = (
            self.openapi.components.get_or_insert_with(Default::default),
            other.openapi.components.clone().unwrap_or_default(),
        );
        for (name, schema) in &theirs.schemas {
            if let Some(existing) = known.schemas.get(name) {
                assert!(
                    existing == schema,
                    "two different types are documented as the schema {name}: rename one \
                     (#[schema(as = ...)])"
                );
            }
        }
        self.openapi.merge(other.openapi);
        self
    }

    /// The documented operations of the JSON routes registered so far.
    pub fn openapi(&self) -> &OpenApi {
        &self.openapi
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<Rule>) {
        (self.router, self.rules)
    }
}

/// Why a caller was turned away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// Nobody is signed in.
    SignIn,
    /// Signed in, but not allowed.
    Forbidden(&'static str),
}

/// The decision for one caller, method and rule.
pub fn decide(access: Access, identity: &Identity, method: &Method) -> Result<(), Denied> {
    if access == Access::Public {
        return Ok(());
    }
    let Some(caller) = &identity.0 else {
        return Err(Denied::SignIn);
    };
    if caller.is_api_key() {
        key_scope_allows(access, caller, method)?;
    }
    match access {
        Access::Moderator if !caller.role.at_least(Role::Moderator) => {
            Err(Denied::Forbidden("Only moderators and admins can do this."))
        }
        Access::Admin if !caller.role.at_least(Role::Admin) => {
            Err(Denied::Forbidden("Only admins can do this."))
        }
        _ => Ok(()),
    }
}

/// What an API key's scopes allow on a route of `access` (the role is checked after).
fn key_scope_allows(access: Access, caller: &Caller, method: &Method) -> Result<(), Denied> {
    match access {
        Access::Public => Ok(()),
        Access::Account => Err(Denied::Forbidden(
            "API keys cannot manage an account; sign in instead.",
        )),
        Access::Moderator | Access::Admin => {
            if caller.has_scope(Scope::Admin) {
                Ok(())
            } else {
                Err(Denied::Forbidden(
                    "This API key lacks the admin scope: admin and moderator routes take a browser \
                     session, a JWT from /api/auth/signin, or a key an admin created with the admin scope.",
                ))
            }
        }
        Access::User => {
            let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
            let needed = if safe { Scope::Read } else { Scope::Generate };
            if caller.has_scope(needed) {
                Ok(())
            } else {
                Err(Denied::Forbidden(if safe {
                    "This API key lacks the read scope."
                } else {
                    "This API key lacks the generate scope."
                }))
            }
        }
    }
}

async fn enforce(access: Access, request: Request, next: Next) -> Response {
    const NOBODY: &Identity = &Identity(None);
    let identity = request.extensions().get::<Identity>().unwrap_or(NOBODY);
    match decide(access, identity, request.method()) {
        Ok(()) => next.run(request).await,
        Err(denied) => {
            let path = request.uri().path().to_owned();
            if is_api_path(&path) {
                return match denied {
                    Denied::SignIn => ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "Sign in first: send a session cookie, a bearer token from /api/auth/signin, or an API key.",
                    ),
                    Denied::Forbidden(message) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
                }
                .into_response();
            }
            match denied {
                Denied::SignIn => {
                    let next_path = request
                        .uri()
                        .path_and_query()
                        .map_or(path.clone(), |p| p.as_str().to_owned());
                    let target = format!(
                        "/auth/signin?next={}",
                        serde_urlencoded::to_string([("", next_path.as_str())])
                            .unwrap_or_default()
                            .trim_start_matches('=')
                    );
                    let mut response = StatusCode::SEE_OTHER.into_response();
                    if let Ok(value) = HeaderValue::from_str(&target) {
                        response.headers_mut().insert(LOCATION, value);
                    }
                    response
                }
                Denied::Forbidden(_) => StatusCode::FORBIDDEN.into_response(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    use super::{Access, Routes};

    async fn nothing() {}

    #[test]
    #[should_panic(expected = "cannot register PURGE /cache")]
    fn a_method_axum_cannot_route_stops_the_builder() {
        let purge = Method::from_bytes(b"PURGE").unwrap_or(Method::GET);
        assert_eq!(purge.as_str(), "PURGE");
        let _ = Routes::new().route(purge, "/cache", Access::Admin, nothing);
    }

    #[test]
    #[should_panic(expected = "/api/things is a JSON route")]
    fn a_json_route_cannot_be_registered_undocumented() {
        let _ = Routes::new().route(Method::GET, "/api/things", Access::Public, nothing);
    }

    #[test]
    fn every_routable_method_is_registered_as_itself() {
        let methods = [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
            Method::TRACE,
        ];
        let routes = methods.iter().fold(Routes::new(), |routes, method| {
            routes.route(method.clone(), "/thing", Access::Public, nothing)
        });
        let registered: Vec<Method> = routes.rules().iter().map(|r| r.method.clone()).collect();
        assert_eq!(registered, methods);
    }
}
