//! `/dashboard/favorites` (the caller's favorite models as cards, in their order, moved up and
//! down and removed with plain forms) and the star toggle every model card, model page and the
//! playground's picker carry (`POST /dashboard/favorites/toggle`). [`Stars`] is what those pages
//! read to draw their stars: the caller's favorite ids, one query per page, none signed out.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use aipasta_store::DbError;
use aipasta_store::catalog::ModelRow;
use aipasta_store::favorites::{self, FavoriteRow};

use super::recommend::{RecommendationCard, recommendation_cards};
use crate::auth::pages::safe_next;
use crate::auth::{Access, Caller, Routes};
use crate::catalog::ModelCard;
use crate::catalog::page_reads::log_failed_read;
use crate::chrome::Chrome;
use crate::pages::render;
use crate::state::AppState;

const FAVORITES_PATH: &str = "/dashboard/favorites";
/// A card's description is cut to about this many characters.
const DESCRIPTION_CHARS: usize = 180;

pub fn routes() -> Routes {
    use Access::Account;
    Routes::new()
        .get(FAVORITES_PATH, Account, page)
        .post("/dashboard/favorites/toggle", Account, toggle)
        .post("/dashboard/favorites/remove", Account, remove)
        .post("/dashboard/favorites/move", Account, move_favorite)
}

/// The star toggle's form for one model (`templates/_favorite_star.html`).
pub struct FavoriteStar {
    pub model_id: String,
    /// Filled (`aria-pressed="true"`, "Remove from favorites") when it is a favorite.
    pub favorite: bool,
    pub csrf: String,
    /// Where the toggle sends the browser back to: the page the star is on.
    pub return_to: String,
}

/// The caller's favorites, for the stars of one page.
pub struct Stars {
    /// Favorite model ids, in the caller's order.
    ids: Vec<String>,
    csrf: String,
    return_to: String,
}

impl Stars {
    /// The signed-in caller's favorites (one query); `None` for a visitor who is signed out or
    /// calls with an API key (neither can use the toggle, so no star is drawn for them).
    pub async fn read(
        state: &AppState,
        caller: Option<&Caller>,
        csrf: &str,
        return_to: String,
    ) -> Result<Option<Stars>, DbError> {
        let Some(caller) = caller.filter(|c| !c.is_api_key()) else {
            return Ok(None);
        };
        let ids = favorites::favorite_model_ids(&state.db, caller.id()).await?;
        Ok(Some(Stars {
            ids,
            csrf: csrf.to_owned(),
            return_to,
        }))
    }

    /// [`Stars::read`] for a page whose stars are a detail: a failed read is logged and the
    /// page is drawn without stars rather than with wrong ones.
    pub async fn for_page(
        state: &AppState,
        caller: Option<&Caller>,
        csrf: &str,
        return_to: String,
    ) -> Option<Stars> {
        Stars::read(state, caller, csrf, return_to)
            .await
            .unwrap_or_else(|error| {
                log_failed_read("favorites", &error);
                None
            })
    }

    /// Whether `model_id` is a favorite.
    pub fn is_favorite(&self, model_id: &str) -> bool {
        self.ids.iter().any(|id| id == model_id)
    }

    /// The favorites' ids, in the caller's order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The star of `model_id`.
    pub fn star(&self, model_id: &str) -> FavoriteStar {
        FavoriteStar {
            model_id: model_id.to_owned(),
            favorite: self.is_favorite(model_id),
            csrf: self.csrf.clone(),
            return_to: self.return_to.clone(),
        }
    }

    /// Gives each card its star.
    pub fn mark(stars: Option<&Stars>, cards: &mut [ModelCard]) {
        if let Some(stars) = stars {
            for card in cards {
                card.star = Some(stars.star(&card.id));
            }
        }
    }
}

/// `return_to` when it is a path on this site (the sign-in pages' rule, `safe_next`), else
/// the favorites page.
pub(crate) fn local_return(return_to: Option<&str>) -> String {
    let Some(wanted) = return_to.map(str::trim).filter(|r| !r.is_empty()) else {
        return FAVORITES_PATH.to_owned();
    };
    let safe = safe_next(Some(wanted));
    // `safe_next` answers its default page for anything it refuses.
    if safe == safe_next(None) && wanted != safe {
        FAVORITES_PATH.to_owned()
    } else {
        safe
    }
}

fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// One favorite as the page shows it.
pub struct FavoriteCard {
    pub model_id: String,
    pub name: String,
    pub provider: String,
    pub category: String,
    pub description: String,
    pub price_in: String,
    pub price_out: String,
    pub free: bool,
    /// Not `active` (deprecated, unavailable...): said on the card.
    pub status: Option<String>,
    pub href: String,
    pub playground_href: String,
    /// 1-based.
    pub position: usize,
    pub first: bool,
    pub last: bool,
}

/// `text` cut at a word to about `max` characters, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(at) if at > max / 2 => &cut[..at],
        _ => cut.as_str(),
    };
    format!(
        "{}…",
        cut.trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == '.')
    )
}

fn favorite_card(
    favorite: &FavoriteRow,
    model: Option<&ModelRow>,
    index: usize,
    count: usize,
) -> FavoriteCard {
    let href = crate::catalog::model_href(&favorite.slug);
    let mut card = FavoriteCard {
        model_id: favorite.model_id.clone(),
        name: favorite.name.clone(),
        provider: String::new(),
        category: String::new(),
        description: String::new(),
        price_in: String::new(),
        price_out: String::new(),
        free: false,
        status: None,
        playground_href: format!("{href}/playground"),
        href,
        position: index + 1,
        first: index == 0,
        last: index + 1 == count,
    };
    if let Some(model) = model {
        let view = ModelCard::from_row(model);
        card.provider = view.provider;
        card.category = view.category;
        card.description = excerpt(&model.description, DESCRIPTION_CHARS);
        card.price_in = view.price_in;
        card.price_out = view.price_out;
        card.free = view.free;
        card.status = (view.status != "active").then_some(view.status);
    }
    card
}

#[derive(Template)]
#[template(path = "dashboard_favorites.html")]
struct FavoritesPage {
    chrome: Chrome,
    section: &'static str,
    notice: Option<&'static str>,
    cards: Vec<FavoriteCard>,
    recommendations: Vec<RecommendationCard>,
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    done: Option<String>,
}

/// `GET /dashboard/favorites`.
async fn page(
    State(state): State<AppState>,
    chrome: Chrome,
    caller: Caller,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let favorites = match favorites::list_favorites(&state.db, caller.id()).await {
        Ok(favorites) => favorites,
        Err(error) => return crate::catalog::page_reads::unavailable_page("favorites", &error),
    };
    // Each favorite's whole row, from the engine's model cache (memory, shared reads).
    let models = futures_util::future::join_all(
        favorites
            .iter()
            .map(|f| state.engine.models.get(&state.db, &f.model_id)),
    )
    .await;
    let count = favorites.len();
    let cards = favorites
        .iter()
        .zip(models)
        .enumerate()
        .map(|(index, (favorite, model))| {
            let model = model.ok().flatten();
            favorite_card(favorite, model.as_deref(), index, count)
        })
        .collect();
    let notice = match query.done.as_deref() {
        Some("removed") => Some("Removed from your favorites."),
        Some("moved") => Some("Your favorites are in their new order."),
        Some("added") => Some("Added to your favorites."),
        _ => None,
    };
    render(&FavoritesPage {
        recommendations: recommendation_cards(&state, caller.id()).await,
        chrome,
        section: "favorites",
        notice,
        cards,
    })
}

#[derive(Deserialize)]
struct ToggleForm {
    /// The model's id (or slug).
    model: String,
    /// `1` to make it a favorite, `0` to stop; absent: the opposite of what it is now.
    favorite: Option<String>,
    return_to: Option<String>,
}

