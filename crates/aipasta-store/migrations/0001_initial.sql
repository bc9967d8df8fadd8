-- AI Pasta's initial schema: the product plan's "Database Design" and the tables later features need.
-- Portable SQL for SQLite and PostgreSQL: ids are UUIDv7 text, times are BIGINT milliseconds since the
-- Unix epoch, money is BIGINT nano-dollars (costs) or exact decimal text (prices per token), JSON is TEXT.

-- Users (plan: Users collection). Preferences, usage and profile are columns: they are read together.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    image TEXT,
    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
    email_verified_at BIGINT,
    password_hash TEXT,
    -- preferences
    theme TEXT NOT NULL DEFAULT 'system' CHECK (theme IN ('light', 'dark', 'system')),
    language TEXT NOT NULL DEFAULT 'en',
    notify_email BOOLEAN NOT NULL DEFAULT TRUE,
    notify_push BOOLEAN NOT NULL DEFAULT FALSE,
    notify_new_models BOOLEAN NOT NULL DEFAULT TRUE,
    notify_updates BOOLEAN NOT NULL DEFAULT TRUE,
    default_model_id TEXT,
    -- usage
    total_generations BIGINT NOT NULL DEFAULT 0,
    tokens_used BIGINT NOT NULL DEFAULT 0,
    total_cost_nanos BIGINT NOT NULL DEFAULT 0,
    last_generation_at BIGINT,
    monthly_token_limit BIGINT, -- NULL: the system setting's default applies
    subscription TEXT NOT NULL DEFAULT 'free' CHECK (subscription IN ('free', 'pro', 'enterprise')),
    -- profile
    bio TEXT,
    website TEXT,
    github TEXT,
    twitter TEXT,
    public_profile BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_login_at BIGINT
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_role_idx ON users (role);
CREATE INDEX users_status_idx ON users (status);
CREATE INDEX users_created_at_idx ON users (created_at);

