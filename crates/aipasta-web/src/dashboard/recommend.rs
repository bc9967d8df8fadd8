//! Recommendations: models for a person to try, each with why, from real data only — models
//! cheaper than their own with the same capabilities and as much context, models favorited by
//! people who share their favorites, and models popular in the categories they use (for a new
//! account: what is popular on the platform this month, then the catalog's featured models).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use aipasta_store::catalog::ModelRow;
use aipasta_store::catalog::trending;
use aipasta_store::favorites::favorite_model_ids;
use aipasta_store::generations::models_used;
use aipasta_store::recommendations::{
    Popular, models_by_id, models_in_categories, popular_models, shared_taste,
};

use super::stats::today;
use crate::error::ApiError;
use crate::state::AppState;

/// How long what everyone uses is kept before it is read again.
pub const POPULARITY_TTL: Duration = Duration::from_secs(300);
/// How long a category's listed models are kept before they are read again.
pub const CATEGORY_MODELS_TTL: Duration = Duration::from_secs(30);
/// Models ranked in it: every model anyone used, in practice.
const POPULARITY_RANKED: i64 = 10_000;

/// The models everyone used since `since` (a day), most people first, from the cache when
/// it is there: the dashboard asks on every view, and the read sums every account's rollups.
async fn popularity(state: &AppState, since: i64) -> Result<Arc<Vec<Popular>>, ApiError> {
    if let Some(ranked) = state.popularity.get(&since).await {
        return Ok(ranked);
    }
    let ranked = Arc::new(popular_models(&state.db, &[], since, POPULARITY_RANKED).await?);
    state.popularity.insert(since, ranked.clone()).await;
    Ok(ranked)
}

/// The listed models of `category_ids`, each category's from the cache when it is there.
async fn listed_in_categories(
    state: &AppState,
    category_ids: &[String],
) -> Result<Vec<ModelRow>, ApiError> {
    let mut models = Vec::new();
    for category in category_ids {
        let listed = match state.category_models.get(category).await {
            Some(listed) => listed,
            None => {
                let listed = Arc::new(
                    models_in_categories(&state.db, std::slice::from_ref(category)).await?,
                );
                state
                    .category_models
                    .insert(category.clone(), listed.clone())
                    .await;
                listed
            }
        };
        models.extend(listed.iter().cloned());
    }
    Ok(models)
}

/// The first `limit` of `ranked` in `category_ids` (all when empty).
fn most_popular<'a>(
    ranked: &'a [Popular],
    category_ids: &[String],
    limit: usize,
) -> Vec<&'a Popular> {
    ranked
        .iter()
        .filter(|p| {
            category_ids.is_empty()
                || p.category_id
                    .as_ref()
                    .is_some_and(|id| category_ids.contains(id))
        })
        .take(limit)
        .collect()
}

/// The most recommendations given at once.
pub const MAX_RECOMMENDATIONS: usize = 6;
/// The models of a person's that anchor "similar and cheaper": favorites first, then the most
/// used of the last 90 days.
const MAX_ANCHORS: usize = 8;

/// Why a model is recommended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RecommendationKind {
    /// Same capabilities, as much context, lower price than one of the person's models.
    CheaperAlternative,
    /// Favorited by people who share one of the person's favorites.
    SharedTaste,
    /// Used by many people in a category the person uses.
    PopularInCategory,
    /// Used by many people on the platform (for accounts with nothing to go on yet).
    PopularOverall,
    /// Featured in the catalog (when nothing has been used yet anywhere).
    Featured,
}

/// A model to try, and why.
#[derive(Debug, Clone)]
pub struct Recommendation {
    pub model: ModelRow,
    pub kind: RecommendationKind,
    /// For people: "Cheaper than Claude Opus 4 with the same context".
    pub reason: String,
}

/// Input plus output price per million tokens, in micro-dollars; `None` when either is unknown.
fn blended_price(model: &ModelRow) -> Option<i64> {
    let pricing = model.pricing();
    Some(pricing.prompt?.per_million_micros() + pricing.completion?.per_million_micros())
}

