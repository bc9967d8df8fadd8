//! History, search, deletion, usage and favorites on every backend this run covers, checked
//! against answers computed by hand from the same rows.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

use aipasta_store::catalog::seed_if_empty;
use aipasta_store::favorites::{
    add_favorite, favorite_model_ids, list_favorites, remove_favorite, reorder_favorites,
};
use aipasta_store::generations::{
    Finished, GenerationRow, GenerationWrite, HistoryItem, HistoryQuery, HistorySort, UsageSplit,
    count_models_used, delete_history, history_page, history_records, models_used, usage_by_day,
    usage_total, write_batch,
};
use aipasta_store::testing::{TestDatabase, backends, create_account};
use aipasta_store::{Backend, Db, Query};

const DAY_MS: i64 = 86_400_000;
const START_DAY: i64 = 20_000;

struct Dataset {
    ada: String,
    eve: String,
    models: Vec<(String, String)>, // (id, provider)
    rows: Vec<GenerationRow>,
}

const WORDS: [&str; 5] = ["borrow", "haiku", "lighthouse", "quantum", "zebra"];

/// Ada's 60 generations (and Eve's 10) with every mode, source and status, costs, tokens and
/// durations that tie now and then, over 12 days.
async fn dataset(db: &Db) -> Dataset {
    seed_if_empty(db).await.unwrap();
    let models: Vec<(String, String)> =
        Query::new("SELECT id, provider FROM models ORDER BY provider DESC, id LIMIT 3")
            .fetch_all(db)
            .await
            .unwrap();
    let ada = create_account(db, "ada@example.com", "user").await.id;
    let eve = create_account(db, "eve@example.com", "user").await.id;
    let modes = ["chat", "text", "code", "image"];
    let sources = ["playground", "api", "v1"];
    let statuses = ["success", "success", "error", "cancelled", "success"];
    let mut rows = Vec::new();
    for n in 0..70_i64 {
        let user = if n < 60 { &ada } else { &eve };
        let index = usize::try_from(n).unwrap();
        let word = WORDS[index % WORDS.len()];
        let chat = index % 4 == 0;
        let created_at = (START_DAY + n % 12) * DAY_MS + n * 1_000;
        rows.push(GenerationRow {
            id: format!("gen-{n:03}"),
            user_id: Some(user.clone()),
            model_id: Some(models[index % 3].0.clone()),
            session_id: chat.then(|| format!("session-{}", n % 3)),
            source: sources[index % 3].into(),
            mode: modes[index % 4].into(),
            // Chat runs send their prompt as the last message.
            prompt: if chat {
                String::new()
            } else {
                format!("Tell me about {word} number {n}")
            },
            messages: if chat {
                format!(
                    r#"[{{"role":"user","content":"old turn about nothing"}},{{"role":"user","content":"Chat on {word} {n}"}}]"#
                )
            } else {
                "[]".into()
            },
            parameters: "{}".into(),
            output_content: format!("An answer with {} inside", WORDS[(index + 2) % 5]),
            prompt_tokens: (n * 7) % 13,
            completion_tokens: (n * 5) % 11,
            total_tokens: (n * 7) % 13 + (n * 5) % 11,
            cost_nanos: (n % 9) * 1_000,
            duration_ms: (n % 6 != 0).then_some((n * 37) % 500),
            status: statuses[index % 5].into(),
            visibility: "private".into(),
            created_at,
            updated_at: created_at,
            ..GenerationRow::default()
        });
    }
    let writes: Vec<GenerationWrite> = rows
        .iter()
        .map(|row| GenerationWrite {
            row: row.clone(),
            finished: Some(Finished::default()),
        })
        .collect();
    write_batch(db, &writes).await.unwrap();
    Dataset {
        ada,
        eve,
        models,
        rows,
    }
}

fn sort_key(row: &GenerationRow, sort: HistorySort) -> i64 {
    match sort {
        HistorySort::Time => row.created_at,
        HistorySort::Cost => row.cost_nanos,
        HistorySort::Tokens => row.total_tokens,
        HistorySort::Duration => row.duration_ms.unwrap_or(0),
    }
}