-- The plan's users.providers list: one row per linked sign-in method.
CREATE TABLE user_identities (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL, -- 'credentials' | 'github' | 'google' | 'oidc:<name>'
    provider_user_id TEXT NOT NULL,
    email TEXT,
    connected_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_identities_provider_key ON user_identities (provider, provider_user_id);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

-- Categories (plan: Categories collection); sub-categories point at their parent.
CREATE TABLE categories (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    description TEXT,
    icon TEXT,
    color TEXT,
    parent_id TEXT REFERENCES categories (id) ON DELETE SET NULL,
    model_count BIGINT NOT NULL DEFAULT 0,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    sort_order BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX categories_slug_key ON categories (slug);
CREATE UNIQUE INDEX categories_name_key ON categories (name);
CREATE INDEX categories_parent_idx ON categories (parent_id);
CREATE INDEX categories_is_active_idx ON categories (is_active);
CREATE INDEX categories_sort_order_idx ON categories (sort_order);

-- Models (plan: Models collection).
CREATE TABLE models (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL, -- public id in URLs, e.g. 'anthropic/claude-opus-4'
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    long_description TEXT,
    provider TEXT NOT NULL, -- 'openrouter' | 'huggingface' | an OpenAI-compatible endpoint's name
    provider_model_id TEXT NOT NULL,
    category_id TEXT REFERENCES categories (id) ON DELETE SET NULL,
    -- pricing: exact decimal USD per token as text (NULL = unknown, '0' = free) ...
    price_prompt TEXT,
    price_completion TEXT,
    price_image TEXT,
    price_request TEXT,
    price_cache_read TEXT,
    price_cache_write TEXT,
    price_extra TEXT NOT NULL DEFAULT '{}', -- JSON: other prices by the provider's name for them
    price_currency TEXT NOT NULL DEFAULT 'USD',
    is_free BOOLEAN NOT NULL DEFAULT FALSE,
    -- ... and integer micro-dollars per million tokens, for sorting and filtering in SQL.
    price_prompt_per_m_micros BIGINT,
    price_completion_per_m_micros BIGINT,
    -- capabilities
    cap_text_generation BOOLEAN NOT NULL DEFAULT FALSE,
    cap_chat_completion BOOLEAN NOT NULL DEFAULT FALSE,
    cap_code_generation BOOLEAN NOT NULL DEFAULT FALSE,
    cap_translation BOOLEAN NOT NULL DEFAULT FALSE,
    cap_summarization BOOLEAN NOT NULL DEFAULT FALSE,
    cap_image_generation BOOLEAN NOT NULL DEFAULT FALSE,
    cap_image_analysis BOOLEAN NOT NULL DEFAULT FALSE,
    cap_embedding BOOLEAN NOT NULL DEFAULT FALSE,
    input_modalities TEXT NOT NULL DEFAULT '[]',  -- JSON array
    output_modalities TEXT NOT NULL DEFAULT '[]', -- JSON array
    -- parameters
    context_length BIGINT,
    max_tokens BIGINT,
    default_max_tokens BIGINT,
    supports_streaming BOOLEAN NOT NULL DEFAULT TRUE,
    supports_system_prompt BOOLEAN NOT NULL DEFAULT TRUE,
    temperature_min DOUBLE PRECISION,
    temperature_max DOUBLE PRECISION,
    temperature_default DOUBLE PRECISION,
    top_p_min DOUBLE PRECISION,
    top_p_max DOUBLE PRECISION,
    top_p_default DOUBLE PRECISION,
    supported_parameters TEXT NOT NULL DEFAULT '[]', -- JSON array of parameter names
    parameter_ranges TEXT NOT NULL DEFAULT '{}',     -- JSON: ranges and defaults of the rarer ones
    -- performance, from real traffic
    average_latency_ms BIGINT,
    success_rate DOUBLE PRECISION,
    uptime DOUBLE PRECISION,
    -- metadata
    version TEXT,
    release_date BIGINT,
    developer TEXT,
    license TEXT,
    documentation_url TEXT,
    source_code_url TEXT,
    paper_url TEXT,
    hugging_face_id TEXT,
    downloads BIGINT, -- popularity upstream (Hugging Face downloads)
    generation_count BIGINT NOT NULL DEFAULT 0, -- popularity here, kept by the generation engine
    fallback_model_ids TEXT NOT NULL DEFAULT '[]', -- JSON array of model ids tried in order
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'beta', 'maintenance', 'deprecated')),
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_featured BOOLEAN NOT NULL DEFAULT FALSE,
    admin_overrides TEXT NOT NULL DEFAULT '[]', -- JSON array of field names an admin set by hand
    search_text TEXT NOT NULL DEFAULT '',       -- normalised words for search
    synced_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX models_slug_key ON models (slug);
CREATE UNIQUE INDEX models_provider_model_key ON models (provider, provider_model_id);
CREATE INDEX models_name_idx ON models (name);
CREATE INDEX models_provider_idx ON models (provider);
CREATE INDEX models_category_idx ON models (category_id);
CREATE INDEX models_status_idx ON models (status);
CREATE INDEX models_is_active_idx ON models (is_active);
CREATE INDEX models_created_at_idx ON models (created_at);
CREATE INDEX models_listing_idx ON models (is_active, status, display_name);
CREATE INDEX models_price_idx ON models (price_prompt_per_m_micros);
CREATE INDEX models_context_idx ON models (context_length);
CREATE INDEX models_release_idx ON models (release_date);
CREATE INDEX models_popularity_idx ON models (generation_count);

-- The plan's models.tags, indexed for search.
CREATE TABLE model_tags (
    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (model_id, tag)
);
CREATE INDEX model_tags_tag_idx ON model_tags (tag);

-- Generations (plan: Generations collection). Every playground, compare, batch and /v1 call is a row.
CREATE TABLE generations (
    id TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    model_id TEXT REFERENCES models (id) ON DELETE SET NULL,
    session_id TEXT,
    source TEXT NOT NULL DEFAULT 'playground', -- 'playground' | 'api' | 'v1' | 'compare' | 'batch'
    -- input
    prompt TEXT NOT NULL DEFAULT '',
    system_prompt TEXT,
    messages TEXT NOT NULL DEFAULT '[]',   -- JSON [{role, content, timestamp}]
    parameters TEXT NOT NULL DEFAULT '{}', -- JSON
    -- output
    output_content TEXT NOT NULL DEFAULT '',
    finish_reason TEXT,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    total_tokens BIGINT NOT NULL DEFAULT 0,
    -- metadata
    duration_ms BIGINT,
    time_to_first_token_ms BIGINT,
    cost_nanos BIGINT NOT NULL DEFAULT 0,
    provider TEXT,
    model_version TEXT,
    provider_generation_id TEXT,
    ip_address TEXT,
    user_agent TEXT,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'success', 'error', 'timeout', 'cancelled', 'interrupted')),
    error_code TEXT,
    error_message TEXT,
    error_details TEXT, -- JSON
    visibility TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'public', 'shared')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX generations_user_created_idx ON generations (user_id, created_at);
CREATE INDEX generations_model_created_idx ON generations (model_id, created_at);
CREATE INDEX generations_session_idx ON generations (session_id);
CREATE INDEX generations_status_idx ON generations (status);
CREATE INDEX generations_created_at_idx ON generations (created_at);

