-- Provider endpoints and API keys entered through the UI or the API. Keys are stored only sealed
-- (aipasta_core::secret_box, a key derived from the server secret) with a short hint to show back.

-- An admin's OpenAI-compatible endpoints, and the admin-stored keys of the built-in providers
-- (one row each, named after the provider). `name` is the value stored in models.provider.
CREATE TABLE provider_endpoints (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL CHECK (name = LOWER(name)),
    kind TEXT NOT NULL CHECK (kind IN ('openai-compatible', 'openrouter', 'huggingface')),
    base_url TEXT NOT NULL,
    api_key_sealed TEXT,
    api_key_hint TEXT,
    allow_private BOOLEAN NOT NULL DEFAULT FALSE, -- private and loopback addresses, by an admin's choice
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- A built-in provider's row is named after it; no endpoint takes a built-in's name.
    CHECK (
        (kind = 'openai-compatible' AND name NOT IN ('openrouter', 'huggingface', 'openai-compatible'))
        OR (kind <> 'openai-compatible' AND name = kind)
    ),
    CHECK ((api_key_sealed IS NULL) = (api_key_hint IS NULL))
);
CREATE UNIQUE INDEX provider_endpoints_name_key ON provider_endpoints (name);

-- A user's own keys for the built-in providers, used for that user's generations.
CREATE TABLE user_provider_keys (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL CHECK (provider IN ('openrouter', 'huggingface')),
    api_key_sealed TEXT NOT NULL,
    api_key_hint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, provider)
);
