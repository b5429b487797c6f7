//! The dashboard: the KPIs of a chosen period against the previous one, charts of the daily
//! series, and today's counters moving live as orders arrive and ship.

use leptos::prelude::*;
use serde_json::{Value, json};

use crate::fmt;
use crate::live::{self, Link};
use crate::session::{query, session};
use crate::widgets::{bars, line, loaded};

const KPI_FIELDS: &str = "orders cancelledOrders customers ordersShipped processingMedianSeconds processingP90Seconds shipments fulfillmentAccuracy deliveries medianShippingSeconds onTimeRate reviews averageRating csat returns returnRate supportTickets autoResolutionRate fraudHolds fraudPending stockDriftCorrected money { currency orders revenue refunded netRevenue averageOrderValue costPerOrder }";

fn kpis_query() -> String {
    format!(
        "query($from: NaiveDate!, $to: NaiveDate!) {{ kpis(from: $from, to: $to) {{ timezone currency period {{ from to }} previousPeriod {{ from to }} kpis {{ {KPI_FIELDS} }} previousKpis {{ {KPI_FIELDS} }} daily {{ date kpis {{ orders processingMedianSeconds medianShippingSeconds onTimeRate returns returnRate ordersShipped supportTickets }} }} }} }}"
    )
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// The tenant's money line of a KPI set (its currency first).
fn money_of<'a>(k: &'a Value, currency: &str) -> Option<&'a Value> {
    k["money"].as_array().and_then(|l| {
        l.iter()
            .find(|m| m["currency"] == currency)
            .or_else(|| l.first())
    })
}

#[derive(Clone, Copy)]
enum Better {
    Up,
    Down,
}

fn card(
    label: &'static str,
    now: Option<f64>,
    before: Option<f64>,
    show: impl Fn(f64) -> String,
    better: Better,
) -> impl IntoView {
    let value = now.map(&show).unwrap_or_else(|| "—".into());
    let delta = match (now, before) {
        (Some(n), Some(b)) if b.abs() > 1e-9 => {
            let change = (n - b) / b.abs();
            let good = match better {
                Better::Up => change >= 0.0,
                Better::Down => change <= 0.0,
            };
            let arrow = if change >= 0.0 { "▲" } else { "▼" };
            Some((
                format!("{arrow} {} vs {}", fmt::percent(change.abs()), show(b)),
                if good { "delta up" } else { "delta down" },
            ))
        }
        (_, Some(b)) => Some((format!("previous {}", show(b)), "delta")),
        _ => None,
    };
    view! {
        <div class="kpi">
            <div class="label">{label}</div>
            <div class="value">{value}</div>
            {delta.map(|(t, c)| view! { <div class=c>{t}</div> })}
        </div>
    }
}

fn kpi_cards(r: &Value, currency: &str) -> impl IntoView {
    let (k, p) = (&r["kpis"], &r["previousKpis"]);
    let f = |v: &Value, key: &str| num(&v[key]);
    let m = |v: &Value, key: &str| money_of(v, currency).and_then(|m| num(&m[key]));
    let cur = currency.to_owned();
    let cur2 = currency.to_owned();
    let cur3 = currency.to_owned();
    let count = |n: f64| fmt::number(n, 0);
    let secs = |s: f64| fmt::hours(s / 3600.0);
    view! {
        <div class="kpis">
            {card("Orders", f(k, "orders"), f(p, "orders"), count, Better::Up)}
            {card("Net revenue", m(k, "netRevenue"), m(p, "netRevenue"), move |n| fmt::money(&n.to_string(), &cur), Better::Up)}
            {card("Average order value", m(k, "averageOrderValue"), m(p, "averageOrderValue"), move |n| fmt::money(&n.to_string(), &cur2), Better::Up)}
            {card("Cost per order", m(k, "costPerOrder"), m(p, "costPerOrder"), move |n| fmt::money(&n.to_string(), &cur3), Better::Down)}
            {card("Processing time (median)", f(k, "processingMedianSeconds"), f(p, "processingMedianSeconds"), secs, Better::Down)}
            {card("Processing time (p90)", f(k, "processingP90Seconds"), f(p, "processingP90Seconds"), secs, Better::Down)}
            {card("Fulfillment accuracy", f(k, "fulfillmentAccuracy"), f(p, "fulfillmentAccuracy"), fmt::percent, Better::Up)}
            {card("Shipping time (median)", f(k, "medianShippingSeconds"), f(p, "medianShippingSeconds"), secs, Better::Down)}
            {card("Delivered on time", f(k, "onTimeRate"), f(p, "onTimeRate"), fmt::percent, Better::Up)}
            {card("Return rate", f(k, "returnRate"), f(p, "returnRate"), fmt::percent, Better::Down)}
            {card("Customer satisfaction", f(k, "csat"), f(p, "csat"), fmt::percent, Better::Up)}
            {card("Support tickets", f(k, "supportTickets"), f(p, "supportTickets"), count, Better::Down)}
            {card("Answered without staff", f(k, "autoResolutionRate"), f(p, "autoResolutionRate"), fmt::percent, Better::Up)}
            {card("Fraud holds", f(k, "fraudHolds"), f(p, "fraudHolds"), count, Better::Down)}
            {card("Channel stock drift corrected", f(k, "stockDriftCorrected"), f(p, "stockDriftCorrected"), count, Better::Down)}
            {card("Customers", f(k, "customers"), f(p, "customers"), count, Better::Up)}
            {card("Orders shipped", f(k, "ordersShipped"), f(p, "ordersShipped"), count, Better::Up)}
        </div>
    }
}

