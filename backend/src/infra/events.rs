//! Live events for GraphQL subscriptions. In one process a broadcast channel carries them;
//! with Redis, events are published to a Redis channel and every process relays what it
//! hears into its own broadcast, so a subscriber on one process sees events from all.

use futures_util::{Stream, StreamExt};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_stream_shim::BroadcastStream;

use crate::domain::TenantId;

/// Something that happened in a tenant, for its live subscribers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TenantEvent {
    pub tenant: TenantId,
    pub topic: String,
    pub payload: serde_json::Value,
}

pub mod topics {
    pub const AUDIT: &str = "audit";
    pub const ORDERS: &str = "orders";
}

#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<TenantEvent>,
    redis: Option<(ConnectionManager, String)>,
}

/// Events a slow subscriber may fall behind by before it skips ahead.
const CAPACITY: usize = 1024;

impl EventBus {
    pub fn in_process() -> Self {
        Self {
            local: broadcast::channel(CAPACITY).0,
            redis: None,
        }
    }

    /// Relays the Redis channel into this process; reconnects until the process ends.
    pub fn with_redis(client: redis::Client, conn: ConnectionManager, prefix: &str) -> Self {
        let channel = format!("{prefix}events");
        let local = broadcast::channel(CAPACITY).0;
        tokio::spawn(relay(client, channel.clone(), local.clone()));
        Self {
            local,
            redis: Some((conn, channel)),
        }
    }

    pub async fn publish(&self, event: TenantEvent) {
        match &self.redis {
            None => {
                // No subscriber in this process is not an error: the event is for none.
                if self.local.send(event).is_err() {
                    tracing::trace!("event with no live subscriber");
                }
            }
            Some((conn, channel)) => {
                let mut conn = conn.clone();
                let result: redis::RedisResult<()> = match serde_json::to_string(&event) {
                    Ok(json) => {
                        redis::cmd("PUBLISH")
                            .arg(channel)
                            .arg(json)
                            .query_async(&mut conn)
                            .await
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "event not serialisable");
                        return;
                    }
                };
                if let Err(err) = result {
                    // Live events are best effort: the durable record is in the database.
                    tracing::warn!(error = %err, "event not published to redis");
                }
            }
        }
    }

    /// Events of one tenant, on one topic.
    pub fn subscribe(
        &self,
        tenant: TenantId,
        topic: &'static str,
    ) -> impl Stream<Item = TenantEvent> + use<> {
        BroadcastStream::new(self.local.subscribe()).filter_map(move |event| async move {
            event.filter(|e| e.tenant == tenant && e.topic == topic)
        })
    }
}

async fn relay(client: redis::Client, channel: String, local: broadcast::Sender<TenantEvent>) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if let Err(err) = pubsub.subscribe(&channel).await {
                    tracing::warn!(error = %err, "redis event subscription failed");
                } else {
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let Ok(payload) = msg.get_payload::<String>() else {
                            continue;
                        };
                        match serde_json::from_str::<TenantEvent>(&payload) {
                            Ok(event) => {
                                if local.send(event).is_err() {
                                    tracing::trace!("event with no live subscriber");
                                }
                            }
                            Err(err) => tracing::warn!(error = %err, "unreadable event on redis"),
                        }
                    }
                    tracing::warn!("redis event subscription ended; reconnecting");
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot subscribe to redis events"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// A broadcast receiver as a stream that skips, rather than ends, when it lags.
mod tokio_stream_shim {
    use futures_util::Stream;
    use tokio::sync::broadcast;

    pub struct BroadcastStream;

    impl BroadcastStream {
        #[allow(clippy::new_ret_no_self)]
        pub fn new<T: Clone + Send + 'static>(
            rx: broadcast::Receiver<T>,
        ) -> impl Stream<Item = Option<T>> {
            futures_util::stream::unfold(rx, |mut rx| async move {
                loop {
                    match rx.recv().await {
                        Ok(item) => return Some((Some(item), rx)),
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(skipped = n, "subscriber fell behind; events skipped");
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            })
        }
    }
}