/// The ids of `user`'s rows that pass `keep`, in the order asked, by hand.
fn by_hand(
    data: &Dataset,
    user: &str,
    sort: HistorySort,
    descending: bool,
    keep: impl Fn(&GenerationRow) -> bool,
) -> Vec<String> {
    let mut rows: Vec<&GenerationRow> = data
        .rows
        .iter()
        .filter(|row| row.user_id.as_deref() == Some(user) && keep(row))
        .collect();
    rows.sort_by(|a, b| (sort_key(a, sort), &a.id).cmp(&(sort_key(b, sort), &b.id)));
    if descending {
        rows.reverse();
    }
    rows.into_iter().map(|row| row.id.clone()).collect()
}

/// Every page from the first, following the cursors.
/// `user`'s rows that `keep`, as a search sorted by time lists them, newest first. SQLite
/// streams matches in the order they were recorded (the dataset is written in one batch, in
/// order), PostgreSQL sorts them by `created_at`.
fn searched_by_hand(
    backend: Backend,
    data: &Dataset,
    user: &str,
    keep: impl Fn(&GenerationRow) -> bool,
) -> Vec<String> {
    match backend {
        Backend::Sqlite => data
            .rows
            .iter()
            .rev()
            .filter(|row| row.user_id.as_deref() == Some(user) && keep(row))
            .map(|row| row.id.clone())
            .collect(),
        Backend::Postgres => by_hand(data, user, HistorySort::Time, true, keep),
    }
}

async fn read_all(db: &Db, user: &str, query: HistoryQuery) -> Vec<HistoryItem> {
    let mut query = query;
    let mut items = Vec::new();
    for _ in 0..100 {
        let page = history_page(db, user, &query).await.unwrap();
        assert!(page.items.len() as i64 <= query.limit);
        items.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return items,
        }
    }
    panic!("the cursor never ended");
}

/// Every page of whole rows (what an export streams) from the first, following the cursors.
async fn export_ids(db: &Db, user: &str, query: HistoryQuery) -> Vec<String> {
    let mut query = query;
    let mut ids = Vec::new();
    for _ in 0..100 {
        let (records, next) = history_records(db, user, &query).await.unwrap();
        assert!(records.len() as i64 <= query.limit);
        ids.extend(records.into_iter().map(|record| record.row.id));
        match next {
            Some(next) => query.after = Some(next),
            None => return ids,
        }
    }
    panic!("the export's cursor never ended");
}

fn ids(items: &[HistoryItem]) -> Vec<String> {
    items.iter().map(|item| item.id.clone()).collect()
}

#[tokio::test]
async fn every_sort_and_order_pages_through_exactly_the_hand_sorted_rows() {
    for backend in backends() {
        let (_database, db) = TestDatabase::migrated(backend).await;
        let data = dataset(&db).await;
        for sort in HistorySort::ALL {
            for descending in [true, false] {
                let query = HistoryQuery {
                    sort,
                    descending,
                    limit: 7,
                    ..HistoryQuery::default()
                };
                let expected = by_hand(&data, &data.ada, sort, descending, |_| true);
                let got = read_all(&db, &data.ada, query.clone()).await;
                assert_eq!(
                    ids(&got),
                    expected,
                    "{backend:?} {sort:?} desc={descending}"
                );
                assert_eq!(
                    export_ids(&db, &data.ada, query.clone()).await,
                    expected,
                    "{backend:?} {sort:?} desc={descending}: the export's pages"
                );
                // Numbered pages agree with the cursor.
                let third = history_page(
                    &db,
                    &data.ada,
                    &HistoryQuery {
                        offset: 14,
                        ..query
                    },
                )
                .await
                .unwrap();
                assert_eq!(ids(&third.items), expected[14..21], "{backend:?} {sort:?}");
            }
        }
        // A search's export lists what its pages list, in their order.
        for descending in [true, false] {
            let query = HistoryQuery {
                search: Some("quantum".into()),
                descending,
                limit: 4,
                ..HistoryQuery::default()
            };
            let listed = ids(&read_all(&db, &data.ada, query.clone()).await);
            assert!(listed.len() > 4, "{backend:?}: more than a page matches");
            assert_eq!(
                export_ids(&db, &data.ada, query).await,
                listed,
                "{backend:?} desc={descending}: a search's export"
            );
        }
        // Eve sees only her own.
        let eve = read_all(
            &db,
            &data.eve,
            HistoryQuery {
                limit: 100,
                descending: true,
                ..HistoryQuery::default()
            },
        )
        .await;
        assert_eq!(eve.len(), 10, "{backend:?}");
    }
}

