//! One order, everything about it: lines and money, the payment verdict, the fraud score with
//! each reason, allocation and the routing decision with the alternatives it beat, parcels with
//! tracking and ETA, delivery exceptions, the shopper's messages and the live timeline; and the
//! staff actions, each confirmed and each error said where it happened.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde_json::{Value, json};

use crate::api::ApiError;
use crate::fmt;
use crate::live;
use crate::session::{mutation, query, session};
use crate::widgets::{Confirm, error_notice, loaded, mutation_action, order_action, state_badge};

const ORDER: &str = "query($id: ID!) { order(id: $id) {
  id name externalId channel state currency email customerName tags note placedAt holdReason heldFrom refundDue promisedAt shipBy financialStatus fulfillmentStatus test
  shippingAddress { name company line1 line2 city region postalCode country phone }
  totals { subtotal discounts tax shipping total }
  lines { position sku title variantTitle quantity unitPrice discount tax }
  payment { gateway status amountCaptured method cardBrand cardLast4 avsResult cvvResult verdict reasons }
  fraud { score level reasons { code message contribution } }
  issues { code field message resolved }
  allocations { sku lineIndex quantity status eta expiresAt warehouse { code } }
  routing { chosen { summary shippingPrice cost { total shipping lateness workload parcels preference } parcels { warehouseCode service price deliveryOn daysLate } } alternatives { summary shippingPrice cost { total shipping lateness workload parcels preference } } excluded }
  shipments { id parcelNo parcelCount status simulated labelWait trackingUrl trackingNumber labelUrl carrier service cost currency promisedAt estimatedDelivery predictedDelivery { at samples basis } shippedAt deliveredAt warehouse { code } trackingEvents { message location occurredAt } }
  deliveryExceptions { kind detail recommendedAction status createdAt }
  refunds { amount method reason status provider simulated providerReference error createdAt completedAt }
  refundRoute { provider simulated why problem chosen }
  supportThreads { id subject status intent confidence messages { direction fromAddress text createdAt } }
  events { id at kind actor message reason }
} }";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn actions(o: &Value, reload: RwSignal<u32>) -> impl IntoView {
    let id = s(&o["id"]);
    let state = s(&o["state"]);
    let in_review = matches!(state.as_str(), "FRAUD_REVIEW" | "PAYMENT_REVIEW");
    let finished = matches!(state.as_str(), "CANCELLED" | "REJECTED" | "DELIVERED");
    let held = state == "ON_HOLD";
    let shipped = matches!(
        state.as_str(),
        "SHIPPED" | "IN_TRANSIT" | "OUT_FOR_DELIVERY" | "DELIVERED"
    );
    let name = s(&o["name"]);
    view! {
        <div class="actions" role="group" aria-label="Order actions">
            {in_review.then(|| view! {
                <Confirm label="Approve" question=format!("Approve {name}? It goes on through allocation and shipping.") action=order_action(id.clone(), "approveOrder", reload)/>
                <Confirm label="Reject" danger=true reason=true question=format!("Reject {name} for good? Stock goes back and the captured amount is recorded as due back.") action=order_action(id.clone(), "rejectOrder", reload)/>
            })}
            {(!finished && !held && !shipped).then(|| view! {
                <Confirm label="Hold" reason=true question=format!("Hold {name}? Nothing moves until it is released.") action=order_action(id.clone(), "holdOrder", reload)/>
            })}
            {held.then(|| view! {
                <Confirm label="Release" question=format!("Release {name} to where it was held?") action=order_action(id.clone(), "releaseOrder", reload)/>
            })}
            {(!finished && !shipped).then(|| view! {
                <Confirm label="Cancel order" danger=true reason=true question=format!("Cancel {name}? Labels are voided and stock goes back.") action=order_action(id.clone(), "cancelOrder", reload)/>
            })}
        </div>
    }
}

