//! The review queue: every order waiting for a person — fraud holds, payment checks, address
//! problems and manual holds — worked from one screen, each with why it is there and the
//! decision buttons, without opening the order.

use leptos::prelude::*;
use serde_json::{Value, json};

use crate::fmt;
use crate::live;
use crate::session::{query, session};
use crate::widgets::{Confirm, loaded, order_action, state_badge};

const QUEUE: &str = "query($states: [OrderState!]) { orders(first: 100, filter: {states: $states}, sort: PLACED_AT_ASC) { nodes { id name state currency email customerName placedAt holdReason totals { total } fraud { score level reasons { message contribution } } payment { verdict reasons } shippingAddress { line1 city postalCode country } issues { message resolved } } } }";

const KINDS: [(&str, &str); 4] = [
    ("FRAUD_REVIEW", "Fraud review"),
    ("PAYMENT_REVIEW", "Payment review"),
    ("ADDRESS_ISSUE", "Address problems"),
    ("ON_HOLD", "On hold"),
];

fn why(o: &Value) -> Vec<String> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    match o["state"].as_str().unwrap_or_default() {
        "FRAUD_REVIEW" => o["fraud"]["reasons"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| format!("+{} {}", r["contribution"], s(&r["message"])))
            .collect(),
        "PAYMENT_REVIEW" => {
            serde_json::from_value(o["payment"]["reasons"].clone()).unwrap_or_default()
        }
        "ADDRESS_ISSUE" => o["issues"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|i| i["resolved"] == false)
            .map(|i| s(&i["message"]))
            .collect(),
        _ => vec![s(&o["holdReason"])],
    }
}

#[component]
pub fn Review() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let queue = LocalResource::new(move || {
        reload.track();
        async move {
            let states: Vec<&str> = KINDS.iter().map(|k| k.0).collect();
            query(QUEUE, json!({ "states": states }))
                .await
                .map(|d| d["orders"]["nodes"].as_array().cloned().unwrap_or_default())
        }
    });
    // Holds arrive and leave as the engine works: keep the queue current.
    live::subscribe(
        "subscription { orderEvents { kind } }",
        json!({}),
        move |d| {
            let k = d["orderEvents"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if [
                "order.fraud_review",
                "order.payment_review",
                "order.held",
                "order.released",
                "order.approved",
                "order.rejected",
                "order.address_issue",
                "order.cancelled",
            ]
            .contains(&k.as_str())
            {
                reload.update(|n| *n += 1);
            }
        },
        |_| {},
    );
    view! {
        <h1>"Review queue"</h1>
        <p class="muted">"Orders waiting for a decision, oldest first."</p>
        {move || loaded(queue.get(), move |list| {
            if list.is_empty() {
                return view! { <p class="empty">"Nothing to review. Held orders appear here as they arrive."</p> }.into_any();
            }
            let sess = session();
            let tz = sess.timezone();
            let manage = sess.can("ORDERS_MANAGE");
            KINDS.iter().map(|(state, title)| {
                let of: Vec<Value> = list.iter().filter(|o| o["state"] == *state).cloned().collect();
                if of.is_empty() {
                    return ().into_any();
                }
                let tz = tz.clone();
                view! {
                    <h2>{format!("{title} ({})", of.len())}</h2>
                    {of.into_iter().map(|o| {
                        let id = o["id"].as_str().unwrap_or_default().to_owned();
                        let name = o["name"].as_str().unwrap_or_default().to_owned();
                        let st = o["state"].as_str().unwrap_or_default().to_owned();
                        let review = matches!(st.as_str(), "FRAUD_REVIEW" | "PAYMENT_REVIEW");
                        let total = fmt::money(o["totals"]["total"].as_str().unwrap_or_default(), o["currency"].as_str().unwrap_or_default());
                        view! {
                            <div class="card review-item" data-order=name.clone()>
                                <div class="bar">
                                    <a href=format!("/orders/{id}")><strong>{name.clone()}</strong></a>
                                    {state_badge(&st)}
                                    {o["fraud"]["score"].as_i64().map(|s| view! { <span class="badge warn">{format!("fraud score {s}")}</span> })}
                                    <span>{total}</span>
                                    <span class="muted">{o["customerName"].as_str().or(o["email"].as_str()).unwrap_or_default().to_owned()}</span>
                                    <span class="muted small">{fmt::datetime(o["placedAt"].as_str().unwrap_or_default(), &tz)}</span>
                                    <div class="grow"></div>
                                    {(manage && review).then(|| view! {
                                        <Confirm label="Approve" question=format!("Approve {name}?") action=order_action(id.clone(), "approveOrder", reload)/>
                                        <Confirm label="Reject" danger=true reason=true question=format!("Reject {name} for good?") action=order_action(id.clone(), "rejectOrder", reload)/>
                                    })}
                                    {(manage && st == "ON_HOLD").then(|| view! {
                                        <Confirm label="Release" question=format!("Release {name}?") action=order_action(id.clone(), "releaseOrder", reload)/>
                                    })}
                                    {(manage && st == "ADDRESS_ISSUE").then(|| view! { <a class="button" href=format!("/orders/{id}")>"Fix the address"</a> })}
                                </div>
                                <ul class="small">{why(&o).into_iter().filter(|w| !w.is_empty()).map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                            </div>
                        }
                    }).collect_view()}
                }.into_any()
            }).collect_view().into_any()
        })}
    }
}
