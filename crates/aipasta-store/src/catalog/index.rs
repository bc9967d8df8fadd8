//! The catalog's listing and search index, held in memory.
//!
//! With tens of thousands of models, finding one page in SQL took tens of milliseconds on both
//! databases: search as you type ranks its matches in tiers, and every combination of filters
//! and sort order wanted an index of its own. What listing reads of a listed model (its filter
//! and sort fields, the keys relevance compares, the words of its search text) fits in a few
//! megabytes at 50,000 models, so the page's ids are found here, in microseconds, the same way
//! on both databases, and only that page's rows are read from the database.
//!
//! Freshness: a catalog change through this process (`Db::note_catalog_change`, which every
//! store function that writes models or categories calls) makes the next query rebuild the index
//! first, so a change is listed at once. Changes the index cannot hear of — other instances
//! sharing a PostgreSQL database, a hand-made change, generation counts (popularity) — are
//! caught by a check in the background, at most every [`CHECK_EVERY`] while queries come, of a
//! [`Fingerprint`] of the catalog's tables (popularity at most every [`POPULARITY_EVERY`]).

use std::sync::atomic::{AtomicU64, Ordering as Atomic};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aipasta_core::catalog::{Capability, normalize_for_search};
use fixedbitset::FixedBitSet;
use rustc_hash::FxHashMap;

use super::listing::{ModelQuery, SortField, SortOrder};
use crate::{Backend, Db, DbError, Query};

/// How often a query may start a background check that the index still matches the database.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// How old the index may grow before new generations alone (popularity moves with each one)
/// warrant a rebuild.
const POPULARITY_EVERY: Duration = Duration::from_secs(60);
/// How old the index may grow at all: a change the fingerprint cannot see (another instance's
/// write stamped by a clock running behind) is picked up by then.
const REBUILD_EVERY: Duration = Duration::from_secs(600);

/// The index of one database handle (and its clones): the current build and what tells it stale.
#[derive(Default)]
pub(crate) struct IndexCache {
    /// Bumped by every catalog change through this handle.
    changes: AtomicU64,
    current: Mutex<Option<Arc<CatalogIndex>>>,
    /// One build (or check) at a time; a query that finds the index stale waits for it.
    building: tokio::sync::Mutex<()>,
    /// When the index was last built or checked against the database.
    checked_at: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for IndexCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexCache")
            .field("changes", &self.changes.load(Atomic::Relaxed))
            .finish_non_exhaustive()
    }
}

impl IndexCache {
    pub(crate) fn note_change(&self) {
        self.changes.fetch_add(1, Atomic::AcqRel);
    }

    fn built(&self) -> Option<Arc<CatalogIndex>> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn store(&self, index: CatalogIndex) -> Arc<CatalogIndex> {
        let index = Arc::new(index);
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(index.clone());
        self.mark_checked();
        index
    }

