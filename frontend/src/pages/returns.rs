//! Returns: the list by status, and one return worked through its steps — approve or reject,
//! receive, inspect each line with its grade, then resolve (refund, store credit or exchange,
//! as the shopper chose) — with the policy's decision and the settlement explained.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde_json::{Value, json};

use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{Confirm, error_notice, loaded, mutation_action};

const STATUSES: [&str; 8] = [
    "REQUESTED",
    "APPROVED",
    "IN_TRANSIT",
    "RECEIVED",
    "INSPECTED",
    "RESOLVED",
    "REJECTED",
    "CANCELLED",
];

const LIST: &str = "query($s: ReturnStatus) { returns(first: 100, status: $s) { nodes { id name orderId status reason resolution currency createdAt lines { sku quantity } order { name customerName email } } } }";

const ONE: &str = "query($id: ID!) { return(id: $id) { id name orderId status source reason comment resolution rejection currency trackingNumber labelCost labelStatus labelWait labelUrl pageUrl exchangeOrderId createdAt
  decision { automatic reasons }
  settlement { amount goods tax shipping withheld notes }
  lines { lineIndex sku quantity reason unitValue grade inspectionNote disposition dispositionReason exchangeSku }
  order { name customerName email }
  refund { amount method }
  events { at kind message actor }
} }";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn status_badge(status: &str) -> impl IntoView + use<> {
    let class = match status {
        "RESOLVED" => "badge good",
        "REQUESTED" | "RECEIVED" | "INSPECTED" => "badge warn",
        "REJECTED" | "CANCELLED" => "badge bad",
        _ => "badge info",
    };
    view! { <span class=class>{fmt::words(status)}</span> }
}

