//! Shipping labels: a 4×6 inch PDF with a Code 128 barcode of the tracking number, and the same
//! label in ZPL for thermal printers. Pure: facts in, bytes out.

use barcoders::sym::code128::Code128;
use chrono::NaiveDate;

use crate::infra::pdf::{Document, INCH, fit};

/// What is printed on a label.
#[derive(Clone, Debug)]
pub struct LabelFacts<'a> {
    pub tracking_number: &'a str,
    pub carrier: &'a str,
    pub service: &'a str,
    pub from: &'a [String],
    pub to: &'a [String],
    pub weight_grams: u32,
    pub zone: u8,
    pub ship_on: NaiveDate,
    pub order_name: &'a str,
    /// "1 of 2" when an order ships in several parcels.
    pub parcel: (usize, usize),
}

/// Address lines of a stored address (`{name, company, line1, line2, city, region,
/// postalCode, country}`), as printed; `name` stands in when the address names no one.
pub fn address_lines(name: Option<&str>, address: &serde_json::Value) -> Vec<String> {
    let text = |k: &str| {
        address
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let mut lines = Vec::new();
    if let Some(n) = text("name").or(name) {
        lines.push(n.to_owned());
    }
    for k in ["company", "line1", "line2"] {
        if let Some(v) = text(k) {
            lines.push(v.to_owned());
        }
    }
    let city = [text("city"), text("region"), text("postalCode")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !city.is_empty() {
        lines.push(city);
    }
    if let Some(c) = text("country") {
        lines.push(c.to_owned());
    }
    lines
}

/// The Code 128 modules of `data`: code set C for an even run of digits (half as wide),
/// code set B otherwise.
pub fn code128(data: &str) -> Result<Vec<u8>, String> {
    if data.is_empty() {
        return Err("an empty tracking number cannot be drawn".into());
    }
    let digits = !data.is_empty() && data.bytes().all(|b| b.is_ascii_digit());
    let prefixed = if digits && data.len().is_multiple_of(2) {
        format!("Ć{data}")
    } else {
        format!("Ɓ{data}")
    };
    Code128::new(prefixed)
        .map(|c| c.encode())
        .map_err(|e| format!("{data:?} cannot be drawn as Code 128: {e}"))
}

/// The label as a 4×6 inch PDF.
pub fn pdf(facts: &LabelFacts<'_>) -> Result<Vec<u8>, String> {
    let (width, height) = (4.0 * INCH, 6.0 * INCH);
    let margin = 14.0;
    let mut doc = Document::new(width, height);
    doc.text(margin, 20.0, 7.0, true, "FROM");
    let mut top = 30.0;
    for line in facts.from.iter().take(5) {
        doc.text(margin, top, 8.0, false, &fit(line, 48));
        top += 9.5;
    }
    doc.text(
        width - 110.0,
        20.0,
        7.0,
        false,
        &format!("SHIP DATE {}", facts.ship_on),
    );
    doc.text(
        width - 110.0,
        30.0,
        7.0,
        false,
        &format!("WEIGHT {:.2} KG", f64::from(facts.weight_grams) / 1000.0),
    );
    doc.text(
        width - 110.0,
        40.0,
        7.0,
        false,
        &format!("ZONE {}", facts.zone),
    );
    let (n, of) = facts.parcel;
    doc.text(
        width - 110.0,
        50.0,
        7.0,
        false,
        &format!("PARCEL {n} OF {of}"),
    );
    doc.rule(margin, 82.0, width - 2.0 * margin, 1.0);
    doc.text(margin, 100.0, 7.0, true, "SHIP TO");
    let mut top = 116.0;
    for line in facts.to.iter().take(7) {
        doc.text(margin + 10.0, top, 12.0, true, &fit(line, 32));
        top += 14.0;
    }
    doc.rule(margin, 218.0, width - 2.0 * margin, 2.0);
    doc.text(
        margin,
        240.0,
        16.0,
        true,
        &fit(
            &format!("{} {}", facts.carrier, facts.service).to_uppercase(),
            28,
        ),
    );
    doc.rule(margin, 252.0, width - 2.0 * margin, 1.0);
    let modules = code128(facts.tracking_number)?;
    // As wide as the label allows with the ten-module quiet zone Code 128 needs on each side,
    // up to 1.5 pt a module (about 6 dots at 300 dpi).
    let room = width - 2.0 * margin;
    let module = (room / (modules.len() + 20) as f32).min(1.5);
    let x = (width - module * modules.len() as f32) / 2.0;
    doc.bars(x, 266.0, module, 90.0, &modules);
    doc.text(margin, 374.0, 7.0, true, "TRACKING #");
    doc.text(margin + 50.0, 374.0, 12.0, true, facts.tracking_number);
    doc.rule(margin, 386.0, width - 2.0 * margin, 1.0);
    doc.text(
        margin,
        402.0,
        8.0,
        false,
        &format!("Order {}", fit(facts.order_name, 40)),
    );
    Ok(doc.finish(&format!("Label {}", facts.tracking_number)))
}

/// ZPL field data: `^`, `~` and the escape character itself written as hex escapes (`^FH`).
fn field(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '^' => out.push_str("_5E"),
            '~' => out.push_str("_7E"),
            '_' => out.push_str("_5F"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The label in ZPL II for a 203 dpi 4×6 thermal printer (UTF-8 text, automatic Code 128).
pub fn zpl(facts: &LabelFacts<'_>) -> String {
    let mut z = String::from("^XA\n^CI28\n^PW812\n^LL1218\n^LH0,0\n");
    let mut text = |x: u32, y: u32, h: u32, value: &str| {
        z.push_str(&format!(
            "^FO{x},{y}^A0N,{h},{h}^FH_^FD{}^FS\n",
            field(value)
        ));
    };
    text(30, 30, 22, "FROM");
    let mut y = 58;
    for line in facts.from.iter().take(5) {
        text(30, y, 22, line);
        y += 26;
    }
    text(560, 30, 22, &format!("SHIP DATE {}", facts.ship_on));
    text(
        560,
        58,
        22,
        &format!("WEIGHT {:.2} KG", f64::from(facts.weight_grams) / 1000.0),
    );
    text(560, 86, 22, &format!("ZONE {}", facts.zone));
    let (n, of) = facts.parcel;
    text(560, 114, 22, &format!("PARCEL {n} OF {of}"));
    text(30, 250, 22, "SHIP TO");
    let mut y = 282;
    for line in facts.to.iter().take(7) {
        text(60, y, 36, line);
        y += 40;
    }
    text(
        30,
        600,
        48,
        &format!("{} {}", facts.carrier, facts.service).to_uppercase(),
    );
    z.push_str("^FO30,590^GB752,0,3^FS\n");
    z.push_str(&format!(
        "^FO60,680^BY3^BCN,220,Y,N,N,A^FH_^FD{}^FS\n",
        field(facts.tracking_number)
    ));
    z.push_str("^FO30,1000^GB752,0,3^FS\n");
    z.push_str(&format!(
        "^FO30,1030^A0N,28,28^FH_^FDORDER {}^FS\n",
        field(facts.order_name)
    ));
    z.push_str("^XZ\n");
    z
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Checks the shape of a ZPL label: one `^XA … ^XZ` block, every field opened by `^FO`
    /// and closed by `^FS`, no stray command characters in field data.
    pub(crate) fn well_formed_zpl(z: &str) -> Result<usize, String> {
        let body = z
            .trim()
            .strip_prefix("^XA")
            .and_then(|b| b.strip_suffix("^XZ"))
            .ok_or("a label starts with ^XA and ends with ^XZ")?;
        if body.contains("^XA") || body.contains("^XZ") {
            return Err("one label per block".into());
        }
        let mut fields = 0;
        for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if !line.starts_with('^') {
                return Err(format!("not a command: {line}"));
            }
            if line.starts_with("^FO") {
                if !line.ends_with("^FS") {
                    return Err(format!("field not closed: {line}"));
                }
                if let Some((_, data)) = line.split_once("^FD") {
                    let data = data.trim_end_matches("^FS");
                    if data.contains('^') || data.contains('~') {
                        return Err(format!("unescaped command character in {data}"));
                    }
                    fields += 1;
                }
            }
        }
        Ok(fields)
    }

    fn facts<'a>(to: &'a [String], from: &'a [String]) -> LabelFacts<'a> {
        LabelFacts {
            tracking_number: "1Z999AA10123456784",
            carrier: "UPS",
            service: "Ground",
            from,
            to,
            weight_grams: 1250,
            zone: 4,
            ship_on: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default(),
            order_name: "#1001 ^~_",
            parcel: (1, 2),
        }
    }

    #[test]
    fn address_lines_skip_what_is_missing() {
        let a = serde_json::json!({
            "line1": "1 Main St", "line2": "", "city": "Austin", "region": "TX",
            "postalCode": "78701", "country": "US"
        });
        assert_eq!(
            address_lines(Some("Ada Lovelace"), &a),
            vec!["Ada Lovelace", "1 Main St", "Austin TX 78701", "US"]
        );
    }

    #[test]
    fn code128_uses_set_c_for_even_digit_runs() {
        let digits = code128("9205590164917337534322").unwrap_or_default();
        let alnum = code128("9205590164917337534322X").unwrap_or_default();
        assert!(!digits.is_empty() && digits.len() < alnum.len() / 2 + 40);
        assert!(code128("").is_err());
    }

    #[test]
    fn pdf_label_carries_the_tracking_number() {
        let to = address_lines(
            Some("Zoë Müller"),
            &serde_json::json!({"line1": "Hauptstr. 1", "city": "Berlin", "postalCode": "10115", "country": "DE"}),
        );
        let from = vec!["Orderflow WH".to_owned()];
        let bytes = pdf(&facts(&to, &from)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(text.contains("1Z999AA10123456784"));
        assert!(text.contains("/MediaBox [0 0 288 432]"));
    }

    #[test]
    fn zpl_label_is_well_formed_and_escaped() {
        let to = vec!["Ada ^XZ Lovelace".to_owned(), "Austin TX".to_owned()];
        let from = vec!["WH ~1".to_owned()];
        let z = zpl(&facts(&to, &from));
        assert!(well_formed_zpl(&z).is_ok_and(|n| n >= 10), "{z}");
        assert!(z.contains("^BCN,220,Y,N,N,A^FH_^FD1Z999AA10123456784^FS"));
        assert!(z.contains("Ada _5EXZ Lovelace"));
        assert!(z.contains("ORDER #1001 _5E_7E_5F"));
        assert!(well_formed_zpl("^XA^FO1,1^FDx\n^XZ").is_err());
    }
}
