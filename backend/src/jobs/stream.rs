//! With Redis: the outbox relayed to a Redis stream that workers read through a consumer
//! group (XADD / XREADGROUP / XAUTOCLAIM / XACK). The job row stays the truth: a stream entry
//! only says "job X is due", and a worker claims the row by id with a lease before running
//! it, so a duplicate entry, an entry whose job another worker already took, or an entry lost
//! with a restarted Redis costs nothing. The relay re-sends jobs that were relayed but not
//! taken within a lease (Redis lost them) and jobs whose lease lapsed (their worker died).

use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamReadOptions, StreamReadReply};
use redis::{AsyncCommands, RedisResult};

const GROUP: &str = "workers";
/// The stream is trimmed to about this many entries (acknowledged entries are deleted).
const MAX_LEN: usize = 100_000;

#[derive(Clone)]
pub struct JobStream {
    conn: ConnectionManager,
    key: String,
}

/// A stream entry and the job it names.
#[derive(Clone, Debug)]
pub struct Entry {
    pub entry: String,
    pub job: uuid::Uuid,
}

fn entries(ids: impl IntoIterator<Item = redis::streams::StreamId>) -> Vec<Entry> {
    ids.into_iter()
        .filter_map(|id| {
            let job: String = id.get("job")?;
            Some(Entry {
                entry: id.id,
                job: uuid::Uuid::parse_str(&job).ok()?,
            })
        })
        .collect()
}

impl JobStream {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            key: format!("{prefix}jobs"),
        }
    }

    /// Creates the consumer group (and the stream) unless it exists: after a Redis restart
    /// without persistence both are gone.
    pub async fn ensure_group(&self) -> RedisResult<()> {
        let mut conn = self.conn.clone();
        let created: RedisResult<()> = conn.xgroup_create_mkstream(&self.key, GROUP, "0").await;
        match created {
            Err(err) if err.code() == Some("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    pub async fn publish(&self, jobs: &[uuid::Uuid]) -> RedisResult<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for job in jobs {
            pipe.cmd("XADD")
                .arg(&self.key)
                .arg("MAXLEN")
                .arg("~")
                .arg(MAX_LEN)
                .arg("*")
                .arg("job")
                .arg(job.to_string())
                .ignore();
        }
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await
    }

    /// New entries for `consumer`; with `block_ms`, waiting up to that long for one.
    pub async fn read(
        &self,
        consumer: &str,
        count: usize,
        block_ms: Option<usize>,
    ) -> RedisResult<Vec<Entry>> {
        let mut options = StreamReadOptions::default()
            .group(GROUP, consumer)
            .count(count);
        if let Some(ms) = block_ms {
            options = options.block(ms);
        }
        let mut conn = self.conn.clone();
        let reply: Option<StreamReadReply> =
            conn.xread_options(&[&self.key], &[">"], &options).await?;
        Ok(reply
            .map(|r| r.keys.into_iter().flat_map(|k| entries(k.ids)).collect())
            .unwrap_or_default())
    }

    /// Entries another consumer read but never acknowledged within `min_idle_ms` (it died):
    /// handed to `consumer`.
    pub async fn reclaim(
        &self,
        consumer: &str,
        min_idle_ms: usize,
        count: usize,
    ) -> RedisResult<Vec<Entry>> {
        let mut conn = self.conn.clone();
        let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
            .arg(&self.key)
            .arg(GROUP)
            .arg(consumer)
            .arg(min_idle_ms)
            .arg("0-0")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await?;
        Ok(entries(reply.claimed))
    }

    /// Acknowledges and deletes handled entries.
    pub async fn ack(&self, done: &[Entry]) -> RedisResult<()> {
        if done.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = done.iter().map(|e| e.entry.as_str()).collect();
        let mut conn = self.conn.clone();
        redis::pipe()
            .xack(&self.key, GROUP, &ids)
            .ignore()
            .xdel(&self.key, &ids)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
    }
}
