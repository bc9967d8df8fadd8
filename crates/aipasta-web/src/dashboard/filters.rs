//! History's filters, order and position as a query string: read the same way by
//! `GET /api/users/history`, its export and the `/dashboard/history` page, so a page's URL and
//! the API agree. Every value is checked, and a bad one is refused naming its field.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;

use aipasta_engine::Source;
use aipasta_engine::prepare::Mode;
use aipasta_store::generations::{HistoryCursor, HistoryQuery, HistorySort, MAX_HISTORY_PAGE};

use crate::state::AppState;

/// Rows per page when the client does not say.
pub const DEFAULT_HISTORY_PAGE: i64 = 20;
const STATUSES: [&str; 6] = [
    "pending",
    "success",
    "error",
    "timeout",
    "cancelled",
    "interrupted",
];
const MS_PER_DAY: i64 = 86_400_000;

/// The query string, as sent: every value is text, checked by [`HistoryParams::read`].
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// A page number from 1 (deep pages are slower than following `nextCursor`).
    page: Option<String>,
    /// Where to continue: the previous answer's `pagination.nextCursor`.
    cursor: Option<String>,
    /// Rows per page, 1 to 100 (default 20).
    limit: Option<String>,
    /// A model's id or slug.
    model: Option<String>,
    /// `chat`, `text`, `code`, `image`, `summarize`, `translate` or `embed`.
    mode: Option<String>,
    /// `playground`, `api`, `v1`, `compare` or `batch`.
    source: Option<String>,
    /// `pending`, `success`, `error`, `timeout`, `cancelled` or `interrupted`.
    status: Option<String>,
    /// From this day (`YYYY-MM-DD`, UTC) or instant (RFC 3339), inclusive.
    from: Option<String>,
    /// To this day (`YYYY-MM-DD`, UTC, the whole day included) or instant (RFC 3339),
    /// exclusive.
    to: Option<String>,
    /// Words to find in the prompt, the last message or the output, every one of them: whole
    /// words, or any word starting with one written with a `*` after it (`deploy*`).
    q: Option<String>,
    /// `turn`: every generation (the API's and the export's default); `conversation`: each
    /// chat conversation once, as its latest turn, which holds the whole conversation (the
    /// history page's default). A search (`q`) lists every turn it finds either way.
    group: Option<String>,
    /// `time` (default), `cost`, `tokens` or `duration`.
    sort: Option<String>,
    /// `desc` (default) or `asc`.
    order: Option<String>,
}

/// A value that cannot be used: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFilter {
    pub field: &'static str,
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> BadFilter {
    BadFilter {
        field,
        message: message.into(),
    }
}

/// The filters as read: the store's query, and what the page shows back in its form.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilters {
    pub query: HistoryQuery,
    /// The 1-based page number when the client numbered pages.
    pub page: Option<i64>,
    /// The model as the client named it (slug or id), to show back.
    pub model: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `Some(true)` for `group=conversation`, `Some(false)` for `group=turn`, `None` when the
    /// client did not say (see [`HistoryFilters::group_conversations`]).
    pub conversations: Option<bool>,
}

impl HistoryFilters {
    /// Lists each conversation once unless the client chose `group=turn`; for the history
    /// page, whose default that is (the API's is every turn, as read).
    pub fn group_conversations(&mut self) {
        self.query.conversations = self.conversations.unwrap_or(true);
    }
}

