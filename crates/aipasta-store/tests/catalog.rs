//! The catalog in the database, on every backend: sync (upsert, deprecate, restore, admin
//! overrides, rollback), listing filters and sorting, search and categories.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

use aipasta_core::catalog::{Capabilities, Capability, ModelFacts, ModelStatus, Pricing};
use aipasta_core::money::Price;
use aipasta_store::catalog::{
    self, AdminEdit, ModelQuery, SortField, SortOrder, seed_categories, upsert_provider_models,
};
use aipasta_store::testing::{TestDatabase, backends};
use aipasta_store::{Db, Query};

fn model(id: &str, name: &str, prompt: &str, completion: &str, context: i64) -> ModelFacts {
    ModelFacts {
        provider: "openrouter".into(),
        provider_model_id: id.into(),
        slug: id.into(),
        name: name.into(),
        category: "chat".into(),
        developer: name.split_once(": ").map(|(d, _)| d.to_owned()),
        pricing: Pricing {
            prompt: Price::parse(prompt).ok(),
            completion: Price::parse(completion).ok(),
            ..Pricing::default()
        },
        capabilities: Capabilities {
            text_generation: true,
            chat_completion: true,
            ..Capabilities::default()
        },
        context_length: Some(context),
        supported_parameters: vec!["temperature".into(), "top_p".into(), "top_k".into()],
        tags: vec!["tools".into()],
        released_at: Some(1_700_000_000_000 + context),
        ..ModelFacts::default()
    }
}

fn catalog_facts() -> Vec<ModelFacts> {
    let mut vision = model(
        "openai/gpt-4o",
        "OpenAI: GPT-4o",
        "0.0000025",
        "0.00001",
        128_000,
    );
    vision.capabilities.image_analysis = true;
    let mut coder = model(
        "qwen/qwen-coder",
        "Qwen: Qwen Coder",
        "0.0000002",
        "0.0000006",
        32_768,
    );
    coder.category = "code".into();
    coder.capabilities.code_generation = true;
    let mut reasoning = model(
        "deepseek/r1",
        "DeepSeek: R1",
        "0.00000008333333333333334",
        "0.000002",
        64_000,
    );
    reasoning.category = "reasoning".into();
    vec![
        model(
            "anthropic/claude-opus-4",
            "Anthropic: Claude Opus 4",
            "0.000015",
            "0.000075",
            200_000,
        ),
        model(
            "meta-llama/llama-3-8b:free",
            "Meta: Llama 3 8B (free)",
            "0",
            "0",
            8_192,
        ),
        vision,
        coder,
        reasoning,
    ]
}

async fn seeded(db: &Db) {
    seed_categories(db).await.unwrap();
    let outcome = upsert_provider_models(db, "openrouter", &catalog_facts(), true)
        .await
        .unwrap();
    assert_eq!(outcome.inserted, 5);
}

async fn slugs(db: &Db, query: ModelQuery) -> Vec<String> {
    let page = catalog::list(
        db,
        &ModelQuery {
            page: 1,
            limit: 50,
            ..query
        },
    )
    .await
    .unwrap();
    page.models.into_iter().map(|m| m.slug).collect()
}

/// The slugs of the first page in one sort order.
async fn sorted(db: &Db, sort: SortField, order: Option<SortOrder>) -> Vec<String> {
    slugs(
        db,
        ModelQuery {
            sort,
            order,
            ..ModelQuery::default()
        },
    )
    .await
}

/// A stored model by slug or id, which must exist.
async fn stored(db: &Db, id_or_slug: &str) -> catalog::ModelRow {
    catalog::find_model(db, id_or_slug)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no model {id_or_slug}"))
}