#[tokio::test]
async fn every_filter_keeps_exactly_the_rows_it_names() {
    for backend in backends() {
        let (_database, db) = TestDatabase::migrated(backend).await;
        let data = dataset(&db).await;
        let model = data.models[1].0.clone();
        let from = (START_DAY + 3) * DAY_MS;
        let to = (START_DAY + 7) * DAY_MS;
        // Each of Ada's conversations once, as its latest turn. Eve's turns, later ones among
        // them, reuse the same session ids: they must not hide Ada's.
        let mut latest_turns: std::collections::HashMap<&str, (i64, &str)> = Default::default();
        for row in data
            .rows
            .iter()
            .filter(|r| r.user_id.as_ref() == Some(&data.ada))
        {
            if let Some(session) = &row.session_id {
                let turn = (row.created_at, row.id.as_str());
                let latest = latest_turns.entry(session.as_str()).or_insert(turn);
                *latest = (*latest).max(turn);
            }
        }
        assert_eq!(latest_turns.len(), 3, "the dataset has three conversations");
        let latest_ids: Vec<String> = latest_turns
            .values()
            .map(|(_, id)| id.to_string())
            .collect();
        assert!(
            data.rows
                .iter()
                .any(|r| r.user_id.as_ref() == Some(&data.eve)
                    && r.session_id.as_deref() == Some("session-0"))
        );
        type Keep = Box<dyn Fn(&GenerationRow) -> bool>;
        let cases: Vec<(&str, HistoryQuery, Keep)> = vec![
            (
                "one row a conversation",
                HistoryQuery {
                    conversations: true,
                    ..HistoryQuery::default()
                },
                Box::new(move |r| r.session_id.is_none() || latest_ids.contains(&r.id)),
            ),
            (
                "model",
                HistoryQuery {
                    model_id: Some(model.clone()),
                    ..HistoryQuery::default()
                },
                Box::new(move |r| r.model_id.as_deref() == Some(model.as_str())),
            ),
            (
                "mode",
                HistoryQuery {
                    mode: Some("code".into()),
                    ..HistoryQuery::default()
                },
                Box::new(|r| r.mode == "code"),
            ),
            (
                "source",
                HistoryQuery {
                    source: Some("v1".into()),
                    ..HistoryQuery::default()
                },
                Box::new(|r| r.source == "v1"),
            ),
            (
                "status",
                HistoryQuery {
                    status: Some("error".into()),
                    ..HistoryQuery::default()
                },
                Box::new(|r| r.status == "error"),
            ),
            (
                "date range",
                HistoryQuery {
                    from: Some(from),
                    to: Some(to),
                    ..HistoryQuery::default()
                },
                Box::new(move |r| r.created_at >= from && r.created_at < to),
            ),
            (
                "mode and source together",
                HistoryQuery {
                    mode: Some("chat".into()),
                    source: Some("playground".into()),
                    ..HistoryQuery::default()
                },
                Box::new(|r| r.mode == "chat" && r.source == "playground"),
            ),
        ];
        for (what, query, keep) in cases {
            for sort in [HistorySort::Time, HistorySort::Cost] {
                let query = HistoryQuery {
                    sort,
                    descending: true,
                    limit: 4,
                    ..query.clone()
                };
                let expected = by_hand(&data, &data.ada, sort, true, &keep);
                assert!(!expected.is_empty(), "{what}: the dataset has such rows");
                let got = read_all(&db, &data.ada, query).await;
                assert_eq!(ids(&got), expected, "{backend:?}: {what}, {sort:?}");
            }
        }
    }
}

