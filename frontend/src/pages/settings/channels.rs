//! Channel connections: each shop the tenant sells through, the webhook URL to give the
//! platform, whether its signing secret is set, the last sync and error, whether the channel
//! emails shoppers about fulfilments, its stock (see [`super::channel_stock`]) and the sync
//! log of what Orderflow wrote to it; a new connection.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::tabs;
use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{error_notice, loaded};

const LIST: &str = "{ channelConnections { id platform name shopDomain webhookEndpoint active hasWebhookSecret credentialNames lastSyncedAt lastError notifyCustomer stockSync stockShare stockLocation } }";
const LOG: &str = "query($c: ID!) { channelSyncLog(connectionId: $c, first: 20) { id kind state summary remoteId answer attempts durationMs createdAt sentAt } }";

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
                        <dt>"Fulfilment emails"</dt><dd><NotifyToggle id=s(&c["id"]) on=c["notifyCustomer"] == true reload=reload/></dd>
                    </dl>
                    <super::channel_stock::ChannelStock c=c.clone() reload=reload/>
                    <SyncLog id=s(&c["id"])/>
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

/// Whether the channel emails the shopper about the fulfilments Orderflow pushes.
#[component]
fn NotifyToggle(id: String, on: bool, reload: RwSignal<u32>) -> impl IntoView {
    let error = RwSignal::new(None::<ApiError>);
    let set = Action::new_local(move |notify: &bool| {
        let (id, notify) = (id.clone(), *notify);
        async move {
            let q = "mutation($i: UpdateChannelConnectionInput!) { updateChannelConnection(input: $i) { userErrors { field message code } } }";
            match mutation(
                q,
                json!({ "i": { "id": id, "notifyCustomer": notify } }),
                "updateChannelConnection",
            )
            .await
            {
                Ok(_) => {
                    error.set(None);
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    view! {
        <label class="inline">
            <input type="checkbox" class="notify-customer" prop:checked=on
                disabled=move || !session().can("CHANNELS_MANAGE")
                on:change=move |ev| { set.dispatch(event_target_checked(&ev)); }/>
            " the channel also emails the shopper (Orderflow emails them either way)"
        </label>
        {move || error.get().map(|e| error_notice(&e))}
    }
}

/// The last writes to the channel: fulfilments and tracking, with the platform's answer.
#[component]
fn SyncLog(id: String) -> impl IntoView {
    let log = LocalResource::new(move || {
        let id = id.clone();
        async move {
            query(LOG, json!({ "c": id }))
                .await
                .map(|d| d["channelSyncLog"].as_array().cloned().unwrap_or_default())
        }
    });
    view! {
        <h3>"Sync log"</h3>
        {move || loaded(log.get(), |rows| {
            let tz = session().timezone();
            if rows.is_empty() {
                return view! { <p class="muted">"Nothing written to this channel yet: fulfilments and tracking are sent as parcels get their labels."</p> }.into_any();
            }
            view! {
                <table class="sync-log">
                    <thead><tr><th>"When"</th><th>"What"</th><th>"State"</th><th>"Answer"</th><th class="num">"Took"</th></tr></thead>
                    <tbody>{rows.into_iter().map(|p| {
                        let state = s(&p["state"]);
                        let badge = match state.as_str() {
                            "sent" => "badge good",
                            "failed" => "badge bad",
                            "waiting" => "badge warn",
                            _ => "badge",
                        };
                        view! { <tr>
                            <td>{fmt::datetime(&s(&p["createdAt"]), &tz)}</td>
                            <td>{fmt::words(&s(&p["kind"]))}<div class="small muted">{s(&p["summary"])}</div></td>
                            <td><span class=badge>{state}</span>{(p["attempts"].as_i64().unwrap_or(0) > 1).then(|| view! { <div class="small muted">{format!("{} tries", p["attempts"])}</div> })}</td>
                            <td class="small">{s(&p["answer"])}</td>
                            <td class="num">{p["durationMs"].as_i64().map(|ms| format!("{ms} ms"))}</td>
                        </tr> }
                    }).collect_view()}</tbody>
                </table>
            }.into_any()
        })}
    }
}
