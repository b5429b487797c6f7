//! `POST /webhooks/carriers/{carrier}`: tracking events from a carrier or tracking service,
//! `{carrier}` being the carrier's id (its `trackingWebhookUrl`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::service::{self, Receipt};
use crate::auth::attempts;
use crate::state::AppState;

/// Largest tracking body accepted (a full history of a long international trip is ~50 KiB).
pub const MAX_BODY: usize = 512 * 1024;

#[derive(serde::Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn answer(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "code": code, "message": message }))
}

pub async fn receive(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<TokenQuery>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    use actix_web::http::StatusCode as S;
    let raw = path.into_inner();
    let carrier = uuid::Uuid::try_parse(&raw)
        .ok()
        .or_else(|| crate::graphql::relay::decode_id(&raw, "Carrier", "carrier").ok());
    let Some(carrier) = carrier else {
        return answer(S::NOT_FOUND, "NOT_FOUND", "no such carrier");
    };
    let state = state.into_inner();
    let started = std::time::Instant::now();
    let endpoint = format!("carrier:{carrier}");
    let client = crate::infra::client_ip::of(&request, &state.config);
    if let Err(err) = attempts::endpoint_open(&state.limiter, &endpoint, &client).await {
        return attempts::endpoint_refusal(err);
    }
    let receipt = service::receive(
        &state,
        carrier,
        request.headers(),
        query.token.as_deref(),
        &body,
    )
    .await;
    if matches!(receipt, Ok(Receipt::BadSignature))
        && let Err(err) = attempts::endpoint_failed(&state.limiter, &endpoint, &client).await
    {
        tracing::warn!(error = %err.public_message(), "failed signature not counted");
    }
    let (response, outcome) = match receipt {
        Ok(Receipt::Applied { new_scans }) => (
            HttpResponse::Ok().json(json!({ "status": "applied", "newScans": new_scans })),
            "applied",
        ),
        Ok(Receipt::Duplicate) => (
            HttpResponse::Ok().json(json!({ "status": "duplicate" })),
            "duplicate",
        ),
        Ok(Receipt::UnknownTrackingNumber) => (
            // Acknowledged: the source sends for every tracker of the account.
            HttpResponse::Ok().json(json!({ "status": "unknown_tracking_number" })),
            "unknown_tracking_number",
        ),
        Ok(Receipt::Ignored(why)) => (
            HttpResponse::Ok().json(json!({ "status": "ignored", "message": why })),
            "ignored",
        ),
        Ok(Receipt::UnknownCarrier) => (
            answer(S::NOT_FOUND, "NOT_FOUND", "no such carrier"),
            "unknown_carrier",
        ),
        Ok(Receipt::BadSignature) => (
            answer(
                S::UNAUTHORIZED,
                "BAD_SIGNATURE",
                "the signature does not match this carrier's webhook secret",
            ),
            "bad_signature",
        ),
        Ok(Receipt::Malformed(why)) => (answer(S::BAD_REQUEST, "BAD_PAYLOAD", &why), "malformed"),
        Err(err) => {
            tracing::error!(error = %err, "tracking webhook not applied");
            (
                answer(S::SERVICE_UNAVAILABLE, "UNAVAILABLE", "try again later"),
                "error",
            )
        }
    };
    state.metrics.webhook("carrier", outcome, started.elapsed());
    response
}
