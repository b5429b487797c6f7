//! What a template sees: the shop, the shopper, the order and what the email is about, with
//! money and dates already written for the shopper's locale.

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;

use crate::infra::mailer::Mailer;
use sea_orm::DbErr;
use serde_json::{Value, json};

use super::kind::Kind;
use super::locale::ShopperLocale;
use super::repo::Notification;
use super::settings::NotifySettings;
use crate::domain::OrderId;
use crate::domain::address::Address;
use crate::domain::money::Money;
use crate::infra::link_token;
use crate::lifecycle::shipping::repo as shipping;
use crate::lifecycle::state::OrderState;
use crate::lifecycle::tracking::repo as tracking;
use crate::order::canonical::ClientDetails;
use crate::order::repo::{self as orders, Order, OrderLine};
use crate::tenancy::TenantTx;

/// Link purposes (see [`link_token`]).
pub const TRACK: &str = "track";
pub const REVIEW: &str = "review";
pub const UNSUBSCRIBE: &str = "unsubscribe";

/// Who the tenant's mail comes from.
#[derive(Clone, Debug)]
pub struct Sender {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub shop_name: String,
}

/// The tenant's sender: its own address when the platform may send for its domain and the
/// address was confirmed; otherwise
/// the platform's address under the tenant's name, with the tenant's address to reply to.
pub fn sender(settings: &NotifySettings, shop_name: &str, mailer: &Mailer) -> Sender {
    let platform = mailer.platform_sender();
    let name = settings
        .sender_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| shop_name.to_owned());
    // Its own address only when the platform may send for the domain and someone at the
    // address confirmed it: otherwise any tenant could send as anyone at those domains.
    let own: Option<lettre::Address> = settings
        .sender_address
        .as_deref()
        .filter(|a| mailer.may_send_as(a) && super::sender::confirmed(settings))
        .and_then(|a| a.parse().ok());
    let address = own.unwrap_or_else(|| platform.email.clone());
    let reply_to = settings
        .reply_to
        .as_deref()
        .or(settings.sender_address.as_deref())
        .and_then(|a| a.parse().ok())
        .map(|a| Mailbox::new(Some(name.clone()), a));
    Sender {
        from: Mailbox::new(Some(name), address),
        reply_to,
        shop_name: shop_name.to_owned(),
    }
}

impl Sender {
    /// The `shop` part of a template's context.
    pub fn shop_value(&self) -> Value {
        json!({
            "name": self.shop_name,
            "email": self.from.email.to_string(),
            "reply_to": self.reply_to.as_ref().map(|r| r.email.to_string()).unwrap_or_default(),
        })
    }
}

/// The shopper's locale for `order`.
pub fn locale_of(order: &Order, settings: &NotifySettings) -> ShopperLocale {
    let client: ClientDetails = serde_json::from_value(order.client.clone()).unwrap_or_default();
    let country = address_of(order).map(|a| a.country);
    ShopperLocale::resolve(
        client.language.as_deref(),
        country.as_deref(),
        &settings.default_locale,
    )
}

fn address_of(order: &Order) -> Option<Address> {
    order
        .shipping_address
        .clone()
        .and_then(|a| serde_json::from_value(a).ok())
}

fn state_label(state: &str) -> String {
    let state = OrderState::parse(state)
        .map(|s| s.as_str())
        .unwrap_or(state);
    let mut words = state.replace('_', " ");
    if let Some(first) = words.get(..1) {
        words = first.to_uppercase() + &words[1..];
    }
    words
}

/// The public tracking page of an order, for carriers without one of their own.
pub fn track_url(public_url: &str, key: &[u8], order: &Order) -> String {
    let token = link_token::sign(
        key,
        TRACK,
        &[&order.tenant_id.to_string(), &order.id.to_string()],
    );
    format!("{public_url}/track/{token}")
}

