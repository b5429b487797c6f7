//! A channel's stock, as Orderflow keeps it: whether it does, the share of free stock the
//! channel shows and where the platform keeps it; how true the figures are (listed, matched,
//! stale, refused, drift found); the items no SKU of ours matched, each mapped here; and the
//! stock log (pushes, catalog reads, drift checks) with the platform's answers.

use leptos::prelude::*;
use serde_json::{Value, json};

use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{error_notice, loaded};

const STOCK: &str = "query($c: ID!) { channelStock(connectionId: $c) { listed matched unmatched stale failing driftFound } channelListings(connectionId: $c, unmatchedOnly: true, first: 50) { edges { node { id sku title remoteProductId remoteVariantId channelQuantity } } } channelStockLog(connectionId: $c, first: 20) { id kind state items changed summary answer durationMs createdAt } }";
const UPDATE: &str = "mutation($i: UpdateChannelConnectionInput!) { updateChannelConnection(input: $i) { userErrors { field message code } } }";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The stock side of one connection (`c`: the connection as the channel list reads it).
#[component]
pub fn ChannelStock(c: Value, reload: RwSignal<u32>) -> impl IntoView {
    let id = s(&c["id"]);
    let refresh = RwSignal::new(0_u32);
    let data = LocalResource::new({
        let id = id.clone();
        move || {
            refresh.track();
            let id = id.clone();
            async move { query(STOCK, json!({ "c": id })).await }
        }
    });
    let sync = RwSignal::new(c["stockSync"] == true);
    let share = RwSignal::new(c["stockShare"].as_i64().unwrap_or(100).to_string());
    let location = RwSignal::new(s(&c["stockLocation"]));
    let error = RwSignal::new(None::<ApiError>);
    let save = Action::new_local({
        let id = id.clone();
        move |_: &()| {
            let input = json!({
                "id": id.clone(), "stockSync": sync.get_untracked(),
                "stockShare": share.get_untracked().trim().parse::<i64>().unwrap_or(0),
                "stockLocation": location.get_untracked(),
            });
            async move {
                match mutation(UPDATE, json!({ "i": input }), "updateChannelConnection").await {
                    Ok(_) => {
                        error.set(None);
                        reload.update(|x| *x += 1);
                    }
                    Err(e) => error.set(Some(e)),
                }
            }
        }
    });
    let check = Action::new_local({
        let id = id.clone();
        move |_: &()| {
            let id = id.clone();
            async move {
                let q = "mutation($c: ID!) { checkChannelStock(input: {connectionId: $c}) { queued userErrors { field message code } } }";
                match mutation(q, json!({ "c": id }), "checkChannelStock").await {
                    Ok(_) => {
                        error.set(None);
                        refresh.update(|x| *x += 1);
                    }
                    Err(e) => error.set(Some(e)),
                }
            }
        }
    });
    let on = move |f: &'static str| move || error.get().and_then(|e| e.on(f));
    let manage = move || session().can("CHANNELS_MANAGE");
    view! {
        <h3>"Stock"</h3>
        <form class="form inline-form channel-stock-settings" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
            <label class="inline"><input type="checkbox" class="stock-sync" prop:checked=move || sync.get() on:change=move |ev| sync.set(event_target_checked(&ev))/>" Orderflow keeps this channel's stock"</label>
            <label for=format!("share-{id}")>"Share of free stock (%)"</label>
            <input id=format!("share-{id}") class="stock-share" type="number" min="1" max="100" prop:value=move || share.get() on:input=move |ev| share.set(event_target_value(&ev))/>
            <div class="field-error">{on("stockShare")}</div>
            <label for=format!("location-{id}")>"Platform location id"</label>
            <input id=format!("location-{id}") class="stock-location" placeholder="found by the catalog read" prop:value=move || location.get() on:input=move |ev| location.set(event_target_value(&ev))/>
            <div class="field-error">{on("stockLocation")}</div>
            <div class="actions">
                <button type="submit" disabled=move || !manage()>"Save stock settings"</button>
                <button type="button" class="check-stock" disabled=move || !manage() on:click=move |_| { check.dispatch(()); }>"Read the catalog now"</button>
            </div>
        </form>
        {move || error.get().filter(|e| !matches!(e, ApiError::User(_))).map(|e| error_notice(&e))}
        {move || error.get().and_then(|e| e.on("connectionId")).map(|m| view! { <p class="field-error">{m}</p> })}
        {move || loaded(data.get(), |d| {
            let tz = session().timezone();
            let st = &d["channelStock"];
            let failing = st["failing"].as_i64().unwrap_or(0);
            let failing_class = if failing > 0 { "field-error" } else { "" };
            let unmatched: Vec<Value> = d["channelListings"]["edges"].as_array().cloned().unwrap_or_default().into_iter().map(|e| e["node"].clone()).collect();
            let log = d["channelStockLog"].as_array().cloned().unwrap_or_default();
            view! {
                <dl class="facts stock-health">
                    <dt>"Listed"</dt><dd>{format!("{} items, {} matched by SKU, {} unmatched", st["listed"], st["matched"], st["unmatched"])}</dd>
                    <dt>"Waiting to push"</dt><dd>{st["stale"].to_string()}</dd>
                    <dt>"Refused by the channel"</dt><dd class=failing_class>{failing.to_string()}</dd>
                    <dt>"Drift found and corrected"</dt><dd>{st["driftFound"].to_string()}</dd>
                </dl>
                {(!unmatched.is_empty()).then(|| view! {
                    <h4>"Not matched to a SKU"</h4>
                    <table class="unmatched">
                        <thead><tr><th>"Channel item"</th><th>"Its SKU"</th><th class="num">"Shows"</th><th>"Our SKU"</th></tr></thead>
                        <tbody>{unmatched.into_iter().map(|l| view! { <MapRow l=l refresh=refresh/> }).collect_view()}</tbody>
                    </table>
                })}
                <h4>"Stock log"</h4>
                {if log.is_empty() {
                    view! { <p class="muted">"No stock pushed or read yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="stock-log">
                            <thead><tr><th>"When"</th><th>"What"</th><th>"State"</th><th>"Answer"</th><th class="num">"Took"</th></tr></thead>
                            <tbody>{log.into_iter().map(|e| {
                                let state = s(&e["state"]);
                                let badge = match state.as_str() { "sent" => "badge good", "failed" => "badge bad", "waiting" => "badge warn", _ => "badge" };
                                view! { <tr>
                                    <td>{fmt::datetime(&s(&e["createdAt"]), &tz)}</td>
                                    <td>{fmt::words(&s(&e["kind"]))}<div class="small muted">{s(&e["summary"])}</div></td>
                                    <td><span class=badge>{state}</span></td>
                                    <td class="small">{s(&e["answer"])}</td>
                                    <td class="num">{e["durationMs"].as_i64().map(|ms| format!("{ms} ms"))}</td>
                                </tr> }
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any()
                }}
            }.into_any()
        })}
    }
}

/// One unmatched channel item, mapped to a SKU of ours by staff.
#[component]
fn MapRow(l: Value, refresh: RwSignal<u32>) -> impl IntoView {
    let sku = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let id = s(&l["id"]);
    let map = Action::new_local(move |_: &()| {
        let input = json!({ "listingId": id.clone(), "sku": sku.get_untracked() });
        async move {
            let q = "mutation($i: MapChannelListingInput!) { mapChannelListing(input: $i) { userErrors { field message code } } }";
            match mutation(q, json!({ "i": input }), "mapChannelListing").await {
                Ok(_) => {
                    error.set(None);
                    refresh.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    view! {
        <tr>
            <td>{s(&l["title"])}<div class="small muted">{s(&l["remoteProductId"])}{l["remoteVariantId"].as_str().map(|v| format!(" / {v}"))}</div></td>
            <td><code>{s(&l["sku"])}</code></td>
            <td class="num">{l["channelQuantity"].as_i64().map(|q| q.to_string())}</td>
            <td>
                <form class="inline-form map-listing" on:submit=move |ev| { ev.prevent_default(); map.dispatch(()); }>
                    <input class="map-sku" required placeholder="SKU" aria-label="Our SKU" prop:value=move || sku.get() on:input=move |ev| sku.set(event_target_value(&ev))/>
                    <button type="submit" disabled=move || !session().can("CHANNELS_MANAGE")>"Map"</button>
                </form>
                <div class="field-error">{move || error.get().and_then(|e| e.on("sku"))}</div>
                {move || error.get().filter(|e| !matches!(e, ApiError::User(_))).map(|e| error_notice(&e))}
            </td>
        </tr>
    }
}
