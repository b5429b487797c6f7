//! Outbound webhooks: subscriptions (URL, event patterns; the signing secret shown once),
//! paused or deleted; and the delivery log with every attempt, a failed one sent again.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::tabs;
use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{Confirm, error_notice, loaded, mutation_action};

const LIST: &str = "{ webhookSubscriptions { id url events description active createdAt } webhookDeliveries(first: 50) { nodes { id subscriptionId eventKind status attempts lastStatusCode lastError createdAt deliveredAt attemptLog { attempt startedAt durationMs statusCode error } } } }";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[component]
pub fn Webhooks() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let data = LocalResource::new(move || {
        reload.track();
        async move { query(LIST, json!({})).await }
    });
    let url = RwSignal::new(String::new());
    let events = RwSignal::new("order.*".to_owned());
    let description = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let secret = RwSignal::new(None::<String>);
    let create = Action::new_local(move |_: &()| {
        let list: Vec<String> = events
            .get_untracked()
            .split([',', ' '])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
        let input = json!({ "url": url.get_untracked().trim(), "events": list, "description": Some(description.get_untracked()).filter(|d| !d.trim().is_empty()) });
        async move {
            let q = "mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) { secret userErrors { field message code } } }";
            match mutation(q, json!({ "i": input }), "createWebhookSubscription").await {
                Ok(p) => {
                    error.set(None);
                    url.set(String::new());
                    secret.set(p["secret"].as_str().map(str::to_owned));
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let on = move |f: &'static str| move || error.get().and_then(|e| e.on(f));
    view! {
        {tabs()}
        {move || secret.get().map(|k| view! {
            <div class="notice info" role="status">"Signing secret — copy it now, it is not shown again: "<code id="webhook-secret">{k}</code>" "
                <button class="link" on:click=move |_| secret.set(None)>"Done"</button></div>
        })}
        {move || loaded(data.get(), move |d| {
            let manage = session().can("SETTINGS_MANAGE");
            let tz = session().timezone();
            let subs = d["webhookSubscriptions"].as_array().cloned().unwrap_or_default();
            let deliveries = d["webhookDeliveries"]["nodes"].as_array().cloned().unwrap_or_default();
            let url_of = |id: &Value| subs.iter().find(|x| x["id"] == *id).map(|x| s(&x["url"])).unwrap_or_default();
            let delivery_rows = deliveries.iter().map(|x| {
                let failed = x["status"] == "FAILED";
                let attempts = x["attemptLog"].as_array().cloned().unwrap_or_default().iter()
                    .map(|a| format!("#{} {} {} ms{}", a["attempt"], a["statusCode"].as_i64().map(|c| c.to_string()).unwrap_or_else(|| "—".into()), a["durationMs"], a["error"].as_str().map(|e| format!(" ({e})")).unwrap_or_default()))
                    .collect::<Vec<_>>().join("; ");
                view! { <tr>
                    <td>{fmt::datetime(x["createdAt"].as_str().unwrap_or_default(), &tz)}</td>
                    <td class="mono">{s(&x["eventKind"])}</td>
                    <td class="small">{url_of(&x["subscriptionId"])}</td>
                    <td><span class=match x["status"].as_str() { Some("DELIVERED") => "badge good", Some("FAILED") => "badge bad", _ => "badge" }>{fmt::words(&s(&x["status"]))}</span></td>
                    <td class="small">{attempts}</td>
                    <td>{(manage && failed).then(|| view! { <Confirm label="Send again" question="Send this delivery again, as it was?".to_owned()
                        action=mutation_action("redeliverWebhook", "mutation($d: ID!) { redeliverWebhook(input: {deliveryId: $d}) { userErrors { field message code } } }".into(), json!({ "d": x["id"] }), reload)/> })}</td>
                </tr> }
            }).collect_view();
            view! {
                <h2>"Subscriptions"</h2>
                {if subs.is_empty() { view! { <p class="muted">"None yet."</p> }.into_any() } else { view! {
                    <div class="table-wrap"><table id="webhooks">
                        <thead><tr><th>"URL"</th><th>"Events"</th><th>"Description"</th><th>"State"</th><th></th></tr></thead>
                        <tbody>{subs.iter().map(|x| {
                            let active = x["active"] == true;
                            view! { <tr>
                                <td class="mono small">{s(&x["url"])}</td>
                                <td class="mono">{x["events"].as_array().cloned().unwrap_or_default().iter().map(s).collect::<Vec<_>>().join(", ")}</td>
                                <td>{s(&x["description"])}</td>
                                <td>{if active { "active" } else { "paused" }}</td>
                                <td>{manage.then(|| view! {
                                    <Confirm label=if active { "Pause" } else { "Resume" } question=format!("{} deliveries to this URL?", if active { "Pause" } else { "Resume" })
                                        action=mutation_action("updateWebhookSubscription", "mutation($i: ID!, $a: Boolean) { updateWebhookSubscription(input: {id: $i, active: $a}) { userErrors { field message code } } }".into(), json!({ "i": x["id"], "a": !active }), reload)/>
                                    <Confirm label="Delete" danger=true question="Delete this subscription? Nothing more is sent to it.".to_owned()
                                        action=mutation_action("deleteWebhookSubscription", "mutation($i: ID!) { deleteWebhookSubscription(input: {id: $i}) { userErrors { field message code } } }".into(), json!({ "i": x["id"] }), reload)/>
                                })}</td>
                            </tr> }
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any() }}
                <h2>"Delivery log"</h2>
                {if deliveries.is_empty() { view! { <p class="muted">"Nothing sent yet."</p> }.into_any() } else { view! {
                    <div class="table-wrap"><table id="deliveries">
                        <thead><tr><th>"When"</th><th>"Event"</th><th>"To"</th><th>"Status"</th><th>"Attempts"</th><th></th></tr></thead>
                        <tbody>{delivery_rows}</tbody>
                    </table></div>
                }.into_any() }}
            }.into_any()
        })}
        <Show when=move || session().can("SETTINGS_MANAGE")>
            <div class="card">
                <h2>"New subscription"</h2>
                <form class="form" on:submit=move |ev| { ev.prevent_default(); create.dispatch(()); }>
                    <label for="webhook-url">"HTTPS URL"</label>
                    <input id="webhook-url" type="url" required prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                    <div class="field-error">{on("url")}</div>
                    <label for="webhook-events">"Events (comma separated: *, order.*, order.shipped, return.requested…)"</label>
                    <input id="webhook-events" class="mono" prop:value=move || events.get() on:input=move |ev| events.set(event_target_value(&ev))/>
                    <div class="field-error">{on("events")}</div>
                    <label for="webhook-description">"Description"</label>
                    <input id="webhook-description" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))/>
                    {move || error.get().filter(|e| e.on("url").is_none() && e.on("events").is_none()).map(|e| error_notice(&e))}
                    <div class="actions"><button class="primary" type="submit" id="webhook-create">"Subscribe"</button></div>
                </form>
            </div>
        </Show>
    }
}
