//! Money and times as the merchant reads them: the browser's locale, the tenant's currency and
//! timezone (through the browser's Intl, which knows every currency's decimals and every zone).

use js_sys::{Array, Date, Intl, Object, Reflect};
use wasm_bindgen::JsValue;

fn options(pairs: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o
}

fn call_format(format: js_sys::Function, value: &JsValue) -> Option<String> {
    format.call1(&JsValue::NULL, value).ok()?.as_string()
}

/// `12.5` in `EUR` → "€12.50" (as the browser's locale writes it). Unknown amounts stay as given.
pub fn money(amount: &str, currency: &str) -> String {
    let Ok(n) = amount.trim().parse::<f64>() else {
        return format!("{amount} {currency}");
    };
    let f = Intl::NumberFormat::new(
        &Array::new(),
        &options(&[("style", "currency"), ("currency", currency)]),
    );
    call_format(f.format(), &JsValue::from_f64(n)).unwrap_or_else(|| format!("{amount} {currency}"))
}

/// A plain number with grouping, up to `digits` decimals.
pub fn number(n: f64, digits: u32) -> String {
    let o = options(&[]);
    let _ = Reflect::set(
        &o,
        &JsValue::from_str("maximumFractionDigits"),
        &JsValue::from_f64(f64::from(digits)),
    );
    let f = Intl::NumberFormat::new(&Array::new(), &o);
    call_format(f.format(), &JsValue::from_f64(n)).unwrap_or_else(|| n.to_string())
}

/// A share 0–1 as a percentage.
pub fn percent(share: f64) -> String {
    format!("{}%", number(share * 100.0, 1))
}

fn in_zone(iso: &str, tz: &str, style: &[(&str, &str)]) -> String {
    let ms = Date::parse(iso);
    if ms.is_nan() {
        return iso.to_owned();
    }
    let mut pairs = style.to_vec();
    if !tz.is_empty() {
        pairs.push(("timeZone", tz));
    }
    let f = Intl::DateTimeFormat::new(&Array::new(), &options(&pairs));
    call_format(f.format(), &Date::new(&JsValue::from_f64(ms)).into())
        .unwrap_or_else(|| iso.to_owned())
}

/// A moment in the tenant's timezone: "27 Nov 2026, 14:05".
pub fn datetime(iso: &str, tz: &str) -> String {
    in_zone(iso, tz, &[("dateStyle", "medium"), ("timeStyle", "short")])
}

/// A day in the tenant's timezone: "27 Nov 2026".
pub fn date(iso: &str, tz: &str) -> String {
    in_zone(iso, tz, &[("dateStyle", "medium")])
}

/// A duration in hours as "45 s", "12 min", "3.5 h" or "2.1 d".
pub fn hours(h: f64) -> String {
    if h >= 48.0 {
        format!("{} d", number(h / 24.0, 1))
    } else if h >= 1.0 {
        format!("{} h", number(h, 1))
    } else if h * 60.0 >= 1.0 {
        format!("{} min", number(h * 60.0, 0))
    } else {
        format!("{} s", number(h * 3600.0, 0))
    }
}

/// Today in `tz` as YYYY-MM-DD, and the day `back` days before it.
pub fn local_day(tz: &str, back: i32) -> String {
    let ms = Date::now() - f64::from(back) * 86_400_000.0;
    let mut pairs = vec![
        ("year", "numeric"),
        ("month", "2-digit"),
        ("day", "2-digit"),
    ];
    if !tz.is_empty() {
        pairs.push(("timeZone", tz));
    }
    // en-CA writes dates as YYYY-MM-DD.
    let locales = Array::of1(&JsValue::from_str("en-CA"));
    let f = Intl::DateTimeFormat::new(&locales, &options(&pairs));
    call_format(f.format(), &Date::new(&JsValue::from_f64(ms)).into()).unwrap_or_default()
}

/// An enum value as words: `FRAUD_REVIEW` → "fraud review".
pub fn words(v: &str) -> String {
    v.replace('_', " ").to_lowercase()
}