#[component]
pub fn Returns() -> impl IntoView {
    let params = use_query_map();
    let navigate = leptos_router::hooks::use_navigate();
    let status = move || params.with(|p| p.get("status").unwrap_or_default());
    let list = LocalResource::new(move || {
        let st = Some(status()).filter(|s| !s.is_empty());
        async move {
            query(LIST, json!({ "s": st })).await.map(|d| {
                d["returns"]["nodes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
        }
    });
    view! {
        <h1>"Returns"</h1>
        <div class="bar">
            <label class="inline" for="return-status">"Status"</label>
            <select id="return-status" on:change=move |ev| {
                let v = event_target_value(&ev);
                navigate(&if v.is_empty() { "/returns".to_owned() } else { format!("/returns?status={v}") }, Default::default());
            }>
                <option value="">"Any"</option>
                {STATUSES.iter().map(|st| view! { <option value=*st selected=move || status() == *st>{fmt::words(st)}</option> }).collect_view()}
            </select>
        </div>
        {move || loaded(list.get(), |rows| {
            if rows.is_empty() {
                return view! { <p class="empty">"No returns here. Shoppers ask for them from the link in their delivered email; staff open them from an order."</p> }.into_any();
            }
            let tz = session().timezone();
            view! {
                <div class="table-wrap"><table>
                    <thead><tr><th>"Return"</th><th>"Order"</th><th>"Customer"</th><th>"Items"</th><th>"Reason"</th><th>"Wants"</th><th>"Status"</th><th>"Opened"</th></tr></thead>
                    <tbody>{rows.into_iter().map(|r| {
                        let items = r["lines"].as_array().cloned().unwrap_or_default().iter().map(|l| format!("{} × {}", l["quantity"], s(&l["sku"]))).collect::<Vec<_>>().join(", ");
                        view! { <tr>
                            <td><a href=format!("/rma/{}", s(&r["id"]))>{s(&r["name"])}</a></td>
                            <td><a href=format!("/orders/{}", s(&r["orderId"]))>{s(&r["order"]["name"])}</a></td>
                            <td>{r["order"]["customerName"].as_str().or(r["order"]["email"].as_str()).unwrap_or_default().to_owned()}</td>
                            <td>{items}</td>
                            <td>{fmt::words(&s(&r["reason"]))}</td>
                            <td>{fmt::words(&s(&r["resolution"]))}</td>
                            <td>{status_badge(&s(&r["status"]))}</td>
                            <td>{fmt::datetime(r["createdAt"].as_str().unwrap_or_default(), &tz)}</td>
                        </tr> }
                    }).collect_view()}</tbody>
                </table></div>
            }.into_any()
        })}
    }
}

fn step(
    id: String,
    field: &'static str,
    reload: RwSignal<u32>,
) -> Action<Option<String>, Result<(), ApiError>> {
    let q = format!(
        "mutation($id: ID!, $r: String) {{ {field}(input: {{returnId: $id, reason: $r}}) {{ userErrors {{ field message code }} }} }}"
    );
    mutation_action(field, q, json!({ "id": id }), reload)
}

type LineCheck = (i64, RwSignal<String>, RwSignal<String>, RwSignal<String>);

#[component]
fn Inspect(ret: Value, reload: RwSignal<u32>) -> impl IntoView {
    let lines = ret["lines"].as_array().cloned().unwrap_or_default();
    // Per line: its index, the grade, the units that arrived, the note.
    let grades: Vec<LineCheck> = lines
        .iter()
        .map(|l| {
            (
                l["lineIndex"].as_i64().unwrap_or(0),
                RwSignal::new("A".to_owned()),
                RwSignal::new(l["quantity"].to_string()),
                RwSignal::new(String::new()),
            )
        })
        .collect();
    let fault = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let id = s(&ret["id"]);
    let g2 = grades.clone();
    let inspect = Action::new_local(move |_: &()| {
        let lines: Vec<Value> = g2
            .iter()
            .map(|(i, g, n, note)| {
                let note = Some(note.get_untracked()).filter(|t| !t.trim().is_empty());
                json!({ "lineIndex": i, "grade": g.get_untracked(), "received": n.get_untracked().trim().parse::<i64>().ok(), "note": note })
            })
            .collect();
        let merchant = match fault.get_untracked().as_str() {
            "merchant" => Some(true),
            "shopper" => Some(false),
            _ => None,
        };
        let id = id.clone();
        async move {
            let q = "mutation($i: InspectReturnInput!) { inspectReturn(input: $i) { userErrors { field message code } } }";
            match mutation(
                q,
                json!({ "i": { "returnId": id, "lines": lines, "merchantFault": merchant } }),
                "inspectReturn",
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
        <div class="card">
            <h2>"Inspect"</h2>
            <table>
                <thead><tr><th>"SKU"</th><th>"Grade"</th><th>"Arrived"</th><th>"Note"</th></tr></thead>
                <tbody>{lines.iter().zip(grades).map(|(l, (i, g, n, note))| view! {
                    <tr>
                        <td class="mono">{s(&l["sku"])}</td>
                        <td><select id=format!("grade-{i}") aria-label=format!("Grade of {}", s(&l["sku"])) on:change=move |ev| g.set(event_target_value(&ev))>
                            <option value="A">"A — as new"</option><option value="B">"B — opened, like new"</option>
                            <option value="C">"C — used"</option><option value="D">"D — damaged"</option>
                        </select></td>
                        <td><input type="number" min="0" size="4" aria-label="Units that arrived" prop:value=move || n.get() on:input=move |ev| n.set(event_target_value(&ev))/></td>
                        <td><input aria-label="Inspection note" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))/></td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
            <label for="return-fault">"Whose fault"</label>
            <select id="return-fault" on:change=move |ev| fault.set(event_target_value(&ev))>
                <option value="">"As the shopper's reason says"</option>
                <option value="merchant">"Ours (damaged in transit, wrong item): full refund with shipping"</option>
                <option value="shopper">"The shopper's: by grade, with the fees"</option>
            </select>
            {move || error.get().map(|e| error_notice(&e))}
            <div class="actions"><button class="primary" id="inspect-submit" on:click=move |_| { inspect.dispatch(()); }>"Record inspection"</button></div>
        </div>
    }
}

#[component]
pub fn ReturnDetail() -> impl IntoView {
    let params = use_params_map();
    let reload = RwSignal::new(0_u32);
    let ret = LocalResource::new(move || {
        reload.track();
        let id = params.with(|p| p.get("id").unwrap_or_default());
        async move {
            query(ONE, json!({ "id": id }))
                .await
                .map(|d| d["return"].clone())
        }
    });
    move || {
        loaded(ret.get(), move |r| {
            if r.is_null() {
                return view! { <h1>"Return not found"</h1><p><a href="/returns">"All returns"</a></p> }.into_any();
            }
            let sess = session();
            let tz = sess.timezone();
            let manage = sess.can("ORDERS_MANAGE");
            let cur = s(&r["currency"]);
            let id = s(&r["id"]);
            let status = s(&r["status"]);
            let name = s(&r["name"]);
            let lines = r["lines"].as_array().cloned().unwrap_or_default();
            let events = r["events"].as_array().cloned().unwrap_or_default();
            let money = |v: &Value| fmt::money(v.as_str().unwrap_or_default(), &cur);
            view! {
                <div class="bar">
                    <h1 style="margin:0">{format!("Return {name}")}</h1>
                    {status_badge(&status)}
                    <div class="grow"></div>
                    <a href="/returns">"All returns"</a>
                </div>
                <p class="muted">"For order "<a href=format!("/orders/{}", s(&r["orderId"]))>{s(&r["order"]["name"])}</a>
                    {format!(" · {} · asked by {} · wants {}", r["order"]["customerName"].as_str().or(r["order"]["email"].as_str()).unwrap_or_default(), s(&r["source"]), fmt::words(&s(&r["resolution"])))}</p>
                {manage.then(|| view! {
                    <div class="actions" role="group" aria-label="Return actions">
                        {(status == "REQUESTED").then(|| view! {
                            <Confirm label="Approve return" question=format!("Approve {name}? The shopper gets the label and instructions.") action=step(id.clone(), "approveReturn", reload)/>
                            <Confirm label="Reject return" danger=true reason=true question=format!("Reject {name}? The shopper is told why.") action=step(id.clone(), "rejectReturn", reload)/>
                        })}
                        {matches!(status.as_str(), "APPROVED" | "IN_TRANSIT").then(|| view! {
                            <Confirm label="Mark received" question=format!("Has {name} arrived at the warehouse?") action=step(id.clone(), "receiveReturn", reload)/>
                        })}
                        {(status == "INSPECTED" && sess.can("REFUNDS_ISSUE")).then(|| view! {
                            <Confirm label="Resolve" question=format!("Resolve {name} with the {} below?", fmt::words(&s(&r["resolution"]))) action=step(id.clone(), "resolveReturn", reload)/>
                        })}
                        {matches!(status.as_str(), "REQUESTED" | "APPROVED").then(|| view! {
                            <Confirm label="Cancel return" danger=true question=format!("Cancel {name}? A bought return label is voided.") action=step(id.clone(), "cancelReturn", reload)/>
                        })}
                    </div>
                })}
                {(manage && status == "RECEIVED").then(|| view! { <Inspect ret=r.clone() reload=reload/> })}
                <div class="grid2">
                    <div class="card">
                        <h2>"Items"</h2>
                        <table>
                            <thead><tr><th>"SKU"</th><th class="num">"Qty"</th><th class="num">"Unit value"</th><th>"Grade"</th><th>"Goes to"</th></tr></thead>
                            <tbody>{lines.iter().map(|l| view! { <tr>
                                <td class="mono">{s(&l["sku"])}{l["exchangeSku"].as_str().map(|x| format!(" → {x}"))}</td>
                                <td class="num">{l["quantity"].as_i64()}</td>
                                <td class="num">{money(&l["unitValue"])}</td>
                                <td>{s(&l["grade"])}<div class="small muted">{s(&l["inspectionNote"])}</div></td>
                                <td>{l["disposition"].as_str().map(fmt::words).unwrap_or_default()}<div class="small muted">{s(&l["dispositionReason"])}</div></td>
                            </tr> }).collect_view()}</tbody>
                        </table>
                        <dl class="facts" style="margin-top:.6rem">
                            <dt>"Reason"</dt><dd>{fmt::words(&s(&r["reason"]))}</dd>
                            <dt>"Comment"</dt><dd>{s(&r["comment"])}</dd>
                            <dt>"Label"</dt><dd>{r["trackingNumber"].as_str().map(|t| view! { <span class="mono">{t.to_owned()}</span>" "<span class="muted">{money(&r["labelCost"])}</span> })}
                                {r["labelStatus"].as_str().map(|st| view! { <span class="badge" id="return-label-status">{fmt::words(st)}</span> })}
                                {r["labelWait"].as_str().map(|w| view! { <div class="small muted" id="return-label-wait">{w.to_owned()}</div> })}</dd>
                            {r["rejection"].as_str().map(|why| view! { <dt>"Rejected"</dt><dd>{why.to_owned()}</dd> })}
                        </dl>
                    </div>
                    <div class="card">
                        <h2>"Decision"</h2>
                        {r["decision"]["automatic"].as_bool().map(|auto| view! { <p>{if auto { "Approved by the policy:" } else { "Left to staff:" }}</p> })}
                        <ul class="small">{r["decision"]["reasons"].as_array().cloned().unwrap_or_default().into_iter().map(|x| view! { <li>{s(&x)}</li> }).collect_view()}</ul>
                        <h2>"Settlement"</h2>
                        {if r["settlement"].is_null() { view! { <p class="muted">"Worked out at inspection."</p> }.into_any() } else { view! {
                            <dl class="facts" id="settlement">
                                <dt>"Refund"</dt><dd><strong>{money(&r["settlement"]["amount"])}</strong></dd>
                                <dt>"Goods"</dt><dd>{money(&r["settlement"]["goods"])}</dd>
                                <dt>"Tax"</dt><dd>{money(&r["settlement"]["tax"])}</dd>
                                <dt>"Shipping"</dt><dd>{money(&r["settlement"]["shipping"])}</dd>
                                <dt>"Withheld"</dt><dd>{money(&r["settlement"]["withheld"])}</dd>
                            </dl>
                            <ul class="small">{r["settlement"]["notes"].as_array().cloned().unwrap_or_default().into_iter().map(|x| view! { <li>{s(&x)}</li> }).collect_view()}</ul>
                        }.into_any() }}
                        {r["refund"]["amount"].as_str().map(|a| view! { <p class="notice ok" id="return-refunded">{format!("Refunded {} ({})", fmt::money(a, &cur), fmt::words(&s(&r["refund"]["method"])))}</p> })}
                        {r["exchangeOrderId"].as_str().map(|o| view! { <p>"Replacement: "<a href=format!("/orders/{o}")>"the exchange order"</a></p> })}
                    </div>
                </div>
                <div class="card">
                    <h2>"Timeline"</h2>
                    <ul class="timeline">{events.into_iter().rev().map(|e| view! {
                        <li><span class="when">{fmt::datetime(e["at"].as_str().unwrap_or_default(), &tz)}</span>" "<span class="kind">{s(&e["kind"])}</span><br/>{s(&e["message"])}</li>
                    }).collect_view()}</ul>
                </div>
            }.into_any()
        })
    }
}
