//! Automation rules: each rule's trigger, condition and actions, on or off, with its versions;
//! an editor that checks the condition as it is saved (the error names the column) and a dry
//! run against the latest orders before it goes live.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::tabs;
use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{error_notice, loaded};

const RULES: &str =
    "{ automationRules { id name trigger condition enabled version actions { kind value } } }";
const KINDS: [&str; 10] = [
    "ADD_TAG",
    "REMOVE_TAG",
    "HOLD",
    "ADD_NOTE",
    "RELEASE",
    "SEND_EMAIL",
    "CALL_WEBHOOK",
    "ASSIGN_WAREHOUSE",
    "CHOOSE_SERVICE",
    "CREATE_TASK",
];

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The rule being edited: empty for a new one.
#[derive(Clone, Default)]
struct Draft {
    id: Option<String>,
    name: String,
    trigger: String,
    condition: String,
    enabled: bool,
    /// "KIND: value" per line.
    actions: String,
}

impl Draft {
    fn of(r: &Value) -> Self {
        Self {
            id: r["id"].as_str().map(str::to_owned),
            name: s(&r["name"]),
            trigger: s(&r["trigger"]),
            condition: s(&r["condition"]),
            enabled: r["enabled"] == true,
            actions: r["actions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|a| format!("{}: {}", s(&a["kind"]), s(&a["value"])))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// The actions as the API takes them, or the line that is not one.
    fn actions(&self) -> Result<Vec<Value>, String> {
        self.actions
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                let (kind, value) = l.split_once(':').unwrap_or((l, ""));
                let kind = kind.trim().to_uppercase().replace(' ', "_");
                if KINDS.contains(&kind.as_str()) {
                    Ok(json!({ "kind": kind, "value": value.trim() }))
                } else {
                    Err(format!(
                        "Actions, line {}: \"{}\" is not an action; use one of {}",
                        i + 1,
                        kind,
                        KINDS.join(", ")
                    ))
                }
            })
            .collect()
    }
}

#[component]
pub fn Rules() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let rules = LocalResource::new(move || {
        reload.track();
        async move {
            query(RULES, json!({}))
                .await
                .map(|d| d["automationRules"].as_array().cloned().unwrap_or_default())
        }
    });
    let draft = RwSignal::new(Draft {
        enabled: true,
        trigger: "order.screened".into(),
        ..Default::default()
    });
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let dry = RwSignal::new(None::<Value>);
    let save = Action::new_local(move |_: &()| {
        let d = draft.get_untracked();
        async move {
            let actions = match d.actions() {
                Ok(a) => a,
                Err(m) => return error.set(Some(ApiError::Message(m))),
            };
            let q = "mutation($i: SaveAutomationRuleInput!) { saveAutomationRule(input: $i) { rule { id name version } userErrors { field message code } } }";
            let input = json!({ "id": d.id, "name": d.name, "trigger": d.trigger, "condition": d.condition, "actions": actions, "enabled": d.enabled });
            match mutation(q, json!({ "i": input }), "saveAutomationRule").await {
                Ok(p) => {
                    error.set(None);
                    notice.set(Some(format!(
                        "Saved \"{}\", version {}.",
                        s(&p["rule"]["name"]),
                        p["rule"]["version"]
                    )));
                    dry.set(None);
                    draft.set(Draft {
                        enabled: true,
                        trigger: "order.screened".into(),
                        ..Default::default()
                    });
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let dry_run = Action::new_local(move |_: &()| {
        let d = draft.get_untracked();
        async move {
            let q = "mutation($t: String!, $c: String!) { dryRunAutomationRule(input: {trigger: $t, condition: $c, last: 1000}) { result { summary orders { id name } } userErrors { field message code } } }";
            match mutation(
                q,
                json!({ "t": d.trigger, "c": d.condition }),
                "dryRunAutomationRule",
            )
            .await
            {
                Ok(p) => {
                    error.set(None);
                    dry.set(Some(p["result"].clone()));
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let field = move |get: fn(&Draft) -> String, set: fn(&mut Draft, String)| {
        (
            move || draft.with(get),
            move |ev| {
                let v = event_target_value(&ev);
                draft.update(|d| set(d, v));
            },
        )
    };
    let (name_v, name_in) = field(|d| d.name.clone(), |d, v| d.name = v);
    let (trig_v, trig_in) = field(|d| d.trigger.clone(), |d, v| d.trigger = v);
    let (cond_v, cond_in) = field(|d| d.condition.clone(), |d, v| d.condition = v);
    let (act_v, act_in) = field(|d| d.actions.clone(), |d, v| d.actions = v);
    let on = move |f: &'static str| move || error.get().and_then(|e| e.on(f));
    view! {
        {tabs()}
        {move || notice.get().map(|m| view! { <div class="notice ok" role="status">{m}</div> })}
        {move || loaded(rules.get(), move |rows| {
            if rows.is_empty() {
                return view! { <p class="empty">"No rules yet. A rule runs on timeline events and acts when its condition holds."</p> }.into_any();
            }
            let manage = session().can("SETTINGS_MANAGE");
            view! {
                <div class="table-wrap"><table id="rules">
                    <thead><tr><th>"Rule"</th><th>"On"</th><th>"When"</th><th>"Then"</th><th>"Version"</th><th></th></tr></thead>
                    <tbody>{rows.into_iter().map(|r| {
                        let d = Draft::of(&r);
                        view! { <tr>
                            <td>{s(&r["name"])}" "{if r["enabled"] == true { view! { <span class="badge good">"on"</span> } } else { view! { <span class="badge">"off"</span> } }}</td>
                            <td class="mono">{s(&r["trigger"])}</td>
                            <td class="mono">{s(&r["condition"])}</td>
                            <td class="small">{r["actions"].as_array().cloned().unwrap_or_default().iter().map(|a| format!("{} {}", fmt::words(&s(&a["kind"])), s(&a["value"]))).collect::<Vec<_>>().join("; ")}</td>
                            <td class="num">{r["version"].as_i64()}</td>
                            <td>{manage.then(|| view! { <button on:click=move |_| { dry.set(None); draft.set(d.clone()); }>"Edit"</button> })}</td>
                        </tr> }
                    }).collect_view()}</tbody>
                </table></div>
            }.into_any()
        })}
        <Show when=move || session().can("SETTINGS_MANAGE")>
            <div class="card">
                <h2>{move || if draft.with(|d| d.id.is_some()) { "Edit rule (saves the next version)" } else { "New rule" }}</h2>
                <form on:submit=move |ev| { ev.prevent_default(); notice.set(None); save.dispatch(()); }>
                    <label for="rule-name">"Name"</label>
                    <input id="rule-name" size="50" prop:value=name_v on:input=name_in/>
                    <div class="field-error">{on("name")}</div>
                    <label for="rule-trigger">"Runs on (an event, or a pattern: order.*, return.requested, *)"</label>
                    <input id="rule-trigger" size="30" class="mono" prop:value=trig_v on:input=trig_in/>
                    <div class="field-error">{on("trigger")}</div>
                    <label for="rule-condition">"When (e.g. fraud.score > 70 and order.total > 500)"</label>
                    <input id="rule-condition" class="mono" style="width:100%" prop:value=cond_v on:input=cond_in/>
                    <div class="field-error">{on("condition")}</div>
                    <label for="rule-actions">"Then — one action per line, KIND: value (e.g. HOLD: big and risky, ADD_TAG: vip)"</label>
                    <textarea id="rule-actions" class="mono" prop:value=act_v on:input=act_in></textarea>
                    <div class="field-error">{on("actions")}</div>
                    <label class="inline"><input type="checkbox" prop:checked=move || draft.with(|d| d.enabled) on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.enabled = on); }/>"Enabled"</label>
                    {move || error.get().filter(|e| ["name", "trigger", "condition", "actions"].iter().all(|f| e.on(f).is_none())).map(|e| error_notice(&e))}
                    {move || dry.get().map(|r| view! {
                        <div class="notice info" id="dry-run" role="status">{s(&r["summary"])}
                            <div class="small">{r["orders"].as_array().cloned().unwrap_or_default().into_iter().map(|o| view! { <a href=format!("/orders/{}", s(&o["id"]))>{s(&o["name"])}</a>" " }).collect_view()}</div>
                        </div>
                    })}
                    <div class="actions">
                        <button type="button" id="rule-dry-run" on:click=move |_| { dry_run.dispatch(()); }>"Dry run on the last 1,000 orders"</button>
                        <button class="primary" type="submit" id="rule-save">"Save rule"</button>
                        <button type="button" on:click=move |_| { dry.set(None); error.set(None); draft.set(Draft { enabled: true, trigger: "order.screened".into(), ..Default::default() }); }>"New"</button>
                    </div>
                </form>
            </div>
        </Show>
    }
}