fn charts(r: &Value) -> impl IntoView {
    let days: Vec<Value> = r["daily"].as_array().cloned().unwrap_or_default();
    let series = |key: &str| -> Vec<(String, f64)> {
        days.iter()
            .map(|d| {
                (
                    d["date"].as_str().unwrap_or_default().to_owned(),
                    num(&d["kpis"][key]).unwrap_or(0.0),
                )
            })
            .collect()
    };
    let gaps = |key: &str| -> Vec<(String, Option<f64>)> {
        days.iter()
            .map(|d| {
                (
                    d["date"].as_str().unwrap_or_default().to_owned(),
                    num(&d["kpis"][key]),
                )
            })
            .collect()
    };
    let count = |n: f64| fmt::number(n, 0);
    let secs = |s: f64| fmt::hours(s / 3600.0);
    view! {
        <div class="grid2 wide3">
            <div class="card"><h3>"Order volume"</h3>{bars(&series("orders"), count)}</div>
            <div class="card"><h3>"Processing time (median)"</h3>{line(&gaps("processingMedianSeconds"), secs)}</div>
            <div class="card"><h3>"Fulfillment speed (orders shipped)"</h3>{bars(&series("ordersShipped"), count)}</div>
            <div class="card"><h3>"Shipping performance (on time)"</h3>{line(&gaps("onTimeRate"), fmt::percent)}</div>
            <div class="card"><h3>"Return rate"</h3>{line(&gaps("returnRate"), fmt::percent)}</div>
            <div class="card"><h3>"Support volume"</h3>{bars(&series("supportTickets"), count)}</div>
        </div>
    }
}

/// Today's counters: read once, then moved by the timeline as it happens.
#[component]
fn Today() -> impl IntoView {
    let s = session();
    let received = RwSignal::new(None::<i64>);
    let shipped = RwSignal::new(0_i64);
    let held = RwSignal::new(0_i64);
    let link = RwSignal::new(Link::Connecting);
    let feed = RwSignal::new(Vec::<Value>::new());
    let tz = s.timezone();
    let today = fmt::local_day(&tz, 0);
    leptos::task::spawn_local(async move {
        let q = "query($d: NaiveDate!) { kpis(from: $d, to: $d) { kpis { orders ordersShipped fraudPending } } }";
        if let Ok(d) = query(q, json!({ "d": today })).await {
            let k = &d["kpis"]["kpis"];
            received.update(|r| *r = Some(r.unwrap_or(0) + k["orders"].as_i64().unwrap_or(0)));
            shipped.update(|n| *n += k["ordersShipped"].as_i64().unwrap_or(0));
            held.update(|n| *n += k["fraudPending"].as_i64().unwrap_or(0));
        }
    });
    live::subscribe(
        "subscription { orderEvents { kind message at orderId } }",
        json!({}),
        move |data| {
            let e = data["orderEvents"].clone();
            match e["kind"].as_str().unwrap_or_default() {
                "order.received" => received.update(|r| *r = Some(r.unwrap_or(0) + 1)),
                "order.shipped" => shipped.update(|n| *n += 1),
                "order.fraud_review" => held.update(|n| *n += 1),
                _ => {}
            }
            feed.update(|f| {
                f.insert(0, e);
                f.truncate(8);
            });
        },
        move |l| link.set(l),
    );
    let tz2 = tz.clone();
    view! {
        <div class="card" aria-live="polite">
            <div class="bar">
                <h2 style="margin:0">"Today"</h2>
                <span class=move || match link.get() { Link::Live => "badge good", Link::Connecting => "badge", Link::Down => "badge bad" }>
                    {move || match link.get() { Link::Live => "live", Link::Connecting => "connecting…", Link::Down => "reconnecting…" }}
                </span>
            </div>
            <div class="live">
                <div><div class="value" id="live-received">{move || received.get().map(|n| n.to_string()).unwrap_or_else(|| "…".into())}</div><div class="muted">"orders received"</div></div>
                <div><div class="value" id="live-shipped">{move || shipped.get()}</div><div class="muted">"orders shipped"</div></div>
                <div><div class="value" id="live-held">{move || held.get()}</div><div class="muted">"held for fraud review"</div></div>
            </div>
            <ul class="timeline small">
                {move || feed.get().into_iter().map(|e| {
                    let at = fmt::datetime(e["at"].as_str().unwrap_or_default(), &tz2);
                    let href = format!("/orders/{}", e["orderId"].as_str().unwrap_or_default());
                    view! { <li><span class="when">{at}</span>" "<a href=href>{e["message"].as_str().unwrap_or_default().to_owned()}</a></li> }
                }).collect_view()}
            </ul>
        </div>
    }
}