/// `candidate` does at least what `anchor` does, with at least its context.
fn covers(candidate: &ModelRow, anchor: &ModelRow) -> bool {
    let (c, a) = (candidate.capabilities(), anchor.capabilities());
    let needs = [
        (a.chat_completion, c.chat_completion),
        (a.code_generation, c.code_generation),
        (a.image_analysis, c.image_analysis),
        (a.image_generation, c.image_generation),
        (a.embedding, c.embedding),
    ];
    needs.iter().all(|(needed, has)| !needed || *has)
        && candidate.context_length.unwrap_or(0) >= anchor.context_length.unwrap_or(0)
}

fn context_label(tokens: i64) -> String {
    if tokens >= 1_000_000 && tokens % 1_000_000 == 0 {
        format!("{}M", tokens / 1_000_000)
    } else if tokens >= 1_000 {
        format!("{}K", tokens / 1_000)
    } else {
        tokens.to_string()
    }
}

/// For each anchor, the dearest listed model that is still cheaper and covers it: the closest
/// alternative, not the cheapest toy.
fn cheaper_alternatives(
    anchors: &[ModelRow],
    candidates: &[ModelRow],
    excluded: &HashSet<String>,
) -> Vec<Recommendation> {
    let mut found = Vec::new();
    for anchor in anchors {
        let Some(anchor_price) = blended_price(anchor).filter(|p| *p > 0) else {
            continue;
        };
        let best = candidates
            .iter()
            .filter(|c| c.category_id == anchor.category_id && !excluded.contains(&c.id))
            .filter(|c| covers(c, anchor))
            .filter_map(|c| blended_price(c).map(|p| (p, c)))
            .filter(|(price, _)| *price < anchor_price)
            .max_by(|(a, x), (b, y)| a.cmp(b).then_with(|| y.slug.cmp(&x.slug)));
        if let Some((price, model)) = best {
            let percent = 100 - price * 100 / anchor_price;
            let context = match (model.context_length, anchor.context_length) {
                (Some(mine), Some(theirs)) if mine > theirs => {
                    format!(" and more context ({})", context_label(mine))
                }
                (Some(_), Some(_)) => " with the same context".to_owned(),
                _ => String::new(),
            };
            found.push(Recommendation {
                model: model.clone(),
                kind: RecommendationKind::CheaperAlternative,
                reason: format!(
                    "Cheaper than {}{context} ({percent}% less per token)",
                    anchor.display_name
                ),
            });
        }
    }
    found
}

/// Up to [`MAX_RECOMMENDATIONS`] models for `user_id`, most personal first.
pub async fn recommendations(
    state: &AppState,
    user_id: &str,
) -> Result<Vec<Recommendation>, ApiError> {
    let db = &state.db;
    let favorites = favorite_model_ids(db, user_id).await?;
    let used = models_used(db, user_id, today() - 90, MAX_ANCHORS as i64).await?;
    let mut anchor_ids: Vec<String> = favorites.clone();
    for model in &used {
        if !anchor_ids.contains(&model.model_id) {
            anchor_ids.push(model.model_id.clone());
        }
    }
    anchor_ids.truncate(MAX_ANCHORS);
    let mut anchors = models_by_id(db, &anchor_ids).await?;
    anchors.sort_by_key(|m| anchor_ids.iter().position(|id| *id == m.id));
    let mut excluded: HashSet<String> = anchor_ids.iter().cloned().collect();
    excluded.extend(favorites.iter().cloned());
    let mut categories: Vec<String> = Vec::new();
    for anchor in &anchors {
        if let Some(category) = &anchor.category_id
            && !categories.contains(category)
        {
            categories.push(category.clone());
        }
    }

    let candidates = listed_in_categories(state, &categories).await?;
    let mut groups: Vec<Vec<Recommendation>> =
        vec![cheaper_alternatives(&anchors, &candidates, &excluded)];

    let shared = shared_taste(db, user_id, 10).await?;
    let shared_models = models_by_id(
        db,
        &shared
            .iter()
            .map(|s| s.model_id.clone())
            .collect::<Vec<_>>(),
    )
    .await?;
    groups.push(
        shared
            .iter()
            .filter_map(|s| {
                let model = shared_models.iter().find(|m| m.id == s.model_id)?;
                let via = anchors.iter().find(|a| a.id == s.via_model_id)?;
                Some(Recommendation {
                    model: model.clone(),
                    kind: RecommendationKind::SharedTaste,
                    reason: format!(
                        "Favorited by {} who also favorite {}",
                        people(s.people),
                        via.display_name
                    ),
                })
            })
            .collect(),
    );

    let since = today() - 30;
    if !categories.is_empty() {
        let ranked = popularity(state, since).await?;
        let popular = most_popular(&ranked, &categories, 10);
        groups.push(
            popular
                .iter()
                .filter_map(|p| {
                    let model = candidates.iter().find(|m| m.id == p.model_id)?;
                    let category = model.category_name.clone().unwrap_or_default();
                    Some(Recommendation {
                        model: model.clone(),
                        kind: RecommendationKind::PopularInCategory,
                        reason: format!(
                            "Popular in {category}: used by {} this month",
                            people(p.people)
                        ),
                    })
                })
                .collect(),
        );
    }

    let mut chosen = pick(groups, &excluded);
    if chosen.is_empty() {
        // Nothing of the person's to go on: what everyone uses, then what is featured.
        let ranked = popularity(state, since).await?;
        let popular = most_popular(&ranked, &[], 10);
        let rows = models_by_id(
            db,
            &popular
                .iter()
                .map(|p| p.model_id.clone())
                .collect::<Vec<_>>(),
        )
        .await?;
        let mut overall: Vec<Recommendation> = popular
            .iter()
            .filter_map(|p| {
                let model = rows.iter().find(|m| m.id == p.model_id)?;
                Some(Recommendation {
                    model: model.clone(),
                    kind: RecommendationKind::PopularOverall,
                    reason: format!(
                        "Popular on AI Pasta: used by {} this month",
                        people(p.people)
                    ),
                })
            })
            .collect();
        if overall.is_empty() {
            overall = trending(db, since, MAX_RECOMMENDATIONS as i64)
                .await?
                .into_iter()
                .map(|model| Recommendation {
                    model,
                    kind: RecommendationKind::Featured,
                    reason: "Featured in the catalog".to_owned(),
                })
                .collect();
        }
        chosen = pick(vec![overall], &excluded);
    }
    Ok(chosen)
}

