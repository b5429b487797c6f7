//! Redis connection, when REDIS_URL is configured.

use std::time::Duration;

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub async fn connect(url: &str) -> anyhow::Result<(redis::Client, ConnectionManager)> {
    let client = redis::Client::open(url).context("REDIS_URL: not a valid Redis URL")?;
    let manager = manager(&client)
        .await
        .context("REDIS_URL: cannot connect")?;
    Ok((client, manager))
}

/// A reconnecting connection that fails fast while Redis is away (the default retries with
/// backoff and waits without limit, which would stall every caller through an outage);
/// callers fall back or retry on their own. Answers may take up to 5 s: blocking stream
/// reads wait 1 s.
pub async fn manager(client: &redis::Client) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_with_config(client.clone(), config).await
}

pub async fn ping(conn: &ConnectionManager) -> redis::RedisResult<()> {
    let mut conn = conn.clone();
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .map(|_| ())
}
