//! The platform's own mail about accounts (password resets, address confirmations,
//! invitations): fixed text from the built-in templates, from ORDERFLOW_MAIL_FROM. No tenant
//! can edit it or send it from another address; what a tenant chose (its name) appears only
//! as a quoted, escaped value.

use crate::domain::Email;
use crate::infra::mailer::Mail;
use crate::infra::templates::{self, Source};
use crate::state::AppState;

/// Renders `source` with `context` (its `shop` filled with the platform's name and address)
/// and sends it to `to` from the platform's address.
pub async fn send(
    state: &AppState,
    to: &str,
    source: &Source,
    mut context: serde_json::Value,
) -> anyhow::Result<()> {
    let from = state.mailer.platform_sender();
    context["shop"] = serde_json::json!({
        "name": from.name.clone().unwrap_or_else(|| "Orderflow".into()),
        "email": from.email.to_string(),
    });
    let rendered = templates::render(source, &context)
        .map_err(|e| anyhow::anyhow!("platform mail template: {e}"))?;
    state
        .mailer
        .send(Mail {
            to: Email::parse(to).map_err(|m| anyhow::anyhow!("recipient {m}"))?,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
        })
        .await
}

/// The platform's address confirmation.
pub fn email_verification() -> Source {
    crate::builtin_template!("email_verification")
}

/// An invitation to join a tenant's staff.
pub fn invitation() -> Source {
    crate::builtin_template!("invitation")
}

/// A password reset link.
pub fn password_reset() -> Source {
    crate::builtin_template!("password_reset")
}
