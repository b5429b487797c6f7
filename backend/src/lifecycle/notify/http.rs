//! The shopper's public pages, reached from their emails by signed links (no login): an
//! order's tracking page, the review form, and unsubscribing from review requests (also as
//! RFC 8058 one-click POST).

use actix_web::{HttpResponse, web};
use sea_orm::DbErr;

use super::context::{REVIEW, TRACK, UNSUBSCRIBE, locale_of};
use super::repo;
use super::settings;
use crate::domain::{OrderId, TenantId};
use crate::infra::link_token;
use crate::lifecycle::shipping::repo as shipping;
use crate::lifecycle::tracking::repo as tracking;
use crate::order::repo as orders;
use crate::state::AppState;
use crate::tenancy::TenantTx;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub(crate) fn page(status: actix_web::http::StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\"><title>{t}</title>\
             <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#18181b}}\
             table{{border-collapse:collapse;width:100%}}td{{padding:.3rem .5rem;border-bottom:1px solid #e4e4e7;vertical-align:top}}\
             button{{font:inherit;padding:.5rem 1rem;margin:.2rem;border:1px solid #a1a1aa;border-radius:.3rem;background:#fff;cursor:pointer}}\
             textarea{{width:100%;font:inherit}}</style></head><body>{body}</body></html>",
            t = escape(title)
        ))
}

pub(crate) fn not_found() -> HttpResponse {
    page(
        actix_web::http::StatusCode::NOT_FOUND,
        "Link not valid",
        "<h1>This link is not valid</h1><p>It may have been copied incompletely. Open it again from your email.</p>",
    )
}

pub(crate) fn unavailable(err: DbErr) -> HttpResponse {
    tracing::error!(error = %err, "public page failed");
    page(
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "<h1>Something went wrong</h1><p>Please try again in a minute.</p>",
    )
}

/// The tenant and subject a link names.
pub(crate) fn read(state: &AppState, purpose: &str, token: &str) -> Option<(TenantId, String)> {
    let fields = link_token::verify(state.config.secret_key.expose(), purpose, token)?;
    let tenant = uuid::Uuid::parse_str(fields.first()?).ok()?;
    Some((TenantId(tenant), fields.get(1)?.clone()))
}

/// `GET /track/{token}`: where the order and each parcel are.
pub async fn track(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let Some((tenant, order)) = read(&state, TRACK, &path) else {
        return not_found();
    };
    let Ok(order) = uuid::Uuid::parse_str(&order) else {
        return not_found();
    };
    let run = async {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let Some(order) = orders::get(&tx, OrderId(order)).await? else {
            return Ok(None);
        };
        let settings = settings::load(&tx).await?;
        let locale = locale_of(&order, &settings);
        let shop = repo::tenant_name(&tx).await?;
        let parcels = shipping::of_orders(&tx, &[OrderId(order.id)]).await?;
        let mut html = format!(
            "<h1>{}: order {}</h1><p>Status: <strong>{}</strong></p>",
            escape(&shop),
            escape(&order.name),
            escape(&order.state.as_str().replace('_', " "))
        );
        for s in parcels
            .iter()
            .filter(|s| s.status != shipping::VOIDED && s.tracking_number.is_some())
        {
            html.push_str(&format!(
                "<h2>Parcel {} of {} — {}</h2><p>Tracking number {}{}</p><table>",
                s.parcel_no,
                s.parcel_count,
                escape(&s.status.replace('_', " ")),
                escape(s.tracking_number.as_deref().unwrap_or_default()),
                s.predicted_at
                    .or(s.estimated_at)
                    .map(|e| format!(", expected {}", escape(&locale.date(e.date_naive()))))
                    .unwrap_or_default()
            ));
            let mut scans = tracking::events_of(&tx, &[s.id]).await?;
            scans.sort_by_key(|e| std::cmp::Reverse(e.occurred_at));
            for scan in scans {
                html.push_str(&format!(
                    "<tr><td>{}</td><td>{}{}</td></tr>",
                    escape(&scan.occurred_at.format("%Y-%m-%d %H:%M UTC").to_string()),
                    escape(&scan.message),
                    scan.location
                        .as_deref()
                        .map(|l| format!(" — {}", escape(l)))
                        .unwrap_or_default()
                ));
            }
            html.push_str("</table>");
        }
        tx.commit().await?;
        Ok::<_, DbErr>(Some(html))
    };
    match run.await {
        Ok(Some(html)) => page(actix_web::http::StatusCode::OK, "Order status", &html),
        Ok(None) => not_found(),
        Err(e) => unavailable(e),
    }
}

