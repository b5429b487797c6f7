//! The order list: filters, search, sort and cursor paging kept in the URL (so a link or a reload
//! shows the same page), new orders arriving live, and bulk tag, hold and release.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde_json::{Value, json};

use crate::api::ApiError;
use crate::fmt;
use crate::live;
use crate::session::{query, session};
use crate::widgets::{error_notice, loaded, state_badge};

const PAGE: i64 = 25;
const STATES: [&str; 18] = [
    "RECEIVED",
    "PAYMENT_REVIEW",
    "PAYMENT_VERIFIED",
    "FRAUD_REVIEW",
    "SCREENED",
    "BACKORDERED",
    "ALLOCATED",
    "ROUTED",
    "PICKING",
    "PACKED",
    "SHIPPED",
    "IN_TRANSIT",
    "OUT_FOR_DELIVERY",
    "DELIVERED",
    "ADDRESS_ISSUE",
    "ON_HOLD",
    "CANCELLED",
    "REJECTED",
];
const CHANNELS: [&str; 6] = [
    "SHOPIFY",
    "WOOCOMMERCE",
    "BIGCOMMERCE",
    "AMAZON",
    "ETSY",
    "API",
];
const SORTS: [(&str, &str); 4] = [
    ("PLACED_AT_DESC", "Newest first"),
    ("PLACED_AT_ASC", "Oldest first"),
    ("TOTAL_DESC", "Largest total"),
    ("TOTAL_ASC", "Smallest total"),
];

const LIST: &str = "query($first: Int, $after: String, $filter: OrderFilterInput, $sort: OrderSortKey!) { orders(first: $first, after: $after, filter: $filter, sort: $sort) { pageInfo { hasNextPage endCursor } nodes { id name channel state currency email customerName totals { total } tags placedAt fraud { score level } holdReason } } }";

