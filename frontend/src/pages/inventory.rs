//! Inventory: every SKU's stock by warehouse (on hand, reserved, available, bin), what is low,
//! stock received or adjusted with its reason (through the inventory ledger, so every change
//! is on a SKU's movement history), and the orders waiting for stock with the supplier's date.

use leptos::prelude::*;
use serde_json::{Value, json};

use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{error_notice, loaded};

const STOCK: &str = "query($q: String) { products(first: 100, filter: {search: $q}) { nodes { title variants { sku title available stockLevels { onHand reserved available binLocation warehouse { id code } } } } } }";
const LOW: &str = "query($t: Int!) { lowStock(threshold: $t, first: 50) { sku onHand reserved available warehouse { code } } }";
const BACKORDERS: &str = "{ orders(first: 50, filter: {state: BACKORDERED}, sort: PLACED_AT_ASC) { nodes { id name customerName placedAt allocations { sku quantity status eta } } } }";
const WAREHOUSES: &str = "{ warehouses(first: 100) { nodes { id code name } } }";
const MOVES: &str = "query($s: String!) { inventoryMovements(sku: $s, first: 20) { nodes { kind onHandDelta reservedDelta onHandAfter reason reference actor at warehouse { code } } } }";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn nodes(v: &Value) -> Vec<Value> {
    v["nodes"].as_array().cloned().unwrap_or_default()
}

