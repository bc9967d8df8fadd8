//! `provider_endpoints`: an admin's OpenAI-compatible endpoints, and one row per built-in
//! provider (named after it) when an admin stores a key for it.

use std::fmt;

use aipasta_core::clock::now_ms;
use aipasta_core::id::new_id;

use super::SealedKey;
use crate::{Db, DbError, Query};

/// The kind of an admin-added endpoint.
pub const OPENAI_COMPATIBLE: &str = "openai-compatible";

/// Every kind a row may have; the built-in kinds' rows are named after the kind.
pub const ENDPOINT_KINDS: [&str; 3] = [OPENAI_COMPATIBLE, "openrouter", "huggingface"];

/// Names an OpenAI-compatible endpoint cannot take: they already mean something in
/// `models.provider`.
const RESERVED_NAMES: [&str; 3] = ["openrouter", "huggingface", OPENAI_COMPATIBLE];

#[derive(Clone, sqlx::FromRow)]
pub struct ProviderEndpointRow {
    pub id: String,
    /// Lower-case slug; the value stored in `models.provider` for this endpoint's models.
    pub name: String,
    pub kind: String,
    pub base_url: String,
    /// `SecretBox::seal` output; open it only to call the provider.
    pub api_key_sealed: Option<String>,
    pub api_key_hint: Option<String>,
    /// Whether an admin allowed private and loopback addresses for this endpoint.
    pub allow_private: bool,
    pub is_active: bool,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl fmt::Debug for ProviderEndpointRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderEndpointRow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field(
                "api_key_sealed",
                &self.api_key_sealed.as_ref().map(|_| "[SEALED]"),
            )
            .field("api_key_hint", &self.api_key_hint)
            .field("allow_private", &self.allow_private)
            .field("is_active", &self.is_active)
            .field("created_by", &self.created_by)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

const ENDPOINT_COLUMNS: &str = "id, name, kind, base_url, api_key_sealed, api_key_hint, \
allow_private, is_active, created_by, created_at, updated_at";

/// Why an endpoint could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("an endpoint named {0:?} already exists")]
    NameTaken(String),
    #[error(
        "{0:?} cannot name an endpoint: use 1 to 64 lower-case letters, digits and dashes, \
         starting with a letter or digit, and not the name of a built-in provider"
    )]
    InvalidName(String),
    #[error("{0:?} is not a kind of provider endpoint")]
    InvalidKind(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A lower-case slug of 1 to 64 characters (`a-z`, `0-9`, `-`), not starting with `-`.
pub fn is_valid_endpoint_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn check_name(kind: &str, name: &str) -> Result<(), EndpointError> {
    if !ENDPOINT_KINDS.contains(&kind) {
        return Err(EndpointError::InvalidKind(kind.to_owned()));
    }
    let fits_kind = if kind == OPENAI_COMPATIBLE {
        !RESERVED_NAMES.contains(&name)
    } else {
        name == kind
    };
    if is_valid_endpoint_name(name) && fits_kind {
        Ok(())
    } else {
        Err(EndpointError::InvalidName(name.to_owned()))
    }
}

/// A new endpoint. The base URL should already have passed the SSRF check for its policy.
#[derive(Debug, Clone)]
pub struct NewProviderEndpoint {
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub api_key: Option<SealedKey>,
    pub allow_private: bool,
    pub is_active: bool,
    pub created_by: Option<String>,
}

/// What to change on an endpoint; `None` keeps the current value. `api_key: Some(None)` removes
/// the stored key.
#[derive(Debug, Clone, Default)]
pub struct ProviderEndpointUpdate {
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub api_key: Option<Option<SealedKey>>,
    pub allow_private: Option<bool>,
    pub is_active: Option<bool>,
}

fn name_conflict(error: DbError, name: &str) -> EndpointError {
    if error.is_unique_violation() {
        EndpointError::NameTaken(name.to_owned())
    } else {
        EndpointError::Db(error)
    }
}

pub async fn create_endpoint(
    db: &Db,
    new: &NewProviderEndpoint,
) -> Result<ProviderEndpointRow, EndpointError> {
    check_name(&new.kind, &new.name)?;
    let id = new_id();
    let (sealed, hint) = match &new.api_key {
        Some(key) => (Some(key.sealed.as_str()), Some(key.hint.as_str())),
        None => (None, None),
    };
    Query::new(
        "INSERT INTO provider_endpoints (id, name, kind, base_url, api_key_sealed, api_key_hint, \
         allow_private, is_active, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(&new.name)
    .bind(&new.kind)
    .bind(&new.base_url)
    .bind(sealed)
    .bind(hint)
    .bind(new.allow_private)
    .bind(new.is_active)
    .bind(new.created_by.clone())
    .bind(now_ms())
    .execute(db)
    .await
    .map_err(|e| name_conflict(e, &new.name))?;
    Ok(find_endpoint(db, &id)
        .await?
        .ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))?)
}

