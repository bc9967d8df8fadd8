//! Helpers shared by the catalog tests.

use aipasta_core::catalog::ModelFacts;
use aipasta_core::money::Price;

pub fn price(text: &str) -> Option<Price> {
    Some(Price::parse(text).unwrap())
}

pub fn model<'a>(models: &'a [ModelFacts], id: &str) -> &'a ModelFacts {
    models
        .iter()
        .find(|m| m.provider_model_id == id)
        .unwrap_or_else(|| panic!("{id} was not imported"))
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
