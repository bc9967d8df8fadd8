//! Upstreams that echo what they were sent: the key in every form and their own address come
//! back in an error body, a mid-stream error event or a proxy's page, and none of it reaches
//! the message people see.

use aipasta_mock::{Fault, OPENROUTER_CHAT_PATH};
use aipasta_providers::generate::{ProviderError, StreamEvent, complete, stream};

use crate::support::*;

/// The key as upstreams have been seen to quote it: other cases, cut at either end,
/// URL-encoded in a quoted request line.
fn echoes() -> Vec<String> {
    vec![
        KEY.to_owned(),
        KEY.to_uppercase(),
        format!("{}…", &KEY[..14]),
        format!("…{}", &KEY[KEY.len() - 12..]),
        format!("{}***{}", &KEY[..9], &KEY[KEY.len() - 9..]),
        format!(
            "GET /api/v1/chat/completions?key={}",
            KEY.replace('-', "%2D")
        ),
    ]
}

/// No piece of the key long enough to matter, in any case.
fn assert_no_key_form(error: &ProviderError) {
    let message = error.message.to_lowercase();
    let key = KEY.to_lowercase();
    for piece in [&key[..9], &key[key.len() - 9..], "%2d"] {
        assert!(!message.contains(piece), "{piece} in {}", error.message);
    }
}

#[tokio::test]
async fn keys_echoed_in_a_refusal_are_blanked_in_every_form() {
    let server = mock().await;
    let upstream = openrouter(&server);
    for echo in echoes() {
        let body = format!(r#"{{"error":{{"code":401,"message":"Invalid key {echo} provided"}}}}"#);
        server.set_fault(
            OPENROUTER_CHAT_PATH,
            Some(Fault::Raw {
                status: 401,
                content_type: "application/json".to_owned(),
                body,
            }),
        );
        let whole = complete(&client(), &upstream, &chat("m"), quick())
            .await
            .unwrap_err();
        let streamed = stream(&client(), &upstream, &chat("m"), quick())
            .await
            .unwrap_err();
        for error in [whole, streamed] {
            assert!(error.message.contains("[redacted]"), "{}", error.message);
            assert_no_key_form(&error);
        }
    }
}

#[tokio::test]
async fn keys_echoed_mid_stream_are_blanked() {
    let server = mock().await;
    let upstream = openrouter(&server);
    for echo in echoes() {
        let body = format!(
            "data: {{\"choices\":[{{\"delta\":{{\"content\":\"Hi\"}}}}]}}\n\n\
             data: {{\"error\":{{\"code\":502,\"message\":\"upstream rejected {echo}\"}}}}\n\n"
        );
        server.set_fault(
            OPENROUTER_CHAT_PATH,
            Some(Fault::Raw {
                status: 200,
                content_type: "text/event-stream".to_owned(),
                body,
            }),
        );
        let events = collect(
            stream(&client(), &upstream, &chat("m"), quick())
                .await
                .unwrap(),
        )
        .await;
        assert!(matches!(events[0], Ok(StreamEvent::Delta(_))), "{events:?}");
        let error = events.last().unwrap().as_ref().unwrap_err();
        assert!(error.message.contains("[redacted]"), "{}", error.message);
        assert_no_key_form(error);
    }
}

#[tokio::test]
async fn an_upstreams_own_address_in_its_error_page_is_hidden() {
    let server = mock().await;
    let upstream = openrouter(&server);
    let address = server.address.to_string();
    server.set_fault(
        OPENROUTER_CHAT_PATH,
        Some(Fault::Raw {
            status: 502,
            content_type: "text/html".to_owned(),
            body: format!(
                "<html><head><title>502: no backend for http://{address}/api/v1/chat/completions \
                 (host {})</title></head></html>",
                server.address.ip()
            ),
        }),
    );
    let error = complete(&client(), &upstream, &chat("m"), quick())
        .await
        .unwrap_err();
    assert!(
        error.message.contains("502: no backend"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("[address hidden]"),
        "{}",
        error.message
    );
    assert!(!error.message.contains(&address), "{}", error.message);
    assert!(
        !error.message.contains(&server.address.ip().to_string()),
        "{}",
        error.message
    );
}
