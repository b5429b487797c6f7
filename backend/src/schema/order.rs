//! The stages' fields on the order's objects (see [`crate::graphql::extend`]): listed here,
//! above every stage, so that the order module beneath them imports none. Each part is
//! placed where its fields stood before they moved into their stage, so the SDL keeps its
//! order.

use crate::graphql::extend::{Extensible, Part};
use crate::lifecycle::allocation::graphql::AllocationsPart;
use crate::lifecycle::fraud::graphql::FraudPart;
use crate::lifecycle::notify::graphql::NotificationsPart;
use crate::lifecycle::payment::graphql::PaymentVerdictPart;
use crate::lifecycle::refund::graphql::RefundsPart;
use crate::lifecycle::returns::graphql::ReturnsPart;
use crate::lifecycle::routing::graphql::RoutingPart;
use crate::lifecycle::shipping::graphql::ShipmentsPart;
use crate::lifecycle::support::graphql::SupportThreadsPart;
use crate::lifecycle::tracking::graphql::DeliveryExceptionsPart;
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
