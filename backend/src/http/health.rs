//! Probes and metrics for operators.

use std::time::Duration;

use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// The process is up and serving.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The process can do its work: the database, and Redis when configured, answer in time.
/// Each says `ok`, `error` or `timeout`; why is logged, never answered (a probe is public).
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let timeout = Duration::from_secs(2);
    let database = verdict(
        "the database",
        tokio::time::timeout(timeout, state.db.ping()).await,
    );
    let redis = match &state.redis {
        None => "not configured",
        Some(conn) => verdict(
            "Redis",
            tokio::time::timeout(timeout, crate::infra::redis::ping(conn)).await,
        ),
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

/// One word for a dependency's answer; the error itself goes to the log only.
fn verdict<E: std::fmt::Display>(
    what: &str,
    answer: Result<Result<(), E>, tokio::time::error::Elapsed>,
) -> &'static str {
    match answer {
        Ok(Ok(())) => "ok",
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: {what} does not answer");
            "error"
        }
        Err(_) => "timeout",
    }
}

/// Set on the metrics-only listener (ORDERFLOW_METRICS_BIND): no token asked there.
#[derive(Clone, Copy)]
pub struct MetricsListener;

/// Prometheus metrics: on the metrics listener, or with `Authorization: Bearer
/// $ORDERFLOW_METRICS_TOKEN`; not served to anyone else (they say how busy each tenant is).
pub async fn metrics(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    listener: Option<web::Data<MetricsListener>>,
) -> HttpResponse {
    if listener.is_none() {
        let Some(expected) = &state.config.metrics_token else {
            return HttpResponse::NotFound().json(serde_json::json!({
                "code": "NOT_FOUND",
                "message": "metrics are served on ORDERFLOW_METRICS_BIND, or here with ORDERFLOW_METRICS_TOKEN",
            }));
        };
        let given = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let matches: bool =
            subtle::ConstantTimeEq::ct_eq(given.trim().as_bytes(), expected.expose().as_bytes())
                .into();
        if !matches {
            return HttpResponse::Unauthorized()
                .insert_header((actix_web::http::header::WWW_AUTHENTICATE, "Bearer"))
                .json(serde_json::json!({
                    "code": "UNAUTHENTICATED",
                    "message": "send Authorization: Bearer <ORDERFLOW_METRICS_TOKEN>",
                }));
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(&state.db))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn readiness_words_never_carry_the_error_text() {
        let failed: Result<Result<(), String>, _> = Ok(Err(
            "password authentication failed for user \"orderflow\" at 10.0.0.5".into(),
        ));
        assert_eq!(verdict("the database", failed), "error");
        let slow = tokio::time::timeout(
            Duration::from_millis(1),
            std::future::pending::<Result<(), String>>(),
        )
        .await;
        assert_eq!(verdict("Redis", slow), "timeout");
        assert_eq!(verdict::<String>("Redis", Ok(Ok(()))), "ok");
    }
}
