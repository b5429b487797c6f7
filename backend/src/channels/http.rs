//! `POST /webhooks/{platform}/{connection_id}`: the endpoint channels post to. It answers as
//! soon as the delivery is verified and stored; mapping happens in a job.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::attempts;
use serde_json::json;

use super::Platform;
use super::deliveries::{self, Receipt};
use crate::domain::ConnectionId;
use crate::state::AppState;

/// Largest webhook body accepted. Shopify's largest order payloads stay well below 1 MiB.
pub const MAX_WEBHOOK_BODY: usize = 1024 * 1024;

fn answer(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "code": code, "message": message }))
}

pub async fn receive(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    use actix_web::http::StatusCode as S;
    let (platform, connection) = path.into_inner();
    let Some(platform) = Platform::parse(&platform.to_ascii_lowercase()) else {
        return answer(S::NOT_FOUND, "NOT_FOUND", "no such platform");
    };
    // The connection's UUID, as in its webhookUrl, or its GraphQL id.
    let connection = uuid::Uuid::try_parse(&connection)
        .ok()
        .or_else(|| crate::graphql::relay::decode_id(&connection, "ChannelConnection", "id").ok());
    let Some(connection) = connection.map(ConnectionId) else {
        return answer(S::NOT_FOUND, "NOT_FOUND", "no such connection");
    };
    let started = std::time::Instant::now();
    let endpoint = format!("channel:{connection}");
    let client = crate::infra::client_ip::of(&request, &state.config);
    if let Err(err) = attempts::endpoint_open(&state.limiter, &endpoint, &client).await {
        return attempts::endpoint_refusal(err);
    }
    let receipt = deliveries::receive(&state, platform, connection, request.headers(), &body).await;
    if matches!(receipt, Ok(Receipt::BadSignature))
        && let Err(err) = attempts::endpoint_failed(&state.limiter, &endpoint, &client).await
    {
        tracing::warn!(error = %err.public_message(), "failed signature not counted");
    }
    let response = match &receipt {
        Ok(Receipt::Accepted(id)) => {
            HttpResponse::Ok().json(json!({ "status": "accepted", "delivery": id }))
        }
        Ok(Receipt::Duplicate) => HttpResponse::Ok().json(json!({ "status": "duplicate" })),
        Ok(Receipt::Ping) => HttpResponse::Ok().json(json!({ "status": "pong" })),
        Ok(Receipt::UnknownConnection) => answer(S::NOT_FOUND, "NOT_FOUND", "no such connection"),
        Ok(Receipt::BadSignature) => answer(
            S::UNAUTHORIZED,
            "BAD_SIGNATURE",
            "the signature does not match this connection's secret",
        ),
        Ok(Receipt::Malformed) => answer(S::BAD_REQUEST, "BAD_PAYLOAD", "the body is not JSON"),
        Err(err) => {
            tracing::error!(platform = platform.as_str(), error = %err.public_message(), "webhook not stored");
            // 5xx: the platform retries the delivery later.
            answer(S::SERVICE_UNAVAILABLE, "UNAVAILABLE", "try again later")
        }
    };
    let outcome = match &receipt {
        Ok(Receipt::Accepted(_)) => "accepted",
        Ok(Receipt::Duplicate) => "duplicate",
        Ok(Receipt::Ping) => "ping",
        Ok(Receipt::UnknownConnection) => "unknown_connection",
        Ok(Receipt::BadSignature) => "bad_signature",
        Ok(Receipt::Malformed) => "malformed",
        Err(_) => "error",
    };
    state
        .metrics
        .webhook(platform.as_str(), outcome, started.elapsed());
    response
}