fn people(count: i64) -> String {
    if count == 1 {
        "1 person".to_owned()
    } else {
        format!("{count} people")
    }
}

/// Takes from each group in turn (so every kind of reason shows), skipping models already
/// chosen or excluded, up to [`MAX_RECOMMENDATIONS`].
fn pick(groups: Vec<Vec<Recommendation>>, excluded: &HashSet<String>) -> Vec<Recommendation> {
    let mut iterators: Vec<_> = groups.into_iter().map(Vec::into_iter).collect();
    let mut chosen: Vec<Recommendation> = Vec::new();
    let mut seen: HashSet<String> = excluded.clone();
    loop {
        let mut progressed = false;
        for group in &mut iterators {
            for candidate in group.by_ref() {
                if seen.insert(candidate.model.id.clone()) {
                    chosen.push(candidate);
                    progressed = true;
                    break;
                }
            }
            if chosen.len() >= MAX_RECOMMENDATIONS {
                return chosen;
            }
        }
        if !progressed {
            return chosen;
        }
    }
}

/// A recommendation as the pages show it (`templates/_recommendations.html`).
pub struct RecommendationCard {
    pub slug: String,
    pub name: String,
    pub provider: String,
    pub category: Option<String>,
    /// `cheaper-alternative`, `shared-taste`, ...
    pub kind: &'static str,
    pub reason: String,
}

impl RecommendationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecommendationKind::CheaperAlternative => "cheaper-alternative",
            RecommendationKind::SharedTaste => "shared-taste",
            RecommendationKind::PopularInCategory => "popular-in-category",
            RecommendationKind::PopularOverall => "popular-overall",
            RecommendationKind::Featured => "featured",
        }
    }
}

/// `user_id`'s recommendations for a page; a failure to compute them leaves the section empty
/// (it is logged), never the page broken.
pub async fn recommendation_cards(state: &AppState, user_id: &str) -> Vec<RecommendationCard> {
    match recommendations(state, user_id).await {
        Ok(found) => found
            .into_iter()
            .map(|r| RecommendationCard {
                slug: r.model.slug,
                name: r.model.display_name,
                provider: r.model.provider,
                category: r.model.category_name,
                kind: r.kind.as_str(),
                reason: r.reason,
            })
            .collect(),
        Err(error) => {
            tracing::warn!(code = %error.code, "recommendations could not be computed");
            Vec::new()
        }
    }
}