/// Channels that keep failing (three failures in a row), with why: nothing shows while all
/// are well.
#[component]
fn ChannelHealth() -> impl IntoView {
    let list = LocalResource::new(|| async {
        query(
            "{ channelConnections { id name platform healthy failuresInARow lastError } }",
            json!({}),
        )
        .await
        .map(|d| {
            d["channelConnections"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
    });
    move || {
        let sick: Vec<Value> = match list.get() {
            Some(Ok(rows)) => rows.into_iter().filter(|c| c["healthy"] == false).collect(),
            _ => Vec::new(),
        };
        (!sick.is_empty()).then(|| view! {
            <div class="notice error channel-health" role="alert">
                <strong>"Channels that keep failing"</strong>
                <ul>{sick.into_iter().map(|c| view! {
                    <li><a href="/settings/channels">{c["name"].as_str().unwrap_or_default().to_owned()}</a>
                        {format!(" ({}): {} failures in a row — {}", fmt::words(c["platform"].as_str().unwrap_or_default()), c["failuresInARow"], c["lastError"].as_str().unwrap_or("no reason given"))}</li>
                }).collect_view()}</ul>
            </div>
        })
    }
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let s = session();
    let tz = s.timezone();
    let from = RwSignal::new(fmt::local_day(&tz, 29));
    let to = RwSignal::new(fmt::local_day(&tz, 0));
    let report = LocalResource::new(move || {
        let (f, t) = (from.get(), to.get());
        async move {
            query(&kpis_query(), json!({ "from": f, "to": t }))
                .await
                .map(|d| d["kpis"].clone())
        }
    });
    let preset = move |days: i32| {
        let tz = session().timezone();
        from.set(fmt::local_day(&tz, days - 1));
        to.set(fmt::local_day(&tz, 0));
    };
    view! {
        <h1>"Dashboard"</h1>
        <Show when=move || session().can("CHANNELS_MANAGE")><ChannelHealth/></Show>
        <Today/>
        <div class="bar">
            <h2 style="margin:0">"Performance"</h2>
            <div class="grow"></div>
            <button on:click=move |_| preset(7)>"7 days"</button>
            <button on:click=move |_| preset(30)>"30 days"</button>
            <button on:click=move |_| preset(90)>"90 days"</button>
            <label class="inline" for="kpi-from">"From"</label>
            <input id="kpi-from" type="date" prop:value=move || from.get() on:change=move |ev| from.set(event_target_value(&ev))/>
            <label class="inline" for="kpi-to">"to"</label>
            <input id="kpi-to" type="date" prop:value=move || to.get() on:change=move |ev| to.set(event_target_value(&ev))/>
        </div>
        {move || loaded(report.get(), |r| {
            let currency = r["currency"].as_str().unwrap_or_default().to_owned();
            let prev = format!("Compared with {} – {}", r["previousPeriod"]["from"].as_str().unwrap_or_default(), r["previousPeriod"]["to"].as_str().unwrap_or_default());
            view! {
                <p class="muted small">{prev}" · days in "{r["timezone"].as_str().unwrap_or_default().to_owned()}</p>
                {kpi_cards(&r, &currency)}
                {charts(&r)}
            }.into_any()
        })}
    }
}
