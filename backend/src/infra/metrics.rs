//! Prometheus metrics: HTTP and GraphQL request counts and latencies, database pool use.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::infra::db::Db;

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub graphql_requests: IntCounterVec,
    pub graphql_duration: HistogramVec,
    webhooks: IntCounterVec,
    webhook_duration: HistogramVec,
    db_pool: IntGaugeVec,
    emails: IntCounterVec,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("orderflow".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let graphql_requests = IntCounterVec::new(
            Opts::new(
                "graphql_requests_total",
                "GraphQL operations by type and outcome",
            ),
            &["operation", "outcome"],
        )?;
        let graphql_duration = HistogramVec::new(
            HistogramOpts::new(
                "graphql_request_duration_seconds",
                "GraphQL operation latency",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["operation"],
        )?;
        let webhooks = IntCounterVec::new(
            Opts::new("webhooks_total", "Channel webhooks by platform and outcome"),
            &["platform", "outcome"],
        )?;
        let webhook_duration = HistogramVec::new(
            HistogramOpts::new(
                "webhook_duration_seconds",
                "Time to verify and store a webhook",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["platform"],
        )?;
        let db_pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(graphql_requests.clone()))?;
        registry.register(Box::new(graphql_duration.clone()))?;
        registry.register(Box::new(webhooks.clone()))?;
        registry.register(Box::new(webhook_duration.clone()))?;
        let emails = IntCounterVec::new(
            Opts::new("emails_total", "Emails by kind and outcome (sent, failed)"),
            &["kind", "outcome"],
        )?;
        registry.register(Box::new(db_pool.clone()))?;
        registry.register(Box::new(emails.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            graphql_requests,
            graphql_duration,
            webhooks,
            webhook_duration,
            db_pool,
            emails,
        })
    }

    pub fn webhook(&self, platform: &str, outcome: &str, elapsed: std::time::Duration) {
        self.webhooks.with_label_values(&[platform, outcome]).inc();
        self.webhook_duration
            .with_label_values(&[platform])
            .observe(elapsed.as_secs_f64());
    }

    pub fn email(&self, kind: &str, outcome: &str) {
        self.emails.with_label_values(&[kind, outcome]).inc();
    }

    /// The text exposition, with pool gauges read at scrape time.
    pub fn render(&self, db: &Db) -> String {
        let stats = db.pool_stats();
        self.db_pool
            .with_label_values(&["open"])
            .set(i64::from(stats.size));
        self.db_pool
            .with_label_values(&["idle"])
            .set(i64::from(stats.idle));
        self.db_pool
            .with_label_values(&["in_use"])
            .set(i64::from(stats.size.saturating_sub(stats.idle)));
        self.db_pool
            .with_label_values(&["max"])
            .set(i64::from(stats.max));
        let mut out = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %err, "cannot encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
