//! The customer-messaging inbox: threads with the intent the classifier read and how sure it
//! was, the ones that need staff first; a thread with its messages, the suggested reply to edit
//! and send, and the proposed action (cancel, change the address) confirmed in one click.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde_json::{Value, json};

use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{Confirm, error_notice, loaded, mutation_action};

const LIST: &str = "query($f: SupportThreadFilter) { supportThreads(first: 100, filter: $f) { nodes { id subject email customerName status handling intent confidence messageCount lastMessageAt orderId } } }";

const ONE: &str = "query($id: ID!) { supportThread(id: $id) { id subject email customerName status handling intent confidence orderId
  messages { id direction source fromAddress fromName text intent confidence reasons suggestedReply proposedAction { kind reason status } author createdAt }
} }";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn intent(v: &Value, confidence: &Value) -> String {
    match (v.as_str(), confidence.as_i64()) {
        (Some(i), Some(c)) => format!("{} · {c}%", fmt::words(i)),
        (Some(i), None) => fmt::words(i),
        _ => "—".into(),
    }
}

#[component]
pub fn Inbox() -> impl IntoView {
    let params = use_query_map();
    let navigate = leptos_router::hooks::use_navigate();
    let handling = move || params.with(|p| p.get("handling").unwrap_or_default());
    let list = LocalResource::new(move || {
        let h = handling();
        let filter = match h.as_str() {
            "" => json!({}),
            "OPEN" | "WAITING" | "CLOSED" => json!({ "status": h }),
            _ => json!({ "handling": h }),
        };
        async move {
            query(LIST, json!({ "f": filter })).await.map(|d| {
                d["supportThreads"]["nodes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
        }
    });
    view! {
        <h1>"Inbox"</h1>
        <div class="bar">
            <label class="inline" for="inbox-filter">"Show"</label>
            <select id="inbox-filter" on:change=move |ev| {
                let v = event_target_value(&ev);
                navigate(&if v.is_empty() { "/inbox".to_owned() } else { format!("/inbox?handling={v}") }, Default::default());
            }>
                <option value="">"All threads"</option>
                <option value="OPEN" selected=move || handling() == "OPEN">"Open"</option>
                <option value="NEEDS_STAFF" selected=move || handling() == "NEEDS_STAFF">"Waiting for staff"</option>
                <option value="AUTO_REPLIED" selected=move || handling() == "AUTO_REPLIED">"Answered automatically"</option>
                <option value="REPLIED" selected=move || handling() == "REPLIED">"Answered by staff"</option>
            </select>
        </div>
        {move || loaded(list.get(), |rows| {
            if rows.is_empty() {
                return view! { <p class="empty">"No threads here. Shoppers' emails land here as they arrive."</p> }.into_any();
            }
            let tz = session().timezone();
            let mut rows = rows;
            // Those waiting for staff first, then the newest.
            rows.sort_by_key(|t| (t["handling"] != "NEEDS_STAFF", std::cmp::Reverse(s(&t["lastMessageAt"]))));
            view! {
                <div class="table-wrap"><table>
                    <thead><tr><th>"Subject"</th><th>"From"</th><th>"Intent"</th><th>"Handling"</th><th class="num">"Messages"</th><th>"Last"</th></tr></thead>
                    <tbody>{rows.into_iter().map(|t| view! { <tr>
                        <td><a href=format!("/inbox/{}", s(&t["id"]))>{s(&t["subject"])}</a></td>
                        <td>{t["customerName"].as_str().unwrap_or_default().to_owned()}" "<span class="muted small">{s(&t["email"])}</span></td>
                        <td>{intent(&t["intent"], &t["confidence"])}</td>
                        <td><span class=if t["handling"] == "NEEDS_STAFF" { "badge warn" } else { "badge" }>{fmt::words(&s(&t["handling"]))}</span></td>
                        <td class="num">{t["messageCount"].as_i64()}</td>
                        <td>{fmt::datetime(t["lastMessageAt"].as_str().unwrap_or_default(), &tz)}</td>
                    </tr> }).collect_view()}</tbody>
                </table></div>
            }.into_any()
        })}
    }
}

fn proposal(
    message: String,
    reload: RwSignal<u32>,
    confirm: bool,
) -> Action<Option<String>, Result<(), ApiError>> {
    let field = if confirm {
        "confirmSupportAction"
    } else {
        "dismissSupportAction"
    };
    let q = format!(
        "mutation($m: ID!) {{ {field}(input: {{messageId: $m}}) {{ userErrors {{ field message code }} }} }}"
    );
    mutation_action(field, q, json!({ "m": message }), reload)
}

/// An address change needs the new address, as the shopper wrote it: typed in, then applied.
#[component]
fn NewAddress(message: String, reload: RwSignal<u32>) -> impl IntoView {
    const FIELDS: [(&str, &str); 7] = [
        ("name", "Name"),
        ("line1", "Street"),
        ("line2", "Street, second line"),
        ("city", "City"),
        ("region", "Region or state"),
        ("postalCode", "Postal code"),
        ("country", "Country (ISO code)"),
    ];
    let values: Vec<(&'static str, &'static str, RwSignal<String>)> = FIELDS
        .iter()
        .map(|(k, l)| (*k, *l, RwSignal::new(String::new())))
        .collect();
    let error = RwSignal::new(None::<ApiError>);
    let vals = values.clone();
    let apply = Action::new_local(move |_: &()| {
        let mut address = serde_json::Map::new();
        for (k, _, v) in &vals {
            let t = v.get_untracked().trim().to_owned();
            if !t.is_empty() {
                address.insert((*k).into(), json!(t));
            }
        }
        let message = message.clone();
        async move {
            let q = "mutation($m: ID!, $a: AddressInput) { confirmSupportAction(input: {messageId: $m, address: $a}) { userErrors { field message code } } }";
            match mutation(
                q,
                json!({ "m": message, "a": address }),
                "confirmSupportAction",
            )
            .await
            {
                Ok(_) => {
                    error.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    view! {
        <details>
            <summary>"Change the address"</summary>
            <form class="form" on:submit=move |ev| { ev.prevent_default(); apply.dispatch(()); }>
                {values.iter().map(|(k, label, v)| {
                    let (k, v) = (*k, *v);
                    let id = format!("new-address-{k}");
                    view! {
                        <label for=id.clone()>{*label}</label>
                        <input id=id prop:value=move || v.get() on:input=move |ev| v.set(event_target_value(&ev))/>
                        <div class="field-error">{move || error.get().and_then(|e| e.on(k))}</div>
                    }
                }).collect_view()}
                {move || error.get().filter(|e| FIELDS.iter().all(|(k, _)| e.on(k).is_none())).map(|e| error_notice(&e))}
                <div class="actions"><button class="primary" type="submit">"Change the order's address"</button></div>
            </form>
        </details>
    }
}

#[component]
pub fn Thread() -> impl IntoView {
    let params = use_params_map();
    let reload = RwSignal::new(0_u32);
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let thread = LocalResource::new(move || {
        reload.track();
        let id = id();
        async move {
            query(ONE, json!({ "id": id }))
                .await
                .map(|d| d["supportThread"].clone())
        }
    });
    let reply = RwSignal::new(String::new());
    let close = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let sent = RwSignal::new(false);
    let send = Action::new_local(move |_: &()| {
        let (text, close_it, id) = (reply.get_untracked(), close.get_untracked(), id());
        async move {
            let q = "mutation($i: ReplyToSupportThreadInput!) { replyToSupportThread(input: $i) { userErrors { field message code } } }";
            match mutation(
                q,
                json!({ "i": { "threadId": id, "text": text, "close": close_it } }),
                "replyToSupportThread",
            )
            .await
            {
                Ok(_) => {
                    error.set(None);
                    reply.set(String::new());
                    sent.set(true);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    // The suggestion of the shopper's latest message goes into the reply box once per message
    // (not again after a reply is sent and the thread reloads).
    let filled = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let Some(Ok(t)) = thread.get() else { return };
        let latest = t["messages"].as_array().and_then(|m| {
            m.iter()
                .rev()
                .find(|m| m["direction"] == "INBOUND")
                .cloned()
        });
        let Some(latest) = latest else { return };
        let id = s(&latest["id"]);
        if filled.get_untracked().as_deref() != Some(id.as_str()) {
            filled.set(Some(id));
            if let Some(suggested) = latest["suggestedReply"].as_str() {
                reply.set(suggested.to_owned());
            }
        }
    });
    view! {
        {move || loaded(thread.get(), move |t| {
            if t.is_null() {
                return view! { <h1>"Thread not found"</h1><p><a href="/inbox">"Inbox"</a></p> }.into_any();
            }
            let sess = session();
            let tz = sess.timezone();
            let manage = sess.can("ORDERS_MANAGE");
            let messages = t["messages"].as_array().cloned().unwrap_or_default();
            view! {
                <div class="bar">
                    <h1 style="margin:0">{s(&t["subject"])}</h1>
                    <span class="badge">{fmt::words(&s(&t["status"]))}</span>
                    <div class="grow"></div>
                    <a href="/inbox">"Inbox"</a>
                </div>
                <p class="muted">{format!("{} <{}> · {}", s(&t["customerName"]), s(&t["email"]), intent(&t["intent"], &t["confidence"]))}
                    {t["orderId"].as_str().map(|o| view! { " · "<a href=format!("/orders/{o}")>"the order"</a> })}</p>
                {messages.into_iter().map(|m| {
                    let inbound = m["direction"] == "INBOUND";
                    let p = &m["proposedAction"];
                    let proposed = p["status"] == "PROPOSED";
                    let mid = s(&m["id"]);
                    let kind = s(&p["kind"]);
                    view! {
                        <div class="card" style=if inbound { "" } else { "border-left:3px solid #1d4ed8" }>
                            <div class="small muted">{format!("{} · {} · {}", fmt::datetime(m["createdAt"].as_str().unwrap_or_default(), &tz), m["fromName"].as_str().unwrap_or(m["fromAddress"].as_str().unwrap_or_default()), s(&m["source"]))}
                                {inbound.then(|| format!(" · {}", intent(&m["intent"], &m["confidence"])))}</div>
                            <p style="white-space:pre-wrap">{s(&m["text"])}</p>
                            {inbound.then(|| view! { <ul class="small muted">{m["reasons"].as_array().cloned().unwrap_or_default().into_iter().map(|r| view! { <li>{s(&r)}</li> }).collect_view()}</ul> })}
                            {(!p.is_null()).then(|| view! {
                                <div class="notice info">{format!("Proposed: {} — {} ({})", fmt::words(&kind), s(&p["reason"]), fmt::words(&s(&p["status"])))}
                                    {(manage && proposed).then(|| view! {
                                        <div class="actions">
                                            {if kind == "CHANGE_ADDRESS" {
                                                view! { <NewAddress message=mid.clone() reload=reload/> }.into_any()
                                            } else {
                                                view! { <Confirm label="Do it" question=format!("{} as the shopper asked?", fmt::words(&kind)) action=proposal(mid.clone(), reload, true)/> }.into_any()
                                            }}
                                            <Confirm label="Dismiss" question="Dismiss the proposal? Nothing changes on the order.".to_owned() action=proposal(mid.clone(), reload, false)/>
                                        </div>
                                    })}
                                </div>
                            })}
                        </div>
                    }
                }).collect_view()}
            }.into_any()
        })}
        <Show when=move || session().can("ORDERS_MANAGE")>
            <div class="card">
                <label for="reply-text">"Reply (the suggestion, when there is one: edit it before sending)"</label>
                <textarea id="reply-text" rows="6" prop:value=move || reply.get() on:input=move |ev| reply.set(event_target_value(&ev))></textarea>
                <div class="field-error">{move || error.get().and_then(|e| e.on("text"))}</div>
                <label class="inline"><input type="checkbox" prop:checked=move || close.get() on:change=move |ev| close.set(event_target_checked(&ev))/>"Close the thread with this reply"</label>
                {move || error.get().filter(|e| e.on("text").is_none()).map(|e| error_notice(&e))}
                {move || sent.get().then(|| view! { <div class="notice ok" role="status">"Sent."</div> })}
                <div class="actions"><button class="primary" id="reply-send" disabled=move || send.pending().get() on:click=move |_| { sent.set(false); send.dispatch(()); }>"Send reply"</button></div>
            </div>
        </Show>
    }
}