/// The carrier's own tracking page for a number, where its format says which carrier.
pub fn carrier_tracking_url(format: &str, number: &str) -> Option<String> {
    let n = number;
    Some(match format {
        "ups" => format!("https://www.ups.com/track?tracknum={n}"),
        "usps" => format!("https://tools.usps.com/go/TrackConfirmAction?tLabels={n}"),
        "fedex" => format!("https://www.fedex.com/fedextrack/?trknbr={n}"),
        "dhl" => format!("https://www.dhl.com/global-en/home/tracking.html?tracking-id={n}"),
        _ => return None,
    })
}

/// Links and keys the context needs from configuration.
pub struct Links<'a> {
    pub public_url: &'a str,
    pub key: &'a [u8],
}

impl<'a> Links<'a> {
    pub fn of(config: &'a crate::config::Config) -> Self {
        Self {
            public_url: &config.public_url,
            key: config.secret_key.expose(),
        }
    }
}

/// The order part of the context (and the shop and the shopper).
pub fn order_value(order: &Order, lines: &[OrderLine], locale: ShopperLocale) -> Value {
    let cur = order.currency.code();
    let money = |units: i64| locale.money(units, cur);
    let amount = |m: Money| money(m.units());
    let address: Vec<String> = address_of(order)
        .map(|a| {
            let mut out = Vec::new();
            out.extend(a.name.clone().filter(|s| !s.is_empty()));
            out.extend(a.company.clone().filter(|s| !s.is_empty()));
            out.push(a.line1.clone());
            out.extend(a.line2.clone().filter(|s| !s.is_empty()));
            let city = [a.postal_code.clone().unwrap_or_default(), a.city.clone()]
                .join(" ")
                .trim()
                .to_owned();
            let region = a.region.clone().unwrap_or_default();
            out.push(if region.is_empty() {
                city
            } else {
                format!("{city}, {region}")
            });
            out.push(a.country.clone());
            out
        })
        .unwrap_or_default();
    json!({
        "name": order.name,
        "placed_at": locale.date(order.placed_at.date_naive()),
        "subtotal": amount(order.subtotal),
        "discounts": amount(order.discounts),
        "has_discounts": !order.discounts.is_zero(),
        "shipping": amount(order.shipping),
        "tax": amount(order.tax),
        "total": amount(order.total),
        "currency": cur,
        "status": state_label(order.state.as_str()),
        "shipping_address": address,
        "lines": lines.iter().map(|l| json!({
            "title": match &l.variant_title {
                Some(v) if !v.is_empty() => format!("{} — {v}", l.title),
                _ => l.title.clone(),
            },
            "sku": l.sku,
            "quantity": l.quantity,
            "unit_price": money(l.unit_price_units),
            "total": money(l.unit_price_units * l.quantity - l.discount_units),
        })).collect::<Vec<_>>(),
    })
}

fn customer_value(order: &Order) -> Value {
    let name = order.customer_name.clone().unwrap_or_default();
    let first = name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    json!({ "name": name, "first_name": first, "email": order.email })
}

fn day(locale: ShopperLocale, at: Option<DateTime<Utc>>) -> String {
    at.map(|t| locale.date(t.date_naive())).unwrap_or_default()
}

