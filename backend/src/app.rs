//! The running application: what this build registers (job kinds, event subscribers), the
//! HTTP server and the background workers.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use crate::config::Config;
use crate::jobs;
use crate::schema::{self, AppSchema};
pub use crate::state::AppState;

impl AppState {
    /// Registers the job kinds and event subscribers of this build, then connects (see
    /// [`AppState::connect`]): the one way the application, its commands and its tests
    /// build their state.
    pub async fn build(config: Config) -> anyhow::Result<Arc<Self>> {
        jobs::Registry::install(job_kinds);
        crate::lifecycle::events::Subscribers::install(event_subscribers);
        AppState::connect(config).await
    }
}

/// Every kind of background job, with its handler: the one place a job kind is named.
pub fn job_kinds() -> jobs::Registry {
    use crate::lifecycle::notify;
    use crate::lifecycle::transition::wake;
    jobs::Registry::default()
        .batched::<wake::AdvanceOrder>()
        .single::<wake::ExpireReservation>()
        .single::<wake::RetryBackorders>()
        .batched::<notify::jobs::SendNotification>()
        .single::<wake::WatchDeliveries>()
        .single::<crate::channels::deliveries::ProcessDelivery>()
        .single::<crate::channels::poll::PollChannel>()
        .single::<crate::webhooks::service::DeliverWebhook>()
        .single::<crate::automation::service::RunRule>()
        .single::<crate::reporting::service::RollUpKpis>()
        .single::<crate::lifecycle::shipping::purchase::BuyLabel>()
        .single::<crate::lifecycle::shipping::purchase::RefundPostage>()
        .single::<crate::lifecycle::returns::label::remote::BuyReturnLabel>()
        .single::<crate::channels::push::PushToChannel>()
        .single::<crate::channels::push::ship_by::WatchShipBy>()
        .single::<crate::channels::stock::StockToChannel>()
        .single::<crate::channels::stock::CheckChannelStock>()
        .single::<crate::channels::stock::feed::CheckStockFeed>()
        .single::<crate::lifecycle::refund::remote::SendRefund>()
        .single::<crate::lifecycle::refund::remote::RefundThroughChannel>()
}

/// Who hears of an order's new timeline events (see [`crate::lifecycle::events`]): the one
/// place a reaction to them is registered.
pub fn event_subscribers() -> crate::lifecycle::events::Subscribers {
    use crate::order::timeline::OrderEvent;
    use crate::tenancy::TenantTx;
    use futures_util::future::BoxFuture;
    type Reacted<'a> = BoxFuture<'a, Result<(), sea_orm::DbErr>>;

    /// The shopper's email, when it is that kind of event.
    fn notify<'a>(tx: &'a TenantTx, events: &'a [OrderEvent]) -> Reacted<'a> {
        Box::pin(crate::lifecycle::notify::service::on_events(tx, events))
    }
    /// A delivery to each outbound webhook subscribed to the event.
    fn webhooks<'a>(tx: &'a TenantTx, events: &'a [OrderEvent]) -> Reacted<'a> {
        Box::pin(crate::webhooks::service::on_events(tx, events))
    }
    /// A job for each enabled automation rule the event triggers.
    fn automation<'a>(tx: &'a TenantTx, events: &'a [OrderEvent]) -> Reacted<'a> {
        Box::pin(crate::automation::service::on_events(tx, events))
    }
    /// A push to the order's sales channel (fulfilment, tracking) for each step it hears of.
    fn channels<'a>(tx: &'a TenantTx, events: &'a [OrderEvent]) -> Reacted<'a> {
        Box::pin(crate::channels::push::on_events(tx, events))
    }
    /// A new order's `order.received` rules, in the capturing transaction.
    fn received_rules<'a>(
        tx: &'a TenantTx,
        events: &'a [OrderEvent],
    ) -> BoxFuture<'a, Result<Vec<OrderEvent>, sea_orm::DbErr>> {
        Box::pin(crate::automation::service::at_once(tx, events))
    }

    /// A settled day's stored KPI rollup is forgotten, to be computed again.
    fn reporting<'a>(tx: &'a TenantTx, at: chrono::DateTime<chrono::Utc>) -> Reacted<'a> {
        Box::pin(crate::reporting::store::touch(tx, at))
    }

    /// A channel's cancellation or new lines: labels voided, stock given back or allocated again.
    fn channel_changed<'a>(
        tx: &'a TenantTx,
        change: crate::lifecycle::events::ChannelChange,
    ) -> BoxFuture<'a, Result<Option<OrderEvent>, sea_orm::DbErr>> {
        Box::pin(crate::lifecycle::engine::on_channel_change(tx, change))
    }
    /// A return label's scan moves its return on.
    fn returns<'a>(
        tx: &'a TenantTx,
        scan: crate::lifecycle::events::CarrierScan<'a>,
    ) -> BoxFuture<'a, Result<crate::lifecycle::events::ScanTaken, sea_orm::DbErr>> {
        Box::pin(crate::lifecycle::returns::service::on_carrier_scan(
            tx, scan,
        ))
    }

    crate::lifecycle::events::Subscribers::new()
        .react("notify", notify)
        .react("webhooks", webhooks)
        .react("automation", automation)
        .react("channels", channels)
        .at_capture(received_rules)
        .restated(reporting)
        .channel_changed(channel_changed)
        .other_scan(returns)
}

