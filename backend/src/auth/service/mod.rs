//! The authentication and membership flows behind the GraphQL mutations. Each flow validates
//! its input into domain types, does its writes in one scoped transaction, records an audit
//! entry, and publishes live events only after commit.

mod api_keys;
mod authenticate;
pub mod invitations;
pub mod mail;
mod members;
mod password;
mod reset;
mod session;
pub mod sign_in;
mod verify;

pub use api_keys::{create_api_key, revoke_api_key};
pub use authenticate::{authenticate, authenticate_again};
pub use invitations::{accept_invite, invite_user, resend_invitation, revoke_invitation};
pub use members::{remove_member, update_membership_role};
pub use password::change_password;
pub use reset::{request_password_reset, reset_password};
pub use session::Session;
pub use sign_in::{login, logout, refresh, sign_up, switch_tenant};
pub use verify::{resend_verification, send_verification, verify_email};

use crate::error::{UserError, UserErrorCode};
use crate::infra::events::{TenantEvent, topics};
use crate::state::AppState;
use crate::tenancy::repo::audit::AuditEntry;

/// Live subscribers hear of an audit entry once its transaction has committed.
pub(crate) async fn publish_audit(state: &AppState, entry: &AuditEntry) {
    state
        .events
        .publish(TenantEvent {
            tenant: entry.tenant,
            topic: topics::AUDIT.to_owned(),
            payload: serde_json::to_value(entry).unwrap_or_default(),
        })
        .await;
}

/// Maps a password-rule breach to a user error on `field`.
fn password_error(field: &str, (code, message): (&'static str, String)) -> UserError {
    let code = match code {
        "PASSWORD_TOO_LONG" => UserErrorCode::PasswordTooLong,
        _ => UserErrorCode::PasswordTooShort,
    };
    UserError::on(field, code, message)
}

/// Whether a database error is a unique-key violation (someone created the same thing first).
fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
