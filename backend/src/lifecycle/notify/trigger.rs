//! Which lifecycle events the shopper hears about, and as what. Pure: an event in, the emails
//! it causes out. Everything the shopper is told follows from the order's timeline, so an
//! email exists exactly when its event does.

use serde_json::Value;

use super::kind::Kind;

/// An email an event causes.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    pub kind: Kind,
    /// What the template needs from the event (the parcel, the exception…).
    pub context: Value,
}

fn str_of<'a>(data: &'a Value, key: &str) -> Option<&'a str> {
    data.get(key).and_then(Value::as_str)
}

/// The key that makes an email unique. Steps the shopper hears of once per order (a label
/// voided and bought again ships the order twice) are keyed by order; delivery problems once
/// per order and kind of problem (not per parcel); anything else by its event.
pub fn key(kind: Kind, order: uuid::Uuid, event: uuid::Uuid, context: &Value) -> String {
    match kind {
        Kind::OrderConfirmation
        | Kind::BackorderNotice
        | Kind::Shipped
        | Kind::OutForDelivery
        | Kind::Delivered
        | Kind::ReviewRequest => format!("{}:{order}", kind.as_str()),
        Kind::Delayed | Kind::DeliveryException => format!(
            "{}:{order}:{}",
            kind.as_str(),
            str_of(context, "exceptionKind").unwrap_or_default()
        ),
        _ => format!("{}:{order}:{event}", kind.as_str()),
    }
}

/// The emails the timeline event `kind` with `data` causes.
pub fn for_event(kind: &str, data: &Value) -> Vec<Trigger> {
    let one = |kind: Kind, context: Value| vec![Trigger { kind, context }];
    match kind {
        "order.received" => one(Kind::OrderConfirmation, Value::Null),
        // A payment in review is the merchant's business; a failed one needs the shopper.
        "order.payment_review" if str_of(data, "verdict") == Some("failed") => one(
            Kind::PaymentProblem,
            serde_json::json!({ "findings": data.get("findings") }),
        ),
        "order.backordered" => one(
            Kind::BackorderNotice,
            serde_json::json!({ "backorders": data.get("backorders") }),
        ),
        "order.shipped" => one(Kind::Shipped, Value::Null),
        // A parcel waiting at a pickup point is not on a van: the carrier's own notice says
        // where to collect it.
        "order.out_for_delivery" if str_of(data, "status") == Some("available_for_pickup") => {
            Vec::new()
        }
        "order.out_for_delivery" => one(
            Kind::OutForDelivery,
            serde_json::json!({ "shipmentId": data.get("shipmentId") }),
        ),
        "order.delivered" => vec![
            Trigger {
                kind: Kind::Delivered,
                context: Value::Null,
            },
            Trigger {
                kind: Kind::ReviewRequest,
                context: Value::Null,
            },
        ],
        "shipment.exception" if data.get("notifyShopper") == Some(&Value::Bool(true)) => {
            let kind = if str_of(data, "kind") == Some("late") {
                Kind::Delayed
            } else {
                Kind::DeliveryException
            };
            one(
                kind,
                serde_json::json!({
                    "shipmentId": data.get("shipmentId"),
                    "exceptionKind": data.get("kind"),
                }),
            )
        }
        // Approved at once by the policy: the approval says it all.
        "return.requested"
            if data.pointer("/decision/automatic").and_then(Value::as_bool) == Some(false) =>
        {
            one(Kind::ReturnRequested, data.clone())
        }
        // A label still being bought from a carrier: the approval is mailed with it.
        "return.approved" if data.pointer("/return/labelPending") == Some(&Value::Bool(true)) => {
            Vec::new()
        }
        "return.approved" | "return.label_ready" | "return.label_failed" => {
            one(Kind::ReturnApproved, data.clone())
        }
        "return.rejected" => one(Kind::ReturnRejected, data.clone()),
        "return.received" => one(Kind::ReturnReceived, data.clone()),
        "refund.issued" => one(Kind::RefundIssued, data.clone()),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(kind: &str, data: Value) -> Vec<Kind> {
        for_event(kind, &data).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn steps_are_mailed_once_per_order_and_problems_once_per_kind() {
        let (o, e1, e2) = (
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
        );
        assert_eq!(
            key(Kind::Shipped, o, e1, &Value::Null),
            key(Kind::Shipped, o, e2, &Value::Null)
        );
        let late = serde_json::json!({ "exceptionKind": "late" });
        let lost = serde_json::json!({ "exceptionKind": "lost" });
        assert_eq!(
            key(Kind::Delayed, o, e1, &late),
            key(Kind::Delayed, o, e2, &late)
        );
        assert_ne!(
            key(Kind::DeliveryException, o, e1, &late),
            key(Kind::DeliveryException, o, e1, &lost)
        );
        assert_ne!(
            key(Kind::PaymentProblem, o, e1, &Value::Null),
            key(Kind::PaymentProblem, o, e2, &Value::Null)
        );
    }

    #[test]
    fn the_lifecycle_maps_to_emails() {
        assert_eq!(
            kinds("order.received", Value::Null),
            [Kind::OrderConfirmation]
        );
        assert_eq!(
            kinds(
                "order.payment_review",
                serde_json::json!({ "verdict": "failed" })
            ),
            [Kind::PaymentProblem]
        );
        assert!(
            kinds(
                "order.payment_review",
                serde_json::json!({ "verdict": "review" })
            )
            .is_empty()
        );
        assert_eq!(
            kinds("order.backordered", serde_json::json!({})),
            [Kind::BackorderNotice]
        );
        assert_eq!(kinds("order.shipped", Value::Null), [Kind::Shipped]);
        assert!(kinds("order.in_transit", Value::Null).is_empty());
        assert_eq!(
            kinds("order.out_for_delivery", Value::Null),
            [Kind::OutForDelivery]
        );
        assert_eq!(
            kinds("order.delivered", Value::Null),
            [Kind::Delivered, Kind::ReviewRequest]
        );
        assert_eq!(
            kinds(
                "shipment.exception",
                serde_json::json!({ "kind": "late", "notifyShopper": true })
            ),
            [Kind::Delayed]
        );
        assert_eq!(
            kinds(
                "shipment.exception",
                serde_json::json!({ "kind": "failed_attempt", "notifyShopper": true })
            ),
            [Kind::DeliveryException]
        );
        assert!(kinds("shipment.exception", serde_json::json!({ "kind": "lost" })).is_empty());
        // A return label still being bought: the approval is mailed with it, or without it
        // once none can be had.
        let pending = serde_json::json!({ "return": { "labelPending": true } });
        assert!(kinds("return.approved", pending).is_empty());
        let drawn = serde_json::json!({ "return": { "labelPending": false } });
        assert_eq!(kinds("return.approved", drawn), [Kind::ReturnApproved]);
        for settled in ["return.label_ready", "return.label_failed"] {
            assert_eq!(kinds(settled, Value::Null), [Kind::ReturnApproved]);
        }
        // Internal steps say nothing to the shopper.
        for internal in [
            "order.screened",
            "order.allocated",
            "order.routed",
            "shipment.label_created",
            "shipment.tracking",
            "order.held",
        ] {
            assert!(kinds(internal, Value::Null).is_empty(), "{internal}");
        }
    }
}