/// A running server, for tests and embedders: where it listens and how to stop it.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub server: actix_web::dev::ServerHandle,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    stop_workers: watch::Sender<bool>,
}

impl Running {
    pub async fn stop(self) {
        self.stop_workers.send_replace(true);
        self.server.stop(true).await;
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "the HTTP server stopped with an error"),
            Err(err) => tracing::warn!(error = %err, "the HTTP server task ended abnormally"),
        }
    }
}

/// Binds and starts the HTTP server and, with `workers`, the background workers.
pub fn start(
    state: Arc<AppState>,
    listener: TcpListener,
    workers: bool,
) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let schema: AppSchema = schema::build_schema(state.clone());
    let (stop_workers, stop_rx) = watch::channel(false);
    // The support-intent model trains once per process (about 0.2 s): now, off the async
    // threads, rather than inside the first inbound message's transaction.
    tokio::task::spawn_blocking(|| {
        std::sync::LazyLock::force(&crate::lifecycle::support::intent::MODEL);
    });
    if workers {
        jobs::spawn_all(state.clone(), stop_rx);
    }
    let server = crate::http::server(state, schema, listener)?;
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(Running {
        addr,
        server: handle,
        task,
        stop_workers,
    })
}

/// `orderflow serve`: runs until SIGTERM or Ctrl-C, then drains in-flight requests.
pub async fn serve(state: Arc<AppState>) -> anyhow::Result<()> {
    let bind = state.config.bind.clone();
    let listener = TcpListener::bind(&bind)
        .with_context(|| format!("ORDERFLOW_BIND: cannot listen on {bind}"))?;
    let metrics = match &state.config.metrics_bind {
        Some(bind) => {
            let listener = TcpListener::bind(bind)
                .with_context(|| format!("ORDERFLOW_METRICS_BIND: cannot listen on {bind}"))?;
            tracing::info!(addr = %bind, "metrics on http://{bind}/metrics");
            Some(tokio::spawn(crate::http::metrics_server(
                state.clone(),
                listener,
            )?))
        }
        None => None,
    };
    let running = start(state, listener, true)?;
    tracing::info!(addr = %running.addr, "orderflow listening on http://{}", running.addr);
    let Running {
        task, stop_workers, ..
    } = running;
    // actix handles SIGTERM/SIGINT itself: it stops accepting, drains, and ends the task.
    let result = task.await.context("server task failed")?;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    // Workers that already stopped have dropped their receivers: nothing to tell them.
    stop_workers.send_replace(true);
    tokio::time::sleep(Duration::from_millis(100)).await;
    result.context("HTTP server failed")
}

/// `orderflow worker`: background workers only, until SIGTERM or Ctrl-C.
pub async fn work(state: Arc<AppState>) -> anyhow::Result<()> {
    let (stop, stop_rx) = watch::channel(false);
    let handles = jobs::spawn_all(state, stop_rx);
    tracing::info!("orderflow worker running");
    shutdown_signal().await;
    tracing::info!("shutting down workers");
    stop.send_replace(true);
    for handle in handles {
        if let Err(err) = handle.await
            && err.is_panic()
        {
            tracing::error!(error = %err, "a worker panicked while stopping");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => ctrl_c().await,
        }
    }
    #[cfg(not(unix))]
    {
        ctrl_c().await;
    }
}

/// Waits for Ctrl-C; without a handler (none can be installed), forever.
async fn ctrl_c() {
    if let Err(err) = tokio::signal::ctrl_c().await {
        tracing::warn!(error = %err, "no Ctrl-C handler: stop with SIGTERM");
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::job_kinds;

    #[test]
    fn remote_calls_are_gated_and_have_tighter_limits_than_internal_work() {
        let kinds = job_kinds();
        assert_eq!(
            kinds.calling_out(),
            [
                "channel.push",
                "channel.stock",
                "channel.stock_check",
                "channel.stock_feed",
                "channels.poll",
                "refund.channel",
                "refund.send",
                "returns.buy_label",
                "shipping.buy_label",
                "shipping.refund_postage",
                "webhook.deliver"
            ]
        );
        let limit = |name| kinds.kind(name).unwrap().time_limit;
        assert!(limit("webhook.deliver") < limit("order.advance"));
        assert!(limit("shipping.buy_label") < limit("order.advance"));
        assert!(limit("refund.send") < limit("order.advance"));
        assert_eq!(kinds.kind("order.advance").unwrap().batch, 64);
        assert!(kinds.kind("no.such.kind").is_none());
    }

    #[test]
    fn a_job_span_finds_the_order_in_a_stored_payload() {
        let kinds = job_kinds();
        let order = uuid::Uuid::now_v7();
        let advance = kinds.kind("order.advance").unwrap();
        let found = (advance.order)(&serde_json::json!({ "orderId": order }));
        assert_eq!(found.map(|o| o.uuid()), Some(order));
        let rollup = kinds.kind("reporting.rollup").unwrap();
        assert_eq!((rollup.order)(&serde_json::json!({})), None);
    }
}
