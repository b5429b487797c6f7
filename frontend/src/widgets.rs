//! Pieces every page uses: loading, empty and error states, badges, a confirm dialog that runs
//! an action and says what went wrong, and small SVG charts.

use leptos::prelude::*;

use serde_json::{Value, json};

use crate::api::ApiError;
use crate::fmt;
use crate::session::mutation;

/// What a load shows while it runs, when it failed, or its content.
pub fn loaded<T: Clone + 'static>(
    value: Option<Result<T, ApiError>>,
    show: impl FnOnce(T) -> AnyView,
) -> AnyView {
    match value {
        None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
        Some(Err(e)) => error_notice(&e).into_any(),
        Some(Ok(v)) => show(v),
    }
}

pub fn error_notice(e: &ApiError) -> impl IntoView + use<> {
    let hint = match e {
        ApiError::Forbidden(_) => " Ask an owner or admin of this shop if you need it.",
        ApiError::Message(_) => " Try again; if it persists, the server log has the details.",
        _ => "",
    };
    view! { <div class="notice error" role="alert">{e.describe()}{hint}</div> }
}

/// An order state as a coloured badge.
pub fn state_badge(state: &str) -> impl IntoView + use<> {
    let class = match state {
        "DELIVERED" | "SHIPPED" | "IN_TRANSIT" | "OUT_FOR_DELIVERY" => "badge good",
        "FRAUD_REVIEW" | "PAYMENT_REVIEW" | "ADDRESS_ISSUE" | "ON_HOLD" | "BACKORDERED" => {
            "badge warn"
        }
        "CANCELLED" | "REJECTED" => "badge bad",
        _ => "badge info",
    };
    view! { <span class=class>{fmt::words(state)}</span> }
}

/// What a confirm button runs: one mutation (`field`, the payload's name) with `vars`, plus
/// the reason given as `$r` when there is one; `reload` moves after, so the page reads the
/// outcome back.
pub fn mutation_action(
    field: &'static str,
    query: String,
    vars: Value,
    reload: RwSignal<u32>,
) -> Action<Option<String>, Result<(), ApiError>> {
    Action::new_local(move |reason: &Option<String>| {
        let mut vars = vars.clone();
        if let Some(r) = reason {
            vars["r"] = json!(r);
        }
        let query = query.clone();
        async move {
            let out = mutation(&query, vars, field).await.map(|_| ());
            // On failure the dialog stays, with the error; the page reads nothing new.
            if out.is_ok() {
                reload.update(|n| *n += 1);
            }
            out
        }
    })
}

/// A staff action on an order (`approveOrder`, `holdOrder`…), with the reason when given.
pub fn order_action(
    id: String,
    field: &'static str,
    reload: RwSignal<u32>,
) -> Action<Option<String>, Result<(), ApiError>> {
    let q = format!(
        "mutation($o: ID!, $r: String) {{ {field}(input: {{orderId: $o, reason: $r}}) {{ userErrors {{ field message code }} }} }}"
    );
    mutation_action(field, q, json!({ "o": id }), reload)
}

