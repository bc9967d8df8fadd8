//! Request parameters from a query string or a form body. OAuth forbids sending a parameter
//! twice (RFC 6749 §3.1, §3.2), so the pairs are kept in order to catch that.

use url::form_urlencoded;

#[derive(Debug, Clone, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes `a=b&c=d` (query strings and `application/x-www-form-urlencoded` bodies alike).
    pub(crate) fn parse(encoded: &[u8]) -> Params {
        Params(
            form_urlencoded::parse(encoded)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    /// A parameter's value; an empty value counts as absent, as providers treat it.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// The first parameter that appears more than once.
    pub(crate) fn repeated(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(index, (name, _))| {
            self.0[..index]
                .iter()
                .any(|(earlier, _)| earlier == name)
                .then_some(name.as_str())
        })
    }

    pub(crate) fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }
}

/// Decodes one `application/x-www-form-urlencoded` value (`+` is a space).
pub(crate) fn form_decode(value: &str) -> String {
    form_urlencoded::parse(format!("v={value}").as_bytes())
        .next()
        .map(|(_, decoded)| decoded.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_and_finds_repeats() {
        let params = Params::parse(b"a=1&b=x+y%21&c=&a=2");
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.get("b"), Some("x y!"));
        assert_eq!(params.get("c"), None);
        assert_eq!(params.repeated(), Some("a"));
        assert_eq!(form_decode("s%3Ae+t"), "s:e t");
    }
}
