//! Notification templates: every email the shopper (or an invitee) gets, edited with its
//! syntax checked when saved, previewed as it would be sent (a sample order, or a real one),
//! and reset to the built-in text.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::tabs;
use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{error_notice, loaded};

const LIST: &str = "{ notificationTemplates { kind label subject text html customized version } }";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[component]
pub fn Templates() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let list = LocalResource::new(move || {
        reload.track();
        async move {
            query(LIST, json!({})).await.map(|d| {
                d["notificationTemplates"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
        }
    });
    let kind = RwSignal::new(None::<String>);
    let subject = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let html = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let preview = RwSignal::new(None::<Value>);
    let open = move |t: &Value| {
        kind.set(Some(s(&t["kind"])));
        subject.set(s(&t["subject"]));
        text.set(s(&t["text"]));
        html.set(s(&t["html"]));
        preview.set(None);
        error.set(None);
        notice.set(None);
    };
    let draft = move || json!({ "kind": kind.get_untracked(), "subject": subject.get_untracked(), "text": text.get_untracked(), "html": html.get_untracked() });
    let show = Action::new_local(move |_: &()| {
        let input = draft();
        async move {
            let q = "mutation($i: PreviewNotificationInput!) { previewNotification(input: $i) { preview { subject text html locale } userErrors { field message code } } }";
            match mutation(q, json!({ "i": input }), "previewNotification").await {
                Ok(p) => {
                    error.set(None);
                    preview.set(Some(p["preview"].clone()));
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let save = Action::new_local(move |_: &()| {
        let input = draft();
        async move {
            let q = "mutation($i: UpdateNotificationTemplateInput!) { updateNotificationTemplate(input: $i) { template { version } userErrors { field message code } } }";
            match mutation(q, json!({ "i": input }), "updateNotificationTemplate").await {
                Ok(p) => {
                    error.set(None);
                    notice.set(Some(format!(
                        "Saved, version {}.",
                        p["template"]["version"]
                    )));
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let reset = Action::new_local(move |_: &()| {
        let k = kind.get_untracked();
        async move {
            let q = "mutation($k: NotificationKind!) { resetNotificationTemplate(input: {kind: $k}) { template { subject text html } userErrors { field message code } } }";
            match mutation(q, json!({ "k": k }), "resetNotificationTemplate").await {
                Ok(p) => {
                    subject.set(s(&p["template"]["subject"]));
                    text.set(s(&p["template"]["text"]));
                    html.set(s(&p["template"]["html"]));
                    notice.set(Some("Back to the built-in template.".into()));
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let on = move |f: &'static str| move || error.get().and_then(|e| e.on(f));
    view! {
        {tabs()}
        <div class="grid2">
            <div>
                {move || loaded(list.get(), move |rows| view! {
                    <div class="table-wrap"><table id="templates">
                        <thead><tr><th>"Email"</th><th>"Subject"</th><th>"Version"</th></tr></thead>
                        <tbody>{rows.into_iter().map(|t| {
                            let t2 = t.clone();
                            view! { <tr>
                                <td><button class="link" on:click=move |_| open(&t2)>{s(&t["label"])}</button>{(t["customized"] == true).then(|| view! { " "<span class="badge info">"edited"</span> })}</td>
                                <td class="small">{s(&t["subject"])}</td>
                                <td class="num">{t["version"].as_i64()}</td>
                            </tr> }
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any())}
            </div>
            <div>
                {move || kind.get().map(|k| view! {
                    <div class="card">
                        <h2>{fmt::words(&k)}</h2>
                        {move || notice.get().map(|m| view! { <div class="notice ok" role="status">{m}</div> })}
                        <label for="template-subject">"Subject"</label>
                        <input id="template-subject" style="width:100%" prop:value=move || subject.get() on:input=move |ev| subject.set(event_target_value(&ev))/>
                        <div class="field-error">{on("subject")}</div>
                        <label for="template-text">"Plain text"</label>
                        <textarea id="template-text" class="mono" rows="8" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                        <div class="field-error" id="template-text-error">{on("text")}</div>
                        <label for="template-html">"HTML"</label>
                        <textarea id="template-html" class="mono" rows="8" prop:value=move || html.get() on:input=move |ev| html.set(event_target_value(&ev))></textarea>
                        <div class="field-error">{on("html")}</div>
                        {move || error.get().filter(|e| ["subject", "text", "html"].iter().all(|f| e.on(f).is_none())).map(|e| error_notice(&e))}
                        <div class="actions">
                            <button id="template-preview" on:click=move |_| { show.dispatch(()); }>"Preview"</button>
                            <Show when=move || session().can("SETTINGS_MANAGE")>
                                <button class="primary" id="template-save" on:click=move |_| { notice.set(None); save.dispatch(()); }>"Save"</button>
                                <button on:click=move |_| { reset.dispatch(()); }>"Reset to built-in"</button>
                            </Show>
                        </div>
                    </div>
                })}
                {move || preview.get().map(|p| view! {
                    <div class="card" id="template-preview-out">
                        <h3>{format!("Subject: {}", s(&p["subject"]))}</h3>
                        <p class="small muted">{format!("Rendered for a sample order, in {}", s(&p["locale"]))}</p>
                        <iframe title="The email as sent" sandbox="" style="width:100%;height:420px;border:1px solid #e5e7eb" srcdoc=s(&p["html"])></iframe>
                        <pre class="small" style="white-space:pre-wrap">{s(&p["text"])}</pre>
                    </div>
                })}
            </div>
        </div>
    }
}
