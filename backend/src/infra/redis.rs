//! Redis connection, when REDIS_URL is configured.

use anyhow::Context;
use redis::aio::ConnectionManager;

pub async fn connect(url: &str) -> anyhow::Result<(redis::Client, ConnectionManager)> {
    let client = redis::Client::open(url).context("REDIS_URL: not a valid Redis URL")?;
    let manager = ConnectionManager::new(client.clone())
        .await
        .context("REDIS_URL: cannot connect")?;
    Ok((client, manager))
}

pub async fn ping(conn: &ConnectionManager) -> redis::RedisResult<()> {
    let mut conn = conn.clone();
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .map(|_| ())
}
