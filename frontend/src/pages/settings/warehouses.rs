//! Warehouses: where stock sits and parcels leave from, with the address routing measures
//! distance from, the timezone cut-offs are local to, the daily capacity; opened and paused.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::tabs;
use crate::api::ApiError;
use crate::session::{mutation, query, session};
use crate::widgets::{Confirm, error_notice, loaded, mutation_action};

const LIST: &str = "{ warehouses(first: 100, includeInactive: true) { nodes { id code name active dailyCapacity currentWorkload timezone address { line1 city region postalCode country } } } }";
const FIELDS: [(&str, &str); 9] = [
    ("code", "Code (short, e.g. EU-1)"),
    ("name", "Name"),
    ("line1", "Street"),
    ("city", "City"),
    ("region", "Region or state"),
    ("postalCode", "Postal code"),
    ("country", "Country (ISO code)"),
    ("timezone", "Timezone (e.g. America/Chicago)"),
    ("dailyCapacity", "Orders it can ship a day"),
];

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[component]
pub fn Warehouses() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let list = LocalResource::new(move || {
        reload.track();
        async move {
            query(LIST, json!({})).await.map(|d| {
                d["warehouses"]["nodes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
        }
    });
    let values: Vec<(&'static str, &'static str, RwSignal<String>)> = FIELDS
        .iter()
        .map(|(k, l)| (*k, *l, RwSignal::new(String::new())))
        .collect();
    let error = RwSignal::new(None::<ApiError>);
    let vals = values.clone();
    let create = Action::new_local(move |_: &()| {
        let get = |k: &str| {
            vals.iter()
                .find(|v| v.0 == k)
                .map(|v| v.2.get_untracked().trim().to_owned())
                .unwrap_or_default()
        };
        let opt = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
        let input = json!({
            "code": get("code"), "name": get("name"), "timezone": opt("timezone"),
            "dailyCapacity": get("dailyCapacity").parse::<i64>().ok(),
            "address": { "line1": get("line1"), "city": get("city"), "region": opt("region"), "postalCode": opt("postalCode"), "country": get("country") },
        });
        let vals = vals.clone();
        async move {
            let q = "mutation($i: CreateWarehouseInput!) { createWarehouse(input: $i) { userErrors { field message code } } }";
            match mutation(q, json!({ "i": input }), "createWarehouse").await {
                Ok(_) => {
                    error.set(None);
                    for v in &vals {
                        v.2.set(String::new());
                    }
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let toggle = move |id: String, active: bool| {
        let q = "mutation($i: ID!, $a: Boolean) { updateWarehouse(input: {id: $i, active: $a}) { userErrors { field message code } } }";
        mutation_action(
            "updateWarehouse",
            q.into(),
            json!({ "i": id, "a": !active }),
            reload,
        )
    };
    view! {
        {tabs()}
        {move || loaded(list.get(), move |rows| {
            let manage = session().can("CATALOG_MANAGE");
            if rows.is_empty() {
                return view! { <p class="empty">"No warehouses yet. Add the first below: stock is received into one."</p> }.into_any();
            }
            view! {
                <div class="table-wrap"><table id="warehouses">
                    <thead><tr><th>"Code"</th><th>"Name"</th><th>"Address"</th><th>"Timezone"</th><th class="num">"Capacity / day"</th><th class="num">"Working on"</th><th>"State"</th><th></th></tr></thead>
                    <tbody>{rows.into_iter().map(|w| {
                        let active = w["active"] == true;
                        let a = &w["address"];
                        view! { <tr>
                            <td class="mono">{s(&w["code"])}</td><td>{s(&w["name"])}</td>
                            <td>{format!("{}, {} {} {}, {}", s(&a["line1"]), s(&a["postalCode"]), s(&a["city"]), s(&a["region"]), s(&a["country"]))}</td>
                            <td>{s(&w["timezone"])}</td><td class="num">{w["dailyCapacity"].as_i64()}</td><td class="num">{w["currentWorkload"].as_i64()}</td>
                            <td>{if active { view! { <span class="badge good">"active"</span> } } else { view! { <span class="badge">"paused"</span> } }}</td>
                            <td>{manage.then(|| view! { <Confirm label=if active { "Pause" } else { "Open" }
                                question=if active { format!("Pause {}? It keeps its stock but is not routed to.", s(&w["code"])) } else { format!("Open {} for routing again?", s(&w["code"])) }
                                action=toggle(s(&w["id"]), active)/> })}</td>
                        </tr> }
                    }).collect_view()}</tbody>
                </table></div>
            }.into_any()
        })}
        <Show when=move || session().can("CATALOG_MANAGE")>
            <div class="card">
                <h2>"New warehouse"</h2>
                <form class="form" on:submit=move |ev| { ev.prevent_default(); create.dispatch(()); }>
                    {values.iter().map(|(k, label, v)| {
                        let (k, v) = (*k, *v);
                        let id = format!("warehouse-{k}");
                        view! {
                            <label for=id.clone()>{*label}</label>
                            <input id=id prop:value=move || v.get() on:input=move |ev| v.set(event_target_value(&ev))/>
                            <div class="field-error" id=format!("warehouse-{k}-error")>{move || error.get().and_then(|e| e.on(k))}</div>
                        }
                    }).collect_view()}
                    {move || error.get().filter(|e| !matches!(e, ApiError::User(_))).map(|e| error_notice(&e))}
                    <div class="actions"><button class="primary" type="submit" id="warehouse-create">"Add warehouse"</button></div>
                </form>
            </div>
        </Show>
    }
}