#[tokio::test]
async fn sync_inserts_updates_deprecates_restores_and_keeps_admin_edits() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        seeded(&db).await;

        let opus = stored(&db, "anthropic/claude-opus-4").await;
        assert_eq!(opus.display_name, "Claude Opus 4");
        assert_eq!(opus.price_prompt.as_deref(), Some("0.000015"));
        assert_eq!(opus.category_slug.as_deref(), Some("chat"));
        assert!(
            opus.description.contains("Claude Opus 4"),
            "generated description"
        );
        assert_eq!(opus.parameter_ranges()["top_k"].max, 200.0);
        let r1 = stored(&db, "deepseek/r1").await;
        assert_eq!(
            r1.price_prompt.as_deref(),
            Some("0.00000008333333333333334"),
            "{backend:?}: exact"
        );
        assert!(
            catalog::find_model(&db, &opus.id).await.unwrap().is_some(),
            "found by UUID too"
        );

        // An admin renames, re-describes, features and re-tags Opus.
        let edit = AdminEdit {
            display_name: Some("Opus (house favourite)".into()),
            description: Some("Our pick for hard problems.".into()),
            featured: Some(true),
            tags: Some(vec!["favourite".into()]),
            ..AdminEdit::default()
        };
        assert!(catalog::admin_edit(&db, &opus.id, &edit).await.unwrap());

        // Next sync: Opus gets a new price and its provider description; GPT-4o disappeared.
        let mut next = catalog_facts();
        next[0].pricing.prompt = Price::parse("0.000012").ok();
        next[0].description = Some("Provider text.".into());
        next.retain(|m| m.provider_model_id != "openai/gpt-4o");
        let outcome = upsert_provider_models(&db, "openrouter", &next, true)
            .await
            .unwrap();
        assert_eq!(
            (outcome.updated, outcome.deprecated, outcome.inserted),
            (4, 1, 0),
            "{backend:?}"
        );

        let opus = stored(&db, "anthropic/claude-opus-4").await;
        assert_eq!(
            opus.price_prompt.as_deref(),
            Some("0.000012"),
            "provider facts update"
        );
        assert_eq!(
            opus.display_name, "Opus (house favourite)",
            "admin name survives"
        );
        assert_eq!(
            opus.description, "Our pick for hard problems.",
            "admin description survives"
        );
        assert!(opus.is_featured);
        assert_eq!(
            catalog::model_tags(&db, &opus.id).await.unwrap(),
            vec!["favourite"]
        );
        assert_eq!(opus.long_description.as_deref(), Some("Provider text."));

        let gpt = stored(&db, "openai/gpt-4o").await;
        assert_eq!(gpt.status(), ModelStatus::Deprecated, "never deleted");
        assert!(
            !slugs(&db, ModelQuery::default()).await.contains(&gpt.slug),
            "not listed"
        );

        let outcome = upsert_provider_models(&db, "openrouter", &catalog_facts(), true)
            .await
            .unwrap();
        assert_eq!(outcome.restored, 1);
        let gpt = stored(&db, "openai/gpt-4o").await;
        assert_eq!(gpt.status(), ModelStatus::Active);
    }
}

