//! Notification templates: the built-in source of each kind (`backend/templates/notify/`),
//! and the replies support starts from (`backend/templates/replies/`). Tenants' edited ones
//! are in `repo.rs`; rendering is `infra::templates`.

use super::kind::Kind;
use crate::auth::service::mail;
use crate::infra::templates::Source;

/// The built-in template of `kind`.
pub fn builtin(kind: Kind) -> Source {
    match kind {
        Kind::OrderConfirmation => crate::builtin_template!("order_confirmation"),
        Kind::PaymentProblem => crate::builtin_template!("payment_problem"),
        Kind::BackorderNotice => crate::builtin_template!("backorder_notice"),
        Kind::Shipped => crate::builtin_template!("shipped"),
        Kind::OutForDelivery => crate::builtin_template!("out_for_delivery"),
        Kind::Delayed => crate::builtin_template!("delayed"),
        Kind::Delivered => crate::builtin_template!("delivered"),
        Kind::DeliveryException => crate::builtin_template!("delivery_exception"),
        Kind::ReturnRequested => crate::builtin_template!("return_requested"),
        Kind::ReturnApproved => crate::builtin_template!("return_approved"),
        Kind::ReturnRejected => crate::builtin_template!("return_rejected"),
        Kind::ReturnReceived => crate::builtin_template!("return_received"),
        Kind::RefundIssued => crate::builtin_template!("refund_issued"),
        Kind::ReviewRequest => crate::builtin_template!("review_request"),
        Kind::Invitation => mail::invitation(),
        Kind::PasswordReset => mail::password_reset(),
        // The message is the body; the subject continues the thread's.
        Kind::SupportReply => Source {
            subject: "{{ reply.subject }}".into(),
            text: "{{ reply.text }}".into(),
            html: "{% for p in reply.paragraphs %}<p style=\"margin:0 0 12px\">{% for l in p %}{{ l }}{% if not loop.last %}<br>{% endif %}{% endfor %}</p>{% endfor %}".into(),
        },
    }
}

/// The reply a support agent (or the auto-responder) starts from, per intent.
pub fn reply_source(intent: &str) -> &'static str {
    match intent {
        "where_is_my_order" => include_str!("../../../templates/replies/where_is_my_order.txt"),
        "cancel" => include_str!("../../../templates/replies/cancel.txt"),
        "change_address" => include_str!("../../../templates/replies/change_address.txt"),
        "return_refund" => include_str!("../../../templates/replies/return_refund.txt"),
        "damaged_wrong_item" => include_str!("../../../templates/replies/damaged_wrong_item.txt"),
        "product_question" => include_str!("../../../templates/replies/product_question.txt"),
        _ => include_str!("../../../templates/replies/other.txt"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::templates::{Source, render, render_text, validate};

    fn sample() -> serde_json::Value {
        serde_json::json!({
            "locale": "de_DE",
            "shop": { "name": "Acme & Co", "email": "shop@acme.test", "reply_to": "help@acme.test" },
            "customer": { "name": "Jane Doe", "first_name": "Jane", "email": "jane@example.com" },
            "order": {
                "name": "#1001", "placed_at": "27.11.2026", "subtotal": "10,00 €", "discounts": "0,00 €",
                "has_discounts": false, "shipping": "4,90 €", "tax": "1,90 €", "total": "14,90 €",
                "lines": [{ "title": "Mug <b>", "sku": "MUG-1", "quantity": 2, "unit_price": "5,00 €", "total": "10,00 €" }],
                "shipping_address": ["Jane Doe", "Hauptstr. 1", "10115 Berlin", "Germany"],
                "status": "Shipped"
            },
            "shipment": { "carrier": "DHL", "service": "Paket", "tracking_number": "JD0123", "tracking_url": "https://t.example/JD0123", "status": "In transit", "eta": "30.11.2026", "last_event": "", "items": [{ "title": "Mug", "quantity": 2 }] },
        })
    }

    #[test]
    fn every_builtin_template_parses_and_renders() {
        for kind in Kind::ALL {
            let source = builtin(kind);
            assert!(
                validate(&source).is_empty(),
                "{kind:?}: {:?}",
                validate(&source)
            );
            let mut ctx = sample();
            ctx["reply"] = serde_json::json!({ "subject": "Re: hi", "text": "Hello\n\nThere", "paragraphs": [["Hello"], ["There"]] });
            let out = render(&source, &ctx).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert!(
                !out.subject.is_empty() && !out.subject.contains('\n'),
                "{kind:?}"
            );
            assert!(
                out.html.contains("Acme &amp; Co"),
                "{kind:?}: layout escapes the shop name"
            );
            // Minimal context: nothing optional.
            let minimal = serde_json::json!({ "shop": { "name": "Acme" }, "customer": { "first_name": "" }, "order": { "name": "#1" } });
            render(&source, &minimal).unwrap_or_else(|e| panic!("{kind:?} minimal: {e}"));
        }
        for intent in [
            "where_is_my_order",
            "cancel",
            "change_address",
            "return_refund",
            "damaged_wrong_item",
            "product_question",
            "other",
        ] {
            render_text(reply_source(intent), &sample())
                .unwrap_or_else(|e| panic!("{intent}: {e}"));
        }
    }

    #[test]
    fn shipped_names_the_tracking_and_escapes_data_in_html() {
        let out = render(&builtin(Kind::Shipped), &sample()).unwrap_or_else(|e| panic!("{e}"));
        assert!(out.subject.contains("#1001"), "{}", out.subject);
        assert!(out.text.contains("JD0123") && out.text.contains("https://t.example/JD0123"));
        assert!(out.html.contains("JD0123"), "{}", out.html);
        assert!(!out.html.contains("Mug <b>"));
    }

    #[test]
    fn a_runaway_template_runs_out_of_fuel() {
        let source = Source {
            subject: "x".into(),
            text:
                "{% for a in range(100000) %}{% for b in range(100000) %}.{% endfor %}{% endfor %}"
                    .into(),
            html: "x".into(),
        };
        let err = render(&source, &sample()).err().map(|e| e.part);
        assert_eq!(err, Some("text"));
    }

    #[test]
    fn errors_name_the_part_and_line() {
        let source = Source {
            subject: "Hi {{ order.name".into(),
            text: "ok".into(),
            html: "<p>\n{% if x %}</p>".into(),
        };
        let errors = validate(&source);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].part, "subject");
        assert_eq!(errors[1].part, "html");
        assert!(errors[1].message.starts_with("line 2"), "{errors:?}");
    }
}
