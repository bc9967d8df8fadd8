//! Catalog query parameters, parsed once for the pages and the API: every bad value is refused
//! with a message that names the parameter.

use std::str::FromStr;

use aipasta_core::catalog::Capability;
use aipasta_core::money::Price;
use aipasta_store::catalog::{ModelQuery, SortField, SortOrder};
use rust_decimal::Decimal;

/// A parameter that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub param: &'static str,
    pub message: String,
}

impl ParamError {
    fn new(param: &'static str, message: impl Into<String>) -> ParamError {
        ParamError {
            param,
            message: message.into(),
        }
    }
}

pub const MAX_LIMIT: i64 = 100;

fn integer(param: &'static str, value: &str, min: i64, max: i64) -> Result<i64, ParamError> {
    let number = i64::from_str(value.trim()).map_err(|_| {
        ParamError::new(
            param,
            format!("`{param}` must be a whole number, not {value:?}"),
        )
    })?;
    if number < min || number > max {
        return Err(ParamError::new(
            param,
            format!("`{param}` must be between {min} and {max}, not {number}"),
        ));
    }
    Ok(number)
}

fn flag(param: &'static str, value: &str) -> Result<bool, ParamError> {
    match value.trim() {
        "" | "0" | "false" | "off" | "no" => Ok(false),
        "1" | "true" | "on" | "yes" => Ok(true),
        other => Err(ParamError::new(
            param,
            format!("`{param}` must be true or false, not {other:?}"),
        )),
    }
}

/// Parses listing parameters (`page`, `limit`, `category`, `provider`, `search`/`q`, `sort`,
/// `order`, `capability`, `free`, `max_price` in USD per million input tokens, `min_context`).
/// Empty values mean "not set", as an HTML form sends them. Category and provider names are
/// checked against what exists by the caller.
pub fn parse_listing(
    pairs: &[(String, String)],
    default_limit: i64,
) -> Result<ModelQuery, ParamError> {
    let mut query = ModelQuery {
        page: 1,
        limit: default_limit,
        // Pages and the API say "more than 1,000" rather than count every match.
        count_up_to: Some(aipasta_store::catalog::COUNT_UP_TO),
        ..ModelQuery::default()
    };
    for (key, value) in pairs {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "page" => query.page = integer("page", value, 1, 1_000_000)?,
            "limit" => query.limit = integer("limit", value, 1, MAX_LIMIT)?,
            "category" => query.category = Some(value.to_owned()),
            "provider" => query.provider = Some(value.to_owned()),
            "search" | "q" => {
                if value.chars().count() > 200 {
                    return Err(ParamError::new(
                        "search",
                        "`search` must be at most 200 characters",
                    ));
                }
                query.search = Some(value.to_owned());
            }
            "sort" => {
                query.sort = SortField::parse(value).ok_or_else(|| {
                    ParamError::new(
                        "sort",
                        format!(
                            "`sort` must be one of {}, not {value:?}",
                            SortField::NAMES.join(", ")
                        ),
                    )
                })?;
            }
            "order" => {
                query.order = Some(SortOrder::parse(value).ok_or_else(|| {
                    ParamError::new(
                        "order",
                        format!("`order` must be asc or desc, not {value:?}"),
                    )
                })?);
            }
            "capability" => {
                query.capability = Some(Capability::parse(value).ok_or_else(|| {
                    let names: Vec<&str> = Capability::ALL.iter().map(|c| c.as_str()).collect();
                    ParamError::new(
                        "capability",
                        format!(
                            "`capability` must be one of {}, not {value:?}",
                            names.join(", ")
                        ),
                    )
                })?);
            }
            "free" => query.free_only = flag("free", value)?,
            "max_price" => {
                let per_million = Decimal::from_str(value)
                    .ok()
                    .and_then(|d| Price::new(d / Decimal::from(1_000_000)).ok())
                    .ok_or_else(|| {
                        ParamError::new(
                            "max_price",
                            format!("`max_price` must be a price in USD per million input tokens, such as 2.5, not {value:?}"),
                        )
                    })?;
                query.max_prompt_price_micros = Some(per_million.per_million_micros());
            }
            "min_context" => query.min_context = Some(integer("min_context", value, 0, i64::MAX)?),
            _ => {} // Unknown parameters are ignored, as browsers and tools add their own.
        }
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn good_parameters_become_a_query() {
        let query = parse_listing(
            &pairs(&[
                ("page", "2"),
                ("limit", "50"),
                ("sort", "price"),
                ("order", "desc"),
                ("capability", "image-analysis"),
                ("free", "on"),
                ("max_price", "2.5"),
                ("min_context", "128000"),
                ("q", "claude"),
                ("category", ""),
                ("utm_source", "x"),
            ]),
            24,
        )
        .unwrap();
        assert_eq!((query.page, query.limit), (2, 50));
        assert_eq!(query.sort, SortField::Price);
        assert_eq!(query.order, Some(SortOrder::Desc));
        assert_eq!(query.capability, Some(Capability::ImageAnalysis));
        assert!(query.free_only);
        assert_eq!(query.max_prompt_price_micros, Some(2_500_000));
        assert_eq!(query.min_context, Some(128_000));
        assert_eq!(query.search.as_deref(), Some("claude"));
        assert_eq!(query.category, None, "empty form fields are not filters");
    }

    #[test]
    fn bad_values_name_their_parameter() {
        for (key, value) in [
            ("limit", "101"),
            ("limit", "0"),
            ("page", "zero"),
            ("sort", "vibes"),
            ("order", "up"),
            ("capability", "telepathy"),
            ("free", "maybe"),
            ("max_price", "-3"),
            ("min_context", "lots"),
        ] {
            let error = parse_listing(&pairs(&[(key, value)]), 24).unwrap_err();
            assert!(key.starts_with(error.param), "{key}={value}: {error:?}");
            assert!(
                error.message.contains(&format!("`{}`", error.param)),
                "{error:?}"
            );
        }
    }
}