#[tokio::test]
async fn search_finds_words_in_the_prompt_the_last_message_and_the_output() {
    for backend in backends() {
        let (_database, db) = TestDatabase::migrated(backend).await;
        let data = dataset(&db).await;
        let search = |text: &str| HistoryQuery {
            search: Some(text.into()),
            limit: 100,
            descending: true,
            ..HistoryQuery::default()
        };
        // What a generation was asked is its prompt or its last message, never earlier turns.
        let contains = |row: &GenerationRow, word: &str| {
            row.prompt.to_lowercase().contains(word)
                || row.messages.contains(&format!("Chat on {word}"))
                || row.output_content.to_lowercase().contains(word)
        };
        for word in WORDS {
            let expected = searched_by_hand(backend, &data, &data.ada, |r| contains(r, word));
            // By cost, in the cost index's order, through the account's matches.
            let by_cost = HistoryQuery {
                sort: HistorySort::Cost,
                ..search(word)
            };
            assert_eq!(
                ids(&read_all(&db, &data.ada, by_cost).await),
                by_hand(&data, &data.ada, HistorySort::Cost, true, |r| contains(
                    r, word
                )),
                "{backend:?}: {word} by cost"
            );
            let got = read_all(&db, &data.ada, search(word)).await;
            assert_eq!(ids(&got), expected, "{backend:?}: {word}");
            // Its start with a `*`, in capitals, finds the same; without the `*`, only
            // whole words match.
            let start = word[..4].to_uppercase();
            let got = read_all(&db, &data.ada, search(&format!("{start}*"))).await;
            assert_eq!(ids(&got), expected, "{backend:?}: {start}*");
            let got = read_all(&db, &data.ada, search(&start)).await;
            assert!(got.is_empty(), "{backend:?}: {start}: {got:?}");
        }
        // Every word must match: a prompt word and an output word of the same row.
        let both = read_all(&db, &data.ada, search("haiku quantum")).await;
        let expected = searched_by_hand(backend, &data, &data.ada, |r| {
            contains(r, "haiku") && contains(r, "quantum")
        });
        assert!(!expected.is_empty());
        assert_eq!(ids(&both), expected, "{backend:?}");
        // A search lists every turn it finds, even when conversations are grouped.
        let chat_turns = searched_by_hand(backend, &data, &data.ada, |r| r.session_id.is_some());
        assert_eq!(
            chat_turns.len(),
            15,
            "{backend:?}: every chat turn of Ada's"
        );
        let grouped = HistoryQuery {
            conversations: true,
            ..search("chat")
        };
        assert_eq!(ids(&read_all(&db, &data.ada, grouped).await), chat_turns);
        // Earlier turns of a conversation are not what a generation was asked.
        assert!(
            read_all(&db, &data.ada, search("old turn nothing"))
                .await
                .is_empty(),
            "{backend:?}"
        );
        // Syntax of either engine is only words; nothing to find is nothing found.
        for hostile in [
            "\"borrow",
            "borrow* OR zebra",
            "NEAR(a b)",
            "a:* & !b",
            "'; DROP TABLE generations; --",
        ] {
            history_page(&db, &data.ada, &search(hostile))
                .await
                .unwrap_or_else(|e| panic!("{backend:?}: {hostile}: {e}"));
        }
        assert!(
            read_all(&db, &data.ada, search("nonexistentword"))
                .await
                .is_empty()
        );
        // Another account's words are not found.
        let eve_only = format!("Tell me about {} number 65", WORDS[0]);
        assert!(data.rows.iter().any(|r| r.prompt == eve_only));
        let got = read_all(&db, &data.ada, search("65")).await;
        assert!(got.is_empty(), "{backend:?}: {got:?}");

        // A generation's final write replaces what is indexed.
        let mut row = data.rows[1].clone();
        row.output_content = "Rewritten with a xylophone".into();
        write_batch(
            &db,
            &[GenerationWrite {
                row,
                finished: None,
            }],
        )
        .await
        .unwrap();
        assert_eq!(
            ids(&read_all(&db, &data.ada, search("xylophone")).await),
            ["gen-001"]
        );
        // Its old output ("quantum") is no longer found.
        assert!(data.rows[1].output_content.contains("quantum"));
        assert!(
            !ids(&read_all(&db, &data.ada, search("quantum")).await).contains(&"gen-001".into()),
            "{backend:?}"
        );

        // Deleted rows leave the index; on SQLite, VACUUM keeps the rowids it is keyed by.
        delete_history(&db, &data.ada, &["gen-001".into()])
            .await
            .unwrap();
        assert!(
            read_all(&db, &data.ada, search("xylophone"))
                .await
                .is_empty()
        );
        if backend == Backend::Sqlite {
            let before = ids(&read_all(&db, &data.ada, search("zebra")).await);
            Query::new("VACUUM").execute(&db).await.unwrap();
            assert_eq!(
                ids(&read_all(&db, &data.ada, search("zebra")).await),
                before
            );
        }
    }
}

