//! Identifiers. Rows are keyed by UUIDv7 (time-ordered, so indexes stay append-mostly).

use uuid::Uuid;

/// A new time-ordered row id, as stored in the database (lower-case hyphenated text). Every
/// generation takes one on the gateway's path: its random bits come from a thread-local
/// generator (uuid's `fast-rng`) rather than a `getrandom` system call per id, and the text is
/// encoded into a buffer rather than through `Display`.
pub fn new_id() -> String {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    Uuid::now_v7()
        .hyphenated()
        .encode_lower(&mut text)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sort_by_creation_time() {
        let first = new_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_id();
        assert_ne!(first, second);
        assert!(first < second, "{first} should sort before {second}");
        assert_eq!(
            Uuid::parse_str(&first).map(|u| u.get_version_num()).ok(),
            Some(7)
        );
        // The stored form: lower-case, hyphenated, exactly as `Display` writes it.
        let parsed = Uuid::parse_str(&second).expect("a UUID");
        assert_eq!(second, parsed.hyphenated().to_string());
        assert_eq!(second.len(), 36);
        assert!(!second.chars().any(|c| c.is_ascii_uppercase()), "{second}");
    }
}