/// The shipments part: every labelled parcel, and the one the email is about (else the
/// first).
pub async fn shipments_value(
    tx: &TenantTx,
    order: &Order,
    lines: &[OrderLine],
    about: Option<uuid::Uuid>,
    locale: ShopperLocale,
    links: &Links<'_>,
) -> Result<(Value, Value), DbErr> {
    let parcels: Vec<_> = shipping::of_orders(tx, &[OrderId(order.id)])
        .await?
        .into_iter()
        .filter(|s| s.status != shipping::VOIDED && s.tracking_number.is_some())
        .collect();
    let carrier_ids: Vec<uuid::Uuid> = parcels.iter().filter_map(|s| s.carrier_id).collect();
    let service_ids: Vec<uuid::Uuid> = parcels.iter().filter_map(|s| s.service_id).collect();
    let carriers = shipping::carriers_by_id(tx, &carrier_ids).await?;
    let services = shipping::services_by_id(tx, &service_ids).await?;
    let page = track_url(links.public_url, links.key, order);
    let values: Vec<(uuid::Uuid, Value)> = parcels
        .iter()
        .map(|s| {
            let carrier = carriers.iter().find(|c| Some(c.id) == s.carrier_id);
            let number = s.tracking_number.clone().unwrap_or_default();
            let url = carrier
                .and_then(|c| carrier_tracking_url(&c.tracking_format, &number))
                .unwrap_or_else(|| page.clone());
            let pieces: Vec<crate::lifecycle::shipping::repo::Piece> =
                serde_json::from_value(s.lines.clone()).unwrap_or_default();
            let items: Vec<Value> = pieces
                .iter()
                .map(|p| {
                    let title = lines
                        .iter()
                        .find(|l| l.position == p.position)
                        .map(|l| l.title.clone())
                        .unwrap_or_else(|| p.sku.clone());
                    json!({ "title": title, "quantity": p.quantity })
                })
                .collect();
            let status = crate::lifecycle::shipping::status::TrackStatus::parse(&s.status)
                .map(|t| state_label(t.as_str()))
                .unwrap_or_else(|| "Label created".to_owned());
            (
                s.id,
                json!({
                    "carrier": carrier.map(|c| c.name.clone()).unwrap_or_default(),
                    "service": services.iter().find(|v| Some(v.id) == s.service_id).map(|v| v.name.clone()).unwrap_or_default(),
                    "tracking_number": number,
                    "tracking_url": url,
                    "status": status,
                    "eta": day(locale, s.predicted_at.or(s.estimated_at)),
                    "last_event": s.last_detail.clone().unwrap_or_default(),
                    "parcel_no": s.parcel_no,
                    "parcel_count": s.parcel_count,
                    "items": items,
                }),
            )
        })
        .collect();
    let one = about
        .and_then(|id| values.iter().find(|(s, _)| *s == id))
        .or(values.first())
        .map(|(_, v)| v.clone())
        .unwrap_or(Value::Null);
    let all = Value::Array(values.into_iter().map(|(_, v)| v).collect());
    Ok((one, all))
}

