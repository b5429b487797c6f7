//! `POST /webhooks/email/{tenantId}`: inbound mail for a tenant's support address, forwarded by
//! its mail provider, as a raw MIME message (`message/rfc822`, `text/plain`, or any non-JSON
//! type) or as the provider's JSON (Postmark, Mailgun, or Orderflow's own shape). The request
//! must carry the tenant's inbound token: `?token=`, `Authorization: Bearer`, or as the
//! password of HTTP basic auth (how Postmark and Mailgun put credentials in a webhook URL).

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::inbound;
use super::service::{self, Received};
use crate::auth::attempts;
use crate::domain::TenantId;
use crate::lifecycle::notify::settings as notify_settings;
use crate::state::AppState;
use crate::tenancy::TenantTx;

/// Largest message accepted (attachments are not kept, but arrive inside the MIME body).
pub const MAX_BODY: usize = 10 * 1024 * 1024;
/// Longest a message may take to read.
const PARSE_TIME: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(serde::Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn answer(
    status: actix_web::http::StatusCode,
    code: &str,
    field: Option<&str>,
    message: &str,
) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "code": code, "field": field, "message": message }))
}

fn presented(request: &HttpRequest, query: &TokenQuery) -> Option<String> {
    if let Some(t) = &query.token {
        return Some(t.clone());
    }
    let auth = request.headers().get("authorization")?.to_str().ok()?;
    if let Some(bearer) = auth.strip_prefix("Bearer ") {
        return Some(bearer.trim().to_owned());
    }
    let basic = auth.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, p)| p.to_owned())
}

/// The request body, up to `limit` bytes.
async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::BytesMut, String> {
    use futures_util::StreamExt;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| format!("the body could not be read: {e}"))?;
        if body.len() + chunk.len() > limit {
            return Err(format!(
                "a message may be at most {} MiB",
                limit / (1024 * 1024)
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub async fn receive(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<TokenQuery>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    use actix_web::http::StatusCode as S;
    let raw = path.into_inner();
    let tenant = uuid::Uuid::try_parse(&raw)
        .ok()
        .or_else(|| crate::graphql::relay::decode_id(&raw, "Tenant", "tenant").ok())
        .map(TenantId);
    let Some(tenant) = tenant else {
        return answer(S::NOT_FOUND, "NOT_FOUND", None, "no such tenant");
    };
    let state = state.into_inner();
    let started = std::time::Instant::now();
    let endpoint = format!("mail:{tenant}");
    let client = crate::infra::client_ip::of(&request, &state.config);
    if let Err(err) = attempts::endpoint_open(&state.limiter, &endpoint, &client).await {
        return attempts::endpoint_refusal(err);
    }
    // The token is checked before the body is read.
    let expected = async {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let s = notify_settings::load(&tx).await?;
        tx.commit().await?;
        Ok::<_, sea_orm::DbErr>(s.inbound_secret)
    };
    let expected = match expected.await {
        Ok(Some(sealed)) => state
            .sealer
            .open(&sealed, &notify_settings::inbound_seal_context(tenant))
            .ok(),
        Ok(None) => None,
        Err(err) => {
            tracing::error!(error = %err, "inbound mail not checked");
            return answer(
                S::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                None,
                "try again later",
            );
        }
    };
    // One answer whether or not the tenant set up inbound mail: it tells a prober nothing.
    let ok = expected.is_some_and(|expected| {
        presented(&request, &query)
            .is_some_and(|t| bool::from(t.as_bytes().ct_eq(expected.as_bytes())))
    });
    if !ok {
        if let Err(err) = attempts::endpoint_failed(&state.limiter, &endpoint, &client).await {
            tracing::warn!(error = %err.public_message(), "failed token not counted");
        }
        state
            .metrics
            .webhook("email", "bad_token", started.elapsed());
        return answer(
            S::UNAUTHORIZED,
            "BAD_TOKEN",
            Some("token"),
            "the token does not match this tenant's inbound token (rotateInboundEmailToken makes one)",
        );
    }
    // Only now is the body read.
    let body = match read_body(payload, MAX_BODY).await {
        Ok(b) => b,
        Err(why) => {
            state
                .metrics
                .webhook("email", "malformed", started.elapsed());
            return answer(S::PAYLOAD_TOO_LARGE, "TOO_LARGE", Some("body"), &why);
        }
    };
    let is_json = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    // Reading a message is CPU work: done on the blocking pool, within a time limit, so a
    // large or hostile one never holds up the requests served beside it.
    let parse = tokio::task::spawn_blocking(move || {
        if is_json {
            match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(v) => inbound::parse_json(&v).map_err(|e| (e.field.to_owned(), e.message)),
                Err(e) => Err(("body".to_owned(), format!("not JSON: {e}"))),
            }
        } else {
            inbound::parse_mime(&body).map_err(|e| ("body".to_owned(), e))
        }
    });
    let mail = match tokio::time::timeout(PARSE_TIME, parse).await {
        Ok(Ok(mail)) => mail,
        Ok(Err(_)) => Err((
            "body".to_owned(),
            "the message could not be read: send it as raw MIME or the provider's JSON".to_owned(),
        )),
        Err(_) => Err((
            "body".to_owned(),
            format!(
                "the message could not be read within {} seconds",
                PARSE_TIME.as_secs()
            ),
        )),
    };
    let mail = match mail.map(|mut m| {
        m.judge_authentication(&state.config.mail_authserv_ids);
        m
    }) {
        Ok(m) => m,
        Err((field, message)) => {
            state
                .metrics
                .webhook("email", "malformed", started.elapsed());
            return answer(
                S::UNPROCESSABLE_ENTITY,
                "BAD_PAYLOAD",
                Some(&field),
                &message,
            );
        }
    };
    let (response, outcome) = match service::receive(&state, tenant, mail, "email").await {
        Ok(Received::Filed { thread, message }) => (
            HttpResponse::Ok().json(json!({ "status": "filed", "threadId": crate::graphql::relay::global_id("SupportThread", thread).to_string(), "messageId": crate::graphql::relay::global_id("SupportMessage", message).to_string() })),
            "filed",
        ),
        Ok(Received::Duplicate { thread, message }) => (
            HttpResponse::Ok().json(json!({ "status": "duplicate", "threadId": crate::graphql::relay::global_id("SupportThread", thread).to_string(), "messageId": crate::graphql::relay::global_id("SupportMessage", message).to_string() })),
            "duplicate",
        ),
        Ok(Received::Bounce { notification }) => (
            HttpResponse::Ok().json(json!({ "status": "bounce", "matched": notification.is_some() })),
            "bounce",
        ),
        Err(err) => {
            tracing::error!(error = %err, "inbound mail not filed");
            (answer(S::SERVICE_UNAVAILABLE, "UNAVAILABLE", None, "try again later"), "error")
        }
    };
    state.metrics.webhook("email", outcome, started.elapsed());
    response
}