/// Blank values are absent: an HTML form sends every field.
pub(super) fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl HistoryParams {
    /// Checks every value; a model is looked up by id or slug (an unknown one is refused).
    pub async fn read(&self, state: &AppState) -> Result<HistoryFilters, BadFilter> {
        let mut filters = HistoryFilters::default();
        let query = &mut filters.query;
        query.limit = match present(&self.limit) {
            None => DEFAULT_HISTORY_PAGE,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_HISTORY_PAGE).contains(n))
                .ok_or_else(|| {
                    bad(
                        "limit",
                        format!("limit must be a whole number from 1 to {MAX_HISTORY_PAGE}."),
                    )
                })?,
        };
        query.sort = match present(&self.sort) {
            None => HistorySort::Time,
            Some(text) => HistorySort::parse(text)
                .ok_or_else(|| bad("sort", "sort must be time, cost, tokens or duration."))?,
        };
        query.descending = match present(&self.order) {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(_) => return Err(bad("order", "order must be asc or desc.")),
        };
        if let Some(group) = present(&self.group) {
            let conversations = match group {
                "conversation" => true,
                "turn" => false,
                _ => return Err(bad("group", "group must be turn or conversation.")),
            };
            query.conversations = conversations;
            filters.conversations = Some(conversations);
        }
        if let Some(mode) = present(&self.mode) {
            if !Mode::ALL.iter().any(|m| m.as_str() == mode) {
                return Err(bad(
                    "mode",
                    "mode must be chat, text, code, image, summarize, translate or embed.",
                ));
            }
            query.mode = Some(mode.to_owned());
        }
        if let Some(source) = present(&self.source) {
            Source::parse(source).ok_or_else(|| {
                bad(
                    "source",
                    "source must be playground, api, v1, compare or batch.",
                )
            })?;
            query.source = Some(source.to_owned());
        }
        if let Some(status) = present(&self.status) {
            if !STATUSES.contains(&status) {
                return Err(bad(
                    "status",
                    "status must be pending, success, error, timeout, cancelled or interrupted.",
                ));
            }
            query.status = Some(status.to_owned());
        }
        if let Some(model) = present(&self.model) {
            let row = state
                .engine
                .models
                .get(&state.db, model)
                .await
                .map_err(|_| bad("model", "The models cannot be read right now."))?
                .ok_or_else(|| bad("model", format!("No model has the id or slug {model:?}.")))?;
            query.model_id = Some(row.id.clone());
            filters.model = Some(model.to_owned());
        }
        if let Some(from) = present(&self.from) {
            query.from = Some(instant("from", from, false)?);
            filters.from = Some(from.to_owned());
        }
        if let Some(to) = present(&self.to) {
            query.to = Some(instant("to", to, true)?);
            filters.to = Some(to.to_owned());
        }
        if let (Some(from), Some(to)) = (query.from, query.to)
            && from >= to
        {
            return Err(bad("to", "to must be after from."));
        }
        if let Some(q) = present(&self.q) {
            if q.chars().count() > 500 {
                return Err(bad("q", "q must be at most 500 characters."));
            }
            query.search = Some(q.to_owned());
        }
        if let Some(cursor) = present(&self.cursor) {
            query.after = Some(decode_cursor(cursor, query.sort, query.descending)?);
        } else if let Some(page) = present(&self.page) {
            let page = page
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| bad("page", "page must be a whole number from 1."))?;
            query.offset = (page - 1).saturating_mul(query.limit);
            filters.page = Some(page);
        }
        Ok(filters)
    }
}

/// Milliseconds since the epoch of a day (`YYYY-MM-DD`: its start, or with `end_of_day` the
/// start of the next day) or an RFC 3339 instant.
fn instant(field: &'static str, text: &str, end_of_day: bool) -> Result<i64, BadFilter> {
    if let Ok(day) = Date::parse(text, format_description!("[year]-[month]-[day]")) {
        let start = day.midnight().assume_utc().unix_timestamp() * 1_000;
        return Ok(if end_of_day {
            start + MS_PER_DAY
        } else {
            start
        });
    }
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
        .map_err(|_| {
            bad(
                field,
                format!("{field} must be a day (YYYY-MM-DD) or an RFC 3339 time."),
            )
        })
}

/// An opaque cursor: the order it belongs to, the last row's sort value and id.
pub fn encode_cursor(cursor: &HistoryCursor, sort: HistorySort, descending: bool) -> String {
    let order = if descending { "desc" } else { "asc" };
    URL_SAFE_NO_PAD.encode(format!(
        "{}:{order}:{}:{}",
        sort.as_str(),
        cursor.value,
        cursor.id
    ))
}

fn decode_cursor(
    text: &str,
    sort: HistorySort,
    descending: bool,
) -> Result<HistoryCursor, BadFilter> {
    let invalid = || {
        bad(
            "cursor",
            "cursor is not one this server gave; start again from the first page.",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(4, ':');
    let (Some(sort_name), Some(order), Some(value), Some(id)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let order_now = if descending { "desc" } else { "asc" };
    if sort_name != sort.as_str() || order != order_now {
        return Err(bad(
            "cursor",
            "cursor belongs to another order; start again from the first page.",
        ));
    }
    Ok(HistoryCursor {
        value: value.parse().map_err(|_| invalid())?,
        id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_order() {
        let cursor = HistoryCursor {
            value: -5,
            id: "01a2:b".into(),
        };
        let text = encode_cursor(&cursor, HistorySort::Cost, true);
        assert_eq!(
            decode_cursor(&text, HistorySort::Cost, true).unwrap(),
            cursor
        );
        assert_eq!(
            decode_cursor(&text, HistorySort::Time, true)
                .unwrap_err()
                .field,
            "cursor"
        );
        assert!(decode_cursor(&text, HistorySort::Cost, false).is_err());
        assert!(decode_cursor("not base64!", HistorySort::Cost, true).is_err());
        assert!(
            decode_cursor(
                &URL_SAFE_NO_PAD.encode("cost:desc:x:1"),
                HistorySort::Cost,
                true
            )
            .is_err()
        );
    }

    #[test]
    fn days_and_instants() {
        assert_eq!(instant("from", "1970-01-02", false).unwrap(), MS_PER_DAY);
        assert_eq!(instant("to", "1970-01-02", true).unwrap(), 2 * MS_PER_DAY);
        assert_eq!(
            instant("from", "1970-01-01T00:00:01.5Z", false).unwrap(),
            1_500
        );
        assert_eq!(instant("to", "yesterday", true).unwrap_err().field, "to");
    }
}
