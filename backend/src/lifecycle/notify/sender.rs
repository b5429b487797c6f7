//! A tenant's own sender address is used as the From of its mail only once someone at that
//! address has confirmed it: a signed link (no table) is mailed there, and its page confirms
//! with a button (a mail scanner's GET changes nothing). Until then — and for addresses
//! outside ORDERFLOW_SENDER_DOMAINS — mail comes from the platform's address under the
//! tenant's name, with the tenant's address to reply to.

use actix_web::{HttpResponse, web};
use chrono::{Duration, Utc};
use sea_orm::DbErr;

use super::http::{escape, not_found, page, unavailable};
use super::settings;
use crate::domain::TenantId;
use crate::infra::link_token;
use crate::infra::mailer::Mail;
use crate::infra::ratelimit::MAIL_PER_ADDRESS;
use crate::state::AppState;
use crate::tenancy::TenantTx;

const PURPOSE: &str = "confirm-sender";
const TTL: Duration = Duration::days(3);

fn read(state: &AppState, token: &str) -> Option<(TenantId, String)> {
    let fields = link_token::verify(state.config.secret_key.expose(), PURPOSE, token)?;
    let [tenant, address, expires] = fields.as_slice() else {
        return None;
    };
    if expires.parse::<i64>().ok()? < Utc::now().timestamp() {
        return None;
    }
    Some((
        TenantId(uuid::Uuid::parse_str(tenant).ok()?),
        address.clone(),
    ))
}

/// Whether `settings`' sender address may be the From of the tenant's mail.
pub fn confirmed(settings: &settings::NotifySettings) -> bool {
    match (&settings.sender_address, &settings.sender_verified_address) {
        (Some(address), Some(verified)) => address.eq_ignore_ascii_case(verified),
        _ => false,
    }
}

/// Mails `address` the link that confirms it as `tenant`'s sender. Limited per address.
pub async fn request_confirmation(
    state: &AppState,
    tenant: TenantId,
    shop: &str,
    address: &str,
) -> anyhow::Result<()> {
    state
        .limiter
        .hit(&format!("sender:{address}"), MAIL_PER_ADDRESS)
        .await
        .map_err(|_| anyhow::anyhow!("too many confirmation emails to {address}: try later"))?;
    let expires = Utc::now() + TTL;
    let token = link_token::sign(
        state.config.secret_key.expose(),
        PURPOSE,
        &[
            &tenant.uuid().to_string(),
            address,
            &expires.timestamp().to_string(),
        ],
    );
    let url = format!("{}/confirm-sender/{token}", state.config.public_url);
    let text = format!(
        "Hello,\n\nThe shop \"{shop}\" on Orderflow asked to send its customer emails from this \
         address ({address}). If that is right, confirm it here:\n\n{url}\n\nThe link is valid \
         until {} UTC. If you don't know this shop, ignore this email: nothing is sent as you \
         unless you confirm.\n\nOrderflow\n",
        expires.format("%Y-%m-%d %H:%M")
    );
    let html = format!(
        "<p>Hello,</p><p>The shop <strong>{}</strong> on Orderflow asked to send its customer \
         emails from this address ({}). If that is right, <a href=\"{}\">confirm it</a>.</p>\
         <p>The link is valid until {} UTC. If you don't know this shop, ignore this email: \
         nothing is sent as you unless you confirm.</p><p>Orderflow</p>",
        escape(shop),
        escape(address),
        escape(&url),
        expires.format("%Y-%m-%d %H:%M")
    );
    state
        .mailer
        .send(Mail {
            to: crate::domain::Email::parse(address)
                .map_err(|m| anyhow::anyhow!("sender address {m}"))?,
            subject: "Confirm your sender address for Orderflow".into(),
            text,
            html,
        })
        .await
}

/// `GET /confirm-sender/{token}`: asks to confirm.
pub async fn form(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let Some((_, address)) = read(&state, &path) else {
        return not_found();
    };
    page(
        actix_web::http::StatusCode::OK,
        "Confirm sender address",
        &format!(
            "<h1>Send as {}?</h1><p>Confirm that the shop may send its customer emails from \
             this address.</p><form method=\"post\"><button>Confirm</button></form>",
            escape(&address)
        ),
    )
}

/// `POST /confirm-sender/{token}`: confirms, if the address is still the tenant's sender.
pub async fn confirm(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let Some((tenant, address)) = read(&state, &path) else {
        return not_found();
    };
    let run = async {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let mut s = settings::load(&tx).await?;
        let current = s
            .sender_address
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(&address));
        if current {
            s.sender_verified_address = Some(address.clone());
            settings::save(&tx, &s).await?;
        }
        tx.commit().await?;
        Ok::<_, DbErr>(current)
    };
    match run.await {
        Ok(true) => page(
            actix_web::http::StatusCode::OK,
            "Confirmed",
            &format!(
                "<h1>Confirmed</h1><p>The shop's emails now come from {}.</p>",
                escape(&address)
            ),
        ),
        Ok(false) => page(
            actix_web::http::StatusCode::GONE,
            "No longer asked",
            "<h1>This address is no longer the shop's sender</h1><p>Nothing was changed.</p>",
        ),
        Err(e) => unavailable(e),
    }
}