-- Binary outputs of a generation (generated images), kept with it.
CREATE TABLE generation_assets (
    id TEXT PRIMARY KEY,
    generation_id TEXT NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
    position BIGINT NOT NULL DEFAULT 0,
    mime_type TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX generation_assets_generation_idx ON generation_assets (generation_id, position);

-- Public links to a generation or a conversation (the plan's generations.shared block).
CREATE TABLE shares (
    id TEXT PRIMARY KEY,
    share_id TEXT NOT NULL, -- random and unguessable; the public URL's key
    generation_id TEXT REFERENCES generations (id) ON DELETE CASCADE,
    session_id TEXT,
    shared_by TEXT REFERENCES users (id) ON DELETE CASCADE,
    allow_embed BOOLEAN NOT NULL DEFAULT FALSE,
    view_count BIGINT NOT NULL DEFAULT 0,
    shared_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX shares_share_id_key ON shares (share_id);
CREATE INDEX shares_generation_idx ON shares (generation_id);
CREATE INDEX shares_shared_by_idx ON shares (shared_by);

-- Browser sign-in sessions (server side; the cookie holds a random token whose hash is the id).
CREATE TABLE auth_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    ip_address TEXT,
    user_agent TEXT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id);
CREATE INDEX auth_sessions_expires_idx ON auth_sessions (expires_at);

-- The request log for rate limiting and analytics (the plan's Sessions collection), with expiry.
CREATE TABLE request_log_sessions (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    ip_address TEXT,
    user_agent TEXT,
    request_count BIGINT NOT NULL DEFAULT 0,
    tokens_used BIGINT NOT NULL DEFAULT 0,
    cost_nanos BIGINT NOT NULL DEFAULT 0,
    country TEXT,
    region TEXT,
    city TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX request_log_sessions_session_key ON request_log_sessions (session_id);
CREATE INDEX request_log_sessions_user_idx ON request_log_sessions (user_id);
CREATE INDEX request_log_sessions_ip_idx ON request_log_sessions (ip_address);
CREATE INDEX request_log_sessions_expires_idx ON request_log_sessions (expires_at);

CREATE TABLE request_log_entries (
    id TEXT PRIMARY KEY,
    log_session_id TEXT NOT NULL REFERENCES request_log_sessions (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL,
    method TEXT NOT NULL,
    status_code BIGINT NOT NULL,
    response_time_ms BIGINT NOT NULL,
    requested_at BIGINT NOT NULL
);
CREATE INDEX request_log_entries_session_idx ON request_log_entries (log_session_id, requested_at);

-- System settings (plan: SystemSettings collection).
CREATE TABLE system_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL, -- JSON
    value_type TEXT NOT NULL CHECK (value_type IN ('string', 'number', 'boolean', 'object', 'array')),
    description TEXT,
    category TEXT NOT NULL DEFAULT 'general' CHECK (category IN ('general', 'ai', 'security', 'performance')),
    is_public BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX system_settings_category_idx ON system_settings (category);

-- Favourite models (the plan's preferences.favoriteModels).
CREATE TABLE favorites (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, model_id)
);
CREATE INDEX favorites_model_idx ON favorites (model_id);

-- Named parameter presets a user saves in the playground.
CREATE TABLE parameter_presets (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    parameters TEXT NOT NULL DEFAULT '{}', -- JSON
    system_prompt TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX parameter_presets_user_name_key ON parameter_presets (user_id, name);

-- Personal API keys: only a hash of the key is stored; the prefix identifies it in lists.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    scopes TEXT NOT NULL DEFAULT '["read"]', -- JSON array: 'read', 'generate'
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (key_hash);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

-- Moderation: rules that flag or block content, and the flags raised by rules or by people.
CREATE TABLE moderation_rules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('keyword', 'regex')),
    pattern TEXT NOT NULL,
    action TEXT NOT NULL DEFAULT 'flag' CHECK (action IN ('flag', 'block')),
    applies_to TEXT NOT NULL DEFAULT 'both' CHECK (applies_to IN ('input', 'output', 'both')),
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX moderation_rules_active_idx ON moderation_rules (is_active);

CREATE TABLE moderation_flags (
    id TEXT PRIMARY KEY,
    generation_id TEXT REFERENCES generations (id) ON DELETE CASCADE,
    rule_id TEXT REFERENCES moderation_rules (id) ON DELETE SET NULL,
    reporter_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    reason TEXT NOT NULL,
    details TEXT,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'escalated', 'resolved', 'dismissed')),
    resolved_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    resolved_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX moderation_flags_status_idx ON moderation_flags (status, created_at);
CREATE INDEX moderation_flags_generation_idx ON moderation_flags (generation_id);

-- Who did what, for admin and security review.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    actor_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    target_type TEXT,
    target_id TEXT,
    details TEXT, -- JSON
    ip_address TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, created_at);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);

-- Daily usage rollups per user and model: dashboards and analytics read these, not generations.
CREATE TABLE usage_daily (
    day BIGINT NOT NULL, -- days since the Unix epoch, UTC
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    generations BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_nanos BIGINT NOT NULL DEFAULT 0,
    total_duration_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, user_id, model_id)
);
CREATE INDEX usage_daily_user_idx ON usage_daily (user_id, day);
CREATE INDEX usage_daily_model_idx ON usage_daily (model_id, day);
