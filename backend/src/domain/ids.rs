//! Typed UUIDv7 identifiers, so a tenant id can never be passed where a user id belongs.

use std::fmt;
use uuid::Uuid;

/// A new time-ordered id: v7 keeps inserts index-friendly and sorts by creation time.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(new_id())
            }
            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// A merchant account.
    TenantId
);
id_type!(
    /// A person who signs in.
    UserId
);
id_type!(
    /// An integrator's API key.
    ApiKeyId
);
id_type!(
    /// An invitation to join a tenant.
    InvitationId
);
id_type!(
    /// An audit-log entry.
    AuditEntryId
);
id_type!(
    /// A product.
    ProductId
);
id_type!(
    /// A sellable variant of a product.
    VariantId
);
id_type!(
    /// A warehouse.
    WarehouseId
);
id_type!(
    /// A supplier.
    SupplierId
);
id_type!(
    /// An inventory movement.
    MovementId
);
id_type!(
    /// A shopper of a tenant.
    CustomerId
);
id_type!(
    /// An order.
    OrderId
);
id_type!(
    /// An event on an order's timeline.
    OrderEventId
);
id_type!(
    /// A tenant's connection to a sales channel.
    ConnectionId
);
id_type!(
    /// A webhook delivery or poll result as received from a channel.
    DeliveryId
);
id_type!(
    /// A background job.
    JobId
);
id_type!(
    /// Stock promised to an order line, or the part of it waiting for stock.
    AllocationId
);