    fn mark_checked(&self) {
        *self
            .checked_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    /// Whether a check is due; answering yes starts the next interval, so one query checks.
    fn claim_check(&self) -> bool {
        let mut checked_at = self
            .checked_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let due = checked_at.is_none_or(|at| at.elapsed() >= CHECK_EVERY);
        if due {
            *checked_at = Some(Instant::now());
        }
        due
    }

    /// Builds under the build lock, unless a build that already saw every change exists.
    async fn build(&self, db: &Db) -> Result<Arc<CatalogIndex>, DbError> {
        let _building = self.building.lock().await;
        if let Some(index) = self.built()
            && index.changes == self.changes.load(Atomic::Acquire)
        {
            return Ok(index);
        }
        // Read before loading: a change made while loading leaves this build stale.
        let changes = self.changes.load(Atomic::Acquire);
        Ok(self.store(CatalogIndex::load(db, changes).await?))
    }

    /// Rebuilds when the database's fingerprint says the catalog changed (or, for generation
    /// counts alone, when the index is older than [`POPULARITY_EVERY`]).
    async fn check(&self, db: &Db) -> Result<(), DbError> {
        let _building = self.building.lock().await;
        let Some(index) = self.built() else {
            return Ok(());
        };
        let now = Fingerprint::read(db).await?;
        if index
            .fingerprint
            .outdated_by(&now, index.built_at.elapsed())
        {
            let changes = self.changes.load(Atomic::Acquire);
            self.store(CatalogIndex::load(db, changes).await?);
        }
        Ok(())
    }
}

/// The index that has seen every catalog change made through `db`.
pub(crate) async fn current(db: &Db) -> Result<Arc<CatalogIndex>, DbError> {
    let cache = db.catalog_index_cache();
    let Some(index) = cache.built() else {
        return cache.build(db).await;
    };
    if index.changes != cache.changes.load(Atomic::Acquire) {
        return cache.build(db).await;
    }
    if cache.claim_check() {
        let db = db.clone();
        tokio::spawn(async move {
            // On failure the index in use stays; a later query tries again.
            if let Err(error) = db.catalog_index_cache().check(&db).await {
                tracing::warn!(%error, "checking the catalog index failed");
            }
        });
    }
    Ok(index)
}

/// What tells the index stale, read through indexes in a few microseconds (the check runs
/// every few seconds): every store write to the catalog stamps `updated_at` (so the latest stamp
/// moves; categories are few enough to count), and a new generation moves the latest
/// generation's time (popularity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
struct Fingerprint {
    models_updated: i64,
    categories: i64,
    latest_generation: i64,
}

impl Fingerprint {
    async fn read(db: &Db) -> Result<Fingerprint, DbError> {
        Query::new(
            "SELECT COALESCE((SELECT MAX(updated_at) FROM models), 0) AS models_updated, \
             (SELECT COUNT(*) + COALESCE(MAX(updated_at), 0) FROM categories) AS categories, \
             COALESCE((SELECT MAX(created_at) FROM generations), 0) AS latest_generation",
        )
        .fetch_one(db)
        .await
    }