/// Runs one mutation per order in a single request (aliases run in order); the failures.
pub async fn bulk(
    field: &str,
    args: impl Fn(&str) -> String,
    ids: &[String],
) -> Vec<(String, String)> {
    let parts: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            format!(
                "o{i}: {field}(input: {}) {{ userErrors {{ field message }} }}",
                args(id)
            )
        })
        .collect();
    let doc = format!("mutation {{ {} }}", parts.join(" "));
    match query(&doc, json!({})).await {
        Ok(data) => ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| {
                let errs = data[format!("o{i}")]["userErrors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                errs.first().map(|e| {
                    (
                        id.clone(),
                        e["message"].as_str().unwrap_or_default().to_owned(),
                    )
                })
            })
            .collect(),
        Err(e) => ids.iter().map(|id| (id.clone(), e.describe())).collect(),
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[component]
pub fn Orders() -> impl IntoView {
    let s = session();
    let params = use_query_map();
    let navigate = use_navigate();
    let get = move |k: &str| params.with(|p| p.get(k).unwrap_or_default());
    // Cursors of the pages before this one, for "Previous".
    let trail = RwSignal::new(Vec::<String>::new());
    let refresh = RwSignal::new(0_u32);
    let orders = LocalResource::new(move || {
        refresh.track();
        let mut filter = serde_json::Map::new();
        for (key, field) in [
            ("state", "state"),
            ("channel", "channel"),
            ("tag", "tag"),
            ("q", "search"),
            ("sku", "sku"),
        ] {
            let v = get(key);
            if !v.is_empty() {
                filter.insert(field.into(), json!(v));
            }
        }
        if get("issues") == "1" {
            filter.insert("hasOpenIssues".into(), json!(true));
        }
        let sort = Some(get("sort"))
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "PLACED_AT_DESC".into());
        let after = Some(get("after")).filter(|v| !v.is_empty());
        async move {
            query(
                LIST,
                json!({ "first": PAGE, "after": after, "filter": filter, "sort": sort }),
            )
            .await
            .map(|d| d["orders"].clone())
        }
    });
    let nav = navigate.clone();
    let selected = RwSignal::new(Vec::<String>::new());
    let set = move |key: &'static str, value: String| {
        let mut p = params.get_untracked();
        if value.is_empty() {
            p.remove(key);
        } else {
            p.replace(key, value);
        }
        if key != "after" {
            p.remove("after");
            trail.set(Vec::new());
        }
        // Bulk actions act on what is on screen.
        selected.set(Vec::new());
        nav(
            &format!("/orders{}", p.to_query_string()),
            NavigateOptions::default(),
        );
    };
    let outcome = RwSignal::new(None::<Result<String, ApiError>>);
    let fresh = RwSignal::new(0_u32);
    live::subscribe(
        "subscription { orderEvents { kind } }",
        json!({}),
        move |d| {
            if d["orderEvents"]["kind"] == "order.received" {
                fresh.update(|n| *n += 1);
            }
        },
        |_| {},
    );
    // A new order shows at once on the first page of the default sort; elsewhere it is counted.
    Effect::new(move |_| {
        if fresh.get() > 0
            && params.with_untracked(|p| {
                p.get("after").is_none() && p.get("sort").is_none_or(|s| s == "PLACED_AT_DESC")
            })
        {
            refresh.update(|n| *n += 1);
        }
    });
    let tz = s.timezone();
    let run_bulk = move |what: &'static str| {
        let ids = selected.get_untracked();
        if ids.is_empty() {
            return;
        }
        let tag = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("bulk-value"))
            .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(e).ok())
            .map(|i| i.value().trim().to_owned())
            .unwrap_or_default();
        if what != "release" && tag.is_empty() {
            outcome.set(Some(Err(ApiError::Message(if what == "tag" {
                "Type the tag to add first.".into()
            } else {
                "Type the reason for the hold first.".into()
            }))));
            return;
        }
        leptos::task::spawn_local(async move {
            let failed = match what {
                "tag" => {
                    bulk(
                        "updateOrderTags",
                        |id| format!("{{orderId: {}, add: [{}]}}", quote(id), quote(&tag)),
                        &ids,
                    )
                    .await
                }
                "hold" => {
                    bulk(
                        "holdOrder",
                        |id| format!("{{orderId: {}, reason: {}}}", quote(id), quote(&tag)),
                        &ids,
                    )
                    .await
                }
                _ => {
                    bulk(
                        "releaseOrder",
                        |id| format!("{{orderId: {}}}", quote(id)),
                        &ids,
                    )
                    .await
                }
            };
            let done = ids.len() - failed.len();
            outcome.set(Some(if failed.is_empty() {
                Ok(format!("Done for {done} order(s)."))
            } else {
                Err(ApiError::Message(format!(
                    "Done for {done}; not for {}: {}",
                    failed.len(),
                    failed
                        .iter()
                        .map(|(_, m)| m.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                )))
            }));
            selected.set(Vec::new());
            refresh.update(|n| *n += 1);
        });
    };
    let manage = move || session().can("ORDERS_MANAGE");
    let set2 = set.clone();
    let set3 = set.clone();
    let set4 = set.clone();
    let set5 = set.clone();
    let set6 = set.clone();
    let set_page = set.clone();
    view! {
        <h1>"Orders"</h1>
        <div class="bar" role="search">
            <label class="inline" for="order-search">"Search"</label>
            <input id="order-search" type="search" placeholder="Number, email, name, external id"
                prop:value=move || get("q") on:change=move |ev| set("q", event_target_value(&ev))/>
            <label class="inline" for="order-state">"State"</label>
            <select id="order-state" on:change=move |ev| set2("state", event_target_value(&ev))>
                <option value="">"Any"</option>
                {STATES.iter().map(|st| view! { <option value=*st selected=move || get("state") == *st>{fmt::words(st)}</option> }).collect_view()}
            </select>
            <label class="inline" for="order-channel">"Channel"</label>
            <select id="order-channel" on:change=move |ev| set3("channel", event_target_value(&ev))>
                <option value="">"Any"</option>
                {CHANNELS.iter().map(|c| view! { <option value=*c selected=move || get("channel") == *c>{fmt::words(c)}</option> }).collect_view()}
            </select>
            <label class="inline" for="order-tag">"Tag"</label>
            <input id="order-tag" size="10" prop:value=move || get("tag") on:change=move |ev| set4("tag", event_target_value(&ev))/>
            <label class="inline"><input type="checkbox" prop:checked=move || get("issues") == "1"
                on:change=move |ev| set5("issues", if event_target_checked(&ev) { "1".into() } else { String::new() })/>"Open issues"</label>
            <div class="grow"></div>
            <label class="inline" for="order-sort">"Sort"</label>
            <select id="order-sort" on:change=move |ev| set6("sort", event_target_value(&ev))>
                {SORTS.iter().map(|(k, t)| view! { <option value=*k selected=move || get("sort") == *k>{*t}</option> }).collect_view()}
            </select>
        </div>
        <Show when=manage>
            <div class="bar">
                <span class="muted">{move || format!("{} selected", selected.get().len())}</span>
                <label class="inline" for="bulk-value">"Tag or reason"</label>
                <input id="bulk-value" size="16"/>
                <button id="bulk-tag" on:click=move |_| run_bulk("tag") disabled=move || selected.get().is_empty()>"Add tag"</button>
                <button id="bulk-hold" on:click=move |_| run_bulk("hold") disabled=move || selected.get().is_empty()>"Hold"</button>
                <button id="bulk-release" on:click=move |_| run_bulk("release") disabled=move || selected.get().is_empty()>"Release"</button>
            </div>
        </Show>
        {move || outcome.get().map(|o| match o {
            Ok(m) => view! { <div class="notice ok" role="status">{m}</div> }.into_any(),
            Err(e) => error_notice(&e).into_any(),
        })}
        {move || {
            let tz = tz.clone();
            let set_page = set_page.clone();
            loaded(orders.get(), move |conn| {
                let nodes: Vec<Value> = conn["nodes"].as_array().cloned().unwrap_or_default();
                if nodes.is_empty() {
                    return view! { <p class="empty">"No orders match. Clear a filter, or wait: new orders appear here as they arrive."</p> }.into_any();
                }
                let next = conn["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false).then(|| conn["pageInfo"]["endCursor"].as_str().unwrap_or_default().to_owned());
                let all: Vec<String> = nodes.iter().filter_map(|o| o["id"].as_str().map(str::to_owned)).collect();
                let rows = nodes.into_iter().map(|o| {
                    let id = o["id"].as_str().unwrap_or_default().to_owned();
                    let id2 = id.clone();
                    let id3 = id.clone();
                    let total = fmt::money(o["totals"]["total"].as_str().unwrap_or_default(), o["currency"].as_str().unwrap_or_default());
                    let tags: Vec<String> = serde_json::from_value(o["tags"].clone()).unwrap_or_default();
                    let who = o["customerName"].as_str().or(o["email"].as_str()).unwrap_or("—").to_owned();
                    let fraud = o["fraud"]["score"].as_i64().map(|s| s.to_string()).unwrap_or_else(|| "—".into());
                    view! {
                        <tr>
                            {manage().then(|| view! { <td><input type="checkbox" aria-label=format!("Select {}", o["name"].as_str().unwrap_or_default())
                                prop:checked=move || selected.with(|s| s.contains(&id2))
                                on:change=move |ev| { let on = event_target_checked(&ev); let id = id3.clone(); selected.update(|s| if on { s.push(id) } else { s.retain(|x| *x != id) }); }/></td> })}
                            <td><a href=format!("/orders/{id}")>{o["name"].as_str().unwrap_or_default().to_owned()}</a></td>
                            <td>{fmt::datetime(o["placedAt"].as_str().unwrap_or_default(), &tz)}</td>
                            <td>{who}</td>
                            <td>{fmt::words(o["channel"].as_str().unwrap_or_default())}</td>
                            <td>{state_badge(o["state"].as_str().unwrap_or_default())}</td>
                            <td class="num">{fraud}</td>
                            <td class="num">{total}</td>
                            <td>{tags.into_iter().map(|t| view! { <span class="tag">{t}</span> }).collect_view()}</td>
                        </tr>
                    }
                }).collect_view();
                let set_next = set_page.clone();
                let set_prev = set_page.clone();
                let after_now = get("after");
                view! {
                    <div class="table-wrap"><table>
                        <thead><tr>
                            {manage().then(|| view! { <th><input type="checkbox" aria-label="Select all on this page"
                                on:change=move |ev| selected.set(if event_target_checked(&ev) { all.clone() } else { Vec::new() })/></th> })}
                            <th>"Order"</th><th>"Placed"</th><th>"Customer"</th><th>"Channel"</th><th>"State"</th><th class="num">"Fraud"</th><th class="num">"Total"</th><th>"Tags"</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table></div>
                    <div class="bar">
                        <button id="page-prev" disabled=move || trail.with(Vec::is_empty) on:click=move |_| {
                            let back = trail.try_update(|t| t.pop()).flatten().unwrap_or_default();
                            set_prev("after", back);
                        }>"Previous"</button>
                        {next.map(|cursor| {
                            let after_now = after_now.clone();
                            view! { <button id="page-next" on:click=move |_| {
                                trail.update(|t| t.push(after_now.clone()));
                                set_next("after", cursor.clone());
                            }>"Next"</button> }
                        })}
                    </div>
                }.into_any()
            })
        }}
    }
}