#[tokio::test]
async fn a_failing_sync_changes_nothing() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        seeded(&db).await;
        let before: i64 = Query::new("SELECT COUNT(*) FROM models")
            .fetch_scalar(&db)
            .await
            .unwrap();
        // Drop a column the sync writes, so the first update fails mid-transaction.
        let mut bad = catalog_facts();
        bad.push(model(
            "new/model",
            "New: Model",
            "0.000001",
            "0.000001",
            4096,
        ));
        Query::new("ALTER TABLE model_tags RENAME TO model_tags_gone")
            .execute(&db)
            .await
            .unwrap();
        let result = upsert_provider_models(&db, "openrouter", &bad, true).await;
        assert!(result.is_err(), "{backend:?}");
        Query::new("ALTER TABLE model_tags_gone RENAME TO model_tags")
            .execute(&db)
            .await
            .unwrap();
        let after: i64 = Query::new("SELECT COUNT(*) FROM models")
            .fetch_scalar(&db)
            .await
            .unwrap();
        assert_eq!(before, after, "{backend:?}: rolled back");
        assert!(
            catalog::find_model(&db, "new/model")
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn listing_filters_sorts_and_paginates() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        seeded(&db).await;

        let by_price = sorted(&db, SortField::Price, None).await;
        assert_eq!(
            by_price.first().map(String::as_str),
            Some("meta-llama/llama-3-8b:free")
        );
        assert_eq!(
            by_price.last().map(String::as_str),
            Some("anthropic/claude-opus-4")
        );
        let by_price_desc = sorted(&db, SortField::Price, Some(SortOrder::Desc)).await;
        assert_eq!(
            by_price_desc.first().map(String::as_str),
            Some("anthropic/claude-opus-4")
        );

        let by_context = sorted(&db, SortField::Context, None).await;
        assert_eq!(by_context[0], "anthropic/claude-opus-4");
        let by_name = sorted(&db, SortField::Name, None).await;
        assert_eq!(
            by_name[0], "anthropic/claude-opus-4",
            "Claude < GPT < Llama < Qwen < R1"
        );

        assert_eq!(
            slugs(
                &db,
                ModelQuery {
                    free_only: true,
                    ..ModelQuery::default()
                }
            )
            .await,
            ["meta-llama/llama-3-8b:free"]
        );
        assert_eq!(
            slugs(
                &db,
                ModelQuery {
                    capability: Some(Capability::ImageAnalysis),
                    ..ModelQuery::default()
                }
            )
            .await,
            ["openai/gpt-4o"]
        );
        assert_eq!(
            slugs(
                &db,
                ModelQuery {
                    category: Some("code".into()),
                    ..ModelQuery::default()
                }
            )
            .await,
            ["qwen/qwen-coder"]
        );
        let text = slugs(
            &db,
            ModelQuery {
                category: Some("text-generation".into()),
                ..ModelQuery::default()
            },
        )
        .await;
        assert_eq!(
            text.len(),
            4,
            "a parent category includes its children (chat, reasoning)"
        );
        let cheap = slugs(
            &db,
            ModelQuery {
                max_prompt_price_micros: Some(250_000),
                ..ModelQuery::default()
            },
        )
        .await;
        assert_eq!(cheap.len(), 3, "{cheap:?}");
        let long = slugs(
            &db,
            ModelQuery {
                min_context: Some(100_000),
                ..ModelQuery::default()
            },
        )
        .await;
        assert_eq!(long.len(), 2);

        let page2 = catalog::list(
            &db,
            &ModelQuery {
                sort: SortField::Name,
                page: 2,
                limit: 2,
                ..ModelQuery::default()
            },
        )
        .await
        .unwrap();
        assert_eq!((page2.total, page2.pages, page2.models.len()), (5, 3, 2));
        assert_eq!(page2.models[0].slug, "meta-llama/llama-3-8b:free");

        let categories = catalog::categories(&db).await.unwrap();
        let count = |slug: &str| {
            categories
                .iter()
                .find(|c| c.slug == slug)
                .map(|c| c.model_count)
        };
        assert_eq!(count("chat"), Some(3));
        assert_eq!(count("text-generation"), Some(4));
        assert_eq!(count("code"), Some(1));
    }
}

#[tokio::test]
async fn search_ignores_case_and_punctuation_and_ranks_exact_matches_first() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        seeded(&db).await;
        for text in [
            "claude opus",
            "Claude-Opus",
            "anthropic/claude",
            "CLAUDE",
            "clau op",
        ] {
            let found: Vec<String> = catalog::search(&db, text, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.slug)
                .collect();
            assert_eq!(found, ["anthropic/claude-opus-4"], "{backend:?}: {text}");
        }
        assert!(
            catalog::search(&db, "nothing-like-this", 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            catalog::search(&db, "\"*) OR 1=1 --", 10)
                .await
                .unwrap()
                .is_empty(),
            "syntax is inert"
        );

        // Two models mention "llama"; the one whose id matches exactly ranks first.
        let mut facts = catalog_facts();
        let mut other = model(
            "acme/llama-helper",
            "Acme: Helper for Llama users",
            "0.000001",
            "0.000001",
            4096,
        );
        other.released_at = Some(1_900_000_000_000);
        facts.push(other);
        upsert_provider_models(&db, "openrouter", &facts, true)
            .await
            .unwrap();
        let found = catalog::search(&db, "meta-llama/llama-3-8b:free", 10)
            .await
            .unwrap();
        assert_eq!(found[0].slug, "meta-llama/llama-3-8b:free", "{backend:?}");
        let by_word = catalog::search(&db, "llama", 10).await.unwrap();
        assert_eq!(by_word.len(), 2);
    }
}