    /// Whether an index built when the database read `self`, `age` ago, is outdated now that
    /// it reads `now`: the models or categories changed; new generations moved popularity and
    /// the index is older than [`POPULARITY_EVERY`]; or it is older than [`REBUILD_EVERY`].
    fn outdated_by(&self, now: &Fingerprint, age: Duration) -> bool {
        (self.models_updated, self.categories) != (now.models_updated, now.categories)
            || (self.latest_generation != now.latest_generation && age >= POPULARITY_EVERY)
            || age >= REBUILD_EVERY
    }
}

/// What relevance reads of one listed model, and its id.
struct Entry {
    id: Box<str>,
    /// `normalize_for_search` of the slug, the provider's model id and the display name: the
    /// keys relevance compares with the (equally normalised) query.
    slug_key: Box<str>,
    model_id_key: Box<str>,
    name_key: Box<str>,
}

/// What filters read of one listed model, kept apart from [`Entry`] and small, so a walk that
/// tests thousands of models stays in the processor's cache.
#[derive(Clone, Copy)]
struct Facets {
    category: Option<u32>,
    provider: u32,
    /// One bit per [`Capability`], by its position in `Capability::ALL`.
    capabilities: u8,
    is_free: bool,
    is_featured: bool,
    price_micros: Option<i64>,
    context_length: Option<i64>,
}

struct Category {
    slug: Box<str>,
    parent: Option<u32>,
}

/// One build of the index: the listed models (active, not deprecated) as they were loaded.
pub(crate) struct CatalogIndex {
    /// The value of `IndexCache::changes` when loading began.
    changes: u64,
    /// The database's, read before loading.
    fingerprint: Fingerprint,
    built_at: Instant,
    entries: Vec<Entry>,
    /// By entry, as `entries`.
    facets: Vec<Facets>,
    providers: Vec<Box<str>>,
    categories: Vec<Category>,
    /// Every word of every search text, sorted, with the entries holding it:
    /// `postings[word_starts[w]..word_starts[w + 1]]` for `words[w]`.
    words: Vec<Box<str>>,
    word_starts: Vec<u32>,
    postings: Vec<u32>,
    /// Entries sorted by each relevance key, for exact and prefix lookups.
    by_slug_key: Vec<u32>,
    by_model_id_key: Vec<u32>,
    by_name_key: Vec<u32>,
    /// Each entry's position in the default order (relevance's order within a tier).
    default_rank: Vec<u32>,
    /// Entries in each sort order (see `order_slot`).
    orders: Vec<Vec<u32>>,
}

/// What the index loads of one listed model, in the order of [`LISTED_FIELDS`] (the JSON array
/// each model arrives as).
#[derive(serde::Deserialize)]
struct ListedRow {
    id: String,
    slug: String,
    display_name: String,
    provider: String,
    provider_model_id: String,
    category_id: Option<String>,
    is_free: u8,
    is_featured: u8,
    /// One bit per [`Capability`], by its position in `Capability::ALL`.
    capabilities: u8,
    price_prompt_per_m_micros: Option<i64>,
    context_length: Option<i64>,
    release_date: Option<i64>,
    generation_count: i64,
    downloads: Option<i64>,
    search_text: String,
}

/// The fields of [`ListedRow`], as SQL both dialects read alike (booleans as 0 or 1).
const LISTED_FIELDS: &str = "id, slug, display_name, provider, provider_model_id, category_id, \
CASE WHEN is_free THEN 1 ELSE 0 END, CASE WHEN is_featured THEN 1 ELSE 0 END, \
(CASE WHEN cap_text_generation THEN 1 ELSE 0 END) + (CASE WHEN cap_chat_completion THEN 2 ELSE 0 END) \
+ (CASE WHEN cap_code_generation THEN 4 ELSE 0 END) + (CASE WHEN cap_translation THEN 8 ELSE 0 END) \
+ (CASE WHEN cap_summarization THEN 16 ELSE 0 END) + (CASE WHEN cap_image_generation THEN 32 ELSE 0 END) \
+ (CASE WHEN cap_image_analysis THEN 64 ELSE 0 END) + (CASE WHEN cap_embedding THEN 128 ELSE 0 END), \
price_prompt_per_m_micros, context_length, release_date, generation_count, downloads, search_text";

/// Models loaded per query.
const LOAD_CHUNK: usize = 5_000;

/// Every listed model, [`LOAD_CHUNK`] at a time by id. Each chunk arrives as one JSON array
/// text: drivers hand rows over one at a time, and sqlx's SQLite driver spends about 15 µs on
/// each (its worker thread, a channel, an allocation per value), which made loading 50,000
/// models take most of a second; one text per chunk decodes several times faster. Chunks keep
/// the text small. This is the one place the dialects differ here: SQLite's and PostgreSQL's
/// JSON aggregates are named differently.
async fn load_listed(db: &Db) -> Result<Vec<ListedRow>, DbError> {
    let aggregate = match db.backend() {
        Backend::Sqlite => format!("json_group_array(json_array({LISTED_FIELDS}))"),
        Backend::Postgres => {
            format!("CAST(COALESCE(json_agg(json_build_array({LISTED_FIELDS})), '[]') AS TEXT)")
        }
    };
    let sql = format!(
        "SELECT {aggregate} FROM (SELECT * FROM models \
         WHERE is_active = TRUE AND status <> 'deprecated' AND id > $1 ORDER BY id LIMIT $2) m"
    );
    let mut rows: Vec<ListedRow> = Vec::new();
    let mut after = String::new();
    loop {
        let text: String = Query::new(sql.clone())
            .bind(after.as_str())
            .bind(i64::try_from(LOAD_CHUNK).unwrap_or(i64::MAX))
            .fetch_scalar(db)
            .await?;
        let chunk: Vec<ListedRow> = serde_json::from_str(&text)
            .map_err(|error| DbError::Sqlx(sqlx::Error::Decode(Box::new(error))))?;
        let Some(last) = chunk.iter().map(|row| &row.id).max() else {
            break;
        };
        after.clone_from(last);
        let complete = chunk.len() < LOAD_CHUNK;
        rows.extend(chunk);
        if complete {
            break;
        }
    }
    Ok(rows)
}

fn capability_bit(capability: Capability) -> u8 {
    let position = Capability::ALL
        .iter()
        .position(|c| *c == capability)
        .unwrap_or(0);
    1 << position
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl CatalogIndex {
    async fn load(db: &Db, changes: u64) -> Result<CatalogIndex, DbError> {
        let started = Instant::now();
        let fingerprint = Fingerprint::read(db).await?;
        let categories: Vec<(String, String, Option<String>)> =
            Query::new("SELECT id, slug, parent_id FROM categories")
                .fetch_all(db)
                .await?;
        let rows = load_listed(db).await?;
        let loaded = started.elapsed();
        let index = CatalogIndex::build(changes, fingerprint, &categories, &rows);
        tracing::debug!(
            models = index.entries.len(),
            words = index.words.len(),
            load_ms = loaded.as_millis(),
            build_ms = (started.elapsed() - loaded).as_millis(),
            "catalog index built"
        );
        Ok(index)
    }

    fn build(
        changes: u64,
        fingerprint: Fingerprint,
        category_rows: &[(String, String, Option<String>)],
        rows: &[ListedRow],
    ) -> CatalogIndex {
        let category_position: FxHashMap<&str, u32> = category_rows
            .iter()
            .enumerate()
            .map(|(i, (id, _, _))| (id.as_str(), to_u32(i)))
            .collect();
        let categories = category_rows
            .iter()
            .map(|(_, slug, parent)| Category {
                slug: slug.as_str().into(),
                parent: parent
                    .as_deref()
                    .and_then(|p| category_position.get(p).copied()),
            })
            .collect();

        let mut providers: Vec<Box<str>> = Vec::new();
        let mut provider_positions: FxHashMap<&str, u32> = FxHashMap::default();
        let mut facets = Vec::with_capacity(rows.len());
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let provider = *provider_positions
                .entry(row.provider.as_str())
                .or_insert_with(|| {
                    providers.push(row.provider.as_str().into());
                    to_u32(providers.len() - 1)
                });
            facets.push(Facets {
                category: row
                    .category_id
                    .as_deref()
                    .and_then(|c| category_position.get(c).copied()),
                provider,
                capabilities: row.capabilities,
                is_free: row.is_free != 0,
                is_featured: row.is_featured != 0,
                price_micros: row.price_prompt_per_m_micros,
                context_length: row.context_length,
            });
            entries.push(Entry {
                id: row.id.as_str().into(),
                slug_key: normalize_for_search(&row.slug).into(),
                model_id_key: normalize_for_search(&row.provider_model_id).into(),
                name_key: normalize_for_search(&row.display_name).into(),
            });
        }
        let (words, word_starts, postings) = word_index(rows, &entries);

        let by_slug_key = sorted_by_text(entries.len(), |i| &entries[i].slug_key);
        let by_model_id_key = sorted_by_text(entries.len(), |i| &entries[i].model_id_key);
        let by_name_key = sorted_by_text(entries.len(), |i| &entries[i].name_key);
        let orders = sort_orders(rows, &entries, &facets);
        let mut default_rank = vec![0; entries.len()];
        for (rank, entry) in orders[order_slot(SortField::Default, SortOrder::Desc)]
            .iter()
            .enumerate()
        {
            default_rank[*entry as usize] = to_u32(rank);
        }
        CatalogIndex {
            changes,
            fingerprint,
            built_at: Instant::now(),
            entries,
            facets,
            providers,
            categories,
            words,
            word_starts,
            postings,
            by_slug_key,
            by_model_id_key,
            by_name_key,
            default_rank,
            orders,
        }
    }

    /// How many models are listed.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The providers of listed models, alphabetically.
    pub(crate) fn providers(&self) -> Vec<String> {
        let mut names: Vec<String> = self.providers.iter().map(|p| p.to_string()).collect();
        names.sort_unstable();
        names
    }

    fn order(&self, sort: SortField, order: SortOrder) -> &[u32] {
        &self.orders[order_slot(sort, order)]
    }

    /// The entries holding a word that starts with each of `words` (every word must be found).
    fn matching(&self, words: &[&str]) -> FixedBitSet {
        let mut all: Option<FixedBitSet> = None;
        for word in words {
            let first = self.words.partition_point(|w| &**w < *word);
            let count = self.words[first..].partition_point(|w| w.starts_with(word));
            let mut found = FixedBitSet::with_capacity(self.entries.len());
            let from = self.word_starts[first] as usize;
            let to = self.word_starts[first + count] as usize;
            for entry in &self.postings[from..to] {
                found.insert(*entry as usize);
            }
            all = Some(match all {
                Some(mut all) => {
                    all.intersect_with(&found);
                    all
                }
                None => found,
            });
        }
        all.unwrap_or_else(|| FixedBitSet::with_capacity(self.entries.len()))
    }

    /// Entries in `by` (sorted by `key`) whose key starts with `prefix`, those equal to it first.
    fn with_key_prefix<'a>(
        &'a self,
        by: &'a [u32],
        key: fn(&Entry) -> &str,
        prefix: &'a str,
    ) -> impl Iterator<Item = (u32, bool)> + 'a {
        let first = by.partition_point(|i| key(&self.entries[*i as usize]) < prefix);
        by[first..]
            .iter()
            .map(move |i| (*i, key(&self.entries[*i as usize])))
            .take_while(move |(_, k)| k.starts_with(prefix))
            .map(move |(i, k)| (i, k == prefix))
    }

    /// The ids of `query`'s page, and how many match (see `ModelQuery::count_up_to`); with
    /// `with_total` false, counting stops at the end of the page.
    pub(crate) fn find(&self, query: &ModelQuery, with_total: bool) -> Found {
        let normalized = query
            .search
            .as_deref()
            .map(normalize_for_search)
            .unwrap_or_default();
        let words: Vec<&str> = normalized.split_whitespace().collect();
        let matches = (!words.is_empty()).then(|| self.matching(&words));
        let Some(filter) = Filter::new(self, query) else {
            return Found::empty();
        };
        // The match set first: it is a few kilobytes, and rules out most models of a search.
        let accepts = |i: u32| {
            matches.as_ref().is_none_or(|m| m.contains(i as usize))
                && filter.accepts(&self.facets[i as usize])
        };
        let limit = to_usize(query.limit.max(1));
        let offset = to_usize(query.page.max(1) - 1).saturating_mul(limit);
        let walk = Walk {
            offset,
            end: offset.saturating_add(limit),
            count_up_to: if with_total {
                query.count_up_to.map(to_usize)
            } else {
                Some(0)
            },
        };
        let page = match &matches {
            Some(_) if query.sort == SortField::Default => {
                let (front, taken) = self.relevance_front(&normalized, &accepts);
                let rest = self
                    .order(SortField::Default, SortOrder::Desc)
                    .iter()
                    .copied()
                    .filter(|i| !taken.contains(*i as usize) && accepts(*i));
                walk.run(front.into_iter().chain(rest))
            }
            _ => {
                let order = query.order.unwrap_or(query.sort.natural_order());
                walk.run(
                    self.order(query.sort, order)
                        .iter()
                        .copied()
                        .filter(|i| accepts(*i)),
                )
            }
        };
        Found {
            ids: page
                .entries
                .iter()
                .map(|i| self.entries[*i as usize].id.to_string())
                .collect(),
            total: page.total,
            total_exact: page.total_exact,
        }
    }

    /// Relevance's first tiers, each in the default order: an exact slug or provider id (tier
    /// 0), an exact name (1), then names and provider ids starting with the query (2). Answers
    /// them and the set they hold; every other match follows in the default order.
    fn relevance_front(
        &self,
        normalized: &str,
        accepts: &impl Fn(u32) -> bool,
    ) -> (Vec<u32>, FixedBitSet) {
        let mut taken = FixedBitSet::with_capacity(self.entries.len());
        let mut tiers: [Vec<u32>; 3] = Default::default();
        let exact_ids = self
            .with_key_prefix(&self.by_slug_key, |e| &e.slug_key, normalized)
            .chain(self.with_key_prefix(&self.by_model_id_key, |e| &e.model_id_key, normalized))
            .filter(|(_, exact)| *exact)
            .map(|(i, _)| (0, i));
        let names = self
            .with_key_prefix(&self.by_name_key, |e| &e.name_key, normalized)
            .map(|(i, exact)| (if exact { 1 } else { 2 }, i));
        let prefixed_ids = self
            .with_key_prefix(&self.by_model_id_key, |e| &e.model_id_key, normalized)
            .map(|(i, _)| (2, i));
        // Tier 0 is taken first, so an entry lands in the best tier it qualifies for.
        let mut candidates: Vec<(usize, u32)> =
            exact_ids.chain(names).chain(prefixed_ids).collect();
        candidates.sort_by_key(|(tier, _)| *tier);
        for (tier, i) in candidates {
            if !taken.contains(i as usize) && accepts(i) {
                taken.insert(i as usize);
                tiers[tier].push(i);
            }
        }
        let mut front = Vec::new();
        for mut tier in tiers {
            tier.sort_unstable_by_key(|i| self.default_rank[*i as usize]);
            front.extend(tier);
        }
        (front, taken)
    }
}

