//! The OAuth mock's data: clients, users, who signs in next, and the codes and tokens issued,
//! with the checks a real provider makes when a code is redeemed (RFC 6749 §4.1.3, RFC 7636).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::config::{MockClient, MockOAuthConfig, MockUser};
use super::pkce;

/// How long an authorization code can be redeemed, as Google's (RFC 6749 advises 10 minutes at
/// most; providers use less).
pub(crate) const DEFAULT_CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long an OIDC access token works; `expires_in` in the token response.
pub(crate) const ACCESS_TOKEN_SECONDS: u64 = 3600;

/// Which protocol issued a code or token; one dialect's codes and tokens are unknown to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Oidc,
    GitHub,
}

pub(crate) struct OAuthState {
    /// The server's URL: the OIDC issuer and the base of every endpoint.
    pub(crate) issuer: String,
    pub(crate) clients: Vec<MockClient>,
    pub(crate) users: Vec<MockUser>,
    /// Who signs in when the request names nobody; `None` until a user exists.
    pub(crate) next_user: Option<MockUser>,
    /// Answer every sign-in with `access_denied`, as if the person pressed "Cancel".
    pub(crate) deny: bool,
    pub(crate) code_lifetime: Duration,
    codes: HashMap<String, CodeGrant>,
    tokens: HashMap<String, TokenGrant>,
    /// Token-endpoint form bodies by path, oldest first, for tests to inspect.
    pub(crate) posted_forms: Vec<(String, Vec<(String, String)>)>,
}

/// What `/authorize` approved, waiting for the code to be redeemed.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) dialect: Dialect,
    pub(crate) client_id: String,
    /// The redirect URI the code was sent to.
    pub(crate) redirect_uri: String,
    pub(crate) user: MockUser,
    /// As the token response reports it (OIDC: space-separated; GitHub: comma-separated).
    pub(crate) scope: String,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
    issued_at: Instant,
    spent: bool,
    /// The token issued for it, revoked if the code is replayed (RFC 6749 §4.1.2).
    access_token: Option<String>,
}

/// What an access token grants.
#[derive(Debug, Clone)]
pub(crate) struct TokenGrant {
    pub(crate) dialect: Dialect,
    pub(crate) user: MockUser,
    pub(crate) scope: String,
    /// `None`: never expires (GitHub OAuth App tokens).
    expires_at: Option<Instant>,
}

/// A token request's claim on a code.
pub(crate) struct Redemption<'a> {
    pub(crate) dialect: Dialect,
    pub(crate) code: &'a str,
    /// The client that authenticated.
    pub(crate) client_id: &'a str,
    pub(crate) redirect_uri: Option<&'a str>,
    pub(crate) code_verifier: Option<&'a str>,
}

/// Why a code was refused; each becomes the dialect's error (`invalid_grant`,
/// `bad_verification_code`, `redirect_uri_mismatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RedeemError {
    Unknown,
    OtherClient,
    Spent,
    Expired,
    RedirectUriMissing,
    RedirectUriMismatch,
    VerifierMissing,
    VerifierUnexpected,
    VerifierMismatch,
}

impl RedeemError {
    pub(crate) fn description(self) -> &'static str {
        match self {
            RedeemError::Unknown => "The authorization code is not known.",
            RedeemError::OtherClient => "The authorization code was issued to another client.",
            RedeemError::Spent => "The authorization code has already been used.",
            RedeemError::Expired => "The authorization code has expired.",
            RedeemError::RedirectUriMissing => {
                "redirect_uri is required because the authorization request included it."
            }
            RedeemError::RedirectUriMismatch => {
                "redirect_uri does not match the one of the authorization request."
            }
            RedeemError::VerifierMissing => {
                "code_verifier is required because the authorization request had a code_challenge."
            }
            RedeemError::VerifierUnexpected => {
                "code_verifier was sent but the authorization request had no code_challenge."
            }
            RedeemError::VerifierMismatch => "code_verifier does not match the code_challenge.",
        }
    }
}

impl OAuthState {
    pub(crate) fn new(issuer: String, config: MockOAuthConfig) -> OAuthState {
        OAuthState {
            issuer,
            next_user: config.users.first().cloned(),
            clients: config.clients,
            users: config.users,
            deny: false,
            code_lifetime: DEFAULT_CODE_LIFETIME,
            codes: HashMap::new(),
            tokens: HashMap::new(),
            posted_forms: Vec::new(),
        }
    }

    pub(crate) fn client(&self, client_id: &str) -> Option<&MockClient> {
        self.clients
            .iter()
            .find(|client| client.client_id == client_id)
    }

