//! Rendering for request handlers, off the async threads: on tokio's blocking pool, at most
//! half the cores at a time (so page and health requests keep the rest), within
//! [`RENDER_BUDGET`] counted from the request (queueing included). A rendering that misses the
//! budget is answered as plain text; it still finishes on its thread and fills the cache, so
//! the next view is formatted. Texts that do not change (finished answers, earlier turns,
//! descriptions) are cached by the SHA-256 of their source: a page view renders nothing twice.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use moka::sync::Cache;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::TooCostly;

/// How long a request waits for its renderings before showing plain text instead.
pub const RENDER_BUDGET: Duration = Duration::from_secs(2);
/// Bytes of rendered HTML kept.
const CACHE_BYTES: u64 = 64 << 20;

/// Which rendering of a source: a plain description, or an answer with its code highlighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Description,
    Answer,
}

impl Style {
    fn render(self, source: &str) -> String {
        match self {
            Style::Description => super::render(source),
            Style::Answer => super::render_answer(source),
        }
    }

    fn tag(self) -> u8 {
        match self {
            Style::Description => b'd',
            Style::Answer => b'a',
        }
    }
}

static RENDERERS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    Arc::new(Semaphore::new((cores / 2).max(1)))
});

type Key = [u8; 32];

static RENDERED: LazyLock<Cache<Key, Arc<str>>> = LazyLock::new(|| {
    Cache::builder()
        .max_capacity(CACHE_BYTES)
        .weigher(|_, html: &Arc<str>| u32::try_from(html.len()).unwrap_or(u32::MAX))
        .time_to_idle(Duration::from_secs(30 * 60))
        .build()
});

fn key(style: Style, source: &str) -> Key {
    let mut hasher = Sha256::new();
    hasher.update([style.tag()]);
    hasher.update(source.as_bytes());
    hasher.finalize().into()
}

/// `sources` rendered in `style`, from the cache where it has them; the rest rendered off the
/// async threads and cached. Order is kept.
pub async fn render_cached(style: Style, sources: Vec<String>) -> Vec<String> {
    let keys: Vec<Key> = sources.iter().map(|s| key(style, s)).collect();
    let mut html: Vec<Option<String>> = keys
        .iter()
        .map(|k| RENDERED.get(k).map(|h| h.to_string()))
        .collect();
    let missing: Vec<usize> = (0..sources.len()).filter(|i| html[*i].is_none()).collect();
    if missing.is_empty() {
        return html.into_iter().flatten().collect();
    }
    let jobs: Vec<(Key, String)> = missing
        .iter()
        .map(|i| (keys[*i], sources[*i].clone()))
        .collect();
    let rendered = off_thread(move || {
        jobs.iter()
            .map(|(key, source)| {
                let out = style.render(source);
                RENDERED.insert(*key, Arc::from(out.as_str()));
                out
            })
            .collect::<Vec<_>>()
    })
    .await;
    match rendered {
        Some(rendered) => {
            for (i, out) in missing.iter().zip(rendered) {
                html[*i] = Some(out);
            }
        }
        None => {
            for i in &missing {
                html[*i] = Some(super::plain_text(&sources[*i], TooCostly::Slow));
            }
        }
    }
    html.into_iter().flatten().collect()
}

/// One source rendered in `style` off the async threads, not cached (texts still growing, such
/// as a streamed answer's snapshots), and passed through `finish` there too (a response body
/// several megabytes long is costly to encode as well).
pub async fn render_off_thread<T: Send + 'static>(
    style: Style,
    source: String,
    finish: fn(String) -> T,
) -> T {
    let source: Arc<str> = Arc::from(source);
    let job = source.clone();
    match off_thread(move || finish(style.render(&job))).await {
        Some(done) => done,
        None => finish(super::plain_text(&source, TooCostly::Slow)),
    }
}

/// `work` on the blocking pool under the renderers' semaphore; `None` past the budget.
async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    off_thread_within(RENDER_BUDGET, work).await
}

async fn off_thread_within<T: Send + 'static>(
    budget: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let run = async {
        let permit = RENDERERS.clone().acquire_owned().await.ok()?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .ok()
    };
    tokio::time::timeout(budget, run).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finished_texts_are_rendered_once_and_kept() {
        let source = format!("A *cached* answer {}", aipasta_core::id::new_id());
        let key = key(Style::Answer, &source);
        assert!(RENDERED.get(&key).is_none());
        let first = render_cached(Style::Answer, vec![source.clone(), "**b**".into()]).await;
        assert!(first[0].contains("<em>cached</em>"), "{first:?}");
        assert!(
            first[1].contains("<strong>b</strong>"),
            "order is kept: {first:?}"
        );
        assert_eq!(RENDERED.get(&key).as_deref(), Some(first[0].as_str()));
        // The cached HTML is what a second view gets (planted here to tell the two apart).
        RENDERED.insert(key, Arc::from("<p>from the cache</p>"));
        let second = render_cached(Style::Answer, vec![source.clone()]).await;
        assert_eq!(second, ["<p>from the cache</p>"]);
        // The style is part of the key.
        let description = render_cached(Style::Description, vec![source]).await;
        assert!(
            description[0].contains("<em>cached</em>"),
            "{description:?}"
        );
    }

    #[tokio::test]
    async fn a_rendering_past_its_budget_is_given_up_without_blocking_the_caller() {
        let slow = off_thread_within(Duration::from_millis(20), || {
            std::thread::sleep(Duration::from_millis(500));
            "late"
        });
        let started = std::time::Instant::now();
        assert_eq!(slow.await, None);
        assert!(
            started.elapsed() < Duration::from_millis(450),
            "the caller did not wait it out"
        );
        let quick = off_thread_within(Duration::from_secs(5), || "soon").await;
        assert_eq!(quick, Some("soon"));
    }

    #[tokio::test]
    async fn over_budget_texts_come_back_as_escaped_plain_text() {
        let html = super::super::plain_text("<b>x</b> & 'y'", TooCostly::Slow);
        assert!(html.contains("formatting took too long"), "{html}");
        assert!(
            html.contains("&lt;b&gt;x&lt;/b&gt; &amp; &#39;y&#39;"),
            "{html}"
        );
        assert!(!html.contains("<b>"));
    }
}