/// One page's entries and the count of matches.
struct Page {
    entries: Vec<u32>,
    total: i64,
    total_exact: bool,
}

/// Collects entries `offset..end` of a sequence and counts it, up to `count_up_to` (at least to
/// just past the page; `Some(0)` stops at the page's end, `None` counts everything).
struct Walk {
    offset: usize,
    end: usize,
    count_up_to: Option<usize>,
}

impl Walk {
    fn run(&self, sequence: impl Iterator<Item = u32>) -> Page {
        let stop_after = self.count_up_to.map(|cap| cap.max(self.end));
        let mut entries = Vec::new();
        let mut seen = 0_usize;
        for entry in sequence {
            if seen >= self.offset && seen < self.end {
                entries.push(entry);
            }
            seen += 1;
            // One past the stop tells that counting stopped early.
            if let Some(stop) = stop_after
                && seen > stop
            {
                return Page {
                    entries,
                    total: to_i64(stop),
                    total_exact: false,
                };
            }
        }
        Page {
            entries,
            total: to_i64(seen),
            total_exact: true,
        }
    }
}

/// The ids of one page, in order, and the count of matches.
pub(crate) struct Found {
    pub(crate) ids: Vec<String>,
    pub(crate) total: i64,
    pub(crate) total_exact: bool,
}

