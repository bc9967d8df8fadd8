//! Identifiers. Rows are keyed by UUIDv7 (time-ordered, so indexes stay append-mostly).

use uuid::Uuid;

/// A new time-ordered row id, as stored in the database (lower-case hyphenated text).
pub fn new_id() -> String {
    Uuid::now_v7().to_string()
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
    }
}