/// 400 "Zeta NNN" models (names starting with the query), 40 helpers that only mention "zeta"
/// in their description, and one whose id is exactly "zeta": more matches than the dense
/// threshold, so every tier and order walks an index on SQLite.
fn zeta_facts() -> Vec<ModelFacts> {
    let day = 86_400_000;
    let mut facts = Vec::new();
    for i in 0..400_i64 {
        let mut m = model(
            &format!("dense/zeta-{i:03}"),
            &format!("Dense: Zeta {i:03}"),
            &format!("0.000000{}", 1 + i % 9),
            "0.000001",
            4096 * (1 + i % 5),
        );
        // A permutation of the days, so release order differs from id order.
        m.released_at = Some(1_700_000_000_000 + (i * 7919 % 400) * day);
        if i % 50 == 0 {
            m.released_at = None;
            m.pricing.prompt = None;
        }
        facts.push(m);
    }
    for i in 0..40_i64 {
        let mut m = model(
            &format!("other/helper-{i:02}"),
            &format!("Other: Helper {i:02}"),
            "0.000002",
            "0.000002",
            8192,
        );
        m.description = Some("Works well beside zeta models.".into());
        m.released_at = Some(1_700_000_000_000 + (i * 13 % 40) * day);
        facts.push(m);
    }
    facts.push(model(
        "zeta",
        "Prime: Zeta Prime",
        "0.00001",
        "0.00001",
        8192,
    ));
    facts
}

/// Every page of `query`, concatenated.
async fn all_pages(db: &Db, query: &ModelQuery) -> Vec<String> {
    let mut slugs = Vec::new();
    for page in 1.. {
        let found = catalog::list(
            db,
            &ModelQuery {
                page,
                ..query.clone()
            },
        )
        .await
        .unwrap();
        if found.models.is_empty() {
            break;
        }
        slugs.extend(found.models.into_iter().map(|m| m.slug));
    }
    slugs
}

#[tokio::test]
async fn relevance_and_sorted_search_match_a_full_sort_when_matches_are_dense() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        seed_categories(&db).await.unwrap();
        let facts = zeta_facts();
        upsert_provider_models(&db, "openrouter", &facts, true)
            .await
            .unwrap();

        // Relevance: the exact id, then every name starting with "zeta", then the rest; each
        // tier newest first (unknown dates last), then by slug.
        let default_order = |a: &&ModelFacts, b: &&ModelFacts| {
            (
                a.released_at.is_none(),
                std::cmp::Reverse(a.released_at),
                &a.slug,
            )
                .cmp(&(
                    b.released_at.is_none(),
                    std::cmp::Reverse(b.released_at),
                    &b.slug,
                ))
        };
        let mut prefixed: Vec<&ModelFacts> = facts
            .iter()
            .filter(|f| f.slug.starts_with("dense/"))
            .collect();
        prefixed.sort_by(default_order);
        let mut rest: Vec<&ModelFacts> = facts
            .iter()
            .filter(|f| f.slug.starts_with("other/"))
            .collect();
        rest.sort_by(default_order);
        let expected: Vec<String> = std::iter::once("zeta".to_owned())
            .chain(prefixed.iter().chain(&rest).map(|f| f.slug.clone()))
            .collect();
        let query = ModelQuery {
            search: Some("ZETA".into()),
            limit: 50,
            ..ModelQuery::default()
        };
        assert_eq!(all_pages(&db, &query).await, expected, "{backend:?}");
        let top: Vec<String> = catalog::search(&db, "zeta", 10)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.slug)
            .collect();
        assert_eq!(top, expected[..10], "{backend:?}");

        // An explicit sort over the same matches: cheapest first, unknown prices last.
        let mut by_price: Vec<&ModelFacts> = facts.iter().collect();
        let micros = |f: &ModelFacts| f.pricing.prompt.map(Price::per_million_micros);
        by_price.sort_by(|a, b| {
            (micros(a).is_none(), micros(a), &a.slug).cmp(&(
                micros(b).is_none(),
                micros(b),
                &b.slug,
            ))
        });
        let expected: Vec<String> = by_price.iter().map(|f| f.slug.clone()).collect();
        let query = ModelQuery {
            search: Some("zeta".into()),
            sort: SortField::Price,
            limit: 60,
            ..ModelQuery::default()
        };
        assert_eq!(all_pages(&db, &query).await, expected, "{backend:?}");
    }
}