impl Found {
    fn empty() -> Found {
        Found {
            ids: Vec::new(),
            total: 0,
            total_exact: true,
        }
    }
}

fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The conditions of a query other than search.
struct Filter {
    /// By category position: whether the category (or its parent) is the one asked for.
    categories: Option<Vec<bool>>,
    provider: Option<u32>,
    capability: u8,
    free_only: bool,
    max_price_micros: Option<i64>,
    min_context: Option<i64>,
}

impl Filter {
    /// `None` when nothing can match (a provider no listed model has).
    fn new(index: &CatalogIndex, query: &ModelQuery) -> Option<Filter> {
        let categories = query.category.as_deref().map(|slug| {
            let is = |position: Option<u32>| {
                position.is_some_and(|p| &*index.categories[p as usize].slug == slug)
            };
            index
                .categories
                .iter()
                .enumerate()
                .map(|(i, category)| is(Some(to_u32(i))) || is(category.parent))
                .collect()
        });
        let provider = match &query.provider {
            Some(name) => Some(to_u32(index.providers.iter().position(|p| **p == **name)?)),
            None => None,
        };
        Some(Filter {
            categories,
            provider,
            capability: query.capability.map_or(0, capability_bit),
            free_only: query.free_only,
            max_price_micros: query.max_prompt_price_micros,
            min_context: query.min_context,
        })
    }

