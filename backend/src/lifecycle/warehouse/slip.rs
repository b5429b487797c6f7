//! The packing slip: an A4 page (more for long parcels) that goes in the box — who it is for,
//! what is in it, and where each item was picked from. Pure.

use chrono::NaiveDate;

use crate::infra::pdf::{Document, fit};
use crate::lifecycle::shipping::label::code128;

pub struct SlipLine {
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub bin: Option<String>,
}

pub struct SlipFacts<'a> {
    pub shop: &'a str,
    pub order_name: &'a str,
    pub placed_on: NaiveDate,
    pub ship_to: &'a [String],
    pub warehouse: &'a str,
    pub parcel: (i32, i32),
    pub lines: &'a [SlipLine],
}

/// A4 in points.
const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const ROWS_PER_PAGE: usize = 30;

pub fn pdf(f: &SlipFacts<'_>) -> Result<Vec<u8>, String> {
    let mut doc = Document::new(WIDTH, HEIGHT);
    let margin = 48.0;
    let header = |doc: &mut Document, page: usize| -> Result<f32, String> {
        doc.text(margin, 60.0, 20.0, true, "PACKING SLIP");
        doc.text(margin, 80.0, 10.0, false, &fit(f.shop, 60));
        doc.text(
            WIDTH - 220.0,
            60.0,
            12.0,
            true,
            &format!("Order {}", fit(f.order_name, 20)),
        );
        doc.text(
            WIDTH - 220.0,
            76.0,
            9.0,
            false,
            &format!("Placed {}", f.placed_on),
        );
        doc.text(
            WIDTH - 220.0,
            90.0,
            9.0,
            false,
            &format!(
                "Parcel {} of {} from {}",
                f.parcel.0,
                f.parcel.1,
                fit(f.warehouse, 16)
            ),
        );
        if page > 0 {
            doc.text(
                WIDTH - 220.0,
                104.0,
                9.0,
                false,
                &format!("Page {}", page + 1),
            );
        }
        let modules = code128(f.order_name.trim_start_matches('#'))?;
        doc.bars(WIDTH - 220.0, 112.0, 1.0, 28.0, &modules);
        let mut top = 130.0;
        if page == 0 {
            doc.text(margin, 120.0, 8.0, true, "SHIP TO");
            for line in f.ship_to.iter().take(7) {
                top += 13.0;
                doc.text(margin, top, 10.0, false, &fit(line, 50));
            }
        }
        top = top.max(150.0) + 30.0;
        doc.text(margin, top, 9.0, true, "QTY");
        doc.text(margin + 40.0, top, 9.0, true, "SKU");
        doc.text(margin + 170.0, top, 9.0, true, "ITEM");
        doc.text(WIDTH - margin - 70.0, top, 9.0, true, "BIN");
        doc.rule(margin, top + 6.0, WIDTH - 2.0 * margin, 0.8);
        Ok(top + 22.0)
    };
    let mut top = header(&mut doc, 0)?;
    for (i, line) in f.lines.iter().enumerate() {
        if i > 0 && i % ROWS_PER_PAGE == 0 {
            doc.new_page();
            top = header(&mut doc, i / ROWS_PER_PAGE)?;
        }
        doc.text(margin, top, 10.0, true, &line.quantity.to_string());
        doc.text(margin + 40.0, top, 10.0, false, &fit(&line.sku, 22));
        doc.text(margin + 170.0, top, 10.0, false, &fit(&line.title, 42));
        doc.text(
            WIDTH - margin - 70.0,
            top,
            10.0,
            false,
            &fit(line.bin.as_deref().unwrap_or("—"), 12),
        );
        top += 18.0;
    }
    let units: i64 = f.lines.iter().map(|l| l.quantity).sum();
    doc.rule(margin, top - 6.0, WIDTH - 2.0 * margin, 0.5);
    doc.text(margin, top + 10.0, 10.0, true, &format!("{units} item(s)"));
    doc.text(
        margin,
        HEIGHT - 40.0,
        8.0,
        false,
        "Questions about your order? Reply to your order confirmation email.",
    );
    Ok(doc.finish(&format!("Packing slip {}", f.order_name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_parcels_run_onto_more_pages() {
        let lines: Vec<SlipLine> = (0..45)
            .map(|i| SlipLine {
                sku: format!("SKU-{i}"),
                title: "Kettle".into(),
                quantity: 1,
                bin: Some(format!("A-{i:02}")),
            })
            .collect();
        let to = vec!["Ada Lovelace".to_owned()];
        let bytes = pdf(&SlipFacts {
            shop: "Kettle Co",
            order_name: "#1001",
            placed_on: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default(),
            ship_to: &to,
            warehouse: "MAIN",
            parcel: (1, 1),
            lines: &lines,
        })
        .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/Count 2"));
        assert!(text.contains("SKU-44") && text.contains("45 item(s)"));
    }
}
