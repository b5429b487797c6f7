//! Subscriptions over graphql-transport-ws.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{TestApp, spawn_app};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/graphql/ws`, authenticates in `connection_init`, and subscribes to `query`.
/// Returns the socket, or the close/error message when the server refuses.
pub async fn subscribe(app: &TestApp, token: Option<&str>, query: &str) -> Result<Socket, String> {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| e.to_string())?;
    let payload = match token {
        Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
        None => json!({}),
    };
    ws.send(Message::Text(
        json!({ "type": "connection_init", "payload": payload })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    match next_json(&mut ws, Duration::from_secs(5)).await {
        Some(msg) if msg["type"] == "connection_ack" => {}
        other => return Err(format!("no ack: {other:?}")),
    }
    ws.send(Message::Text(
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    Ok(ws)
}

/// The next JSON message within `wait`, or None (timeout or closed).
pub async fn next_json(ws: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "ping" {
                    continue;
                }
                return Some(value);
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Some(
                    json!({ "type": "close", "reason": frame.map(|f| f.reason.to_string()) }),
                );
            }
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

pub const AUDIT_EVENTS: &str = "subscription { auditEvents { action actorKind target } }";

#[tokio::test]
async fn audit_events_stream_to_the_tenants_admins_and_no_one_else() {
    let app = spawn_app().await;
    let a = app.sign_up("Alpha", "alpha@example.com").await;
    let b = app.sign_up("Beta", "beta@example.com").await;
    let mut a_ws = subscribe(&app, Some(&a.access), AUDIT_EVENTS)
        .await
        .unwrap();
    let mut b_ws = subscribe(&app, Some(&b.access), AUDIT_EVENTS)
        .await
        .unwrap();
    // Let both subscriptions register before the event.
    tokio::time::sleep(Duration::from_millis(300)).await;

    app.create_api_key(&a, &["TENANT_READ"]).await;
    let msg = next_json(&mut a_ws, Duration::from_secs(5))
        .await
        .expect("an event for tenant A");
    assert_eq!(msg["type"], "next", "{msg}");
    assert_eq!(
        msg["payload"]["data"]["auditEvents"]["action"],
        "api_key.created"
    );
    assert_eq!(
        next_json(&mut b_ws, Duration::from_millis(800)).await,
        None,
        "tenant B hears nothing of A"
    );
}

#[tokio::test]
async fn subscriptions_need_credentials_and_the_permission() {
    let app = spawn_app().await;
    let owner = app.sign_up("Subs", "subs@example.com").await;
    let mut anon = subscribe(&app, None, AUDIT_EVENTS).await.unwrap();
    let msg = next_json(&mut anon, Duration::from_secs(5)).await.unwrap();
    // A refused field arrives as a result with errors, then the subscription completes.
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{msg}"
    );
    assert_eq!(msg["payload"]["data"], serde_json::Value::Null);

    let (_, key) = app.create_api_key(&owner, &["TENANT_READ"]).await;
    let mut narrow = subscribe(&app, Some(&key), AUDIT_EVENTS).await.unwrap();
    let msg = next_json(&mut narrow, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{msg}"
    );

    assert!(
        subscribe(&app, Some("not-a-token"), AUDIT_EVENTS)
            .await
            .is_err(),
        "a bad token is refused at connection_init"
    );
}
