//! Probes and metrics for operators.

use std::time::Duration;

use actix_web::{HttpResponse, web};

use crate::app::AppState;

/// The process is up and serving.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The process can do its work: the database, and Redis when configured, answer in time.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let timeout = Duration::from_secs(2);
    let database = match tokio::time::timeout(timeout, state.db.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(err)) => format!("error: {err}"),
        Err(_) => "error: timed out".to_owned(),
    };
    let redis = match &state.redis {
        None => "not configured".to_owned(),
        Some(conn) => match tokio::time::timeout(timeout, crate::infra::redis::ping(conn)).await {
            Ok(Ok(())) => "ok".to_owned(),
            Ok(Err(err)) => format!("error: {err}"),
            Err(_) => "error: timed out".to_owned(),
        },
    };
    let ready = database == "ok" && (redis == "ok" || redis == "not configured");
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not ready" },
        "database": database,
        "redis": redis,
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(&state.db))
}
