//! Carriers and their rate cards: each carrier's services with the cut-off, the zones with
//! their transit days and weight brackets, and how often each service is on time; a new
//! carrier (simulated, or an EasyPost or Shippo account whose API buys real postage, with a
//! connection test), and a new service with its card written one zone per line.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::tabs;
use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{error_notice, loaded};

const LIST: &str = "{ carriers { id code name trackingFormat trackingSource trackingWebhookUrl hasWebhookSecret active provider simulated hasApiKey apiBase labelFormat services { id code name currency cutoff deliveredCount onTimeRate active rateCard { zones { zone transitDays brackets { upToGrams price } extraPerKg } } } } }";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// What a carrier's labels are, in words: nobody may mistake a drawn label for postage.
fn provider_words(c: &Value) -> (&'static str, &'static str) {
    match c["provider"].as_str() {
        Some("EASYPOST") => ("badge good", "EasyPost API: real postage"),
        Some("SHIPPO") => ("badge good", "Shippo API: real postage"),
        _ => (
            "badge warn",
            "Simulated: labels drawn by Orderflow, no postage paid",
        ),
    }
}

/// A zone as one line: `zone 2, 3 days: 1000 g 6.50, 5000 g 9.00, then 1.00 per kg`.
fn zone_line(z: &Value) -> String {
    let mut parts: Vec<String> = z["brackets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{} g {}", b["upToGrams"], s(&b["price"])))
        .collect();
    if let Some(x) = z["extraPerKg"].as_str() {
        parts.push(format!("then {x} per kg"));
    }
    format!(
        "zone {}, {} days: {}",
        z["zone"],
        z["transitDays"],
        parts.join(", ")
    )
}

fn numbers(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|t| !t.is_empty() && t.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

/// The rate card of the lines, or which line is wrong and how.
pub fn parse_card(text: &str) -> Result<Value, String> {
    let mut zones = Vec::new();
    for (i, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let bad = |why: &str| {
            format!(
                "Rate card, line {}: {why} (write: zone 1, 2 days: 1000 g 6.50, 5000 g 9.00, then 1.00 per kg)",
                i + 1
            )
        };
        let (head, rest) = line
            .split_once(':')
            .ok_or_else(|| bad("no ':' after the zone and days"))?;
        let head = numbers(head);
        let (Some(zone), Some(days)) = (
            head.first().and_then(|z| z.parse::<i64>().ok()),
            head.get(1).and_then(|d| d.parse::<i64>().ok()),
        ) else {
            return Err(bad("give the zone and the transit days before ':'"));
        };
        let mut brackets = Vec::new();
        let mut extra = None;
        for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let n = numbers(part);
            if part.contains("per kg") {
                extra = Some(n.first().cloned().ok_or_else(|| bad("no price per kg"))?);
            } else {
                let grams = n
                    .first()
                    .and_then(|g| g.parse::<i64>().ok())
                    .ok_or_else(|| bad("a bracket needs its grams"))?;
                let price = n
                    .get(1)
                    .cloned()
                    .ok_or_else(|| bad("a bracket needs its price"))?;
                brackets.push(json!({ "upToGrams": grams, "price": price }));
            }
        }
        zones.push(
            json!({ "zone": zone, "transitDays": days, "brackets": brackets, "extraPerKg": extra }),
        );
    }
    if zones.is_empty() {
        return Err("Rate card: give at least one zone.".into());
    }
    Ok(json!({ "zones": zones }))
}

