//! The shopper's return pages, reached by signed links (no login): the form that starts a
//! return from the delivered email, the return's status page, and its label.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use sea_orm::DbErr;

use super::label::remote;
use super::repo;
use super::service::{self, Ask, AskLine, By, Links, PAGE, Resolution, ReturnError, START, Source};
use super::settings;
use crate::domain::OrderId;
use crate::lifecycle::notify::http::{escape, not_found, page, read, unavailable};
use crate::order::repo as orders;
use crate::order::timeline;
use crate::state::AppState;
use crate::tenancy::{Actor, TenantTx};

fn ids(
    state: &AppState,
    purpose: &str,
    token: &str,
) -> Option<(crate::domain::TenantId, uuid::Uuid)> {
    let (tenant, id) = read(state, purpose, token)?;
    Some((tenant, uuid::Uuid::parse_str(&id).ok()?))
}

/// `GET /returns/new/{token}`: choose items, a reason, a comment and the refund kind.
pub async fn form(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let Some((tenant, order)) = ids(&state, START, &path) else {
        return not_found();
    };
    let run = async {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let Some(order) = orders::get(&tx, OrderId(order)).await? else {
            return Ok(None);
        };
        let lines = service::returnable(&tx, &order).await?;
        let p = settings::load(&tx).await?;
        tx.commit().await?;
        Ok::<_, DbErr>(Some(form_html(&order.name, &lines, &p, None)))
    };
    match run.await {
        Ok(Some(html)) => page(StatusCode::OK, "Start a return", &html),
        Ok(None) => not_found(),
        Err(e) => unavailable(e),
    }
}

fn form_html(
    order: &str,
    lines: &[(orders::OrderLine, i64)],
    p: &super::policy::Policy,
    error: Option<&str>,
) -> String {
    let mut html = format!("<h1>Return items from order {}</h1>", escape(order));
    if let Some(e) = error {
        html.push_str(&format!(
            "<p role=\"alert\"><strong>{}</strong></p>",
            escape(e)
        ));
    }
    html.push_str(&format!(
        "<p>Items can be returned within {} days of delivery.</p><form method=\"post\"><table>",
        p.window_days
    ));
    for (i, (line, left)) in lines.iter().enumerate() {
        let sku = line.sku.clone().unwrap_or_default();
        if *left <= 0 || p.is_final_sale(&sku) {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td></tr>",
                escape(&line.title),
                if *left <= 0 {
                    "already returned"
                } else {
                    "final sale"
                }
            ));
            continue;
        }
        html.push_str(&format!(
            "<tr><td><label for=\"qty_{i}\">{}</label></td><td>\
             <input id=\"qty_{i}\" name=\"qty_{i}\" type=\"number\" min=\"0\" max=\"{left}\" value=\"0\"> of {left}</td></tr>",
            escape(&line.title)
        ));
    }
    html.push_str("</table><p><label for=\"reason\">Why are you returning them?</label><br><select id=\"reason\" name=\"reason\">");
    for r in &p.reasons {
        html.push_str(&format!(
            "<option value=\"{}\">{}</option>",
            escape(&r.code),
            escape(&r.label)
        ));
    }
    html.push_str(
        "</select></p><p><label for=\"comment\">Anything to add? (optional)</label><br>\
         <textarea id=\"comment\" name=\"comment\" rows=\"3\" maxlength=\"2000\"></textarea></p>\
         <fieldset><legend>What would you like?</legend>\
         <label><input type=\"radio\" name=\"resolution\" value=\"refund\" checked> A refund to my payment method</label><br>\
         <label><input type=\"radio\" name=\"resolution\" value=\"store_credit\"> Store credit</label><br>\
         <label><input type=\"radio\" name=\"resolution\" value=\"exchange\"> The same item again (exchange)</label>\
         </fieldset><p><button type=\"submit\">Request the return</button></p></form>",
    );
    html
}

/// `POST /returns/new/{token}`: opens the return and shows its page.
pub async fn submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let Some((tenant, order)) = ids(&state, START, &path) else {
        return not_found();
    };
    let mut lines = Vec::new();
    for (k, v) in form.iter() {
        let Some(i) = k.strip_prefix("qty_").and_then(|i| i.parse::<usize>().ok()) else {
            continue;
        };
        match v.trim().parse::<i64>() {
            Ok(0) => {}
            Ok(q) => lines.push(AskLine {
                line_index: i,
                quantity: q,
                exchange_sku: None,
            }),
            Err(_) => {
                return page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Start a return",
                    "<h1>Check the quantities</h1><p>Each quantity must be a whole number. Go back and try again.</p>",
                );
            }
        }
    }
    lines.sort_by_key(|l| l.line_index);
    let resolution = form
        .get("resolution")
        .and_then(|r| Resolution::parse(r))
        .unwrap_or(Resolution::Refund);
    let ask = Ask {
        lines,
        reason: form.get("reason").cloned().unwrap_or_default(),
        comment: form
            .get("comment")
            .map(|c| c.trim().chars().take(2000).collect::<String>())
            .filter(|c| !c.is_empty()),
        resolution,
        source: Source::Shopper,
    };
    let links = Links::of(&state.config);
    let run = async {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let Some(o) = orders::get(&tx, OrderId(order)).await? else {
            return Ok(Err(None));
        };
        let by = By {
            actor: Actor::System,
            label: Some(format!(
                "shopper {}",
                o.email.clone().unwrap_or_else(|| "by link".into())
            )),
        };
        match service::request(&tx, &links, OrderId(order), ask, &by).await {
            Ok((ret, events)) => {
                tx.commit().await?;
                Ok(Ok((ret, events)))
            }
            Err(ReturnError::Db(e)) => Err(e),
            Err(ReturnError::NotFound(_)) => Ok(Err(None)),
            Err(ReturnError::Refused(r)) => {
                let lines = service::returnable(&tx, &o).await?;
                let p = settings::load(&tx).await?;
                Ok(Err(Some(form_html(&o.name, &lines, &p, Some(&r.message)))))
            }
        }
    };
    match run.await {
        Ok(Ok((ret, events))) => {
            timeline::publish_events(&state, tenant, &events).await;
            state.wake_workers.notify_one();
            HttpResponse::SeeOther()
                .insert_header(("Location", links.page(&ret)))
                .finish()
        }
        Ok(Err(Some(html))) => page(StatusCode::UNPROCESSABLE_ENTITY, "Start a return", &html),
        Ok(Err(None)) => not_found(),
        Err(e) => unavailable(e),
    }
}

