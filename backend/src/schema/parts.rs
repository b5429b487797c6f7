//! Fields that modules add to objects beneath them (see [`crate::graphql::extend`]): the
//! stages' fields on the order and its payment, inventory's on the catalog's variant,
//! tracking's on shipping's parcel. Listed here, above every contributor, so that the owner imports none. Each part is placed where
//! its fields stood before they moved into their module, so the SDL keeps its order.

use crate::catalog::graphql::types::VariantFields;
use crate::graphql::extend::{Extensible, Part};
use crate::lifecycle::allocation::graphql::AllocationsPart;
use crate::lifecycle::fraud::graphql::FraudPart;
use crate::lifecycle::inventory::graphql::VariantStockPart;
use crate::lifecycle::notify::graphql::NotificationsPart;
use crate::lifecycle::payment::graphql::PaymentVerdictPart;
use crate::lifecycle::refund::graphql::RefundsPart;
use crate::lifecycle::returns::graphql::ReturnsPart;
use crate::lifecycle::routing::graphql::RoutingPart;
use crate::lifecycle::shipping::graphql::ShipmentsPart;
use crate::lifecycle::shipping::graphql::types::ShipmentFields;
use crate::lifecycle::support::graphql::SupportThreadsPart;
use crate::lifecycle::tracking::graphql::{DeliveryExceptionsPart, ShipmentScansPart};
use crate::order::graphql::types::{OrderFields, OrderPaymentFields};

impl Extensible for OrderFields {
    const NAME: &'static str = "Order";

    fn parts() -> &'static [Part<Self>] {
        const PARTS: &[Part<OrderFields>] = &[
            Part::after::<FraudPart>("updatedAt"),
            Part::after::<AllocationsPart>("events"),
            Part::after::<ShipmentsPart>("allocations"),
            Part::after::<RoutingPart>("shipments"),
            Part::after::<DeliveryExceptionsPart>("routing"),
            Part::after::<NotificationsPart>("deliveryExceptions"),
            Part::after::<ReturnsPart>("notifications"),
            Part::after::<RefundsPart>("returns"),
            Part::after::<SupportThreadsPart>("refunds"),
        ];
        PARTS
    }
}

impl Extensible for OrderPaymentFields {
    const NAME: &'static str = "OrderPayment";
    const DESCRIPTION: Option<&'static str> =
        Some("The payment as the channel or gateway reported it.");

    fn parts() -> &'static [Part<Self>] {
        const PARTS: &[Part<OrderPaymentFields>] = &[Part::of::<PaymentVerdictPart>()];
        PARTS
    }
}

impl Extensible for VariantFields {
    const NAME: &'static str = "Variant";
    const DESCRIPTION: Option<&'static str> =
        Some("A sellable item: what orders, stock and suppliers refer to by SKU.");

    fn parts() -> &'static [Part<Self>] {
        const PARTS: &[Part<VariantFields>] = &[Part::of::<VariantStockPart>()];
        PARTS
    }
}

impl Extensible for ShipmentFields {
    const NAME: &'static str = "Shipment";

    fn parts() -> &'static [Part<Self>] {
        const PARTS: &[Part<ShipmentFields>] = &[Part::of::<ShipmentScansPart>()];
        PARTS
    }
}