#[tokio::test]
async fn a_capped_count_says_when_it_stopped_and_still_finds_the_last_page() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        seed_categories(&db).await.unwrap();
        upsert_provider_models(&db, "openrouter", &zeta_facts(), true)
            .await
            .unwrap();
        let page = |page: i64, search: Option<&str>| {
            let db = db.clone();
            let query = ModelQuery {
                search: search.map(str::to_owned),
                page,
                limit: 50,
                count_up_to: Some(100),
                ..ModelQuery::default()
            };
            async move { catalog::list(&db, &query).await.unwrap() }
        };
        for search in [None, Some("zeta")] {
            // 441 match: counting stops past 100, and there are more pages than counted.
            let first = page(1, search).await;
            assert_eq!((first.total, first.total_exact), (100, false), "{search:?}");
            assert!(first.pages > 2, "{}", first.pages);
            // Past the cap, counting goes just beyond the page asked for.
            let third = page(3, search).await;
            assert_eq!((third.total, third.total_exact), (150, false));
            assert_eq!(third.pages, 4, "a next page exists");
            // The last page knows it is the last.
            let last = page(9, search).await;
            assert_eq!((last.total, last.total_exact, last.pages), (441, true, 9));
            assert_eq!(last.models.len(), 41);
        }
        // Fewer matches than the cap: exact.
        let few = page(1, Some("helper")).await;
        assert_eq!((few.total, few.total_exact, few.pages), (40, true, 1));
        // Without a cap, every match is counted.
        let all = catalog::list(
            &db,
            &ModelQuery {
                page: 1,
                limit: 10,
                ..ModelQuery::default()
            },
        )
        .await
        .unwrap();
        assert_eq!((all.total, all.total_exact, all.pages), (441, true, 45));
    }
}

/// 240 models spread over categories, providers, prices (some free, some unknown), contexts,
/// dates and downloads (some unknown), with names whose case and punctuation vary.
fn varied_facts() -> Vec<ModelFacts> {
    let categories = [
        "chat",
        "reasoning",
        "code",
        "text-generation",
        "image-analysis",
    ];
    let names = ["alpha", "Beta", "gamma", "Delta", "epsilon", "zeta"];
    (0..240_i64)
        .map(|i| {
            let name = format!(
                "Maker {}: {}-{} {}",
                i % 7,
                names[(i % 6) as usize],
                i % 11,
                i
            );
            let prompt = match i % 5 {
                0 => "0".to_owned(),
                1 => "-1".to_owned(),
                n => format!("0.00000{}", n * (1 + i % 3)),
            };
            let completion = if i % 5 == 0 { "0" } else { "0.000001" };
            let mut m = model(
                &format!("m{}/model-{i:03}", i % 4),
                &name,
                &prompt,
                completion,
                0,
            );
            m.provider = if i < 200 { "openrouter" } else { "huggingface" }.into();
            m.category = categories[(i % 5) as usize].into();
            m.capabilities.code_generation = i % 3 == 0;
            m.context_length = (i % 6 != 0).then_some(4096 * (1 + i % 8));
            m.released_at = (i % 7 != 0).then_some(1_700_000_000_000 + (i * 37 % 50) * 86_400_000);
            m.downloads = (i % 4 != 0).then_some(i * 13 % 29);
            m
        })
        .collect()
}

/// What a listing reads of a stored, listed model, straight from the table.
#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredModel {
    slug: String,
    display_name: String,
    provider: String,
    category: Option<String>,
    parent_category: Option<String>,
    is_free: bool,
    is_featured: bool,
    cap_code_generation: bool,
    price_prompt_per_m_micros: Option<i64>,
    context_length: Option<i64>,
    release_date: Option<i64>,
    generation_count: i64,
    downloads: Option<i64>,
}

