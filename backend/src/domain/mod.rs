//! Validated value types shared by every stage: construct them only by parsing.

mod email;
mod ids;

pub use email::Email;
pub use ids::{ApiKeyId, AuditEntryId, InvitationId, TenantId, UserId, new_id};
