//! Reading one generation back through the engine: a running one's row is waited for (no
//! global flush), an image comes from the outcome while the generation is in memory and from
//! the database after, and another account's generation is as unknown as a made-up id.

use std::time::Duration;

use aipasta_engine::prepare::{GenerateInput, Mode};
use aipasta_mock::{MockImage, OPENAI_CHAT_PATH, OPENAI_IMAGES_PATH, Script};
use aipasta_store::testing::{backends, create_account};

use crate::support::{CHAT, ENDPOINT, Harness, image_model, prompt, wait};

#[tokio::test]
async fn a_running_generations_row_is_read_as_pending_then_as_it_ended() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let bob = create_account(&h.db, "bob@example.com", "user").await;
        for stream in [false, true] {
            h.mock.push_script(
                OPENAI_CHAT_PATH,
                Script::default().first_token_delay(Duration::from_millis(500)),
            );
            let live = h
                .start_generation(CHAT, &prompt("slowly", stream))
                .await
                .unwrap();
            // No flush: the read waits for this generation's own starting row (a whole
            // answer's is held back a little, hoping to write start and end at once).
            let row = h.engine.generation(&live.id, &h.user.id).await.unwrap();
            let row = row.unwrap_or_else(|| panic!("{backend:?} stream {stream}: no row yet"));
            assert_eq!(row.status, "pending", "{backend:?} stream {stream}");
            assert_eq!(row.output_content, "");
            assert!(live.outcome().is_none(), "it was still running");
            assert_eq!(h.engine.generation(&live.id, &bob.id).await.unwrap(), None);

            assert_eq!(wait(&live).await.status, "success");
            let row = h
                .engine
                .generation(&live.id, &h.user.id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.status, "success", "{backend:?} stream {stream}");
            assert_eq!(h.engine.generation(&live.id, &bob.id).await.unwrap(), None);
        }
        assert_eq!(
            h.engine.generation("no-such-id", &h.user.id).await.unwrap(),
            None
        );
    }
}

fn draw(text: &str) -> GenerateInput {
    GenerateInput {
        mode: Some(Mode::Image),
        // Images come whole even when a stream is asked for.
        ..prompt(text, true)
    }
}

#[tokio::test]
async fn images_are_answered_from_the_outcome_then_from_the_database() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let bob = create_account(&h.db, "bob@example.com", "user").await;
        let slug = h.add_model(image_model(ENDPOINT, "painter")).await;
        let (png, gif) = (MockImage::png(), MockImage::gif());
        h.mock.push_script(
            OPENAI_IMAGES_PATH,
            Script::images([png.clone(), gif.clone()])
                .first_token_delay(Duration::from_millis(100)),
        );
        let live = h.start_generation(&slug, &draw("a cat")).await.unwrap();
        // Asked while it runs: the engine waits for the outcome and answers from it.
        let first = h
            .engine
            .image(&live.id, &h.user.id, 0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.mime_type, "image/png", "{backend:?}");
        assert_eq!(&*first.bytes, png.bytes.as_slice());
        assert_eq!(h.engine.image(&live.id, &bob.id, 0).await.unwrap(), None);
        let outcome = wait(&live).await;
        assert_eq!(outcome.status, "success");
        assert_eq!(outcome.images.len(), 2);

        // Once its final row is written the generation leaves memory; the database answers.
        h.engine.flush().await;
        assert!(
            h.engine.live(&live.id).is_none(),
            "{backend:?}: still in memory"
        );
        let second = h
            .engine
            .image(&live.id, &h.user.id, 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.mime_type, "image/gif", "{backend:?}");
        assert_eq!(&*second.bytes, gif.bytes.as_slice());
        assert_eq!(
            h.engine.image(&live.id, &h.user.id, 0).await.unwrap(),
            Some(first)
        );
        assert_eq!(h.engine.image(&live.id, &h.user.id, 2).await.unwrap(), None);
        assert_eq!(h.engine.image(&live.id, &bob.id, 1).await.unwrap(), None);
        assert_eq!(
            h.engine.image("no-such-id", &h.user.id, 0).await.unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn an_image_that_is_not_a_raster_image_is_neither_kept_nor_served() {
    for backend in backends() {
        let h = Harness::start(backend).await;
        let slug = h.add_model(image_model(ENDPOINT, "painter")).await;
        h.mock.push_script(
            OPENAI_IMAGES_PATH,
            Script::images([MockImage::png(), MockImage::html()]),
        );
        let live = h.start_generation(&slug, &draw("a dog")).await.unwrap();
        assert_eq!(
            h.engine.image(&live.id, &h.user.id, 0).await.unwrap(),
            None,
            "{backend:?}"
        );
        let outcome = wait(&live).await;
        assert_eq!(outcome.status, "error");
        assert!(outcome.images.is_empty());
        let row = h.row(&live.id).await;
        assert_eq!(
            row.error_code.as_deref(),
            Some("upstream_malformed"),
            "{backend:?}"
        );
        h.engine.flush().await;
        assert_eq!(h.engine.image(&live.id, &h.user.id, 0).await.unwrap(), None);
    }
}