/// The documented orders: unknown values last whatever the direction, ties by slug; names A–Z
/// ignoring case and punctuation; the default is featured, most used, newest.
fn reference_order(
    a: &StoredModel,
    b: &StoredModel,
    sort: SortField,
    desc: bool,
) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn known<T: Ord>(a: Option<T>, b: Option<T>, desc: bool) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) if desc => b.cmp(&a),
            (Some(a), Some(b)) => a.cmp(&b),
            (a, b) => a.is_none().cmp(&b.is_none()),
        }
    }
    let flip = |o: Ordering| if desc { o.reverse() } else { o };
    let main = match sort {
        SortField::Default => (b.is_featured, b.generation_count)
            .cmp(&(a.is_featured, a.generation_count))
            .then(known(a.release_date, b.release_date, true)),
        SortField::Name => flip(
            (
                aipasta_core::catalog::normalize_for_search(&a.display_name),
                &a.display_name,
            )
                .cmp(&(
                    aipasta_core::catalog::normalize_for_search(&b.display_name),
                    &b.display_name,
                )),
        ),
        SortField::Newest => known(a.release_date, b.release_date, desc),
        SortField::Price => known(
            a.price_prompt_per_m_micros,
            b.price_prompt_per_m_micros,
            desc,
        ),
        SortField::Context => known(a.context_length, b.context_length, desc),
        SortField::Popularity => {
            flip((a.generation_count, a.is_featured).cmp(&(b.generation_count, b.is_featured)))
                .then(known(a.downloads, b.downloads, desc))
        }
    };
    main.then_with(|| a.slug.cmp(&b.slug))
}

#[tokio::test]
async fn every_sort_and_filter_matches_a_reference_over_the_stored_rows() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        seed_categories(&db).await.unwrap();
        let facts = varied_facts();
        upsert_provider_models(&db, "openrouter", &facts[..200], true)
            .await
            .unwrap();
        upsert_provider_models(&db, "huggingface", &facts[200..], true)
            .await
            .unwrap();
        for slug in ["m1/model-013", "m2/model-102"] {
            let model = stored(&db, slug).await;
            let edit = AdminEdit {
                featured: Some(true),
                ..AdminEdit::default()
            };
            catalog::admin_edit(&db, &model.id, &edit).await.unwrap();
        }
        let stored: Vec<StoredModel> = Query::new(
            "SELECT m.slug, m.display_name, m.provider, c.slug AS category, \
             p.slug AS parent_category, m.is_free, m.is_featured, m.cap_code_generation, \
             m.price_prompt_per_m_micros, m.context_length, m.release_date, m.generation_count, \
             m.downloads FROM models m LEFT JOIN categories c ON c.id = m.category_id \
             LEFT JOIN categories p ON p.id = c.parent_id \
             WHERE m.is_active = TRUE AND m.status <> 'deprecated'",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        assert_eq!(stored.len(), 240);

        type Check = fn(&StoredModel) -> bool;
        let filters: [(&str, ModelQuery, Check); 7] = [
            ("none", ModelQuery::default(), |_| true),
            (
                "text generation and its children",
                ModelQuery {
                    category: Some("text-generation".into()),
                    ..ModelQuery::default()
                },
                |m| {
                    m.category.as_deref() == Some("text-generation")
                        || m.parent_category.as_deref() == Some("text-generation")
                },
            ),
            (
                "free",
                ModelQuery {
                    free_only: true,
                    ..ModelQuery::default()
                },
                |m| m.is_free,
            ),
            (
                "at most $6 per 1M in",
                ModelQuery {
                    max_prompt_price_micros: Some(6_000_000),
                    ..ModelQuery::default()
                },
                |m| m.price_prompt_per_m_micros.is_some_and(|p| p <= 6_000_000),
            ),
            (
                "at least 16K context, code",
                ModelQuery {
                    min_context: Some(16_384),
                    capability: Some(Capability::Code),
                    ..ModelQuery::default()
                },
                |m| m.context_length.is_some_and(|c| c >= 16_384) && m.cap_code_generation,
            ),
            (
                "huggingface",
                ModelQuery {
                    provider: Some("huggingface".into()),
                    ..ModelQuery::default()
                },
                |m| m.provider == "huggingface",
            ),
            (
                "an unknown provider",
                ModelQuery {
                    provider: Some("nobody".into()),
                    ..ModelQuery::default()
                },
                |_| false,
            ),
        ];
        let sorts = [
            (SortField::Default, None),
            (SortField::Name, Some(SortOrder::Asc)),
            (SortField::Name, Some(SortOrder::Desc)),
            (SortField::Newest, None),
            (SortField::Newest, Some(SortOrder::Asc)),
            (SortField::Price, None),
            (SortField::Price, Some(SortOrder::Desc)),
            (SortField::Context, None),
            (SortField::Context, Some(SortOrder::Asc)),
            (SortField::Popularity, None),
            (SortField::Popularity, Some(SortOrder::Asc)),
        ];
        for (label, filter, check) in &filters {
            for (sort, order) in sorts {
                let desc = order.unwrap_or(sort.natural_order()) == SortOrder::Desc;
                let mut expected: Vec<&StoredModel> = stored.iter().filter(|m| check(m)).collect();
                expected.sort_by(|a, b| reference_order(a, b, sort, desc));
                let expected: Vec<String> = expected.iter().map(|m| m.slug.clone()).collect();
                let query = ModelQuery {
                    sort,
                    order,
                    limit: 37,
                    ..filter.clone()
                };
                assert_eq!(
                    all_pages(&db, &query).await,
                    expected,
                    "{backend:?}: {label}, {sort:?} {order:?}"
                );
                let first = catalog::list(&db, &ModelQuery { page: 1, ..query })
                    .await
                    .unwrap();
                assert_eq!(
                    (first.total, first.total_exact),
                    (expected.len() as i64, true),
                    "{backend:?}: {label}"
                );
            }
        }
    }
}