#[component]
pub fn Carriers() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let list = LocalResource::new(move || {
        reload.track();
        async move {
            query(LIST, json!({}))
                .await
                .map(|d| d["carriers"].as_array().cloned().unwrap_or_default())
        }
    });
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    // A new carrier.
    let c_code = RwSignal::new(String::new());
    let c_name = RwSignal::new(String::new());
    let c_format = RwSignal::new("UPS".to_owned());
    let c_account = RwSignal::new(String::new());
    let c_source = RwSignal::new("ORDERFLOW".to_owned());
    let c_secret = RwSignal::new(String::new());
    let c_provider = RwSignal::new("SIMULATED".to_owned());
    let c_key = RwSignal::new(String::new());
    let c_base = RwSignal::new(String::new());
    let c_label = RwSignal::new("PDF".to_owned());
    let add_carrier = Action::new_local(move |_: &()| {
        let remote = c_provider.get_untracked() != "SIMULATED";
        let input = json!({
            "code": c_code.get_untracked(), "name": c_name.get_untracked(), "trackingFormat": c_format.get_untracked(),
            "account": Some(c_account.get_untracked()).filter(|a| !a.is_empty()),
            // A remote carrier's own webhooks bring its scans.
            "trackingSource": (!remote).then(|| c_source.get_untracked()),
            "webhookSecret": Some(c_secret.get_untracked()).filter(|a| !a.is_empty()),
            "provider": c_provider.get_untracked(),
            "apiKey": Some(c_key.get_untracked()).filter(|k| remote && !k.is_empty()),
            "apiBase": Some(c_base.get_untracked()).filter(|b| remote && !b.is_empty()),
            "labelFormat": remote.then(|| c_label.get_untracked()),
        });
        async move {
            let q = "mutation($i: CreateCarrierInput!) { createCarrier(input: $i) { carrier { name simulated } userErrors { field message code } } }";
            match mutation(q, json!({ "i": input }), "createCarrier").await {
                Ok(p) => {
                    error.set(None);
                    notice.set(Some(if p["carrier"]["simulated"] == true {
                        format!(
                            "Carrier {} added: now give it a service.",
                            s(&p["carrier"]["name"])
                        )
                    } else {
                        format!(
                            "Carrier {} added: its services come from the API's rates. Test the connection below.",
                            s(&p["carrier"]["name"])
                        )
                    }));
                    c_key.set(String::new());
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    // A new service.
    let sv_carrier = RwSignal::new(String::new());
    let sv_code = RwSignal::new(String::new());
    let sv_name = RwSignal::new(String::new());
    let sv_currency = RwSignal::new(session().currency());
    let sv_cutoff = RwSignal::new("17:00".to_owned());
    let sv_card =
        RwSignal::new("zone 1, 2 days: 1000 g 6.50, 5000 g 9.00, then 1.00 per kg".to_owned());
    let add_service = Action::new_local(move |_: &()| {
        let card = parse_card(&sv_card.get_untracked());
        let (carrier, code, name, currency, cutoff) = (
            sv_carrier.get_untracked(),
            sv_code.get_untracked(),
            sv_name.get_untracked(),
            sv_currency.get_untracked(),
            sv_cutoff.get_untracked(),
        );
        async move {
            let card = match card {
                Ok(c) => c,
                Err(m) => return error.set(Some(ApiError::Message(m))),
            };
            let q = "mutation($i: CreateCarrierServiceInput!) { createCarrierService(input: $i) { userErrors { field message code } } }";
            let input = json!({ "carrierId": carrier, "code": code, "name": name, "currency": currency, "cutoff": Some(cutoff).filter(|c| !c.is_empty()), "rateCard": card });
            match mutation(q, json!({ "i": input }), "createCarrierService").await {
                Ok(_) => {
                    error.set(None);
                    notice.set(Some("Service added.".into()));
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let test = Action::new_local(move |id: &String| {
        let id = id.clone();
        async move {
            let q = "mutation($c: ID!) { testCarrierConnection(id: $c) { ok message } }";
            match query(q, json!({ "c": id })).await {
                Ok(d) => {
                    let t = &d["testCarrierConnection"];
                    error.set(None);
                    notice.set(Some(format!(
                        "{} {}",
                        if t["ok"] == true { "✓" } else { "✗" },
                        s(&t["message"])
                    )));
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let text = |sig: RwSignal<String>| {
        (
            move || sig.get(),
            move |ev| sig.set(event_target_value(&ev)),
        )
    };
    let on = move |f: &'static str| move || error.get().and_then(|e| e.on(f));
    view! {
        {tabs()}
        {move || notice.get().map(|m| view! { <div class="notice ok" role="status">{m}</div> })}
        {move || error.get().map(|e| error_notice(&e))}
        {move || loaded(list.get(), |carriers| {
            if carriers.is_empty() {
                return view! { <p class="empty">"No carriers yet: labels cannot be bought until one has a service."</p> }.into_any();
            }
            carriers.into_iter().map(|c| view! {
                <div class="card carrier">
                    <div class="bar"><strong>{s(&c["name"])}</strong><span class="mono">{s(&c["code"])}</span>
                        <span class="muted">{format!("tracking numbers {} · scans from {}", fmt::words(&s(&c["trackingFormat"])), fmt::words(&s(&c["trackingSource"])))}</span></div>
                    <p class="small"><span class=provider_words(&c).0>{provider_words(&c).1}</span>
                        {(c["simulated"] == false).then(|| view! {
                            <span class="muted">{format!(" · labels as {} · API key {}{}", s(&c["labelFormat"]), if c["hasApiKey"] == true { "set" } else { "missing" }, c["apiBase"].as_str().map(|b| format!(" · API {b}")).unwrap_or_default())}</span>
                            <button type="button" class="small test-connection" on:click={
                                let id = s(&c["id"]);
                                move |_| { notice.set(None); test.dispatch(id.clone()); }
                            }>"Test connection"</button>
                        })}
                    </p>
                    <p class="small">"Tracking webhook: "<code>{s(&c["trackingWebhookUrl"])}</code>{if c["hasWebhookSecret"] == true { " (signed)" } else { " (no secret set: scans are refused)" }}</p>
                    {c["services"].as_array().cloned().unwrap_or_default().into_iter().map(|sv| view! {
                        <h3>{format!("{} ({}) · {} · cut-off {}", s(&sv["name"]), s(&sv["code"]), s(&sv["currency"]), sv["cutoff"].as_str().unwrap_or("none"))}
                            <span class="muted small">{format!(" · {} delivered, {} on time", sv["deliveredCount"], fmt::percent(sv["onTimeRate"].as_f64().unwrap_or(0.0)))}</span></h3>
                        <pre class="small mono">{sv["rateCard"]["zones"].as_array().cloned().unwrap_or_default().iter().map(zone_line).collect::<Vec<_>>().join("\n")}</pre>
                    }).collect_view()}
                </div>
            }).collect_view().into_any()
        })}
        <Show when=move || session().can("SETTINGS_MANAGE")>
            <div class="grid2">
                <div class="card">
                    <h2>"New carrier"</h2>
                    <form class="form" on:submit=move |ev| { ev.prevent_default(); notice.set(None); add_carrier.dispatch(()); }>
                        <label for="carrier-code">"Code (e.g. ups)"</label>
                        <input id="carrier-code" prop:value=text(c_code).0 on:input=text(c_code).1/>
                        <div class="field-error">{on("code")}</div>
                        <label for="carrier-name">"Name"</label>
                        <input id="carrier-name" prop:value=text(c_name).0 on:input=text(c_name).1/>
                        <label for="carrier-format">"Tracking number format"</label>
                        <select id="carrier-format" on:change=move |ev| c_format.set(event_target_value(&ev))>
                            {["UPS", "USPS", "FEDEX", "DHL", "S10", "ORDERFLOW"].iter().map(|f| view! { <option value=*f>{*f}</option> }).collect_view()}
                        </select>
                        <label for="carrier-provider">"Labels"</label>
                        <select id="carrier-provider" on:change=move |ev| c_provider.set(event_target_value(&ev))>
                            <option value="SIMULATED">"Simulated: Orderflow draws them (rehearsals, no postage)"</option>
                            <option value="EASYPOST">"Bought from EasyPost"</option>
                            <option value="SHIPPO">"Bought from Shippo"</option>
                        </select>
                        <Show when=move || c_provider.get() != "SIMULATED">
                            <label for="carrier-api-key">"API key (test or production; stored sealed)"</label>
                            <input id="carrier-api-key" type="password" autocomplete="off" prop:value=text(c_key).0 on:input=text(c_key).1/>
                            <div class="field-error">{on("apiKey")}</div>
                            <label for="carrier-label-format">"Label file"</label>
                            <select id="carrier-label-format" on:change=move |ev| c_label.set(event_target_value(&ev))>
                                <option value="PDF">"PDF 4×6"</option>
                                <option value="ZPL">"ZPL (thermal printers)"</option>
                            </select>
                            <label for="carrier-api-base">"API address (empty: the provider's own)"</label>
                            <input id="carrier-api-base" prop:value=text(c_base).0 on:input=text(c_base).1/>
                            <div class="field-error">{on("apiBase")}</div>
                        </Show>
                        <label for="carrier-account">"Shipper account"</label>
                        <input id="carrier-account" prop:value=text(c_account).0 on:input=text(c_account).1/>
                        <Show when=move || c_provider.get() == "SIMULATED">
                        <label for="carrier-source">"Tracking scans come from"</label>
                        <select id="carrier-source" on:change=move |ev| c_source.set(event_target_value(&ev))>
                            {["ORDERFLOW", "EASYPOST", "SHIPPO", "AFTERSHIP"].iter().map(|f| view! { <option value=*f>{fmt::words(f)}</option> }).collect_view()}
                        </select>
                        </Show>
                        <label for="carrier-secret">"Tracking webhook secret"</label>
                        <input id="carrier-secret" type="password" autocomplete="off" prop:value=text(c_secret).0 on:input=text(c_secret).1/>
                        <div class="actions"><button class="primary" type="submit" id="carrier-create">"Add carrier"</button></div>
                    </form>
                </div>
                <div class="card">
                    <h2>"New service"</h2>
                    <form on:submit=move |ev| { ev.prevent_default(); notice.set(None); add_service.dispatch(()); }>
                        <label for="service-carrier">"Carrier"</label>
                        <select id="service-carrier" on:change=move |ev| sv_carrier.set(event_target_value(&ev))>
                            <option value="">"Choose…"</option>
                            {move || list.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|c| view! { <option value=s(&c["id"])>{s(&c["name"])}</option> }).collect_view()}
                        </select>
                        <div class="field-error">{on("carrierId")}</div>
                        <label for="service-code">"Code (e.g. ground)"</label>
                        <input id="service-code" prop:value=text(sv_code).0 on:input=text(sv_code).1/>
                        <label for="service-name">"Name"</label>
                        <input id="service-name" prop:value=text(sv_name).0 on:input=text(sv_name).1/>
                        <label for="service-currency">"Currency"</label>
                        <input id="service-currency" size="4" prop:value=text(sv_currency).0 on:input=text(sv_currency).1/>
                        <label for="service-cutoff">"Daily cut-off (HH:MM, the warehouse's time)"</label>
                        <input id="service-cutoff" size="6" prop:value=text(sv_cutoff).0 on:input=text(sv_cutoff).1/>
                        <div class="field-error">{on("cutoff")}</div>
                        <label for="service-card">"Rate card — one zone per line"</label>
                        <textarea id="service-card" class="mono" rows="6" prop:value=text(sv_card).0 on:input=text(sv_card).1></textarea>
                        <div class="field-error">{on("rateCard")}{on("zones")}{on("brackets")}</div>
                        <div class="actions"><button class="primary" type="submit" id="service-create">"Add service"</button></div>
                    </form>
                </div>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_reads_back_as_it_was_written() {
        let card = parse_card("zone 1, 2 days: 1000 g 6.50, 5000 g 9.00, then 1.00 per kg\nzone 2, 3 days: 500 g 7.00").unwrap();
        assert_eq!(
            card["zones"][0]["brackets"][1],
            json!({ "upToGrams": 5000, "price": "9.00" })
        );
        assert_eq!(card["zones"][0]["extraPerKg"], "1.00");
        assert_eq!(card["zones"][1]["transitDays"], 3);
        let z = &card["zones"][0];
        assert_eq!(
            zone_line(z),
            "zone 1, 2 days: 1000 g 6.50, 5000 g 9.00, then 1.00 per kg"
        );
        assert!(
            parse_card("zone 1: 1000 g 6.50")
                .unwrap_err()
                .contains("line 1")
        );
        assert!(parse_card("").is_err());
    }
}
