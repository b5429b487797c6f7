//! GraphQL subscriptions over `graphql-transport-ws` at `/graphql/ws`: the session's token goes
//! in `connection_init`; a dropped socket reconnects (with a renewed token) after a pause, until
//! the page that subscribed is left.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::{FutureExt, SinkExt, StreamExt, select};
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::on_cleanup;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use crate::api;

/// Whether the socket is up, for the page to say so.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Link {
    Connecting,
    Live,
    Down,
}

fn url() -> Option<String> {
    let loc = web_sys::window()?.location();
    let scheme = if loc.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/graphql/ws", loc.host().ok()?))
}

fn text(m: &Value) -> Message {
    Message::Text(m.to_string())
}

/// One connection: returns when it closes or `stop` is set.
async fn session(
    query: &str,
    vars: &Value,
    stop: &AtomicBool,
    on_next: &dyn Fn(Value),
    on_link: &dyn Fn(Link),
    renew: bool,
    acked: &Cell<bool>,
) -> Result<(), String> {
    let token = api::fresh_tokens(renew).await.map_err(|e| e.describe())?;
    let url = url().ok_or("no window location")?;
    let ws =
        WebSocket::open_with_protocol(&url, "graphql-transport-ws").map_err(|e| e.to_string())?;
    let (mut tx, mut rx) = ws.split();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", token.access) } });
    tx.send(text(&init)).await.map_err(|e| e.to_string())?;
    let mut subscribed = false;
    loop {
        if stop.load(Ordering::Relaxed) {
            let _ = tx.close().await;
            return Ok(());
        }
        let next = select! {
            m = rx.next().fuse() => m,
            _ = TimeoutFuture::new(2_000).fuse() => continue,
        };
        let Some(Ok(Message::Text(raw))) = next else {
            return Err("the connection closed".into());
        };
        let msg: Value = serde_json::from_str(&raw).unwrap_or_default();
        match msg["type"].as_str().unwrap_or_default() {
            "connection_ack" if !subscribed => {
                subscribed = true;
                acked.set(true);
                let sub = json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": vars } });
                tx.send(text(&sub)).await.map_err(|e| e.to_string())?;
                on_link(Link::Live);
            }
            "ping" => {
                tx.send(text(&json!({ "type": "pong" })))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            "next" => on_next(msg["payload"]["data"].clone()),
            "error" | "complete" => return Err(msg.to_string()),
            _ => {}
        }
    }
}

/// Subscribes for as long as the calling component lives; `on_next` gets each `data`.
pub fn subscribe(
    query: &'static str,
    vars: Value,
    on_next: impl Fn(Value) + 'static,
    on_link: impl Fn(Link) + 'static,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    on_cleanup(move || flag.store(true, Ordering::Relaxed));
    spawn_local(async move {
        let mut pause = 1_000;
        // A connection refused before its acknowledgement (a lapsed or revoked token) tries
        // again with a renewed one.
        let mut renew = false;
        let mut last_renewal = 0.0_f64;
        while !stop.load(Ordering::Relaxed) {
            on_link(Link::Connecting);
            let acked = Cell::new(false);
            let _ = session(query, &vars, &stop, &on_next, &on_link, renew, &acked).await;
            if stop.load(Ordering::Relaxed) {
                break;
            }
            on_link(Link::Down);
            // At most one forced renewal per five minutes: a server that is down is not a
            // lapsed token, and every renewal spends a single-use refresh token.
            renew = !acked.get() && js_sys::Date::now() - last_renewal > 300_000.0;
            if renew {
                last_renewal = js_sys::Date::now();
            }
            if acked.get() {
                pause = 1_000;
            }
            TimeoutFuture::new(pause).await;
            pause = (pause * 2).min(30_000);
        }
    });
}