#[component]
fn AddressForm(
    order: String,
    current: Value,
    reload: RwSignal<u32>,
    flash: RwSignal<Option<String>>,
) -> impl IntoView {
    let fields = [
        "name",
        "line1",
        "line2",
        "city",
        "region",
        "postalCode",
        "country",
        "phone",
    ];
    let values: Vec<(&'static str, RwSignal<String>)> = fields
        .iter()
        .map(|f| (*f, RwSignal::new(s(&current[*f]))))
        .collect();
    let error = RwSignal::new(None::<ApiError>);
    let vals = values.clone();
    let save = Action::new_local(move |_: &()| {
        let mut address = serde_json::Map::new();
        for (k, v) in &vals {
            let t = v.get_untracked().trim().to_owned();
            if !t.is_empty() {
                address.insert((*k).into(), json!(t));
            }
        }
        let order = order.clone();
        async move {
            let q = "mutation($o: ID!, $a: AddressInput!) { updateOrderShippingAddress(input: {orderId: $o, address: $a, reason: \"edited in the admin\"}) { userErrors { field message code } } }";
            match mutation(
                q,
                json!({ "o": order, "a": address }),
                "updateOrderShippingAddress",
            )
            .await
            {
                Ok(_) => {
                    error.set(None);
                    flash.set(Some("Shipping address saved.".into()));
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    view! {
        <details>
            <summary>"Edit shipping address"</summary>
            <form class="form" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                {values.into_iter().map(|(k, v)| {
                    let id = format!("addr-{k}");
                    view! {
                        <label for=id.clone()>{fmt::words(&k.replace("postalCode", "postal_code").replace("line1", "street").replace("line2", "street_2"))}</label>
                        <input id=id prop:value=move || v.get() on:input=move |ev| v.set(event_target_value(&ev))/>
                        <div class="field-error">{move || error.get().and_then(|e| e.on(k))}</div>
                    }
                }).collect_view()}
                {move || error.get().filter(|e| !matches!(e, ApiError::User(_))).map(|e| error_notice(&e))}
                <div class="actions"><button class="primary" type="submit">"Save address"</button></div>
            </form>
        </details>
    }
}

#[component]
fn SplitForm(
    order: String,
    lines: Vec<Value>,
    reload: RwSignal<u32>,
    flash: RwSignal<Option<String>>,
) -> impl IntoView {
    let qty: Vec<RwSignal<String>> = lines.iter().map(|_| RwSignal::new(String::new())).collect();
    let error = RwSignal::new(None::<ApiError>);
    let q2 = qty.clone();
    let split = Action::new_local(move |_: &()| {
        let picked = picked(&q2);
        let order = order.clone();
        async move {
            let q = "mutation($o: ID!, $l: [SplitLineInput!]!) { splitOrder(input: {orderId: $o, lines: $l, reason: \"split in the admin\"}) { newOrder { id name } userErrors { field message code } } }";
            match mutation(q, json!({ "o": order, "l": picked }), "splitOrder").await {
                Ok(p) => {
                    error.set(None);
                    flash.set(Some(format!(
                        "Split: the moved units are order {}.",
                        s(&p["newOrder"]["name"])
                    )));
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    view! {
        <details>
            <summary>"Split into a new order"</summary>
            {quantity_table("split", "Move", &lines, qty)}
            {move || error.get().map(|e| error_notice(&e))}
            <div class="actions"><button on:click=move |_| { split.dispatch(()); }>"Split"</button></div>
        </details>
    }
}

/// Units per order line, typed by staff: a row per line with how many were ordered and an
/// input (ids `<prefix>-<line>`).
fn quantity_table(
    prefix: &'static str,
    header: &'static str,
    lines: &[Value],
    qty: Vec<RwSignal<String>>,
) -> impl IntoView + use<> {
    view! {
        <table>
            <thead><tr><th>"Line"</th><th class="num">"Ordered"</th><th>{header}</th></tr></thead>
            <tbody>{lines.iter().zip(qty).enumerate().map(|(i, (l, v))| {
                let id = format!("{prefix}-{i}");
                view! { <tr><td><label for=id.clone() class="inline">{s(&l["title"])}</label></td><td class="num">{l["quantity"].as_i64()}</td>
                    <td><input id=id type="number" min="0" size="4" prop:value=move || v.get() on:input=move |ev| v.set(event_target_value(&ev))/></td></tr> }
            }).collect_view()}</tbody>
        </table>
    }
}

/// The lines given a positive number of units, as `{lineIndex, quantity}`.
fn picked(qty: &[RwSignal<String>]) -> Vec<Value> {
    qty.iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let n = v
                .get_untracked()
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)?;
            Some(json!({ "lineIndex": i, "quantity": n }))
        })
        .collect()
}

/// Opens a return for the shopper (staff on the phone, an email): the lines and units, a reason
/// from the policy, and what the shopper wants.
#[component]
fn CreateReturn(
    order: String,
    lines: Vec<Value>,
    flash: RwSignal<Option<String>>,
) -> impl IntoView {
    let qty: Vec<RwSignal<String>> = lines.iter().map(|_| RwSignal::new(String::new())).collect();
    let reason = RwSignal::new(String::new());
    let resolution = RwSignal::new("REFUND".to_owned());
    let error = RwSignal::new(None::<ApiError>);
    let reasons = LocalResource::new(|| async {
        query("{ returnSettings { reasons { code label } } }", json!({}))
            .await
            .map(|d| {
                d["returnSettings"]["reasons"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
    });
    let navigate = leptos_router::hooks::use_navigate();
    let q2 = qty.clone();
    let open = Action::new_local(move |_: &()| {
        let picked = picked(&q2);
        let (order, why, wants) = (
            order.clone(),
            reason.get_untracked(),
            resolution.get_untracked(),
        );
        let navigate = navigate.clone();
        async move {
            let q = "mutation($i: CreateReturnInput!) { createReturn(input: $i) { return { id name } userErrors { field message code } } }";
            match mutation(q, json!({ "i": { "orderId": order, "lines": picked, "reason": why, "resolution": wants } }), "createReturn").await {
                Ok(p) => {
                    error.set(None);
                    flash.set(Some(format!("Return {} opened.", s(&p["return"]["name"]))));
                    navigate(&format!("/rma/{}", s(&p["return"]["id"])), Default::default());
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    view! {
        <details>
            <summary>"Open a return"</summary>
            {quantity_table("return-qty", "Return", &lines, qty)}
            <div class="field-error">{move || error.get().and_then(|e| e.on("lines"))}</div>
            <label for="return-reason">"Reason"</label>
            <select id="return-reason" on:change=move |ev| reason.set(event_target_value(&ev))>
                <option value="">"Choose…"</option>
                {move || reasons.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|r| view! { <option value=s(&r["code"])>{s(&r["label"])}</option> }).collect_view()}
            </select>
            <div class="field-error">{move || error.get().and_then(|e| e.on("reason"))}</div>
            <label for="return-resolution">"The shopper wants"</label>
            <select id="return-resolution" on:change=move |ev| resolution.set(event_target_value(&ev))>
                <option value="REFUND">"A refund"</option>
                <option value="STORE_CREDIT">"Store credit"</option>
                <option value="EXCHANGE">"An exchange"</option>
            </select>
            {move || error.get().filter(|e| e.on("lines").is_none() && e.on("reason").is_none()).map(|e| error_notice(&e))}
            <div class="actions"><button id="return-open" on:click=move |_| { open.dispatch(()); }>"Open return"</button></div>
        </details>
    }
}

fn new_key() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| format!("ui-{}", js_sys::Date::now()))
}

#[component]
fn RefundForm(
    order: String,
    currency: String,
    reload: RwSignal<u32>,
    flash: RwSignal<Option<String>>,
) -> impl IntoView {
    let amount = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    // One key per refund intent: a double click or a retry refunds once.
    let key = RwSignal::new(new_key());
    let error = RwSignal::new(None::<ApiError>);
    let cur = currency.clone();
    let refund = Action::new_local(move |_: &()| {
        let (order, a, r, k) = (
            order.clone(),
            amount.get_untracked(),
            reason.get_untracked(),
            key.get_untracked(),
        );
        let cur = cur.clone();
        async move {
            let q = "mutation($o: ID!, $a: Decimal, $r: String, $k: String!) { refundOrder(input: {orderId: $o, amount: $a, reason: $r, idempotencyKey: $k}) { refund { amount status provider simulated } userErrors { field message code } } }";
            let a = Some(a.trim().to_owned()).filter(|a| !a.is_empty());
            let r = Some(r.trim().to_owned()).filter(|r| !r.is_empty());
            match mutation(
                q,
                json!({ "o": order, "a": a, "r": r, "k": k }),
                "refundOrder",
            )
            .await
            {
                Ok(p) => {
                    error.set(None);
                    let r = &p["refund"];
                    let amount = fmt::money(&s(&r["amount"]), &cur);
                    flash.set(Some(match (r["status"].as_str(), r["simulated"] == true) {
                        (Some("PENDING"), _) => format!(
                            "Refund of {amount} requested from {}: the order shows when it is made.",
                            fmt::words(&s(&r["provider"]))
                        ),
                        (Some("FAILED"), _) => format!("The refund of {amount} failed."),
                        (_, true) => format!("Refund of {amount} recorded (simulated: no money was sent)."),
                        _ => format!("Refunded {amount}."),
                    }));
                    key.set(new_key());
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    view! {
        <details>
            <summary>"Refund"</summary>
            <form class="form" on:submit=move |ev| { ev.prevent_default(); refund.dispatch(()); }>
                <label for="refund-amount">{format!("Amount ({currency}); empty refunds everything still refundable")}</label>
                <input id="refund-amount" inputmode="decimal" prop:value=move || amount.get() on:input=move |ev| amount.set(event_target_value(&ev))/>
                <div class="field-error">{move || error.get().and_then(|e| e.on("amount"))}</div>
                <label for="refund-reason">"Reason"</label>
                <input id="refund-reason" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
                {move || error.get().filter(|e| e.on("amount").is_none()).map(|e| error_notice(&e))}
                <div class="actions"><button class="primary" id="refund-submit" type="submit" disabled=move || refund.pending().get()>"Refund"</button></div>
            </form>
        </details>
    }
}

fn buy_label(
    shipment: String,
    reload: RwSignal<u32>,
) -> Action<Option<String>, Result<(), ApiError>> {
    let q = "mutation($s: ID!) { buyShippingLabel(input: {shipmentId: $s}) { shipment { id } userErrors { field message code } } }";
    mutation_action(
        "buyShippingLabel",
        q.into(),
        json!({ "s": shipment }),
        reload,
    )
}

fn shipments(
    o: &Value,
    tz: &str,
    reload: RwSignal<u32>,
    manage: bool,
    flash: RwSignal<Option<String>>,
) -> impl IntoView {
    let list = o["shipments"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        return view! { <p class="muted">"No parcels yet: routing plans them once stock is allocated."</p> }.into_any();
    }
    let tz = tz.to_owned();
    list.into_iter().map(|p| {
        let status = s(&p["status"]);
        let can_buy = manage && matches!(status.as_str(), "PLANNED" | "PACKED");
        let eta = p["predictedDelivery"]["at"].as_str().map(|a| format!("{} (ours, from {} deliveries)", fmt::date(a, &tz), p["predictedDelivery"]["samples"]))
            .or_else(|| p["estimatedDelivery"].as_str().map(|a| format!("{} (carrier)", fmt::date(a, &tz))))
            .unwrap_or_else(|| "—".into());
        let scans = p["trackingEvents"].as_array().cloned().unwrap_or_default();
        let tz2 = tz.clone();
        view! {
            <div class="card">
                <div class="bar">
                    <strong>{format!("Parcel {} of {}", p["parcelNo"], p["parcelCount"])}</strong>
                    <span class="badge info">{fmt::words(&status)}</span>
                    {(p["simulated"] == true).then(|| view! { <span class="badge warn simulated-label" title="Drawn by Orderflow for a simulated carrier: no postage was paid">"Simulated label: not postage"</span> })}
                    <span class="muted">{format!("from {}", s(&p["warehouse"]["code"]))}</span>
                    <div class="grow"></div>
                    {can_buy.then(|| view! { <Confirm label="Buy label" question="Buy the recommended label for this parcel?".to_owned() action=buy_label(s(&p["id"]), reload)/> })}
                    {p["labelUrl"].as_str().map(|u| {
                        let (u, name) = (u.to_owned(), format!("label-{}.pdf", p["trackingNumber"].as_str().unwrap_or("parcel")));
                        view! { <button class="label-pdf" on:click=move |_| {
                            let (u, name) = (u.clone(), name.clone());
                            leptos::task::spawn_local(async move {
                                if let Err(e) = crate::api::download(&u, &name).await {
                                    flash.set(Some(e.describe()));
                                }
                            });
                        }>"Label PDF"</button> }
                    })}
                </div>
                {p["labelWait"].as_str().map(|w| view! { <p class="notice info label-wait">{format!("Label: {w}")}</p> })}
                <dl class="facts">
                    <dt>"Carrier"</dt><dd>{format!("{} {}", s(&p["carrier"]), s(&p["service"]))}
                        {p["trackingUrl"].as_str().map(|u| view! { " · "<a href=u.to_owned() target="_blank" rel="noopener noreferrer">"carrier's tracking page"</a> })}</dd>
                    <dt>"Tracking"</dt><dd class="mono">{p["trackingNumber"].as_str().unwrap_or("—").to_owned()}</dd>
                    <dt>"Promised"</dt><dd>{p["promisedAt"].as_str().map(|a| fmt::date(a, &tz)).unwrap_or_else(|| "—".into())}</dd>
                    <dt>"ETA"</dt><dd>{eta}</dd>
                    <dt>"Label cost"</dt><dd>{p["cost"].as_str().map(|c| fmt::money(c, p["currency"].as_str().unwrap_or_default())).unwrap_or_else(|| "—".into())}</dd>
                </dl>
                <ul class="timeline small">{scans.into_iter().map(|e| view! {
                    <li><span class="when">{fmt::datetime(e["occurredAt"].as_str().unwrap_or_default(), &tz2)}</span>" "{s(&e["message"])}" "<span class="muted">{s(&e["location"])}</span></li>
                }).collect_view()}</ul>
            </div>
        }
    }).collect_view().into_any()
}

/// Money given back: each refund with who made it (a simulated one was only recorded), and
/// who would refund this order now, which staff with refund rights can change for it.
fn refunds_card(
    o: &Value,
    tz: &str,
    reload: RwSignal<u32>,
    flash: RwSignal<Option<String>>,
) -> impl IntoView {
    let currency = s(&o["currency"]);
    let route = o["refundRoute"].clone();
    let list = o["refunds"].as_array().cloned().unwrap_or_default();
    let id = s(&o["id"]);
    let choose = Action::new_local(move |rule: &String| {
        let (id, rule) = (id.clone(), rule.clone());
        async move {
            let q = "mutation($o: ID!, $r: RefundRule) { setOrderRefundRoute(orderId: $o, rule: $r) { route { provider } userErrors { field message code } } }";
            let r = (!rule.is_empty()).then_some(rule);
            match mutation(q, json!({ "o": id, "r": r }), "setOrderRefundRoute").await {
                Ok(_) => {
                    flash.set(Some("Refund route changed for this order.".into()));
                    reload.update(|n| *n += 1);
                }
                Err(e) => flash.set(Some(e.describe())),
            }
        }
    });
    let who = match route["provider"].as_str() {
        Some("SIMULATED") => "Recorded only (simulated): Orderflow sends nothing".to_owned(),
        Some(p) => format!("Through {}", fmt::words(p)),
        None => "Refunds are refused".to_owned(),
    };
    let chosen = route["chosen"].as_str().unwrap_or_default().to_owned();
    let tz = tz.to_owned();
    view! {
        <div class="card" id="refunds">
            <h2>"Refunds"</h2>
            <p id="refund-route"><strong>{who}</strong>" "
                <span class="muted small">{route["why"].as_str().or(route["problem"].as_str()).unwrap_or_default().to_owned()}</span></p>
            <Show when=move || session().can("REFUNDS_ISSUE")>
                <label for="refund-route-choice" class="small">"Refund this order"</label>
                <select id="refund-route-choice" on:change=move |ev| { choose.dispatch(event_target_value(&ev)); }>
                    {[("", "as the settings say"), ("SIMULATED", "recorded only (simulated)"), ("PROCESSOR", "through Stripe"), ("CHANNEL", "through its sales channel")]
                        .into_iter().map(|(v, label)| view! { <option value=v selected=v == chosen>{label}</option> }).collect_view()}
                </select>
            </Show>
            {if list.is_empty() { view! { <p class="muted">"Nothing refunded."</p> }.into_any() } else { view! {
                <table><thead><tr><th>"When"</th><th class="num">"Amount"</th><th>"Status"</th><th>"By"</th><th>"Reason"</th></tr></thead>
                <tbody>{list.into_iter().map(|r| view! {
                    <tr>
                        <td>{fmt::datetime(r["createdAt"].as_str().unwrap_or_default(), &tz)}</td>
                        <td class="num">{fmt::money(&s(&r["amount"]), &currency)}</td>
                        <td><span class=match r["status"].as_str() { Some("SUCCEEDED") => "badge good", Some("FAILED") => "badge bad", _ => "badge info" }>{fmt::words(&s(&r["status"]))}</span>
                            {r["error"].as_str().map(|e| view! { <div class="small muted">{e.to_owned()}</div> })}</td>
                        <td>{if r["simulated"] == true { "Simulated (recorded only)".to_owned() } else { format!("{}{}", fmt::words(&s(&r["provider"])), r["providerReference"].as_str().map(|x| format!(" · {x}")).unwrap_or_default()) }}</td>
                        <td>{s(&r["reason"])}</td>
                    </tr>
                }).collect_view()}</tbody></table>
            }.into_any() }}
        </div>
    }
}

fn routing(o: &Value) -> impl IntoView {
    let r = &o["routing"];
    if r.is_null() {
        return view! { <p class="muted">"Not routed yet."</p> }.into_any();
    }
    let row = |p: &Value, chosen: bool| {
        let c = &p["cost"];
        let n = |k: &str| fmt::number(c[k].as_f64().unwrap_or(0.0), 2);
        view! { <tr><td>{if chosen { "✔ chosen" } else { "" }}</td><td>{s(&p["summary"])}</td><td class="num">{n("shipping")}</td><td class="num">{n("lateness")}</td>
        <td class="num">{n("workload")}</td><td class="num">{n("parcels")}</td><td class="num">{n("preference")}</td><td class="num"><strong>{n("total")}</strong></td></tr> }
    };
    let alternatives = r["alternatives"].as_array().cloned().unwrap_or_default();
    let excluded: Vec<String> = serde_json::from_value(r["excluded"].clone()).unwrap_or_default();
    view! {
        <div class="table-wrap"><table>
            <thead><tr><th></th><th>"Plan"</th><th class="num">"Shipping"</th><th class="num">"Lateness"</th><th class="num">"Workload"</th><th class="num">"Parcels"</th><th class="num">"Preference"</th><th class="num">"Cost"</th></tr></thead>
            <tbody>{row(&r["chosen"], true)}{alternatives.iter().map(|a| row(a, false)).collect_view()}</tbody>
        </table></div>
        {(!excluded.is_empty()).then(|| view! { <p class="small muted">"Left out: "{excluded.join("; ")}</p> })}
    }.into_any()
}

#[component]
pub fn OrderDetail() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let reload = RwSignal::new(0_u32);
    let order = LocalResource::new(move || {
        reload.track();
        let id = id();
        async move {
            query(ORDER, json!({ "id": id }))
                .await
                .map(|d| d["order"].clone())
        }
    });
    // The timeline is live: any event of this order reloads it.
    live::subscribe(
        "subscription($o: ID) { orderEvents(orderId: $o) { kind } }",
        json!({ "o": id() }),
        move |_| reload.update(|n| *n += 1),
        |_| {},
    );
    // What the last change did: kept here, because the order's view is drawn anew on reload.
    let flash = RwSignal::new(None::<String>);
    let page = move || {
        loaded(order.get(), move |o| {
            if o.is_null() {
                return view! { <h1>"Order not found"</h1><p>"It may belong to another shop. "<a href="/orders">"All orders"</a></p> }.into_any();
            }
            let sess = session();
            let tz = sess.timezone();
            let manage = sess.can("ORDERS_MANAGE");
            let cur = s(&o["currency"]);
            let money = |v: &Value| fmt::money(v.as_str().unwrap_or_default(), &cur);
            let lines = o["lines"].as_array().cloned().unwrap_or_default();
            let fraud = &o["fraud"];
            let pay = &o["payment"];
            let tags: Vec<String> = serde_json::from_value(o["tags"].clone()).unwrap_or_default();
            let open_issues: Vec<Value> = o["issues"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|i| i["resolved"] == false)
                .collect();
            let events = o["events"].as_array().cloned().unwrap_or_default();
            let threads = o["supportThreads"].as_array().cloned().unwrap_or_default();
            let exceptions = o["deliveryExceptions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let allocations = o["allocations"].as_array().cloned().unwrap_or_default();
            let a = &o["shippingAddress"];
            let address = [
                s(&a["name"]),
                s(&a["line1"]),
                s(&a["line2"]),
                format!(
                    "{} {} {}",
                    s(&a["postalCode"]),
                    s(&a["city"]),
                    s(&a["region"])
                ),
                s(&a["country"]),
            ]
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", ");
            let tz2 = tz.clone();
            let tz3 = tz.clone();
            view! {
                <div class="bar">
                    <h1 style="margin:0">{format!("Order {}", s(&o["name"]))}</h1>
                    {state_badge(o["state"].as_str().unwrap_or_default())}
                    {o["test"].as_bool().unwrap_or(false).then(|| view! { <span class="badge">"test"</span> })}
                    <div class="grow"></div>
                    <a href="/orders">"All orders"</a>
                </div>
                <p class="muted">{format!("{} · {} · placed {}", fmt::words(&s(&o["channel"])), s(&o["externalId"]), fmt::datetime(o["placedAt"].as_str().unwrap_or_default(), &tz))}
                    {o["shipBy"].as_str().map(|b| format!(" · ship by {}", fmt::datetime(b, &tz)))}
                    {tags.into_iter().map(|t| view! { " "<span class="tag">{t}</span> }).collect_view()}</p>
                {o["holdReason"].as_str().map(|r| view! { <div class="notice info">{format!("On hold: {r}")}</div> })}
                {(!open_issues.is_empty()).then(|| view! { <div class="notice error">"Open issues: "{open_issues.iter().map(|i| s(&i["message"])).collect::<Vec<_>>().join("; ")}</div> })}
                {manage.then(|| actions(&o, reload))}
                <div class="grid2">
                    <div class="card">
                        <h2>"Lines"</h2>
                        <table>
                            <thead><tr><th>"Item"</th><th>"SKU"</th><th class="num">"Qty"</th><th class="num">"Price"</th></tr></thead>
                            <tbody>{lines.iter().map(|l| view! { <tr><td>{s(&l["title"])}" "<span class="muted">{s(&l["variantTitle"])}</span></td><td class="mono">{s(&l["sku"])}</td><td class="num">{l["quantity"].as_i64()}</td><td class="num">{money(&l["unitPrice"])}</td></tr> }).collect_view()}</tbody>
                        </table>
                        <dl class="facts" style="margin-top:.6rem">
                            <dt>"Subtotal"</dt><dd>{money(&o["totals"]["subtotal"])}</dd>
                            <dt>"Discounts"</dt><dd>{money(&o["totals"]["discounts"])}</dd>
                            <dt>"Shipping"</dt><dd>{money(&o["totals"]["shipping"])}</dd>
                            <dt>"Tax"</dt><dd>{money(&o["totals"]["tax"])}</dd>
                            <dt>"Total"</dt><dd><strong>{money(&o["totals"]["total"])}</strong></dd>
                            <dt>"Financial"</dt><dd>{fmt::words(&s(&o["financialStatus"]))}</dd>
                        </dl>
                    </div>
                    <div class="card">
                        <h2>"Customer"</h2>
                        <dl class="facts">
                            <dt>"Name"</dt><dd>{s(&o["customerName"])}</dd>
                            <dt>"Email"</dt><dd>{s(&o["email"])}</dd>
                            <dt>"Ship to"</dt><dd>{address}</dd>
                        </dl>
                        <h2>"Payment"</h2>
                        <dl class="facts">
                            <dt>"Verdict"</dt><dd>{pay["verdict"].as_str().map(fmt::words).unwrap_or_else(|| "not checked yet".into())}</dd>
                            <dt>"Captured"</dt><dd>{money(&pay["amountCaptured"])}</dd>
                            <dt>"Method"</dt><dd>{format!("{} {} {}", s(&pay["method"]), s(&pay["cardBrand"]), pay["cardLast4"].as_str().map(|l| format!("•••• {l}")).unwrap_or_default())}</dd>
                            <dt>"AVS / CVV"</dt><dd>{format!("{} / {}", pay["avsResult"].as_str().unwrap_or("—"), pay["cvvResult"].as_str().unwrap_or("—"))}</dd>
                        </dl>
                        <ul class="small">{pay["reasons"].as_array().cloned().unwrap_or_default().into_iter().map(|r| view! { <li>{s(&r)}</li> }).collect_view()}</ul>
                    </div>
                </div>
                <div class="grid2">
                    <div class="card">
                        <h2>"Fraud screening"</h2>
                        {if fraud.is_null() { view! { <p class="muted">"Not screened yet."</p> }.into_any() } else { view! {
                            <p><strong id="fraud-score">{format!("Score {}", fraud["score"])}</strong>" "<span class="badge">{fmt::words(&s(&fraud["level"]))}</span></p>
                            <table><thead><tr><th>"Reason"</th><th class="num">"Points"</th></tr></thead>
                            <tbody>{fraud["reasons"].as_array().cloned().unwrap_or_default().into_iter().map(|r| view! { <tr><td>{s(&r["message"])}</td><td class="num">{format!("+{}", r["contribution"])}</td></tr> }).collect_view()}</tbody></table>
                        }.into_any() }}
                    </div>
                    <div class="card">
                        <h2>"Allocation"</h2>
                        {if allocations.is_empty() { view! { <p class="muted">"No stock reserved yet."</p> }.into_any() } else { view! {
                            <table><thead><tr><th>"SKU"</th><th class="num">"Qty"</th><th>"Status"</th><th>"Warehouse"</th><th>"Expected"</th></tr></thead>
                            <tbody>{allocations.iter().map(|a| view! { <tr><td class="mono">{s(&a["sku"])}</td><td class="num">{a["quantity"].as_i64()}</td><td>{fmt::words(&s(&a["status"]))}</td><td>{s(&a["warehouse"]["code"])}</td>
                                <td>{a["eta"].as_str().map(|e| fmt::date(e, &tz2)).unwrap_or_default()}</td></tr> }).collect_view()}</tbody></table>
                        }.into_any() }}
                    </div>
                </div>
                <div class="card"><h2>"Routing decision"</h2>{routing(&o)}</div>
                <h2>"Shipments"</h2>
                {shipments(&o, &tz, reload, manage, flash)}
                {(!exceptions.is_empty()).then(|| view! {
                    <div class="card"><h2>"Delivery exceptions"</h2>
                    <ul>{exceptions.iter().map(|e| view! { <li><span class="badge warn">{fmt::words(&s(&e["kind"]))}</span>" "{s(&e["detail"])}" — recommended: "{fmt::words(&s(&e["recommendedAction"]))}" ("{fmt::words(&s(&e["status"]))}")"</li> }).collect_view()}</ul></div>
                })}
                {refunds_card(&o, &tz, reload, flash)}
                <div class="grid2">
                    <div class="card">
                        <h2>"Messages"</h2>
                        {if threads.is_empty() { view! { <p class="muted">"No messages from the shopper."</p> }.into_any() } else {
                            threads.into_iter().map(|t| view! {
                                <h3><a href=format!("/inbox/{}", s(&t["id"]))>{s(&t["subject"])}</a>" "<span class="badge">{fmt::words(&s(&t["status"]))}</span></h3>
                                <ul class="timeline small">{t["messages"].as_array().cloned().unwrap_or_default().into_iter().map(|m| view! {
                                    <li><span class="when">{format!("{} · {}", fmt::datetime(m["createdAt"].as_str().unwrap_or_default(), &tz3), fmt::words(&s(&m["direction"])))}</span><br/>{s(&m["text"])}</li>
                                }).collect_view()}</ul>
                            }).collect_view().into_any()
                        }}
                    </div>
                    <div class="card">
                        <h2>"Timeline"</h2>
                        <ul class="timeline" id="timeline" aria-live="polite">{events.into_iter().rev().map(|e| view! {
                            <li><span class="when">{fmt::datetime(e["at"].as_str().unwrap_or_default(), &tz)}</span>" "<span class="kind">{s(&e["kind"])}</span><br/>
                                {s(&e["message"])}<span class="muted small">{format!(" — {}", s(&e["actor"]))}</span>
                                {e["reason"].as_str().map(|r| view! { <div class="small muted">{format!("Reason: {r}")}</div> })}</li>
                        }).collect_view()}</ul>
                    </div>
                </div>
            }.into_any()
        })
    };
    // The forms depend on little of the order: they are drawn again only when that changes, not
    // on every timeline event, so what staff are typing (and a refund's key) survives.
    let basics = Memo::new(move |_| {
        order
            .get()
            .and_then(Result::ok)
            .filter(|o| !o.is_null())
            .map(|o| Basics {
                id: s(&o["id"]),
                state: s(&o["state"]),
                currency: s(&o["currency"]),
                lines: o["lines"].as_array().cloned().unwrap_or_default(),
                address: o["shippingAddress"].clone(),
                refund_due: s(&o["refundDue"]),
            })
    });
    let forms = move || {
        let b = basics.get()?;
        let sess = session();
        let (manage, refunds) = (sess.can("ORDERS_MANAGE"), sess.can("REFUNDS_ISSUE"));
        let open = !matches!(b.state.as_str(), "CANCELLED" | "REJECTED");
        let unshipped = matches!(
            b.state.as_str(),
            "RECEIVED"
                | "PAYMENT_REVIEW"
                | "PAYMENT_VERIFIED"
                | "FRAUD_REVIEW"
                | "SCREENED"
                | "BACKORDERED"
                | "ALLOCATED"
                | "ROUTED"
                | "ADDRESS_ISSUE"
                | "ON_HOLD"
        );
        let due = b.refund_due.parse::<f64>().unwrap_or(0.0) > 0.0;
        ((manage || refunds) && open).then(|| view! {
            <div class="card">
                <h2>"Change the order"</h2>
                {(manage && unshipped).then(|| view! { <AddressForm order=b.id.clone() current=b.address.clone() reload=reload flash=flash/> })}
                {(manage && unshipped).then(|| view! { <SplitForm order=b.id.clone() lines=b.lines.clone() reload=reload flash=flash/> })}
                {(manage && b.state == "DELIVERED").then(|| view! { <CreateReturn order=b.id.clone() lines=b.lines.clone() flash=flash/> })}
                {refunds.then(|| view! { <RefundForm order=b.id.clone() currency=b.currency.clone() reload=reload flash=flash/> })}
                {due.then(|| view! { <p class="notice info">{format!("Refund due: {}", fmt::money(&b.refund_due, &b.currency))}</p> })}
            </div>
        })
    };
    view! {
        {move || flash.get().map(|m| view! {
            <div class="toast" role="status" id="flash">{m}" "<button class="link" style="color:#93c5fd" on:click=move |_| flash.set(None)>"Dismiss"</button></div>
        })}
        {page}
        {forms}
    }
}

/// What the forms of the order page need.
#[derive(Clone, Debug, PartialEq)]
struct Basics {
    id: String,
    state: String,
    currency: String,
    lines: Vec<Value>,
    address: Value,
    refund_due: String,
}
