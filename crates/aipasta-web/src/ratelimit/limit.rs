//! A token bucket's shape ([`Limit`]) and its settings syntax, e.g. `120/min,burst=60`.

use std::fmt;
use std::str::FromStr;

/// A token bucket's shape: it holds at most `capacity` tokens and gains `refill_per_second`.
///
/// A rate that is not a positive number means the bucket never refills.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub capacity: u32,
    pub refill_per_second: f64,
}

impl Limit {
    pub const fn new(capacity: u32, refill_per_second: f64) -> Limit {
        Limit {
            capacity,
            refill_per_second,
        }
    }

    /// `n` per second, all of which may be spent at once.
    pub const fn per_second(n: u32) -> Limit {
        Limit::new(n, n as f64)
    }

    /// `n` per minute, all of which may be spent at once.
    pub const fn per_minute(n: u32) -> Limit {
        Limit::new(n, n as f64 / 60.0)
    }

    /// `n` per hour, all of which may be spent at once.
    pub const fn per_hour(n: u32) -> Limit {
        Limit::new(n, n as f64 / 3600.0)
    }

    /// The same rate with a different burst (capacity).
    pub const fn with_burst(self, burst: u32) -> Limit {
        Limit::new(burst, self.refill_per_second)
    }

    /// The refill rate made safe for arithmetic: NaN and negative rates become 0 ("never").
    pub(crate) fn rate(self) -> f64 {
        if self.refill_per_second.is_nan() || self.refill_per_second <= 0.0 {
            0.0
        } else {
            self.refill_per_second.min(f64::MAX)
        }
    }
}

/// Why a limit setting did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLimitError(String);

impl fmt::Display for ParseLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}; expected a limit like `20/min`, `5/hour` or `120/min,burst=60`",
            self.0
        )
    }
}

impl std::error::Error for ParseLimitError {}

/// Parses `<count>/<unit>` with an optional `,burst=<n>`; units are `s`, `min`, `hour` and
/// `day` (and their long forms). The burst defaults to the count.
impl FromStr for Limit {
    type Err = ParseLimitError;

    fn from_str(text: &str) -> Result<Limit, ParseLimitError> {
        let (rate, burst) = match text.split_once(',') {
            Some((rate, burst)) => (rate, Some(burst)),
            None => (text, None),
        };
        let (count, unit) = rate
            .trim()
            .split_once('/')
            .ok_or_else(|| ParseLimitError(format!("`{text}` has no `/`")))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| ParseLimitError(format!("`{}` is not a whole number", count.trim())))?;
        let seconds = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => 1.0,
            "m" | "min" | "minute" => 60.0,
            "h" | "hour" => 3600.0,
            "d" | "day" => 86_400.0,
            other => return Err(ParseLimitError(format!("unknown unit `{other}`"))),
        };
        let mut limit = Limit::new(count, f64::from(count) / seconds);
        if let Some(burst) = burst {
            let value = burst
                .trim()
                .strip_prefix("burst=")
                .ok_or_else(|| ParseLimitError(format!("`{}` is not `burst=<n>`", burst.trim())))?;
            let value: u32 = value
                .trim()
                .parse()
                .map_err(|_| ParseLimitError(format!("burst `{value}` is not a whole number")))?;
            limit = limit.with_burst(value);
        }
        Ok(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::Limit;

    #[test]
    fn helpers_spread_the_count_over_the_period() {
        assert_eq!(Limit::per_second(5), Limit::new(5, 5.0));
        assert_eq!(Limit::per_minute(120), Limit::new(120, 2.0));
        assert_eq!(Limit::per_hour(36), Limit::new(36, 0.01));
        assert_eq!(Limit::per_minute(120).with_burst(60), Limit::new(60, 2.0));
    }

    #[test]
    fn settings_syntax_parses() {
        assert_eq!("20/min".parse(), Ok(Limit::per_minute(20)));
        assert_eq!(" 5 / hour ".parse(), Ok(Limit::per_hour(5)));
        assert_eq!("10/s".parse(), Ok(Limit::per_second(10)));
        assert_eq!(
            "120/min,burst=60".parse(),
            Ok(Limit::per_minute(120).with_burst(60))
        );
        assert_eq!("86400/day".parse(), Ok(Limit::new(86_400, 1.0)));
        for bad in [
            "",
            "20",
            "x/min",
            "20/fortnight",
            "20/min,60",
            "20/min,burst=x",
            "-1/s",
        ] {
            assert!(bad.parse::<Limit>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn odd_rates_never_refill() {
        assert_eq!(Limit::new(1, f64::NAN).rate(), 0.0);
        assert_eq!(Limit::new(1, -3.0).rate(), 0.0);
        assert_eq!(Limit::new(1, 2.5).rate(), 2.5);
    }
}
