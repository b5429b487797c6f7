//! actix-web wiring: routes and the request middleware (request id, access log, metrics).

pub(crate) mod graphql;
pub(crate) mod health;
pub(crate) mod limits;
mod middleware;
mod ui;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::{App, HttpServer, web};

use crate::channels;
use crate::lifecycle::{notify, returns};
use crate::schema::AppSchema;
use crate::state::AppState;

/// The metrics-only server of ORDERFLOW_METRICS_BIND: `/metrics`, no token (the address is
/// one only the monitoring network reaches).
pub fn metrics_server(state: Arc<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let state = web::Data::from(state);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::Data::new(health::MetricsListener))
            .route("/metrics", web::get().to(health::metrics))
    })
    .workers(1)
    .shutdown_timeout(5)
    .listen(listener)?
    .run())
}

pub fn server(
    state: Arc<AppState>,
    schema: AppSchema,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let state = web::Data::from(state);
    let schema = web::Data::new(schema);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(schema.clone())
            .configure(limits::defaults)
            .wrap(
                actix_web::middleware::ErrorHandlers::new()
                    .handler(StatusCode::PAYLOAD_TOO_LARGE, limits::too_large),
            )
            .wrap(actix_web::middleware::from_fn(middleware::observe))
            .service(
                web::resource("/graphql")
                    .app_data(web::PayloadConfig::new(limits::GRAPHQL_BODY))
                    .route(web::post().to(graphql::execute))
                    .route(web::get().to(graphql::graphiql)),
            )
            .route("/graphql/ws", web::get().to(graphql::subscriptions))
            .service(
                web::resource("/webhooks/carriers/{carrier}")
                    .app_data(web::PayloadConfig::new(
                        crate::lifecycle::tracking::http::MAX_BODY,
                    ))
                    .route(web::post().to(crate::lifecycle::tracking::http::receive)),
            )
            .service(
                web::resource("/webhooks/email/{tenant}")
                    .app_data(web::PayloadConfig::new(
                        crate::lifecycle::support::http::MAX_BODY,
                    ))
                    .route(web::post().to(crate::lifecycle::support::http::receive)),
            )
            .service(
                web::resource("/webhooks/payments/{tenant}/{processor}")
                    .app_data(web::PayloadConfig::new(
                        crate::lifecycle::refund::webhook::MAX_BODY,
                    ))
                    .route(web::post().to(crate::lifecycle::refund::webhook::receive)),
            )
            .service(
                web::resource("/webhooks/{platform}/{connection}")
                    // Over the limit: 413 before the body is read to the end.
                    .app_data(web::PayloadConfig::new(channels::http::MAX_WEBHOOK_BODY))
                    .route(web::post().to(channels::http::receive)),
            )
            .route(
                "/exports/orders.csv",
                web::get().to(crate::bulk::export::orders_csv),
            )
            .route(
                "/exports/ledger.csv",
                web::get().to(crate::lifecycle::ledger::export::ledger_csv),
            )
            .route(
                "/exports/kpis.csv",
                web::get().to(crate::reporting::export::kpis_csv),
            )
            .route(
                "/exports/reconciliations/{file}",
                web::get().to(crate::lifecycle::reconcile::export::reconciliation_csv),
            )
            // Before the label route, which would take the slip's file name for a label's.
            .route(
                "/shipments/{id}/packing-slip.pdf",
                web::get().to(crate::lifecycle::warehouse::http::packing_slip),
            )
            .route(
                "/shipments/{id}/{file}",
                web::get().to(crate::lifecycle::shipping::http::label),
            )
            .route("/track/{token}", web::get().to(notify::http::track))
            .route("/returns/new/{token}", web::get().to(returns::http::form))
            .route(
                "/returns/new/{token}",
                web::post().to(returns::http::submit),
            )
            .route("/returns/{token}", web::get().to(returns::http::status))
            .route(
                "/returns/{token}/label.pdf",
                web::get().to(returns::http::label),
            )
            .route("/review/{token}", web::get().to(notify::http::review_form))
            .route(
                "/review/{token}",
                web::post().to(notify::http::review_submit),
            )
            .route(
                "/unsubscribe/{token}",
                web::get().to(notify::http::unsubscribe_form),
            )
            .route(
                "/confirm-sender/{token}",
                web::get().to(notify::sender::form),
            )
            .route(
                "/confirm-sender/{token}",
                web::post().to(notify::sender::confirm),
            )
            .route(
                "/unsubscribe/{token}",
                web::post().to(notify::http::unsubscribe),
            )
            .route("/healthz", web::get().to(health::healthz))
            .route("/readyz", web::get().to(health::readyz))
            .route("/metrics", web::get().to(health::metrics))
            .configure(ui::routes)
            .default_service(web::to(ui::fallback))
    })
    .shutdown_timeout(30)
    .listen(listener)?
    .run())
}