/// The whole context of a notification about an order.
pub async fn for_order(
    tx: &TenantTx,
    n: &Notification,
    order: &Order,
    sender: &Sender,
    settings: &NotifySettings,
    links: &Links<'_>,
) -> Result<(Value, ShopperLocale), DbErr> {
    let locale = locale_of(order, settings);
    let lines = orders::lines_of(tx, &[OrderId(order.id)]).await?;
    let kind = Kind::parse(&n.kind).unwrap_or(Kind::OrderConfirmation);
    let about = n
        .context
        .get("shipmentId")
        .and_then(Value::as_str)
        .and_then(|s| uuid::Uuid::parse_str(s).ok());
    let mut ctx = json!({
        "locale": locale.name(),
        "shop": sender.shop_value(),
        "customer": customer_value(order),
        "order": order_value(order, &lines, locale),
    });
    if matches!(
        kind,
        Kind::Shipped
            | Kind::OutForDelivery
            | Kind::Delivered
            | Kind::Delayed
            | Kind::DeliveryException
    ) {
        let (one, all) = shipments_value(tx, order, &lines, about, locale, links).await?;
        ctx["shipment"] = one;
        ctx["shipments"] = all;
    }
    match kind {
        Kind::BackorderNotice => {
            let items: Vec<Value> = n
                .context
                .get("backorders")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|b| {
                    let sku = b.get("sku").and_then(Value::as_str).unwrap_or_default();
                    let title = lines
                        .iter()
                        .find(|l| l.sku.as_deref() == Some(sku))
                        .map(|l| l.title.clone())
                        .unwrap_or_else(|| sku.to_owned());
                    let eta = b
                        .get("eta")
                        .and_then(|e| serde_json::from_value::<DateTime<Utc>>(e.clone()).ok());
                    json!({
                        "title": title,
                        "sku": sku,
                        "quantity": b.get("quantity"),
                        "eta": day(locale, eta),
                    })
                })
                .collect();
            ctx["backorder"] = json!({ "items": items });
        }
        Kind::PaymentProblem => {
            let problem = n
                .context
                .get("findings")
                .and_then(Value::as_array)
                .map(|f| {
                    f.iter()
                        .filter(|f| f.get("severity").and_then(Value::as_str) == Some("fail"))
                        .filter_map(|f| f.get("message").and_then(Value::as_str))
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "the payment for this order could not be taken".into());
            ctx["payment"] = json!({
                "problem": problem,
                "action": "Please reply to this email or contact us so we can arrange payment; your order is on hold until then.",
            });
        }
        Kind::Delayed | Kind::DeliveryException => {
            let exception_kind = n
                .context
                .get("exceptionKind")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let found = match about {
                Some(shipment) => tracking::exceptions_of(tx, &[OrderId(order.id)])
                    .await?
                    .into_iter()
                    .find(|e| e.shipment_id == shipment && e.kind == exception_kind),
                None => None,
            };
            let detail = found.as_ref().map(|e| e.detail.clone()).unwrap_or_default();
            let (title, next_step) = exception_words(exception_kind);
            ctx["exception"] = json!({ "title": title, "detail": detail, "next_step": next_step });
            let promised = order.promised_at;
            ctx["delay"] = json!({
                "promised": day(locale, promised),
                "eta": ctx["shipment"]["eta"].clone(),
                "reason": detail,
            });
        }
        Kind::Delivered => {
            ctx["returns"] = json!({ "url": links.start(order) });
        }
        Kind::ReviewRequest => {
            let tenant = order.tenant_id.to_string();
            let review = link_token::sign(links.key, REVIEW, &[&tenant, &order.id.to_string()]);
            let email = order.email.clone().unwrap_or_default();
            let unsubscribe = link_token::sign(
                links.key,
                UNSUBSCRIBE,
                &[&tenant, &email.to_ascii_lowercase()],
            );
            ctx["review"] = json!({
                "url": format!("{}/review/{review}", links.public_url),
                "unsubscribe_url": format!("{}/unsubscribe/{unsubscribe}", links.public_url),
            });
        }
        Kind::ReturnRequested
        | Kind::ReturnApproved
        | Kind::ReturnRejected
        | Kind::ReturnReceived => {
            let mut r = n
                .context
                .get("return")
                .cloned()
                .unwrap_or_else(|| json!({}));
            if let Some(id) = n
                .context
                .get("returnId")
                .and_then(Value::as_str)
                .and_then(|id| uuid::Uuid::parse_str(id).ok())
            {
                r["page_url"] = json!(links.page_of(order.tenant_id, id));
            }
            ctx["return"] = r;
        }
        Kind::RefundIssued => ctx["refund"] = n.context.get("refund").cloned().unwrap_or_default(),
        _ => {}
    }
    Ok((ctx, locale))
}

/// How a delivery problem is put to the shopper, and what they can do.
pub fn exception_words(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "late" => (
            "Your parcel is running late",
            "We are watching it with the carrier and will write again if anything changes.",
        ),
        "lost" => (
            "Your parcel has stopped moving",
            "We have opened an inquiry with the carrier; if it does not turn up soon we will send a replacement or refund you.",
        ),
        "address_problem" => (
            "The carrier cannot deliver to the address given",
            "Please reply with the correct address (street, number, apartment, postcode) so we can redirect it.",
        ),
        "failed_attempt" => (
            "A delivery attempt failed",
            "The carrier will try again; you can also arrange a new delivery or a pickup on the tracking page.",
        ),
        "returned_to_sender" => (
            "Your parcel is on its way back to us",
            "Reply to this email and tell us whether you would like it sent again or refunded.",
        ),
        _ => (
            "There is a problem with your delivery",
            "We are on it and will write again soon.",
        ),
    }
}
