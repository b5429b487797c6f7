//! Validated value types shared by every stage: construct them only by parsing.

pub mod address;
mod email;
mod ids;
pub mod money;
pub mod secret;
mod sku;

pub use address::Address;
pub use email::Email;
pub use ids::{
    AllocationId, ApiKeyId, AuditEntryId, ConnectionId, CustomerId, DeliveryId, InvitationId,
    JobId, MovementId, OrderEventId, OrderId, ProductId, SupplierId, TenantId, UserId, VariantId,
    WarehouseId, new_id,
};
pub use money::{Currency, Money};
pub use sku::Sku;