#[tokio::test]
async fn deleting_history_keeps_running_and_foreign_rows_and_refunds_nothing() {
    for backend in backends() {
        let (_database, db) = TestDatabase::migrated(backend).await;
        let data = dataset(&db).await;
        let before = usage_total(&db, &data.ada, 0, i64::MAX / DAY_MS)
            .await
            .unwrap();
        let user_before = aipasta_store::accounts::find_user_by_id(&db, &data.ada)
            .await
            .unwrap()
            .unwrap();
        // A running generation of Ada's.
        let mut running = data.rows[0].clone();
        running.id = "running".into();
        running.status = "pending".into();
        write_batch(
            &db,
            &[GenerationWrite {
                row: running,
                finished: None,
            }],
        )
        .await
        .unwrap();
        let asked: Vec<String> = [
            "gen-002", "gen-003", "running", "gen-065", "nope", "gen-002",
        ]
        .map(String::from)
        .to_vec();
        let outcome = delete_history(&db, &data.ada, &asked).await.unwrap();
        assert_eq!(outcome.deleted, ["gen-002", "gen-003"], "{backend:?}");
        assert_eq!(outcome.running, ["running"]);
        assert_eq!(outcome.missing, ["gen-065", "nope"]);
        let left: i64 = Query::new("SELECT COUNT(*) FROM generations WHERE id IN ($1, $2, $3)")
            .bind("gen-002")
            .bind("running")
            .bind("gen-065")
            .fetch_scalar(&db)
            .await
            .unwrap();
        assert_eq!(left, 2, "{backend:?}: the running row and Eve's stay");
        let after = usage_total(&db, &data.ada, 0, i64::MAX / DAY_MS)
            .await
            .unwrap();
        assert_eq!(after, before, "{backend:?}: usage is never refunded");
        let user_after = aipasta_store::accounts::find_user_by_id(&db, &data.ada)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (user_after.total_generations, user_after.total_cost_nanos),
            (user_before.total_generations, user_before.total_cost_nanos)
        );
    }
}

#[tokio::test]
async fn usage_matches_sums_made_by_hand() {
    for backend in backends() {
        let (_database, db) = TestDatabase::migrated(backend).await;
        let data = dataset(&db).await;
        let ada_rows: Vec<&GenerationRow> = data
            .rows
            .iter()
            .filter(|r| r.user_id.as_deref() == Some(data.ada.as_str()))
            .collect();
        let (from, to) = (START_DAY + 2, START_DAY + 9);
        let in_range: Vec<&&GenerationRow> = ada_rows
            .iter()
            .filter(|r| (from..to).contains(&(r.created_at / DAY_MS)))
            .collect();
        let total = usage_total(&db, &data.ada, from, to).await.unwrap();
        assert_eq!(total.generations, in_range.len() as i64, "{backend:?}");
        assert_eq!(
            total.cost_nanos,
            in_range.iter().map(|r| r.cost_nanos).sum::<i64>()
        );
        assert_eq!(
            total.tokens(),
            in_range
                .iter()
                .map(|r| r.prompt_tokens + r.completion_tokens)
                .sum::<i64>()
        );
        assert_eq!(
            total.errors,
            in_range.iter().filter(|r| r.status == "error").count() as i64
        );
        for split in UsageSplit::ALL {
            let days = usage_by_day(&db, &data.ada, from, to, split).await.unwrap();
            for row in &days {
                let hand: Vec<&&&GenerationRow> = in_range
                    .iter()
                    .filter(|r| r.created_at / DAY_MS == row.day)
                    .filter(|r| match split {
                        UsageSplit::Model => r.model_id.as_deref() == Some(row.key.as_str()),
                        UsageSplit::Source => r.source == row.key,
                        UsageSplit::Provider => data
                            .models
                            .iter()
                            .any(|(id, p)| r.model_id.as_deref() == Some(id) && *p == row.key),
                    })
                    .collect();
                assert_eq!(
                    row.figures.generations,
                    hand.len() as i64,
                    "{backend:?} {split:?} {row:?}"
                );
                assert_eq!(
                    row.figures.cost_nanos,
                    hand.iter().map(|r| r.cost_nanos).sum::<i64>()
                );
            }
            let summed: i64 = days.iter().map(|d| d.figures.generations).sum();
            assert_eq!(summed, total.generations, "{backend:?} {split:?}");
        }
        let used = models_used(&db, &data.ada, 0, 10).await.unwrap();
        assert_eq!(used.len(), 3);
        assert_eq!(used.iter().map(|m| m.generations).sum::<i64>(), 60);
        assert!(
            used.windows(2)
                .all(|w| w[0].generations >= w[1].generations)
        );
        assert_eq!(count_models_used(&db, &data.ada).await.unwrap(), 3);
    }
}

