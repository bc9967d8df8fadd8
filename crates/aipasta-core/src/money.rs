//! Money, exactly. Prices are decimal US dollars per unit (token, image, request) kept as
//! `rust_decimal::Decimal`, never `f64`; costs are whole nano-dollars (10⁻⁹ USD) so they add up
//! exactly in SQL on both backends.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An exact price in USD per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Price(#[serde(with = "rust_decimal::serde::str")] Decimal);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("{0:?} is not a decimal number")]
    NotANumber(String),
    #[error("a price cannot be negative ({0})")]
    Negative(String),
}

impl Price {
    pub const ZERO: Price = Price(Decimal::ZERO);

    pub fn new(value: Decimal) -> Result<Price, PriceError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(PriceError::Negative(value.to_string()));
        }
        Ok(Price(value.normalize()))
    }

    /// Parses a decimal string such as `"0.00000008333333333333334"` without any rounding.
    pub fn parse(text: &str) -> Result<Price, PriceError> {
        let trimmed = text.trim();
        let value = Decimal::from_str(trimmed)
            .or_else(|_| Decimal::from_scientific(trimmed))
            .map_err(|_| PriceError::NotANumber(text.to_owned()))?;
        Price::new(value)
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// The price of one million units, in whole micro-dollars rounded up: the integer stored
    /// beside the exact text so SQL can sort and filter by price.
    pub fn per_million_micros(self) -> i64 {
        // USD per unit × 10⁶ units × 10⁶ micro-dollars per USD.
        (self.0 * Decimal::from(1_000_000_000_000_i64))
            .round_dp_with_strategy(0, RoundingStrategy::AwayFromZero)
            .to_i64()
            .unwrap_or(i64::MAX)
    }

    /// The price of `units` units, exactly.
    pub fn times(self, units: u64) -> Decimal {
        self.0 * Decimal::from(units)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Price {
    type Err = PriceError;

    fn from_str(text: &str) -> Result<Price, PriceError> {
        Price::parse(text)
    }
}

/// A cost in whole nano-dollars (10⁻⁹ USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Nanos(pub i64);

impl Nanos {
    /// Rounds an exact USD amount to the nearest nano-dollar (half away from zero).
    pub fn from_usd(usd: Decimal) -> Nanos {
        let nanos = (usd * Decimal::from(1_000_000_000_i64))
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        Nanos(nanos.to_i64().unwrap_or(i64::MAX))
    }

    pub fn usd(self) -> Decimal {
        Decimal::from(self.0) / Decimal::from(1_000_000_000_i64)
    }
}

/// Formats a price per token for people, per million tokens: `$15 / 1M`, `$0.08 / 1M`,
/// `free`, or `—` when unknown.
pub fn per_million_label(price: Option<Price>) -> String {
    match price {
        None => "—".to_owned(),
        Some(p) if p.is_zero() => "free".to_owned(),
        Some(p) => format!(
            "${} / 1M",
            human_usd(p.decimal() * Decimal::from(1_000_000))
        ),
    }
}

/// Formats a price per token per thousand tokens, as the plan's API does: `$0.0150 / 1K`.
pub fn per_thousand_label(price: Option<Price>) -> String {
    match price {
        None => "—".to_owned(),
        Some(p) if p.is_zero() => "free".to_owned(),
        Some(p) => format!("${} / 1K", human_usd(p.decimal() * Decimal::from(1_000))),
    }
}

/// A dollar amount with as many decimals as it needs to be read: at least two, up to four
/// significant digits after the leading zeros, trailing zeros dropped beyond two.
pub fn human_usd(amount: Decimal) -> String {
    if amount.is_zero() {
        return "0".to_owned();
    }
    let abs = amount.abs();
    let decimals = if abs >= Decimal::ONE {
        2
    } else {
        // Count the zeros right after the decimal point, then keep four significant digits.
        let mut zeros = 0u32;
        let mut scaled = abs;
        while scaled < Decimal::new(1, 1) && zeros < 20 {
            scaled *= Decimal::TEN;
            zeros += 1;
        }
        zeros + 4
    };
    let rounded = amount.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero);
    let mut text = rounded.normalize().to_string();
    // Whole or one-decimal amounts read better as cents: `15` → `15`, `0.5` → `0.50`.
    if let Some(dot) = text.find('.')
        && text.len() - dot - 1 == 1
    {
        text.push('0');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(text: &str) -> Price {
        Price::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn long_decimal_prices_are_kept_exactly() {
        let p = price("0.00000008333333333333334");
        assert_eq!(p.to_string(), "0.00000008333333333333334");
        assert_eq!(p.times(3).to_string(), "0.00000025000000000000002");
    }

    #[test]
    fn negative_and_malformed_prices_are_refused() {
        assert!(matches!(Price::parse("-1"), Err(PriceError::Negative(_))));
        assert!(matches!(
            Price::parse("abc"),
            Err(PriceError::NotANumber(_))
        ));
        assert_eq!(price("0"), Price::ZERO);
        assert_eq!(price("1e-6").to_string(), "0.000001");
    }

    #[test]
    fn per_million_micros_rounds_up_to_the_micro_dollar() {
        assert_eq!(price("0.000015").per_million_micros(), 15_000_000); // $15 / 1M
        assert_eq!(
            price("0.00000008333333333333334").per_million_micros(),
            83_334
        );
        assert_eq!(Price::ZERO.per_million_micros(), 0);
    }

    #[test]
    fn costs_round_to_the_nearest_nano_dollar() {
        assert_eq!(
            Nanos::from_usd(price("0.000015").times(1000)),
            Nanos(15_000_000)
        );
        assert_eq!(Nanos::from_usd(Decimal::new(15, 10)), Nanos(2)); // 1.5 nano rounds up
        assert_eq!(Nanos(2_500_000).usd().to_string(), "0.0025");
    }

    #[test]
    fn labels_read_like_people_write_prices() {
        assert_eq!(per_million_label(Some(price("0.000015"))), "$15 / 1M");
        assert_eq!(per_million_label(Some(price("0.00000008"))), "$0.08 / 1M");
        assert_eq!(per_million_label(Some(price("0.0000025"))), "$2.50 / 1M");
        assert_eq!(per_million_label(Some(Price::ZERO)), "free");
        assert_eq!(per_million_label(None), "—");
        assert_eq!(per_thousand_label(Some(price("0.000015"))), "$0.015 / 1K");
        assert_eq!(human_usd(Decimal::new(123_456, 9)), "0.0001235");
    }
}
