//! Accounts in the database: users, linked sign-in identities, browser sessions, personal API
//! keys and the system settings that bound them.

mod api_keys;
mod sessions;
mod settings;
mod users;

pub use api_keys::{ApiKeyRow, create_api_key, find_api_key, list_api_keys, revoke_api_key};
pub use sessions::{
    SessionRow, create_session, delete_expired_sessions, find_session, list_sessions,
    revoke_other_sessions, revoke_session, touch_session,
};
pub use settings::{
    DEFAULT_MONTHLY_TOKEN_LIMIT, MONTHLY_TOKEN_LIMIT_KEY, monthly_token_limit_default, set_setting,
};
pub use users::{
    AccountChange, IdentityRow, NewUser, PreferencesUpdate, ProfileUpdate, USER_COLUMNS, UserRow,
    change_account, count_admins, create_user, delete_account, find_identity, find_user_by_email,
    find_user_by_id, link_identity, list_identities, revoke_tokens, set_password_hash, set_role,
    set_status, set_usage_limits, touch_last_login, update_preferences, update_profile,
};