    fn accepts(&self, entry: &Facets) -> bool {
        self.categories.as_ref().is_none_or(|wanted| {
            entry
                .category
                .is_some_and(|c| wanted.get(c as usize).copied().unwrap_or(false))
        }) && self.provider.is_none_or(|p| entry.provider == p)
            && entry.capabilities & self.capability == self.capability
            && (!self.free_only || entry.is_free)
            && self
                .max_price_micros
                .is_none_or(|max| entry.price_micros.is_some_and(|price| price <= max))
            && self
                .min_context
                .is_none_or(|min| entry.context_length.is_some_and(|context| context >= min))
    }
}

/// Where each sort order is kept in `CatalogIndex::orders`.
fn order_slot(sort: SortField, order: SortOrder) -> usize {
    let direction = usize::from(order == SortOrder::Desc);
    match sort {
        SortField::Default => 0,
        SortField::Name => 1 + direction,
        SortField::Newest => 3 + direction,
        SortField::Price => 5 + direction,
        SortField::Context => 7 + direction,
        SortField::Popularity => 9 + direction,
    }
}

/// Every sort order of listing. Each ends on the unique slug so pages never overlap, and unknown
/// values sort last whatever the direction. Orders are sorted on integer keys gathered first
/// (positions by slug and by name stand in for the strings), which is several times faster than
/// comparing entries.
fn sort_orders(rows: &[ListedRow], entries: &[Entry], facets: &[Facets]) -> Vec<Vec<u32>> {
    let n = entries.len();
    let slug_rank = ranks(&sorted_by_text(n, |i| &rows[i].slug));
    // A–Z ignoring case and punctuation: models with the same name key and display name share
    // a group, and their slugs order them.
    let name = |i: u32| {
        let i = i as usize;
        (&entries[i].name_key, &rows[i].display_name)
    };
    let mut by_name: Vec<u32> = (0..to_u32(n)).collect();
    by_name.sort_unstable_by(|a, b| name(*a).cmp(&name(*b)));
    let mut name_group = vec![0_i64; n];
    let mut group = 0;
    for pair in by_name.windows(2) {
        if name(pair[0]) != name(pair[1]) {
            group += 1;
        }
        name_group[pair[1] as usize] = group;
    }

    // (unknown, value in the direction asked): unknown last either way.
    let known = |value: Option<i64>, order: SortOrder| match (value, order) {
        (None, _) => (true, 0),
        (Some(v), SortOrder::Asc) => (false, v),
        (Some(v), SortOrder::Desc) => (false, v.saturating_neg()),
    };
    let directed = |value: i64, order: SortOrder| match order {
        SortOrder::Asc => value,
        SortOrder::Desc => value.saturating_neg(),
    };
    let mut orders = vec![Vec::new(); 11];
    for order in [SortOrder::Asc, SortOrder::Desc] {
        orders[order_slot(SortField::Name, order)] =
            sorted_by_key(n, |i| (directed(name_group[i], order), slug_rank[i]));
        orders[order_slot(SortField::Newest, order)] =
            sorted_by_key(n, |i| (known(rows[i].release_date, order), slug_rank[i]));
        orders[order_slot(SortField::Price, order)] =
            sorted_by_key(n, |i| (known(facets[i].price_micros, order), slug_rank[i]));
        orders[order_slot(SortField::Context, order)] = sorted_by_key(n, |i| {
            (known(facets[i].context_length, order), slug_rank[i])
        });
        orders[order_slot(SortField::Popularity, order)] = sorted_by_key(n, |i| {
            (
                directed(rows[i].generation_count, order),
                directed(i64::from(facets[i].is_featured), order),
                known(rows[i].downloads, order),
                slug_rank[i],
            )
        });
    }
    // Featured first, then the most used, then the newest.
    orders[order_slot(SortField::Default, SortOrder::Desc)] = sorted_by_key(n, |i| {
        (
            !facets[i].is_featured,
            rows[i].generation_count.saturating_neg(),
            known(rows[i].release_date, SortOrder::Desc),
            slug_rank[i],
        )
    });
    orders
}

