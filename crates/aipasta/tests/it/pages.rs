//! The pages say only what is true: no link leads to a missing page (walked from the home page
//! as a visitor, and from the signed-in navigation as a user and an admin), a feature is named
//! only where its route exists, and the documented key prefix is the one keys have.

use std::collections::{BTreeMap, HashSet, VecDeque};

use aipasta_store::Backend;
use aipasta_web::auth::tokens::API_KEY_PREFIX;
use reqwest::{StatusCode, Url};

use crate::helpers::{BrowserSession, TestApp, spawn_seeded_app};

/// The links (`href`, `src`, and the `action` of forms sent with GET) in `html`, resolved
/// against `page`; fragments dropped.
fn links(page: &Url, html: &str) -> Vec<Url> {
    let mut found = Vec::new();
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        let name = tag.split_whitespace().next().unwrap_or_default();
        let wanted: &[&str] = match name {
            "a" | "link" => &["href"],
            "script" | "img" => &["src"],
            "form" if !attribute(tag, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")) => {
                &["action"]
            }
            _ => &[],
        };
        for value in wanted.iter().filter_map(|name| attribute(tag, name)) {
            let value = unescape(&value);
            if value.starts_with('#') || value.starts_with("mailto:") {
                continue;
            }
            if let Ok(mut url) = page.join(&value) {
                url.set_fragment(None);
                found.push(url);
            }
        }
    }
    found
}

/// An attribute's value in a tag's text (`name="value"`).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_owned())
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A page's kind, to bound the walk: its first path segment, and whether it is a playground.
fn kind(url: &Url) -> String {
    let path = url.path();
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    format!(
        "{first}{}",
        if path.ends_with("/playground") {
            "+playground"
        } else {
            ""
        }
    )
}

/// Walks every same-site link from `starts` with `client`: pages up to `depth` links away are
/// read for more links (at most `per_kind` of each kind, so a catalog of hundreds of models is
/// sampled, not read whole), and every link found is fetched. Answers the broken links (a 404,
/// 405 or 5xx, after redirects), each with the page that links to it.
async fn walk(
    app: &TestApp,
    client: &reqwest::Client,
    starts: &[&str],
    depth: usize,
    per_kind: usize,
) -> (Vec<String>, usize) {
    let origin = Url::parse(&app.url("/")).unwrap();
    let mut queue: VecDeque<(Url, usize, String)> = starts
        .iter()
        .map(|path| (origin.join(path).unwrap(), 0, "(start)".to_owned()))
        .collect();
    let mut seen: HashSet<Url> = queue.iter().map(|(url, _, _)| url.clone()).collect();
    let mut read_per_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut broken = Vec::new();
    let mut fetched = 0;
    while let Some((url, distance, from)) = queue.pop_front() {
        if url.origin() != origin.origin() {
            continue; // Another site: never fetched (no test reaches the internet).
        }
        let response = client.get(url.clone()).send().await.unwrap();
        fetched += 1;
        let status = response.status();
        if status == StatusCode::NOT_FOUND
            || status == StatusCode::METHOD_NOT_ALLOWED
            || status.is_server_error()
        {
            broken.push(format!("{} ({status}) linked from {from}", url.path()));
            continue;
        }
        let mut next = Vec::new();
        if status.is_redirection() {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            next.push(url.join(&location).unwrap());
        } else {
            let is_html = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
            let count = read_per_kind.entry(kind(&url)).or_default();
            if is_html && distance < depth && *count < per_kind {
                *count += 1;
                next = links(&url, &response.text().await.unwrap());
            }
        }
        for link in next {
            if seen.insert(link.clone()) {
                queue.push_back((link, distance + 1, url.path().to_owned()));
            }
        }
    }
    (broken, fetched)
}

/// A browser signed in as a new account (an admin when `admin`).
async fn signed_in(app: &TestApp, email: &str, admin: bool) -> reqwest::Client {
    let user = app.sign_up("Walker", email).await;
    if admin {
        aipasta_store::accounts::set_role(&app.db, &user.id, "admin")
            .await
            .unwrap();
    }
    BrowserSession::signed_in(app, &user).await.client
}