/// A button that asks first (with a reason when `reason` is set), runs `action` with the reason,
/// and shows the outcome: the error in the dialog, or closes it.
#[component]
pub fn Confirm(
    /// The button's text.
    label: &'static str,
    /// What the dialog asks.
    question: String,
    #[prop(optional)] reason: bool,
    #[prop(optional)] danger: bool,
    action: Action<Option<String>, Result<(), ApiError>>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let pending = action.pending();
    let error = RwSignal::new(None::<ApiError>);
    // Close on success; keep the dialog (with the error) on failure.
    Effect::new(move |_| {
        if let Some(outcome) = action.value().get() {
            match outcome {
                Ok(()) => {
                    open.set(false);
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    // Focus goes into the dialog when it opens (to the reason, else its main button) and back
    // to the button that opened it when it closes; Escape closes it.
    let trigger = NodeRef::<leptos::html::Button>::new();
    let dialog = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |was_open: Option<bool>| {
        let now = open.get();
        if now {
            let first = dialog
                .get()
                .and_then(|d| d.query_selector("textarea, button.primary").ok().flatten())
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
            if let Some(el) = first {
                let _ = el.focus();
            }
        } else if was_open == Some(true)
            && let Some(b) = trigger.get_untracked()
        {
            let _ = b.focus();
        }
        now
    });
    let id = format!("confirm-{}", label.to_lowercase().replace(' ', "-"));
    let reason_id = format!("{id}-reason");
    let go = move |_| {
        let r = text.get_untracked().trim().to_owned();
        if reason && r.is_empty() {
            error.set(Some(ApiError::Message(
                "Give a reason: it goes on the order's timeline.".into(),
            )));
            return;
        }
        error.set(None);
        action.dispatch((!r.is_empty()).then_some(r));
    };
    view! {
        <button class=if danger { "danger" } else { "" } id=id.clone() node_ref=trigger on:click=move |_| { text.set(String::new()); error.set(None); open.set(true); }>{label}</button>
        <Show when=move || open.get()>
            <div class="dialog-back" on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }>
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby=format!("{id}-q") node_ref=dialog>
                    <h3 id=format!("{id}-q")>{question.clone()}</h3>
                    {reason.then(|| view! {
                        <label for=reason_id.clone()>"Reason"</label>
                        <textarea id=reason_id.clone() prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    })}
                    {move || error.get().map(|e| error_notice(&e))}
                    <div class="actions">
                        <button class="primary" on:click=go disabled=move || pending.get()>{move || if pending.get() { "Working…" } else { label }}</button>
                        <button on:click=move |_| open.set(false)>"Back"</button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

/// A bar per day (the daily series), scaled to the largest; labels under the first and last.
pub fn bars(points: &[(String, f64)], format: fn(f64) -> String) -> impl IntoView + use<> {
    let (w, h, pad) = (W, H, PAD);
    let max = points.iter().map(|p| p.1).fold(0.0_f64, f64::max).max(1e-9);
    let n = points.len().max(1) as f64;
    let step = (w - 2.0 * pad) / n;
    let bars = points
        .iter()
        .enumerate()
        .map(|(i, (day, v))| {
            let bh = (v / max) * (h - 2.0 * pad);
            let x = pad + i as f64 * step;
            let title = format!("{day}: {}", format(*v));
            view! { <rect class="bar" x=x y=h - pad - bh width=(step * 0.8).max(1.0) height=bh><title>{title}</title></rect> }
        })
        .collect_view();
    let (first, last) = ends(points);
    chart(first, last, format(max), bars)
}

/// A line over the days that have a value (gaps where a day has none).
pub fn line(points: &[(String, Option<f64>)], format: fn(f64) -> String) -> impl IntoView + use<> {
    let (w, h, pad) = (W, H, PAD);
    let max = points
        .iter()
        .filter_map(|p| p.1)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let n = (points.len().max(2) - 1) as f64;
    let mut path = String::new();
    let mut pen_up = true;
    for (i, (_, v)) in points.iter().enumerate() {
        match v {
            Some(v) => {
                let x = pad + i as f64 * (w - 2.0 * pad) / n;
                let y = h - pad - (v / max) * (h - 2.0 * pad);
                path.push_str(&format!("{}{x:.1},{y:.1} ", if pen_up { "M" } else { "L" }));
                pen_up = false;
            }
            None => pen_up = true,
        }
    }
    let (first, last) = ends(points);
    chart(
        first,
        last,
        format(max),
        view! { <path class="line" d=path></path> },
    )
}

const W: f64 = 600.0;
const H: f64 = 140.0;
const PAD: f64 = 16.0;

/// The frame of a chart over days: the plot, the top value, the first and last day, and what
/// a screen reader says of it.
fn chart<P: IntoView>(first: String, last: String, top: String, plot: P) -> impl IntoView {
    let summary = format!("Daily values from {first} to {last}, highest {top}");
    view! {
        <svg class="chart" viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" role="img" aria-label=summary>
            {plot}
            <text x=PAD y=10>{top}</text>
            <text x=PAD y=H - 2.0>{first}</text>
            <text x=W - PAD - 60.0 y=H - 2.0>{last}</text>
        </svg>
    }
}

/// The first and last day of a series.
fn ends<T>(points: &[(String, T)]) -> (String, String) {
    let day = |p: Option<&(String, T)>| p.map(|p| p.0.clone()).unwrap_or_default();
    (day(points.first()), day(points.last()))
}