/// Positions `0..n` sorted by `key`, which is computed once per position.
fn sorted_by_key<K: Ord>(n: usize, key: impl Fn(usize) -> K) -> Vec<u32> {
    let mut keyed: Vec<(K, u32)> = (0..n).map(|i| (key(i), to_u32(i))).collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Positions `0..n` sorted by a text of each.
fn sorted_by_text<'a>(n: usize, text: impl Fn(usize) -> &'a str) -> Vec<u32> {
    let mut keyed: Vec<(&str, u32)> = (0..n).map(|i| (text(i), to_u32(i))).collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// The inverse of an order: each position's rank in it.
fn ranks(order: &[u32]) -> Vec<u32> {
    let mut rank = vec![0; order.len()];
    for (position, entry) in order.iter().enumerate() {
        rank[*entry as usize] = to_u32(position);
    }
    rank
}

/// The sorted words of every entry's search text, with the entries holding each:
/// `postings[starts[w]..starts[w + 1]]` for `words[w]`. The store writes the search text with
/// the name and ids in it; a model written without one (by hand, say) is found by its keys.
fn word_index(rows: &[ListedRow], entries: &[Entry]) -> (Vec<Box<str>>, Vec<u32>, Vec<u32>) {
    let mut holders: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for (i, (row, entry)) in rows.iter().zip(entries).enumerate() {
        let i = to_u32(i);
        let without_text = row.search_text.is_empty();
        let keys = [&entry.slug_key, &entry.model_id_key, &entry.name_key]
            .into_iter()
            .filter(|_| without_text)
            .flat_map(|key| key.split(' '));
        for word in row
            .search_text
            .split(' ')
            .chain(keys)
            .filter(|w| !w.is_empty())
        {
            let list = holders.entry(word).or_default();
            // Entries are added in order, so a repeat within one entry is the last one.
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
    }
    let mut holders: Vec<(&str, Vec<u32>)> = holders.into_iter().collect();
    holders.sort_unstable_by_key(|(word, _)| *word);
    let mut words = Vec::with_capacity(holders.len());
    let mut starts = Vec::with_capacity(holders.len() + 1);
    let mut postings = Vec::new();
    for (word, list) in holders {
        words.push(word.into());
        starts.push(to_u32(postings.len()));
        postings.extend(list);
    }
    starts.push(to_u32(postings.len()));
    (words, starts, postings)
}

#[cfg(test)]
mod tests {
    use aipasta_core::catalog::{ModelFacts, ModelStatus};

    use super::*;
    use crate::catalog::{self, AdminEdit};
    use crate::testing::{TestDatabase, backends};

    #[test]
    fn an_index_is_outdated_by_catalog_changes_at_once_and_by_popularity_after_a_minute() {
        let built = Fingerprint {
            models_updated: 1_000,
            categories: 5_000,
            latest_generation: 2_000,
        };
        let fresh = Duration::from_secs(10);
        let old = POPULARITY_EVERY + Duration::from_secs(1);
        assert!(!built.outdated_by(&built, fresh), "nothing changed");
        assert!(
            !built.outdated_by(&built, old),
            "nothing changed, still young enough"
        );
        assert!(
            built.outdated_by(&built, REBUILD_EVERY),
            "rebuilt now and then anyway"
        );
        let edited = Fingerprint {
            models_updated: 1_001,
            ..built
        };
        assert!(built.outdated_by(&edited, fresh), "a model changed");
        let category = Fingerprint {
            categories: 5_001,
            ..built
        };
        assert!(built.outdated_by(&category, fresh), "a category changed");
        let busy = Fingerprint {
            latest_generation: 2_500,
            ..built
        };
        assert!(!built.outdated_by(&busy, fresh), "popularity waits");
        assert!(built.outdated_by(&busy, old), "popularity after a minute");
    }

    fn slugs(page: &[crate::catalog::ModelRow]) -> Vec<&str> {
        page.iter().map(|m| m.slug.as_str()).collect()
    }

    /// Another instance (a second handle, with its own index) deprecates a model: this one
    /// lists it until its check of the fingerprint, then no more.
    #[tokio::test]
    async fn a_change_made_by_another_instance_is_seen_after_a_check() {
        for backend in backends() {
            let (test_db, db) = TestDatabase::migrated(backend).await;
            catalog::seed_categories(&db).await.unwrap();
            let facts: Vec<ModelFacts> = ["acme/one", "acme/two"]
                .into_iter()
                .map(|id| ModelFacts {
                    provider: "openrouter".into(),
                    provider_model_id: id.into(),
                    slug: id.into(),
                    name: format!("Acme: {id}"),
                    category: "chat".into(),
                    ..ModelFacts::default()
                })
                .collect();
            catalog::upsert_provider_models(&db, "openrouter", &facts, true)
                .await
                .unwrap();
            let listed = || async { catalog::search(&db, "acme", 10).await.unwrap() };
            assert_eq!(slugs(&listed().await).len(), 2, "{backend:?}");

            let other = test_db.connect().await;
            let two = catalog::find_model(&other, "acme/two")
                .await
                .unwrap()
                .unwrap();
            let deprecate = AdminEdit {
                status: Some(ModelStatus::Deprecated),
                ..AdminEdit::default()
            };
            assert!(
                catalog::admin_edit(&other, &two.id, &deprecate)
                    .await
                    .unwrap()
            );
            // Not heard of yet; the row itself is read fresh and left out.
            assert_eq!(slugs(&listed().await), ["acme/one"], "{backend:?}");
            let before = db.catalog_index_cache().built().unwrap();
            assert_eq!(before.len(), 2);

            db.catalog_index_cache().check(&db).await.unwrap();
            let after = db.catalog_index_cache().built().unwrap();
            assert_eq!(after.len(), 1, "{backend:?}: rebuilt after the check");
            // Nothing changed since: the next check keeps the same build.
            db.catalog_index_cache().check(&db).await.unwrap();
            assert!(Arc::ptr_eq(
                &after,
                &db.catalog_index_cache().built().unwrap()
            ));
        }
    }
}
