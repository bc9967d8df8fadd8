//! What a [`crate::MockOAuth`] knows at start: registered clients (apps) and the people who can
//! "sign in". Both can be changed while it runs.

/// A registered OAuth client (an app such as AI Pasta), as configured at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockClient {
    pub client_id: String,
    /// Also the HS256 key of the client's OIDC `id_token`s.
    pub client_secret: String,
    /// Exact redirect URIs accepted at `/authorize` (no prefix or wildcard matching, as Google).
    pub redirect_uris: Vec<String>,
}

impl MockClient {
    /// A client with no redirect URI yet: tests usually learn the app's port after start and
    /// then call [`crate::MockOAuth::register_redirect_uri`].
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> MockClient {
        MockClient {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uris: Vec::new(),
        }
    }
}

/// A person with an account at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockUser {
    /// The OIDC subject; for GitHub the numeric user id, so it must be digits there.
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    /// The display name; empty means the person set none (`null` on GitHub, omitted in OIDC).
    pub name: String,
    /// An avatar URL; `None` omits OIDC's `picture`, and GitHub then serves `{url}/avatars/{sub}`.
    pub picture: Option<String>,
    pub github_login: String,
    /// Whether GitHub's `/user` shows the email; `false` makes it `null`, as for the many people
    /// who keep their email private, so the app must ask `/user/emails`.
    pub github_email_public: bool,
}

impl MockUser {
    /// A user with a verified, public email and no picture; the GitHub login is the email's
    /// local part.
    pub fn new(
        sub: impl Into<String>,
        email: impl Into<String>,
        name: impl Into<String>,
    ) -> MockUser {
        let email = email.into();
        let github_login = email.split('@').next().unwrap_or_default().to_owned();
        MockUser {
            sub: sub.into(),
            email,
            email_verified: true,
            name: name.into(),
            picture: None,
            github_login,
            github_email_public: true,
        }
    }
}

/// The clients and users a [`crate::MockOAuth`] starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockOAuthConfig {
    pub clients: Vec<MockClient>,
    /// The first user is the one who signs in until [`crate::MockOAuth::set_next_user`].
    pub users: Vec<MockUser>,
}

impl Default for MockOAuthConfig {
    /// One client (`mock-client-id` / `mock-client-secret`, no redirect URI yet) and two users:
    /// Alice (`1001`, `alice@example.com`, verified, public email, with a picture) and Bob
    /// (`1002`, `bob@example.com`, unverified, private email on GitHub, no name).
    fn default() -> MockOAuthConfig {
        let alice = MockUser {
            picture: Some("https://example.com/avatars/alice.png".to_owned()),
            ..MockUser::new("1001", "alice@example.com", "Alice Example")
        };
        let bob = MockUser {
            email_verified: false,
            github_email_public: false,
            ..MockUser::new("1002", "bob@example.com", "")
        };
        MockOAuthConfig {
            clients: vec![MockClient::new("mock-client-id", "mock-client-secret")],
            users: vec![alice, bob],
        }
    }
}
