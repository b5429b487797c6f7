//! Payments: the Stripe account refunds are made through (keys stored sealed, a connection
//! test, the address for Stripe's webhooks), and who refunds the tenant's orders.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::tabs;
use crate::api::ApiError;
use crate::session::{mutation, query};
use crate::widgets::{error_notice, loaded};

const LOAD: &str = "{ paymentProcessors { id provider name testMode hasWebhookSecret webhookUrl apiBase } refundSettings { rule } }";

const RULES: [(&str, &str); 4] = [
    (
        "AUTO",
        "Where the payment was taken: the channel's gateway for Shopify and WooCommerce orders, Stripe for Stripe payments, otherwise recorded only",
    ),
    (
        "SIMULATED",
        "Recorded only: Orderflow sends nothing, the money is moved elsewhere",
    ),
    ("PROCESSOR", "Always through the Stripe account below"),
    (
        "CHANNEL",
        "Always through the sales channel the order came from",
    ),
];

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[component]
pub fn Payments() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let data = LocalResource::new(move || {
        reload.track();
        async move { query(LOAD, json!({})).await }
    });
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let secret_key = RwSignal::new(String::new());
    let webhook_secret = RwSignal::new(String::new());
    let api_base = RwSignal::new(String::new());
    let save = Action::new_local(move |_: &()| {
        let input = json!({
            "secretKey": Some(secret_key.get_untracked()).filter(|k| !k.trim().is_empty()),
            "webhookSecret": Some(webhook_secret.get_untracked()).filter(|k| !k.trim().is_empty()),
            "apiBase": Some(api_base.get_untracked()).filter(|b| !b.trim().is_empty()),
        });
        async move {
            let q = "mutation($i: SaveStripeInput!) { saveStripeAccount(input: $i) { processor { id } userErrors { field message code } } }";
            match mutation(q, json!({ "i": input }), "saveStripeAccount").await {
                Ok(_) => {
                    error.set(None);
                    secret_key.set(String::new());
                    webhook_secret.set(String::new());
                    notice.set(Some("Stripe account saved. Test the connection.".into()));
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let test = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move {
            let q = "mutation($p: ID!) { testPaymentProcessor(id: $p) { ok message } }";
            match query(q, json!({ "p": id })).await {
                Ok(d) => {
                    let t = &d["testPaymentProcessor"];
                    error.set(None);
                    notice.set(Some(format!(
                        "{} {}",
                        if t["ok"] == true { "✓" } else { "✗" },
                        s(&t["message"])
                    )));
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let remove = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move {
            let q = "mutation($p: ID!) { deletePaymentProcessor(id: $p) { userErrors { field message code } } }";
            match mutation(q, json!({ "p": id }), "deletePaymentProcessor").await {
                Ok(_) => {
                    notice.set(Some(
                        "Stripe account removed: its refunds are recorded only from now on.".into(),
                    ));
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let set_rule = Action::new_local(move |rule: &String| {
        let rule = rule.clone();
        async move {
            let q = "mutation($r: RefundRule!) { updateRefundSettings(rule: $r) { settings { rule } userErrors { field message code } } }";
            match mutation(q, json!({ "r": rule }), "updateRefundSettings").await {
                Ok(_) => {
                    error.set(None);
                    notice.set(Some("Refund route saved.".into()));
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let text = |sig: RwSignal<String>| {
        (
            move || sig.get(),
            move |ev| sig.set(event_target_value(&ev)),
        )
    };
    let on = move |f: &'static str| move || error.get().and_then(|e| e.on(f));
    view! {
        {tabs()}
        {move || notice.get().map(|m| view! { <div class="notice ok" role="status" id="payments-notice">{m}</div> })}
        {move || error.get().map(|e| error_notice(&e))}
        {move || loaded(data.get(), move |d| {
            let rule = s(&d["refundSettings"]["rule"]);
            let processors = d["paymentProcessors"].as_array().cloned().unwrap_or_default();
            view! {
                <div class="card">
                    <h2>"Who gives the money back"</h2>
                    <p class="small muted">"Each order shows who will refund it and why; staff can choose otherwise for one order."</p>
                    <form class="form" id="refund-rule">
                        {RULES.iter().map(|(value, words)| {
                            let value = value.to_string();
                            let checked = value == rule;
                            view! {
                                <label class="choice">
                                    <input type="radio" name="refund-rule" value=value.clone() checked=checked
                                        on:change=move |_| { notice.set(None); set_rule.dispatch(value.clone()); }/>
                                    {*words}
                                </label>
                            }
                        }).collect_view()}
                    </form>
                </div>
                <div class="card">
                    <h2>"Stripe"</h2>
                    {if processors.is_empty() {
                        view! { <p class="empty">"No Stripe account: refunds of Stripe payments are recorded only (simulated) and must be made in Stripe."</p> }.into_any()
                    } else {
                        processors.into_iter().map(|p| {
                            let (tid, rid) = (s(&p["id"]), s(&p["id"]));
                            view! {
                                <div class="bar" id="stripe-account">
                                    <strong>{s(&p["name"])}</strong>
                                    {if p["testMode"] == true {
                                        view! { <span class="badge warn">"Test mode: no real money moves"</span> }.into_any()
                                    } else {
                                        view! { <span class="badge good">"Live"</span> }.into_any()
                                    }}
                                    {p["apiBase"].as_str().map(|b| view! { <span class="muted small">{format!("API {b}")}</span> })}
                                    <button type="button" id="stripe-test" on:click=move |_| { notice.set(None); test.dispatch(tid.clone()); }>"Test connection"</button>
                                    <button type="button" class="danger" on:click=move |_| { notice.set(None); remove.dispatch(rid.clone()); }>"Remove"</button>
                                </div>
                                <p class="small">"Webhook for Stripe's refund events (refund.updated, charge.refund.updated): "
                                    <code>{s(&p["webhookUrl"])}</code>
                                    {if p["hasWebhookSecret"] == true { " (signing secret set)" } else { " (no signing secret yet: pending refunds are only followed by polling)" }}</p>
                            }
                        }).collect_view().into_any()
                    }}
                </div>
            }
            .into_any()
        })}
        <div class="card">
            <h2>"Set up or change the Stripe account"</h2>
            <form class="form" on:submit=move |ev| { ev.prevent_default(); notice.set(None); save.dispatch(()); }>
                <label for="stripe-secret-key">"Secret key (sk_… or a restricted rk_… key allowed to write refunds); stored sealed, never shown again"</label>
                <input id="stripe-secret-key" type="password" autocomplete="off" prop:value=text(secret_key).0 on:input=text(secret_key).1/>
                <div class="field-error">{on("secretKey")}</div>
                <label for="stripe-webhook-secret">"Webhook signing secret (whsec_…)"</label>
                <input id="stripe-webhook-secret" type="password" autocomplete="off" prop:value=text(webhook_secret).0 on:input=text(webhook_secret).1/>
                <div class="field-error">{on("webhookSecret")}</div>
                <label for="stripe-api-base">"API address (empty: Stripe's own)"</label>
                <input id="stripe-api-base" prop:value=text(api_base).0 on:input=text(api_base).1/>
                <div class="field-error">{on("apiBase")}</div>
                <div class="actions"><button class="primary" type="submit" id="stripe-save" disabled=move || save.pending().get()>"Save"</button></div>
            </form>
        </div>
    }
}