#[tokio::test]
async fn no_page_links_to_a_missing_page() {
    let app = spawn_seeded_app(Backend::Sqlite).await;

    // The walker finds a broken link when there is one.
    let origin = Url::parse(&app.url("/")).unwrap();
    let sample = r#"<a href="/nowhere-at-all#x">x</a><form action="/also-nowhere"></form>
        <form method="post" action="/auth/signout"></form><a href="https://example.com/">e</a>"#;
    let found: Vec<String> = links(&origin, sample)
        .iter()
        .map(|u| u.path().to_owned())
        .collect();
    assert_eq!(found, ["/nowhere-at-all", "/also-nowhere", "/"]);
    let visitor = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (broken, _) = walk(&app, &visitor, &["/", "/nowhere-at-all"], 0, 0).await;
    assert_eq!(
        broken,
        ["/nowhere-at-all (404 Not Found) linked from (start)"]
    );

    // A visitor, from the home page: every page two links away is read (a dozen of each kind).
    let (broken, fetched) = walk(&app, &visitor, &["/"], 2, 12).await;
    assert!(broken.is_empty(), "broken links: {broken:#?}");
    assert!(fetched > 100, "the walk reached the site: {fetched} links");

    // The signed-in navigation, as a user and as an admin.
    for (email, admin) in [("user@example.com", false), ("admin@example.com", true)] {
        let browser = signed_in(&app, email, admin).await;
        let (broken, fetched) = walk(&app, &browser, &["/", "/dashboard/settings"], 1, 30).await;
        assert!(broken.is_empty(), "{email}: broken links: {broken:#?}");
        assert!(fetched > 10, "{email}: {fetched} links");
    }
}

/// Features the plan has that are not built yet, with the route each will answer at once it
/// is (the plan's API where it names one). A page may name the feature only when its route
/// exists: when the feature lands, the pages may say so.
const PLANNED: &[(&str, &str)] = &[
    ("compare", "/compare"),
    ("side by side", "/compare"),
    ("history", "/api/users/history"),
    ("analytics", "/api/admin/analytics"),
    ("moderation", "/admin/moderation"),
];

#[tokio::test]
async fn pages_name_only_features_that_exist() {
    let app = spawn_seeded_app(Backend::Sqlite).await;
    for page in ["/", "/about", "/docs/api"] {
        let html = app.get(page).await.text().await.unwrap().to_lowercase();
        for (word, route) in PLANNED {
            if html.contains(word) {
                let status = app.get(route).await.status();
                assert_ne!(
                    status,
                    StatusCode::NOT_FOUND,
                    "{page} names “{word}”, but {route} does not exist yet"
                );
            }
        }
    }

    // Every feature the home page offers links to where it is done.
    let home = app.get("/").await.text().await.unwrap();
    let features = home
        .split("class=\"grid features\"")
        .nth(1)
        .expect("the features")
        .split("</div>")
        .next()
        .unwrap();
    let cards: Vec<&str> = features.split("<article").skip(1).collect();
    assert!(cards.len() >= 3, "{features}");
    for card in cards {
        assert!(
            card.contains("<a href=\"/"),
            "a feature without its page: {card}"
        );
    }
}

/// Every `<prefix>_…` (or `_...`) in `text`: how the text writes a key.
fn key_examples(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["_…", "_..."] {
        for (at, _) in text.match_indices(marker) {
            let start = text[..at]
                .rfind(|c: char| !c.is_ascii_alphanumeric())
                .map_or(0, |i| i + 1);
            found.push(format!("{}_", &text[start..at]));
        }
    }
    found
}

#[tokio::test]
async fn documented_keys_start_with_the_prefix_keys_have() {
    assert_eq!(
        key_examples("Bearer zz_… and api_key=\"yy_...\""),
        ["zz_", "yy_"],
        "the check sees other prefixes"
    );
    let app = spawn_seeded_app(Backend::Sqlite).await;
    let docs = app.get("/docs/api").await.text().await.unwrap();
    let openapi = app.get("/api/openapi.json").await.text().await.unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    for (what, text) in [
        ("/docs/api", &docs),
        ("/api/openapi.json", &openapi),
        ("README.md", &readme),
    ] {
        let examples = key_examples(text);
        assert!(!examples.is_empty(), "{what} shows how a key starts");
        for example in examples {
            assert_eq!(example, API_KEY_PREFIX, "{what}");
        }
    }
}