/// `GET /returns/{token}`: where the return stands.
pub async fn status(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let Some((tenant, id)) = ids(&state, PAGE, &path) else {
        return not_found();
    };
    let run = async {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let Some(ret) = repo::get(&tx, id).await? else {
            return Ok(None);
        };
        let lines = repo::lines_of(&tx, &[id]).await?;
        let events = timeline::events_of(&tx, &[OrderId(ret.order_id)]).await?;
        tx.commit().await?;
        let mut html = format!(
            "<h1>Return {}</h1><p>Status: <strong>{}</strong></p><table>",
            escape(&ret.name),
            escape(&ret.status.replace('_', " "))
        );
        for l in &lines {
            html.push_str(&format!(
                "<tr><td>{} × {}</td><td>{}</td></tr>",
                l.quantity,
                escape(&l.sku),
                escape(
                    l.grade
                        .as_deref()
                        .map(|g| format!("graded {g}"))
                        .as_deref()
                        .unwrap_or("")
                )
            ));
        }
        html.push_str("</table>");
        if ret.label_pdf.is_some()
            && [repo::APPROVED, repo::IN_TRANSIT].contains(&ret.status.as_str())
        {
            html.push_str(&format!(
                "<p><a href=\"{}/label.pdf\">Print your return label</a> (tracking {})</p>",
                escape(&path),
                escape(ret.tracking_number.as_deref().unwrap_or_default())
            ));
        }
        let live = [repo::APPROVED, repo::IN_TRANSIT].contains(&ret.status.as_str());
        match ret.label_status.as_deref() {
            Some(s) if live && ret.label_pdf.is_none() && s == remote::FAILED => html.push_str(
                "<p>We could not get a return label from the carrier: the approval email says where to send the parcel.</p>",
            ),
            Some(s) if live && ret.label_pdf.is_none() && s != "voided" => html.push_str(
                "<p>Your return label is being prepared; we will email it to you as soon as it is ready.</p>",
            ),
            _ => {}
        }
        if let Some(r) = &ret.rejection {
            html.push_str(&format!(
                "<p>We could not accept this return: {}</p>",
                escape(r)
            ));
        }
        html.push_str("<h2>History</h2><table>");
        let id = ret.id.to_string();
        for e in events
            .iter()
            .filter(|e| e.data.get("returnId").and_then(|v| v.as_str()) == Some(id.as_str()))
        {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td></tr>",
                escape(&e.at.format("%Y-%m-%d %H:%M UTC").to_string()),
                step_words(&e.kind)
            ));
        }
        html.push_str("</table>");
        Ok::<_, DbErr>(Some(html))
    };
    match run.await {
        Ok(Some(html)) => page(StatusCode::OK, "Your return", &html),
        Ok(None) => not_found(),
        Err(e) => unavailable(e),
    }
}

fn step_words(kind: &str) -> &'static str {
    match kind {
        "return.requested" => "Return requested",
        "return.approved" => "Approved",
        "return.label_ready" => "Return label ready",
        "return.label_failed" => "No return label: send the parcel yourself",
        "return.rejected" => "Not accepted",
        "return.in_transit" => "On its way back",
        "return.received" => "Received",
        "return.inspected" => "Inspected",
        "return.resolved" => "Resolved",
        "return.cancelled" => "Cancelled",
        "refund.requested" => "Refund on its way",
        "refund.issued" => "Refund issued",
        "refund.failed" => "Refund failed; we are looking into it",
        _ => "Updated",
    }
}

/// `GET /returns/{token}/label.pdf`.
pub async fn label(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let Some((tenant, id)) = ids(&state, PAGE, &path) else {
        return not_found();
    };
    let run = async {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let found = repo::get(&tx, id).await?;
        tx.commit().await?;
        // Only while it may still be used: a cancelled or finished return's label is void.
        Ok::<_, DbErr>(
            found
                .filter(|r| [repo::APPROVED, repo::IN_TRANSIT].contains(&r.status.as_str()))
                .and_then(|r| r.label_pdf),
        )
    };
    match run.await {
        // A carrier may sell the label as an image rather than a PDF.
        Ok(Some(pdf)) => HttpResponse::Ok()
            .content_type(if pdf.starts_with(b"\x89PNG") {
                "image/png"
            } else {
                "application/pdf"
            })
            .insert_header(("Cache-Control", "no-store"))
            .body(pdf),
        Ok(None) => not_found(),
        Err(e) => unavailable(e),
    }
}
