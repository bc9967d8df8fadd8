//! Accounts' vocabulary: emails, roles, statuses, subscription tiers, API key scopes and the
//! password policy. Parsing here means an invalid value never gets past the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A normalised email address: trimmed and lower-cased, with one `@` and a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("Enter an email address such as name@example.com.")]
    InvalidEmail,
    #[error("Use at least {MIN_PASSWORD_CHARS} characters for your password.")]
    PasswordTooShort,
    #[error("Use at most {MAX_PASSWORD_CHARS} characters for your password.")]
    PasswordTooLong,
    #[error("That password is among the most common ones and is guessed first; choose another.")]
    PasswordTooCommon,
    #[error("Enter your name (at most 100 characters).")]
    InvalidName,
}

impl Email {
    pub fn parse(text: &str) -> Result<Email, AccountError> {
        let email = text.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && match email.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if valid {
            Ok(Email(email))
        } else {
            Err(AccountError::InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's display name: trimmed, 1 to 100 characters, no control characters.
pub fn parse_name(text: &str) -> Result<String, AccountError> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AccountError::InvalidName);
    }
    Ok(name.to_owned())
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The passwords attackers try first (from public breach-frequency lists), which are refused
/// whatever their length.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "1q2w3e4r5t",
    "qwertyuiop",
    "1qaz2wsx3edc",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "iloveyou12",
    "qwerty1234",
    "qwerty12345",
    "0987654321",
    "1111111111",
    "0000000000",
    "abcdefghij",
    "abc1234567",
    "letmein123",
    "welcome123",
    "administrator",
    "superman123",
    "football123",
    "baseball123",
    "princess123",
    "sunshine123",
    "trustno1234",
    "monkey12345",
    "dragon12345",
    "master12345",
    "changeme123",
    "zaq12wsxcde",
    "asdfghjkl1",
    "q1w2e3r4t5",
    "aaaaaaaaaa",
    "1234qwerasdf",
    "passwordpassword",
    "correcthorsebatterystaple",
    "aipasta1234",
    "aipastaaipasta",
];

/// Checks a new password against the policy: length, and not one of the most common.
pub fn check_password(password: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooLong);
    }
    let lowered = password.to_lowercase();
    let distinct: std::collections::HashSet<char> = lowered.chars().collect();
    if COMMON_PASSWORDS.contains(&lowered.as_str()) || distinct.len() <= 2 {
        return Err(AccountError::PasswordTooCommon);
    }
    Ok(())
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// What an account may do. Ordered: each role can do what the ones before it can.
    Role { User => "user", Moderator => "moderator", Admin => "admin" }
);
named_enum!(
    /// Whether an account can be used. Suspended and deleted accounts cannot sign in, and their
    /// sessions, tokens and keys stop working at once.
    UserStatus { Active => "active", Suspended => "suspended", Deleted => "deleted" }
);
named_enum!(
    /// The plan's subscription tiers.
    Subscription { Free => "free", Pro => "pro", Enterprise => "enterprise" }
);
named_enum!(
    /// What a personal API key may do: `read` (safe methods) and `generate` (everything else)
    /// on the routes any account may call; `admin` the admin and moderator routes, for a key
    /// whose owner holds that role. Only an admin can create a key with `admin`.
    Scope { Read => "read", Generate => "generate", Admin => "admin" }
);

impl Role {
    fn rank(self) -> u8 {
        match self {
            Role::User => 0,
            Role::Moderator => 1,
            Role::Admin => 2,
        }
    }

    /// True when this role has at least the powers of `other`.
    pub fn at_least(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "ada@.com",
            "ada@example..com",
        ] {
            assert_eq!(
                Email::parse(bad),
                Err(AccountError::InvalidEmail),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passwords_follow_the_policy() {
        assert_eq!(check_password("short"), Err(AccountError::PasswordTooShort));
        assert_eq!(
            check_password("Password123"),
            Err(AccountError::PasswordTooCommon)
        );
        assert_eq!(
            check_password("aaaaaaaaaaaa"),
            Err(AccountError::PasswordTooCommon)
        );
        assert_eq!(
            check_password(&"x1".repeat(200)),
            Err(AccountError::PasswordTooLong)
        );
        assert_eq!(check_password("pasta al dente 42"), Ok(()));
    }

    #[test]
    fn roles_are_ordered_and_names_round_trip() {
        assert!(Role::Admin.at_least(Role::Moderator));
        assert!(Role::Moderator.at_least(Role::User));
        assert!(!Role::User.at_least(Role::Moderator));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
        assert_eq!(Scope::parse("generate"), Some(Scope::Generate));
        assert_eq!(Scope::parse("admin"), Some(Scope::Admin));
        assert_eq!(UserStatus::parse("gone"), None);
        assert_eq!(parse_name("  Ada  ").unwrap(), "Ada");
        assert!(parse_name("   ").is_err());
    }
}
