//! A tenant's mail settings, with the defaults a new tenant starts from.

use chrono::Utc;
use sea_orm::DbErr;

use super::kind::Kind;
use super::repo;
use crate::tenancy::TenantTx;

#[derive(Clone, Debug, PartialEq)]
pub struct NotifySettings {
    pub sender_name: Option<String>,
    pub sender_address: Option<String>,
    /// The sender address confirmed by its link (see [`super::sender`]).
    pub sender_verified_address: Option<String>,
    pub reply_to: Option<String>,
    pub default_locale: String,
    /// 0: no review requests.
    pub review_request_days: i32,
    pub auto_reply: bool,
    /// Percent.
    pub auto_reply_confidence: i32,
    pub disabled: Vec<Kind>,
    pub inbound_secret: Option<String>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            sender_name: None,
            sender_address: None,
            sender_verified_address: None,
            reply_to: None,
            default_locale: "en_US".into(),
            review_request_days: 7,
            auto_reply: true,
            auto_reply_confidence: 70,
            disabled: Vec::new(),
            inbound_secret: None,
        }
    }
}

impl NotifySettings {
    pub fn sends(&self, kind: Kind) -> bool {
        !self.disabled.contains(&kind)
    }
}

pub async fn load(tx: &TenantTx) -> Result<NotifySettings, DbErr> {
    Ok(match repo::settings(tx).await? {
        None => NotifySettings::default(),
        Some(r) => NotifySettings {
            sender_name: r.sender_name,
            sender_address: r.sender_address,
            sender_verified_address: r.sender_verified_address,
            reply_to: r.reply_to,
            default_locale: r.default_locale,
            review_request_days: r.review_request_days,
            auto_reply: r.auto_reply,
            auto_reply_confidence: r.auto_reply_confidence,
            disabled: serde_json::from_value(r.disabled_kinds).unwrap_or_default(),
            inbound_secret: r.inbound_secret,
        },
    })
}

pub async fn save(tx: &TenantTx, s: &NotifySettings) -> Result<(), DbErr> {
    repo::save_settings(
        tx,
        entity::notification_settings::Model {
            tenant_id: tx.tenant().uuid(),
            sender_name: s.sender_name.clone(),
            sender_address: s.sender_address.clone(),
            sender_verified_address: s.sender_verified_address.clone(),
            reply_to: s.reply_to.clone(),
            default_locale: s.default_locale.clone(),
            review_request_days: s.review_request_days,
            auto_reply: s.auto_reply,
            auto_reply_confidence: s.auto_reply_confidence,
            disabled_kinds: serde_json::to_value(&s.disabled).unwrap_or_default(),
            inbound_secret: s.inbound_secret.clone(),
            updated_at: Utc::now(),
        },
    )
    .await
}

/// The seal context of a tenant's inbound-mail token (kept sealed in these settings).
pub fn inbound_seal_context(tenant: crate::domain::TenantId) -> String {
    format!("{}/inbound-mail", tenant.uuid())
}
