//! `POST /webhooks/payments/{tenant}/{processor}`: Stripe's events about refunds
//! (`refund.updated`, `refund.failed`, `charge.refund.updated`), signed with the processor's
//! webhook secret in Stripe's scheme (`Stripe-Signature: t=…,v1=…`, five minutes' tolerance),
//! checked before the body is parsed. An event ends the refund it names; a repeat changes
//! nothing (a refund is ended once).

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::processors;
use super::provider::ProviderOutcome;
use super::remote::settle;
use super::repo::{self, PENDING};
use super::stripe::{Status, read_refund};
use crate::auth::attempts;
use crate::domain::TenantId;
use crate::infra::signature::timestamped;
use crate::state::AppState;
use crate::tenancy::TenantTx;

/// Largest event accepted (a refund event is ~2 KiB).
pub const MAX_BODY: usize = 256 * 1024;
/// Stripe's own default tolerance for a signed timestamp.
const TOLERANCE_SECS: i64 = 300;

const REFUND_EVENTS: [&str; 4] = [
    "refund.updated",
    "refund.failed",
    "charge.refund.updated",
    "refund.created",
];

#[derive(Debug, PartialEq, Eq)]
pub enum Receipt {
    Applied,
    /// The refund had already ended, or is still pending.
    Unchanged,
    /// An event about something else, or a refund Orderflow did not ask for.
    Ignored(String),
    UnknownProcessor,
    BadSignature,
    Malformed(String),
}

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
    let (tenant, processor) = path.into_inner();
    let (Ok(tenant), Ok(processor)) = (
        uuid::Uuid::try_parse(&tenant),
        uuid::Uuid::try_parse(&processor),
    ) else {
        return answer(S::NOT_FOUND, "NOT_FOUND", "no such payment processor");
    };
    let state = state.into_inner();
    let started = std::time::Instant::now();
    let endpoint = format!("processor:{processor}");
    let client = crate::infra::client_ip::of(&request, &state.config);
    if let Err(err) = attempts::endpoint_open(&state.limiter, &endpoint, &client).await {
        return attempts::endpoint_refusal(err);
    }
    let signature = request
        .headers()
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let receipt = apply(&state, TenantId(tenant), processor, signature, &body).await;
    if matches!(receipt, Ok(Receipt::BadSignature))
        && let Err(err) = attempts::endpoint_failed(&state.limiter, &endpoint, &client).await
    {
        tracing::warn!(error = %err.public_message(), "failed signature not counted");
    }
    let (response, outcome) = match receipt {
        Ok(Receipt::Applied) => (
            HttpResponse::Ok().json(json!({ "status": "applied" })),
            "applied",
        ),
        Ok(Receipt::Unchanged) => (
            HttpResponse::Ok().json(json!({ "status": "unchanged" })),
            "duplicate",
        ),
        Ok(Receipt::Ignored(why)) => (
            HttpResponse::Ok().json(json!({ "status": "ignored", "message": why })),
            "ignored",
        ),
        Ok(Receipt::UnknownProcessor) => (
            answer(S::NOT_FOUND, "NOT_FOUND", "no such payment processor"),
            "unknown_processor",
        ),
        Ok(Receipt::BadSignature) => (
            answer(
                S::UNAUTHORIZED,
                "BAD_SIGNATURE",
                "the signature does not match this processor's webhook secret",
            ),
            "bad_signature",
        ),
        Ok(Receipt::Malformed(why)) => (answer(S::BAD_REQUEST, "BAD_PAYLOAD", &why), "malformed"),
        Err(err) => {
            tracing::error!(error = %err, "payment webhook not applied");
            (
                answer(S::SERVICE_UNAVAILABLE, "UNAVAILABLE", "try again later"),
                "error",
            )
        }
    };
    state.metrics.webhook("payment", outcome, started.elapsed());
    response
}

pub async fn apply(
    state: &Arc<AppState>,
    tenant: TenantId,
    processor: uuid::Uuid,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Receipt, sea_orm::DbErr> {
    let secret = {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let p = processors::get(&tx, tenant, processor).await?;
        tx.commit().await?;
        let Some(p) = p else {
            return Ok(Receipt::UnknownProcessor);
        };
        processors::webhook_secret(state, &p)
    };
    let Some(secret) = secret else {
        return Ok(Receipt::BadSignature);
    };
    let now = chrono::Utc::now().timestamp();
    if !timestamped(signature, &secret, body, now, TOLERANCE_SECS) {
        return Ok(Receipt::BadSignature);
    }
    let Ok(event) = serde_json::from_slice::<Value>(body) else {
        return Ok(Receipt::Malformed("the body is not JSON".into()));
    };
    let kind = event["type"].as_str().unwrap_or_default();
    if !REFUND_EVENTS.contains(&kind) {
        return Ok(Receipt::Ignored(format!("{kind:?} is not a refund event")));
    }
    let object = &event["data"]["object"];
    let refund = match read_refund(object) {
        Ok(r) => r,
        Err(e) => return Ok(Receipt::Malformed(e.to_string())),
    };
    // Found by Stripe's id, or by our key in its metadata (when Stripe's answer to our
    // request was lost and this event is the first we hear of the refund).
    let key = object["metadata"]["orderflow_refund"].as_str();
    let row = {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let mut row = repo::by_reference(&tx, processors::STRIPE, &refund.id).await?;
        if row.is_none()
            && let Some(key) = key
        {
            row = repo::by_key(&tx, key)
                .await?
                .filter(|r| r.provider == processors::STRIPE && r.provider_ref.is_none());
        }
        tx.commit().await?;
        row
    };
    let Some(row) = row else {
        return Ok(Receipt::Ignored(format!(
            "refund {} was not made by Orderflow",
            refund.id
        )));
    };
    if row.status != PENDING {
        return Ok(Receipt::Unchanged);
    }
    let outcome = match refund.status {
        Status::Succeeded => Ok(ProviderOutcome::Succeeded {
            reference: refund.id,
            note: None,
        }),
        Status::Failed(reason) => Ok(ProviderOutcome::Failed { reason }),
        Status::Pending => {
            let tx = TenantTx::begin(&state.db, tenant).await?;
            repo::set_reference(&tx, row.id, &refund.id).await?;
            tx.commit().await?;
            return Ok(Receipt::Unchanged);
        }
    };
    settle(state, tenant, row.id, outcome, "Stripe webhook").await?;
    Ok(Receipt::Applied)
}