    /// Adds a client, replacing one with the same id.
    pub(crate) fn upsert_client(&mut self, client: MockClient) {
        self.clients
            .retain(|known| known.client_id != client.client_id);
        self.clients.push(client);
    }

    /// Adds a user, replacing one with the same `sub`.
    pub(crate) fn upsert_user(&mut self, user: MockUser) {
        match self.users.iter_mut().find(|known| known.sub == user.sub) {
            Some(known) => *known = user,
            None => self.users.push(user),
        }
        if self.next_user.is_none() {
            self.next_user = self.users.first().cloned();
        }
    }

    /// Issues a single-use code for an approved sign-in.
    pub(crate) fn issue_code(&mut self, grant: NewCode) -> String {
        let code = Uuid::new_v4().simple().to_string();
        self.codes.insert(
            code.clone(),
            CodeGrant {
                dialect: grant.dialect,
                client_id: grant.client_id,
                redirect_uri: grant.redirect_uri,
                user: grant.user,
                scope: grant.scope,
                nonce: grant.nonce,
                code_challenge: grant.code_challenge,
                issued_at: Instant::now(),
                spent: false,
                access_token: None,
            },
        );
        code
    }

    /// Checks a code as a provider does and, if it holds, spends it and issues an access token.
    /// An attempt by the code's own client spends the code even when it fails (a guessed or
    /// leaked code gets one try); replaying a spent code also revokes the token it gave.
    pub(crate) fn redeem(
        &mut self,
        claim: &Redemption<'_>,
    ) -> Result<(String, CodeGrant), RedeemError> {
        let lifetime = self.code_lifetime;
        let grant = match self.codes.get_mut(claim.code) {
            Some(grant) if grant.dialect == claim.dialect => grant,
            _ => return Err(RedeemError::Unknown),
        };
        // Another client cannot burn someone else's code, so this comes before spending it.
        if grant.client_id != claim.client_id {
            return Err(RedeemError::OtherClient);
        }
        if grant.spent {
            if let Some(token) = grant.access_token.take() {
                self.tokens.remove(&token);
            }
            return Err(RedeemError::Spent);
        }
        grant.spent = true;
        if grant.issued_at.elapsed() > lifetime {
            return Err(RedeemError::Expired);
        }
        check_redirect_uri(grant, claim)?;
        match (&grant.code_challenge, claim.code_verifier) {
            (Some(challenge), Some(verifier)) => {
                if !pkce::verifier_matches(verifier, challenge) {
                    return Err(RedeemError::VerifierMismatch);
                }
            }
            (Some(_), None) => return Err(RedeemError::VerifierMissing),
            (None, Some(_)) => return Err(RedeemError::VerifierUnexpected),
            (None, None) => {}
        }
        let token = match claim.dialect {
            // GitHub's OAuth App tokens start `gho_`; apps may check the prefix.
            Dialect::GitHub => format!("gho_{}", Uuid::new_v4().simple()),
            Dialect::Oidc => format!("mock-at-{}", Uuid::new_v4().simple()),
        };
        grant.access_token = Some(token.clone());
        let grant = grant.clone();
        let expires_at = match claim.dialect {
            Dialect::Oidc => Some(Instant::now() + Duration::from_secs(ACCESS_TOKEN_SECONDS)),
            Dialect::GitHub => None,
        };
        self.tokens.insert(
            token.clone(),
            TokenGrant {
                dialect: claim.dialect,
                user: grant.user.clone(),
                scope: grant.scope.clone(),
                expires_at,
            },
        );
        Ok((token, grant))
    }

    /// The grant behind a live access token of this dialect.
    pub(crate) fn token(&self, dialect: Dialect, token: &str) -> Option<&TokenGrant> {
        self.tokens.get(token).filter(|grant| {
            grant.dialect == dialect
                && grant
                    .expires_at
                    .is_none_or(|expires_at| Instant::now() < expires_at)
        })
    }

    pub(crate) fn revoke_tokens(&mut self) {
        self.tokens.clear();
    }
}

/// The redirect URI sent at the token endpoint must be the authorization request's. OIDC
/// requires it; GitHub lets it be left out.
fn check_redirect_uri(grant: &CodeGrant, claim: &Redemption<'_>) -> Result<(), RedeemError> {
    match (claim.redirect_uri, claim.dialect) {
        (Some(sent), _) if sent != grant.redirect_uri => Err(RedeemError::RedirectUriMismatch),
        (None, Dialect::Oidc) => Err(RedeemError::RedirectUriMissing),
        _ => Ok(()),
    }
}

/// What `/authorize` approved, to turn into a code.
pub(crate) struct NewCode {
    pub(crate) dialect: Dialect,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) user: MockUser,
    pub(crate) scope: String,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
}