/// The model a form names, by id or slug; `None` when there is no such model.
async fn model_of(state: &AppState, model: &str) -> Result<Option<String>, Response> {
    match state.engine.models.get(&state.db, model.trim()).await {
        Ok(row) => Ok(row.map(|row| row.id.clone())),
        Err(error) => {
            tracing::error!(%error, "favorite's model");
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }
}

fn failed(error: &DbError) -> Response {
    log_failed_read("favorites", error);
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

/// `POST /dashboard/favorites/toggle`: stars or unstars a model, then back to `return_to`
/// (a path on this site; anything else leads to the favorites page).
async fn toggle(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<ToggleForm>,
) -> Response {
    let model_id = match model_of(&state, &form.model).await {
        Ok(Some(id)) => id,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(response) => return response,
    };
    let (db, user) = (&state.db, caller.id());
    let changed = match form.favorite.as_deref().map(str::trim) {
        Some("1" | "true" | "on") => favorites::add_favorite(db, user, &model_id).await,
        Some("0" | "false" | "off") => favorites::remove_favorite(db, user, &model_id).await,
        _ => match favorites::remove_favorite(db, user, &model_id).await {
            Ok(false) => favorites::add_favorite(db, user, &model_id).await,
            other => other,
        },
    };
    match changed {
        Ok(_) => see_other(&local_return(form.return_to.as_deref())),
        Err(error) => failed(&error),
    }
}

#[derive(Deserialize)]
struct RemoveForm {
    model: String,
}

/// `POST /dashboard/favorites/remove`.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<RemoveForm>,
) -> Response {
    let model_id = match model_of(&state, &form.model).await {
        Ok(Some(id)) => id,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(response) => return response,
    };
    match favorites::remove_favorite(&state.db, caller.id(), &model_id).await {
        Ok(_) => see_other(&format!("{FAVORITES_PATH}?done=removed")),
        Err(error) => failed(&error),
    }
}

#[derive(Deserialize)]
struct MoveForm {
    model: String,
    /// `up` or `down`.
    direction: String,
}

/// `order` with `model_id` swapped with its neighbour above (`up`) or below; `None` when it is
/// not in `order` or already at that end.
fn moved(order: &[String], model_id: &str, up: bool) -> Option<Vec<String>> {
    let at = order.iter().position(|id| id == model_id)?;
    let other = if up {
        at.checked_sub(1)?
    } else {
        Some(at + 1).filter(|next| *next < order.len())?
    };
    let mut order = order.to_vec();
    order.swap(at, other);
    Some(order)
}

/// `POST /dashboard/favorites/move`: one place up or down in the caller's order.
async fn move_favorite(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<MoveForm>,
) -> Response {
    let up = match form.direction.trim() {
        "up" => true,
        "down" => false,
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    let order = match favorites::favorite_model_ids(&state.db, caller.id()).await {
        Ok(order) => order,
        Err(error) => return failed(&error),
    };
    let model = form.model.trim();
    // The form sends the id; a slug is found in the order through the model's row.
    let model_id = if order.iter().any(|id| id == model) {
        model.to_owned()
    } else {
        match model_of(&state, model).await {
            Ok(Some(id)) => id,
            Ok(None) => return StatusCode::NOT_FOUND.into_response(),
            Err(response) => return response,
        }
    };
    if let Some(order) = moved(&order, &model_id, up)
        && let Err(error) = favorites::reorder_favorites(&state.db, caller.id(), &order).await
    {
        return failed(&error);
    }
    see_other(&format!("{FAVORITES_PATH}?done=moved"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn moving_swaps_with_the_neighbour_and_stops_at_the_ends() {
        let order = ids(&["a", "b", "c"]);
        assert_eq!(moved(&order, "b", true), Some(ids(&["b", "a", "c"])));
        assert_eq!(moved(&order, "b", false), Some(ids(&["a", "c", "b"])));
        assert_eq!(moved(&order, "a", true), None);
        assert_eq!(moved(&order, "c", false), None);
        assert_eq!(moved(&order, "x", true), None);
    }

    #[test]
    fn return_paths_stay_on_this_site() {
        assert_eq!(local_return(Some("/models?q=a")), "/models?q=a");
        assert_eq!(local_return(Some("/playground")), "/playground");
        for foreign in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "evil",
            "",
        ] {
            assert_eq!(local_return(Some(foreign)), FAVORITES_PATH, "{foreign}");
        }
        assert_eq!(local_return(None), FAVORITES_PATH);
    }

    #[test]
    fn descriptions_are_cut_at_a_word() {
        assert_eq!(excerpt("Short.", 20), "Short.");
        let cut = excerpt("A model that writes code and answers questions well", 20);
        assert_eq!(cut, "A model that writes…");
    }
}
