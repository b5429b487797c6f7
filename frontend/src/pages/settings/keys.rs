//! API keys: made with the permissions an integration needs, the secret shown once, revoked.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::tabs;
use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{Confirm, error_notice, loaded, mutation_action};

const KEYS: &str =
    "{ apiKeys(first: 100) { nodes { id name prefix scopes createdAt lastUsedAt revokedAt } } }";
const SCOPES: [&str; 18] = [
    "TENANT_READ",
    "MEMBERS_READ",
    "MEMBERS_MANAGE",
    "API_KEYS_MANAGE",
    "AUDIT_READ",
    "CATALOG_READ",
    "CATALOG_MANAGE",
    "INVENTORY_READ",
    "INVENTORY_MANAGE",
    "ORDERS_READ",
    "ORDERS_MANAGE",
    "CHANNELS_MANAGE",
    "SETTINGS_MANAGE",
    "JOBS_MANAGE",
    "REFUNDS_ISSUE",
    "FINANCE_READ",
    "FINANCE_MANAGE",
    "REPORTS_READ",
];

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[component]
pub fn ApiKeys() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let keys = LocalResource::new(move || {
        reload.track();
        async move {
            query(KEYS, json!({})).await.map(|d| {
                d["apiKeys"]["nodes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
        }
    });
    let name = RwSignal::new(String::new());
    let scopes = RwSignal::new(vec!["ORDERS_READ".to_owned()]);
    let error = RwSignal::new(None::<ApiError>);
    let secret = RwSignal::new(None::<String>);
    let create = Action::new_local(move |_: &()| {
        let (n, sc) = (name.get_untracked(), scopes.get_untracked());
        async move {
            let q = "mutation($n: String!, $s: [Permission!]!) { createApiKey(input: {name: $n, scopes: $s}) { secret userErrors { field message code } } }";
            match mutation(q, json!({ "n": n, "s": sc }), "createApiKey").await {
                Ok(p) => {
                    error.set(None);
                    name.set(String::new());
                    secret.set(p["secret"].as_str().map(str::to_owned));
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let revoke = move |id: String| {
        let q = "mutation($i: ID!) { revokeApiKey(input: {id: $i}) { userErrors { field message code } } }";
        mutation_action("revokeApiKey", q.into(), json!({ "i": id }), reload)
    };
    view! {
        {tabs()}
        {move || secret.get().map(|k| view! {
            <div class="notice info" role="status" id="new-key">"The new key — copy it now, it is not shown again: "<code id="new-key-secret">{k}</code>
                " "<button class="link" on:click=move |_| secret.set(None)>"Done"</button></div>
        })}
        {move || loaded(keys.get(), move |rows| {
            let tz = session().timezone();
            if rows.is_empty() {
                return view! { <p class="empty">"No API keys yet. Integrations call the same GraphQL API with one."</p> }.into_any();
            }
            view! {
                <div class="table-wrap"><table id="api-keys">
                    <thead><tr><th>"Name"</th><th>"Key starts"</th><th>"Permissions"</th><th>"Last used"</th><th></th></tr></thead>
                    <tbody>{rows.into_iter().map(|k| {
                        let revoked = !k["revokedAt"].is_null();
                        let name = s(&k["name"]);
                        view! { <tr>
                            <td>{name.clone()}</td><td class="mono">{s(&k["prefix"])}"…"</td>
                            <td class="small">{k["scopes"].as_array().cloned().unwrap_or_default().iter().map(|x| fmt::words(x.as_str().unwrap_or_default())).collect::<Vec<_>>().join(", ")}</td>
                            <td>{k["lastUsedAt"].as_str().map(|a| fmt::datetime(a, &tz)).unwrap_or_else(|| "never".into())}</td>
                            <td>{if revoked { view! { <span class="badge bad">"revoked"</span> }.into_any() } else if !session().can("API_KEYS_MANAGE") { ().into_any() } else {
                                view! { <Confirm label="Revoke" danger=true question=format!("Revoke {name}? Calls with it fail from now on.") action=revoke(s(&k["id"]))/> }.into_any() }}</td>
                        </tr> }
                    }).collect_view()}</tbody>
                </table></div>
            }.into_any()
        })}
        <Show when=move || session().can("API_KEYS_MANAGE")>
        <div class="card">
            <h2>"New API key"</h2>
            <form on:submit=move |ev| { ev.prevent_default(); create.dispatch(()); }>
                <label for="key-name">"Name (what uses it)"</label>
                <input id="key-name" required size="40" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <div class="field-error">{move || error.get().and_then(|e| e.on("name"))}</div>
                <fieldset>
                    <legend>"Permissions"</legend>
                    // Keys cannot manage people or keys, nor carry more than their maker holds.
                    {SCOPES.iter().filter(|sc| !["MEMBERS_MANAGE", "API_KEYS_MANAGE"].contains(sc) && session().can(sc)).map(|sc| view! {
                        <label class="inline" style="margin-right:1rem"><input type="checkbox" prop:checked=move || scopes.with(|l| l.iter().any(|x| x == sc))
                            on:change=move |ev| { let on = event_target_checked(&ev); scopes.update(|l| if on { l.push((*sc).to_owned()) } else { l.retain(|x| x != sc) }); }/>{fmt::words(sc)}</label>
                    }).collect_view()}
                </fieldset>
                {move || error.get().filter(|e| e.on("name").is_none()).map(|e| error_notice(&e))}
                <div class="actions"><button class="primary" type="submit" id="key-create">"Create key"</button></div>
            </form>
        </div>
        </Show>
    }
}