#[tokio::test]
async fn listing_and_search_follow_every_catalog_change_at_once() {
    for backend in backends() {
        let (_guard, db) = TestDatabase::migrated(backend).await;
        seeded(&db).await;
        let found = |text: &'static str| {
            let db = db.clone();
            async move {
                catalog::search(&db, text, 10)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| m.slug)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(found("qwen").await, ["qwen/qwen-coder"]);

        // An admin renames a model: the new name is found, and sorts by name.
        let coder = stored(&db, "qwen/qwen-coder").await;
        let rename = AdminEdit {
            display_name: Some("Aardvark Coder".into()),
            ..AdminEdit::default()
        };
        catalog::admin_edit(&db, &coder.id, &rename).await.unwrap();
        assert_eq!(found("aardvark").await, ["qwen/qwen-coder"], "{backend:?}");
        let by_name = sorted(&db, SortField::Name, None).await;
        assert_eq!(by_name[0], "qwen/qwen-coder");

        // Featured first in the default order.
        let r1 = stored(&db, "deepseek/r1").await;
        let feature = AdminEdit {
            featured: Some(true),
            ..AdminEdit::default()
        };
        catalog::admin_edit(&db, &r1.id, &feature).await.unwrap();
        assert_eq!(slugs(&db, ModelQuery::default()).await[0], "deepseek/r1");

        // A sync that drops a model unlists it; one that adds a model lists it.
        let mut next = catalog_facts();
        next.retain(|m| m.provider_model_id != "deepseek/r1");
        next.push(model(
            "mistral/tiny",
            "Mistral: Tiny",
            "0.0000001",
            "0.0000001",
            32_000,
        ));
        upsert_provider_models(&db, "openrouter", &next, true)
            .await
            .unwrap();
        assert!(found("r1").await.is_empty(), "{backend:?}");
        assert_eq!(found("tiny").await, ["mistral/tiny"]);

        // A write outside the store's functions is seen once it is noted.
        Query::new("UPDATE models SET is_active = FALSE WHERE slug = 'mistral/tiny'")
            .execute(&db)
            .await
            .unwrap();
        db.note_catalog_change();
        assert!(found("tiny").await.is_empty(), "{backend:?}");
    }
}