/// Every endpoint, active or not, by name.
pub async fn list_endpoints(db: &Db) -> Result<Vec<ProviderEndpointRow>, DbError> {
    Query::new(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM provider_endpoints ORDER BY name"
    ))
    .fetch_all(db)
    .await
}

pub async fn find_endpoint(db: &Db, id: &str) -> Result<Option<ProviderEndpointRow>, DbError> {
    Query::new(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM provider_endpoints WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The endpoint whose models carry `name` in `models.provider`.
pub async fn find_endpoint_by_name(
    db: &Db,
    name: &str,
) -> Result<Option<ProviderEndpointRow>, DbError> {
    Query::new(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM provider_endpoints WHERE name = $1"
    ))
    .bind(name)
    .fetch_optional(db)
    .await
}

/// Applies `update` to the endpoint `id`; `None` when there is none. Renaming does not touch
/// `models.provider`: the caller moves the endpoint's models if it allows renames.
pub async fn update_endpoint(
    db: &Db,
    id: &str,
    update: &ProviderEndpointUpdate,
) -> Result<Option<ProviderEndpointRow>, EndpointError> {
    let Some(current) = find_endpoint(db, id).await? else {
        return Ok(None);
    };
    if let Some(name) = &update.name {
        check_name(&current.kind, name)?;
    }
    let (replace_key, sealed, hint) = match &update.api_key {
        None => (false, None, None),
        Some(None) => (true, None, None),
        Some(Some(key)) => (true, Some(key.sealed.as_str()), Some(key.hint.as_str())),
    };
    let changed = Query::new(
        "UPDATE provider_endpoints SET \
         name = COALESCE($1, name), \
         base_url = COALESCE($2, base_url), \
         allow_private = COALESCE($3, allow_private), \
         is_active = COALESCE($4, is_active), \
         api_key_sealed = CASE WHEN $5 THEN $6 ELSE api_key_sealed END, \
         api_key_hint = CASE WHEN $5 THEN $7 ELSE api_key_hint END, \
         updated_at = $8 \
         WHERE id = $9",
    )
    .bind(update.name.clone())
    .bind(update.base_url.clone())
    .bind(update.allow_private)
    .bind(update.is_active)
    .bind(replace_key)
    .bind(sealed)
    .bind(hint)
    .bind(now_ms())
    .bind(id)
    .execute(db)
    .await
    .map_err(|e| name_conflict(e, update.name.as_deref().unwrap_or(&current.name)))?;
    if changed == 0 {
        return Ok(None);
    }
    Ok(find_endpoint(db, id).await?)
}

/// Deletes the endpoint; false when there was none. Its models stay (history points at them).
pub async fn delete_endpoint(db: &Db, id: &str) -> Result<bool, DbError> {
    let deleted = Query::new("DELETE FROM provider_endpoints WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(deleted > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_names_are_slugs() {
        for name in ["ollama", "local-vllm", "lm-studio-2", "a", &"x".repeat(64)] {
            assert!(is_valid_endpoint_name(name), "{name}");
        }
        for name in [
            "",
            "Ollama",
            "-x",
            "my endpoint",
            "ollama_1",
            "é",
            &"x".repeat(65),
        ] {
            assert!(!is_valid_endpoint_name(name), "{name}");
        }
    }

    #[test]
    fn built_in_names_belong_to_their_rows() {
        assert!(check_name(OPENAI_COMPATIBLE, "ollama").is_ok());
        assert!(check_name("openrouter", "openrouter").is_ok());
        assert!(check_name("huggingface", "huggingface").is_ok());
        for (kind, name) in [
            (OPENAI_COMPATIBLE, "openrouter"),
            (OPENAI_COMPATIBLE, "openai-compatible"),
            ("openrouter", "ollama"),
            ("huggingface", "openrouter"),
        ] {
            assert!(
                matches!(check_name(kind, name), Err(EndpointError::InvalidName(_))),
                "{kind} {name}"
            );
        }
        assert!(matches!(
            check_name("anthropic", "anthropic"),
            Err(EndpointError::InvalidKind(_))
        ));
    }
}
