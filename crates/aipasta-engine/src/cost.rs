//! What a generation cost: the provider's own figure when it reports one, otherwise the
//! model's listed prices times the usage, computed exactly and rounded once to nano-dollars.

use aipasta_core::catalog::Pricing;
use aipasta_core::money::Nanos;
use aipasta_providers::generate::Usage;
use rust_decimal::Decimal;

/// The cost of one call. `requests` is 1 for a call that reached the provider.
pub fn cost_of(pricing: &Pricing, usage: &Usage, requests: u64) -> Nanos {
    if let Some(reported) = usage.cost {
        return reported;
    }
    let mut usd = Decimal::ZERO;
    if let Some(price) = pricing.prompt {
        usd += price.times(usage.prompt_tokens);
    }
    if let Some(price) = pricing.completion {
        usd += price.times(usage.completion_tokens);
    }
    if let Some(price) = pricing.request {
        usd += price.times(requests);
    }
    Nanos::from_usd(usd)
}

/// A token count for text when the provider reports none: about four characters a token,
/// the usual figure for English with today's tokenizers. Only used so limits and history are
/// not blind; the row says the figure is estimated.
pub fn estimate_tokens(text: &str) -> u64 {
    let chars = text.chars().count() as u64;
    chars.div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aipasta_core::money::Price;

    fn pricing(prompt: &str, completion: &str) -> Pricing {
        Pricing {
            prompt: Some(Price::parse(prompt).unwrap()),
            completion: Some(Price::parse(completion).unwrap()),
            ..Pricing::default()
        }
    }

    fn usage(prompt: u64, completion: u64) -> Usage {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt + completion,
            cost: None,
        }
    }

    #[test]
    fn cost_is_exact_for_long_decimal_prices() {
        // 3 × 0.00000008333333333333334 + 0 = 0.00000025000000000000002 USD → 250 nanos.
        let p = pricing("0.00000008333333333333334", "0");
        assert_eq!(cost_of(&p, &usage(3, 0), 1), Nanos(250));
    }

    #[test]
    fn cost_adds_prompt_completion_and_request_prices() {
        // $3/M in, $15/M out: 1,000 in + 2,000 out = 0.003 + 0.03 = 0.033 USD; + $0.01 request.
        let mut p = pricing("0.000003", "0.000015");
        p.request = Some(Price::parse("0.01").unwrap());
        assert_eq!(cost_of(&p, &usage(1000, 2000), 1), Nanos(43_000_000));
    }

    #[test]
    fn rounding_happens_once_at_the_end() {
        // Each token costs 0.4 nano-dollars: per token it would round to 0, in total it is 4.
        let p = pricing("0.0000000004", "0");
        assert_eq!(cost_of(&p, &usage(10, 0), 1), Nanos(4));
    }

    #[test]
    fn the_providers_own_cost_wins() {
        let p = pricing("1", "1");
        let mut u = usage(10, 10);
        u.cost = Some(Nanos(123));
        assert_eq!(cost_of(&p, &u, 1), Nanos(123));
    }

    #[test]
    fn unknown_prices_cost_nothing() {
        assert_eq!(cost_of(&Pricing::default(), &usage(10, 10), 1), Nanos(0));
    }

    #[test]
    fn estimates_round_up() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abc"), 1);
        assert_eq!(estimate_tokens("abcdefgh"), 2);
        assert_eq!(estimate_tokens("ééééé"), 2);
    }
}