/// Receive or adjust one SKU at one warehouse, with the reason.
#[component]
fn Change(reload: RwSignal<u32>) -> impl IntoView {
    let warehouses = LocalResource::new(|| async {
        query(WAREHOUSES, json!({}))
            .await
            .map(|d| nodes(&d["warehouses"]))
    });
    let kind = RwSignal::new("receive".to_owned());
    let sku = RwSignal::new(String::new());
    let warehouse = RwSignal::new(String::new());
    let units = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let reference = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let done = RwSignal::new(None::<String>);
    let save = Action::new_local(move |_: &()| {
        let (k, sk, w, n, why, r) = (
            kind.get_untracked(),
            sku.get_untracked(),
            warehouse.get_untracked(),
            units.get_untracked(),
            reason.get_untracked(),
            reference.get_untracked(),
        );
        async move {
            let Ok(n) = n.trim().parse::<i64>() else {
                error.set(Some(ApiError::Message(
                    "Units: give a whole number (negative to remove stock).".into(),
                )));
                return;
            };
            let opt = |t: String| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
            let (field, q, vars) = if k == "receive" {
                (
                    "receiveStock",
                    "mutation($i: ReceiveStockInput!) { receiveStock(input: $i) { userErrors { field message code } } }",
                    json!({ "i": { "sku": sk.trim(), "warehouseId": w, "quantity": n, "reason": opt(why), "reference": opt(r) } }),
                )
            } else {
                (
                    "adjustStock",
                    "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { field message code } } }",
                    json!({ "i": { "sku": sk.trim(), "warehouseId": w, "delta": n, "reason": opt(why), "reference": opt(r) } }),
                )
            };
            match mutation(q, vars, field).await {
                Ok(_) => {
                    error.set(None);
                    done.set(Some(format!(
                        "{} {n} × {}.",
                        if k == "receive" {
                            "Received"
                        } else {
                            "Adjusted by"
                        },
                        sk.trim()
                    )));
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let on = move |f: &'static str| move || error.get().and_then(|e| e.on(f));
    view! {
        <div class="card">
            <h2>"Receive or adjust stock"</h2>
            <form class="form" on:submit=move |ev| { ev.prevent_default(); done.set(None); save.dispatch(()); }>
                <label for="stock-kind">"Change"</label>
                <select id="stock-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="receive">"Receive (a delivery from a supplier)"</option>
                    <option value="adjust">"Adjust (a count, damage, loss)"</option>
                </select>
                <label for="stock-sku">"SKU"</label>
                <input id="stock-sku" required prop:value=move || sku.get() on:input=move |ev| sku.set(event_target_value(&ev))/>
                <div class="field-error">{on("sku")}</div>
                <label for="stock-warehouse">"Warehouse"</label>
                <select id="stock-warehouse" required on:change=move |ev| warehouse.set(event_target_value(&ev))>
                    <option value="">"Choose…"</option>
                    {move || warehouses.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|w| view! { <option value=s(&w["id"])>{format!("{} — {}", s(&w["code"]), s(&w["name"]))}</option> }).collect_view()}
                </select>
                <div class="field-error">{on("warehouseId")}</div>
                <label for="stock-units">{move || if kind.get() == "receive" { "Units received" } else { "Units to add (negative to remove)" }}</label>
                <input id="stock-units" inputmode="numeric" required prop:value=move || units.get() on:input=move |ev| units.set(event_target_value(&ev))/>
                <div class="field-error">{on("quantity")}{on("delta")}</div>
                <label for="stock-reason">{move || if kind.get() == "receive" { "Reason (optional)" } else { "Reason (required: it goes on the ledger)" }}</label>
                <input id="stock-reason" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
                <div class="field-error">{on("reason")}</div>
                <label for="stock-reference">"Reference (e.g. the purchase order)"</label>
                <input id="stock-reference" prop:value=move || reference.get() on:input=move |ev| reference.set(event_target_value(&ev))/>
                {move || error.get().filter(|e| !matches!(e, ApiError::User(_))).map(|e| error_notice(&e))}
                {move || done.get().map(|m| view! { <div class="notice ok" role="status">{m}</div> })}
                <div class="actions"><button class="primary" type="submit" id="stock-save">"Save"</button></div>
            </form>
        </div>
    }
}

#[component]
pub fn Inventory() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let search = RwSignal::new(String::new());
    let threshold = RwSignal::new(5_i64);
    let history = RwSignal::new(None::<String>);
    let stock = LocalResource::new(move || {
        reload.track();
        let q = Some(search.get()).filter(|q| !q.trim().is_empty());
        async move {
            query(STOCK, json!({ "q": q }))
                .await
                .map(|d| nodes(&d["products"]))
        }
    });
    let low = LocalResource::new(move || {
        reload.track();
        let t = threshold.get();
        async move {
            query(LOW, json!({ "t": t }))
                .await
                .map(|d| d["lowStock"].as_array().cloned().unwrap_or_default())
        }
    });
    let backorders = LocalResource::new(move || {
        reload.track();
        async move {
            query(BACKORDERS, json!({}))
                .await
                .map(|d| nodes(&d["orders"]))
        }
    });
    let moves = LocalResource::new(move || {
        reload.track();
        let sku = history.get();
        async move {
            match sku {
                Some(sku) => query(MOVES, json!({ "s": sku }))
                    .await
                    .map(|d| Some((sku, nodes(&d["inventoryMovements"])))),
                None => Ok(None),
            }
        }
    });
    let manage = move || session().can("INVENTORY_MANAGE");
    view! {
        <h1>"Inventory"</h1>
        <div class="grid2">
            <div class="card">
                <div class="bar">
                    <h2 style="margin:0">"Low stock"</h2>
                    <div class="grow"></div>
                    <label class="inline" for="low-threshold">"At most"</label>
                    <input id="low-threshold" type="number" min="0" size="4" prop:value=move || threshold.get().to_string()
                        on:change=move |ev| threshold.set(event_target_value(&ev).parse().unwrap_or(5))/>
                </div>
                {move || loaded(low.get(), |rows| if rows.is_empty() { view! { <p class="muted">"Nothing is that low."</p> }.into_any() } else { view! {
                    <table id="low-stock"><thead><tr><th>"SKU"</th><th>"Warehouse"</th><th class="num">"Available"</th><th class="num">"On hand"</th></tr></thead>
                    <tbody>{rows.into_iter().map(|l| view! { <tr><td class="mono">{s(&l["sku"])}</td><td>{s(&l["warehouse"]["code"])}</td><td class="num">{l["available"].as_i64()}</td><td class="num">{l["onHand"].as_i64()}</td></tr> }).collect_view()}</tbody></table>
                }.into_any() })}
            </div>
            <div class="card">
                <h2>"Backorders"</h2>
                {move || loaded(backorders.get(), |rows| if rows.is_empty() { view! { <p class="muted">"No order is waiting for stock."</p> }.into_any() } else {
                    let tz = session().timezone();
                    view! {
                        <table id="backorders"><thead><tr><th>"Order"</th><th>"Waiting for"</th><th>"Supplier expects"</th></tr></thead>
                        <tbody>{rows.into_iter().map(|o| {
                            let waiting: Vec<Value> = o["allocations"].as_array().cloned().unwrap_or_default().into_iter().filter(|a| a["status"] == "BACKORDERED").collect();
                            let tz = tz.clone();
                            view! { <tr>
                                <td><a href=format!("/orders/{}", s(&o["id"]))>{s(&o["name"])}</a></td>
                                <td>{waiting.iter().map(|a| format!("{} × {}", a["quantity"], s(&a["sku"]))).collect::<Vec<_>>().join(", ")}</td>
                                <td>{waiting.iter().map(|a| a["eta"].as_str().map(|e| fmt::date(e, &tz)).unwrap_or_else(|| "no date".into())).collect::<Vec<_>>().join(", ")}</td>
                            </tr> }
                        }).collect_view()}</tbody></table>
                    }.into_any()
                })}
            </div>
        </div>
        {move || manage().then(|| view! { <Change reload=reload/> })}
        <div class="bar">
            <h2 style="margin:0">"Stock by warehouse"</h2>
            <div class="grow"></div>
            <label class="inline" for="stock-search">"Search"</label>
            <input id="stock-search" type="search" placeholder="Title, SKU or barcode" on:change=move |ev| search.set(event_target_value(&ev))/>
        </div>
        {move || loaded(stock.get(), move |products| {
            let rows: Vec<(String, Value)> = products.iter().flat_map(|p| {
                let title = s(&p["title"]);
                p["variants"].as_array().cloned().unwrap_or_default().into_iter().map(move |v| (title.clone(), v))
            }).collect();
            if rows.is_empty() {
                return view! { <p class="empty">"No products match."</p> }.into_any();
            }
            view! {
                <div class="table-wrap"><table id="stock">
                    <thead><tr><th>"SKU"</th><th>"Product"</th><th>"Warehouse"</th><th>"Bin"</th><th class="num">"On hand"</th><th class="num">"Reserved"</th><th class="num">"Available"</th></tr></thead>
                    <tbody>{rows.into_iter().flat_map(|(title, v)| {
                        let levels = v["stockLevels"].as_array().cloned().unwrap_or_default();
                        let sku = s(&v["sku"]);
                        levels.into_iter().map(move |l| {
                            let sku2 = sku.clone();
                            view! { <tr>
                                <td class="mono"><button class="link" title="Movement history" on:click=move |_| history.set(Some(sku2.clone()))>{sku.clone()}</button></td>
                                <td>{title.clone()}</td>
                                <td>{s(&l["warehouse"]["code"])}</td>
                                <td class="mono">{s(&l["binLocation"])}</td>
                                <td class="num">{l["onHand"].as_i64()}</td>
                                <td class="num">{l["reserved"].as_i64()}</td>
                                <td class="num">{l["available"].as_i64()}</td>
                            </tr> }
                        }).collect::<Vec<_>>()
                    }).collect_view()}</tbody>
                </table></div>
            }.into_any()
        })}
        {move || loaded(moves.get(), |m| match m {
            None => ().into_any(),
            Some((sku, rows)) => {
                let tz = session().timezone();
                view! {
                    <div class="card" id="movements">
                        <h2>{format!("Movements of {sku}")}</h2>
                        <table><thead><tr><th>"When"</th><th>"Warehouse"</th><th>"Kind"</th><th class="num">"On hand ±"</th><th class="num">"Reserved ±"</th><th class="num">"On hand after"</th><th>"Reason"</th><th>"By"</th></tr></thead>
                        <tbody>{rows.into_iter().map(|r| view! { <tr>
                            <td>{fmt::datetime(r["at"].as_str().unwrap_or_default(), &tz)}</td><td>{s(&r["warehouse"]["code"])}</td><td>{fmt::words(&s(&r["kind"]))}</td>
                            <td class="num">{r["onHandDelta"].as_i64()}</td><td class="num">{r["reservedDelta"].as_i64()}</td><td class="num">{r["onHandAfter"].as_i64()}</td>
                            <td>{s(&r["reason"])}" "<span class="muted">{s(&r["reference"])}</span></td><td class="small">{s(&r["actor"])}</td>
                        </tr> }).collect_view()}</tbody></table>
                    </div>
                }.into_any()
            }
        })}
    }
}