#[derive(serde::Deserialize)]
pub struct ReviewForm {
    rating: i32,
    comment: Option<String>,
}

/// `GET /review/{token}`: the rating form.
pub async fn review_form(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    if read(&state, REVIEW, &path).is_none() {
        return not_found();
    }
    let buttons: String = (1..=5)
        .map(|n| {
            format!(
                "<button name=\"rating\" value=\"{n}\" aria-label=\"{n} star{}\">{}</button>",
                if n == 1 { "" } else { "s" },
                "★".repeat(n)
            )
        })
        .collect();
    page(
        actix_web::http::StatusCode::OK,
        "Rate your order",
        &format!(
            "<h1>How was your order?</h1><form method=\"post\">\
             <p><label for=\"comment\">Anything to add? (optional)</label><br>\
             <textarea id=\"comment\" name=\"comment\" rows=\"4\" maxlength=\"4000\"></textarea></p>\
             <p>{buttons}</p></form>"
        ),
    )
}

/// `POST /review/{token}`: records (or replaces) the rating.
pub async fn review_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<ReviewForm>,
) -> HttpResponse {
    let Some((tenant, order)) = read(&state, REVIEW, &path) else {
        return not_found();
    };
    let Ok(order) = uuid::Uuid::parse_str(&order) else {
        return not_found();
    };
    if !(1..=5).contains(&form.rating) {
        return page(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "Rating",
            "<h1>Choose 1 to 5 stars</h1><p>The rating must be between 1 and 5.</p>",
        );
    }
    let comment = form
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.chars().take(4000).collect::<String>());
    let run = async {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        if orders::get(&tx, OrderId(order)).await?.is_none() {
            return Ok(false);
        }
        super::reviews::record(&tx, order, form.rating, comment).await?;
        tx.commit().await?;
        Ok::<_, DbErr>(true)
    };
    match run.await {
        Ok(true) => page(
            actix_web::http::StatusCode::OK,
            "Thank you",
            "<h1>Thank you!</h1><p>Your rating was saved. You can change it by opening the link again.</p>",
        ),
        Ok(false) => not_found(),
        Err(e) => unavailable(e),
    }
}

/// `GET /unsubscribe/{token}`: asks to confirm (mail scanners follow links; a GET changes
/// nothing).
pub async fn unsubscribe_form(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let Some((_, email)) = read(&state, UNSUBSCRIBE, &path) else {
        return not_found();
    };
    page(
        actix_web::http::StatusCode::OK,
        "Unsubscribe",
        &format!(
            "<h1>Stop review requests?</h1><p>{} will get no more requests to review orders. \
             Emails about your orders (confirmations, shipping) still arrive.</p>\
             <form method=\"post\"><button>Unsubscribe</button></form>",
            escape(&email)
        ),
    )
}

/// `POST /unsubscribe/{token}`: the browser's confirmation, or a mail client's one-click.
pub async fn unsubscribe(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let Some((tenant, email)) = read(&state, UNSUBSCRIBE, &path) else {
        return not_found();
    };
    let run = async {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        repo::suppress(
            &tx,
            &email,
            super::kind::Kind::ReviewRequest.as_str(),
            "unsubscribed",
        )
        .await?;
        tx.commit().await
    };
    match run.await {
        Ok(()) => page(
            actix_web::http::StatusCode::OK,
            "Unsubscribed",
            &format!(
                "<h1>Unsubscribed</h1><p>{} will get no more review requests.</p>",
                escape(&email)
            ),
        ),
        Err(e) => unavailable(e),
    }
}