#[tokio::test]
async fn favorites_keep_the_order_their_owner_chose() {
    for backend in backends() {
        let (_database, db) = TestDatabase::migrated(backend).await;
        let data = dataset(&db).await;
        let [a, b, c] = [0, 1, 2].map(|i| data.models[i].0.clone());
        assert!(add_favorite(&db, &data.ada, &b).await.unwrap());
        assert!(add_favorite(&db, &data.ada, &a).await.unwrap());
        assert!(add_favorite(&db, &data.ada, &c).await.unwrap());
        assert!(
            !add_favorite(&db, &data.ada, &a).await.unwrap(),
            "already one"
        );
        assert!(add_favorite(&db, &data.eve, &c).await.unwrap());
        assert_eq!(
            favorite_model_ids(&db, &data.ada).await.unwrap(),
            [b.clone(), a.clone(), c.clone()]
        );
        let order = reorder_favorites(&db, &data.ada, &[c.clone(), "nope".into()])
            .await
            .unwrap();
        assert_eq!(order, [c.clone(), b.clone(), a.clone()], "{backend:?}");
        let listed = list_favorites(&db, &data.ada).await.unwrap();
        assert_eq!(
            listed.iter().map(|f| &f.model_id).collect::<Vec<_>>(),
            [&c, &b, &a]
        );
        assert_eq!(
            listed.iter().map(|f| f.position).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(remove_favorite(&db, &data.ada, &b).await.unwrap());
        assert!(!remove_favorite(&db, &data.ada, &b).await.unwrap());
        assert!(add_favorite(&db, &data.ada, &b).await.unwrap());
        assert_eq!(
            favorite_model_ids(&db, &data.ada).await.unwrap(),
            [c.clone(), a.clone(), b.clone()],
            "{backend:?}: a new favorite goes last"
        );
        assert_eq!(favorite_model_ids(&db, &data.eve).await.unwrap(), [c]);
    }
}

/// Each order reads its own index, whatever the depth.
#[tokio::test]
async fn each_order_reads_its_index() {
    for backend in backends() {
        let (_database, db) = TestDatabase::migrated(backend).await;
        let data = dataset(&db).await;
        for (sort, index) in [
            (HistorySort::Time, "generations_user_time_idx"),
            (HistorySort::Cost, "generations_user_cost_idx"),
            (HistorySort::Tokens, "generations_user_tokens_idx"),
            (HistorySort::Duration, "generations_user_duration_idx"),
        ] {
            let query = HistoryQuery {
                sort,
                descending: true,
                limit: 5,
                after: Some(aipasta_store::generations::HistoryCursor {
                    value: 5,
                    id: "gen-010".into(),
                }),
                ..HistoryQuery::default()
            };
            let plan = aipasta_store::generations::explain_history(&db, &data.ada, &query)
                .await
                .unwrap();
            assert!(
                plan.contains(index),
                "{backend:?} {sort:?} reads {index}: {plan}"
            );
        }
        if backend == Backend::Sqlite {
            // A search by time streams FTS5's matches newest first and stops at the page's
            // end: nothing gathers and sorts them.
            let query = HistoryQuery {
                search: Some("zebra".into()),
                descending: true,
                limit: 5,
                ..HistoryQuery::default()
            };
            let plan = aipasta_store::generations::explain_history(&db, &data.ada, &query)
                .await
                .unwrap();
            assert!(plan.contains("VIRTUAL TABLE"), "{plan}");
            assert!(plan.contains("INTEGER PRIMARY KEY"), "{plan}");
            assert!(
                !plan.contains("B-TREE"),
                "a search sorts its matches: {plan}"
            );
        }
    }
}
