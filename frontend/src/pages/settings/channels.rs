//! Channel connections: each shop the tenant sells through, the webhook URL to give the
//! platform, whether its signing secret is set, the last sync and error; a new connection.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::tabs;
use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{error_notice, loaded};

const LIST: &str = "{ channelConnections { id platform name shopDomain webhookEndpoint active hasWebhookSecret credentialNames lastSyncedAt lastError } }";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[component]
pub fn Channels() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let list = LocalResource::new(move || {
        reload.track();
        async move {
            query(LIST, json!({})).await.map(|d| {
                d["channelConnections"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
        }
    });
    let platform = RwSignal::new("SHOPIFY".to_owned());
    let name = RwSignal::new(String::new());
    let domain = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let create = Action::new_local(move |_: &()| {
        let input = json!({
            "platform": platform.get_untracked(), "name": name.get_untracked(), "shopDomain": domain.get_untracked(),
            "webhookSecret": Some(secret.get_untracked()).filter(|x| !x.is_empty()),
            "credentials": Some(token.get_untracked()).filter(|x| !x.is_empty()).map(|t| json!({ "accessToken": t })),
        });
        async move {
            let q = "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { userErrors { field message code } } }";
            match mutation(q, json!({ "i": input }), "createChannelConnection").await {
                Ok(_) => {
                    error.set(None);
                    for f in [name, domain, secret, token] {
                        f.set(String::new());
                    }
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let on = move |f: &'static str| move || error.get().and_then(|e| e.on(f));
    view! {
        {tabs()}
        {move || loaded(list.get(), |rows| {
            let tz = session().timezone();
            if rows.is_empty() {
                return view! { <p class="empty">"No channels connected. Connect a shop below, then give the platform the webhook URL shown here."</p> }.into_any();
            }
            rows.into_iter().map(|c| view! {
                <div class="card channel">
                    <div class="bar"><strong>{s(&c["name"])}</strong><span class="badge info">{fmt::words(&s(&c["platform"]))}</span><span class="muted">{s(&c["shopDomain"])}</span>
                        {if c["active"] == true { view! { <span class="badge good">"active"</span> } } else { view! { <span class="badge">"paused"</span> } }}</div>
                    <dl class="facts">
                        <dt>"Webhook URL"</dt><dd><code class="webhook-url">{s(&c["webhookEndpoint"])}</code></dd>
                        <dt>"Signing secret"</dt><dd>{if c["hasWebhookSecret"] == true { "set (never shown again)" } else { "not set: webhooks are refused until it is" }}</dd>
                        <dt>"Credentials"</dt><dd>{c["credentialNames"].as_array().cloned().unwrap_or_default().iter().map(s).collect::<Vec<_>>().join(", ")}</dd>
                        <dt>"Last sync"</dt><dd>{c["lastSyncedAt"].as_str().map(|a| fmt::datetime(a, &tz)).unwrap_or_else(|| "never".into())}</dd>
                        {c["lastError"].as_str().map(|e| view! { <dt>"Last error"</dt><dd class="field-error">{e.to_owned()}</dd> })}
                    </dl>
                </div>
            }).collect_view().into_any()
        })}
        <Show when=move || session().can("CHANNELS_MANAGE")>
            <div class="card">
                <h2>"Connect a shop"</h2>
                <form class="form" on:submit=move |ev| { ev.prevent_default(); create.dispatch(()); }>
                    <label for="channel-platform">"Platform"</label>
                    <select id="channel-platform" on:change=move |ev| platform.set(event_target_value(&ev))>
                        {["SHOPIFY", "WOOCOMMERCE", "BIGCOMMERCE", "AMAZON", "ETSY"].iter().map(|p| view! { <option value=*p>{fmt::words(p)}</option> }).collect_view()}
                    </select>
                    <label for="channel-name">"Name"</label>
                    <input id="channel-name" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    <div class="field-error">{on("name")}</div>
                    <label for="channel-domain">"Shop domain or id"</label>
                    <input id="channel-domain" required placeholder="my-shop.myshopify.com" prop:value=move || domain.get() on:input=move |ev| domain.set(event_target_value(&ev))/>
                    <div class="field-error">{on("shopDomain")}</div>
                    <label for="channel-secret">"Webhook signing secret"</label>
                    <input id="channel-secret" type="password" autocomplete="off" prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev))/>
                    <div class="field-error">{on("webhookSecret")}</div>
                    <label for="channel-token">"API access token"</label>
                    <input id="channel-token" type="password" autocomplete="off" prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev))/>
                    {move || error.get().filter(|e| !matches!(e, ApiError::User(_))).map(|e| error_notice(&e))}
                    <div class="actions"><button class="primary" type="submit" id="channel-create">"Connect"</button></div>
                </form>
            </div>
        </Show>
    }
}
