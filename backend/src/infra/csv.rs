//! CSV downloads: rows written with spreadsheet formulas defused, whole or streamed batch by
//! batch (the exports of orders, the ledger, reconciliation and reports).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use futures_util::stream;
use rust_decimal::Decimal;

use crate::error::AppError;

/// Cells a spreadsheet would run as a formula are quoted with a leading apostrophe (a plain
/// number, such as a negative amount, is left as it is).
pub fn defuse(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<Decimal>().is_err() {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Rows as CSV (spreadsheet formulas defused), under `header` when given.
pub fn csv_bytes(header: Option<&[&str]>, rows: Vec<Vec<String>>) -> Result<web::Bytes, AppError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| AppError::Internal(anyhow::anyhow!(e));
    if let Some(columns) = header {
        writer.write_record(columns).map_err(fail)?;
    }
    for r in rows {
        writer
            .write_record(r.into_iter().map(defuse))
            .map_err(fail)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e.to_string())))?;
    Ok(web::Bytes::from(bytes))
}

/// A batch of CSV rows, the cursor after it, and how many records it read (fewer than the
/// batch size ends the stream).
pub type CsvBatch = (Vec<Vec<String>>, Option<uuid::Uuid>, usize);

/// Streams a CSV download batch by batch, so a million rows never sit in memory at once:
/// `fetch(after)` reads the batch after the cursor.
pub fn stream_csv<F, Fut>(
    file: &str,
    columns: &'static [&'static str],
    batch: usize,
    fetch: F,
) -> HttpResponse
where
    F: Fn(Option<uuid::Uuid>) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<CsvBatch, AppError>> + 'static,
{
    let fetch = std::rc::Rc::new(fetch);
    // State of the stream: the cursor, and whether the header and the last batch went out.
    let body = stream::unfold((Some(None::<uuid::Uuid>), true), move |(cursor, first)| {
        let fetch = fetch.clone();
        async move {
            let after = cursor?;
            match fetch(after).await {
                Ok((rows, last, read)) => {
                    let next = if read < batch { None } else { Some(last) };
                    Some((
                        csv_bytes(first.then_some(columns), rows).map_err(|e| {
                            actix_web::error::ErrorInternalServerError(e.public_message())
                        }),
                        (next, false),
                    ))
                }
                Err(err) => {
                    tracing::error!(error = %err.public_message(), "export failed mid-stream");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError("export failed")),
                        (None, false),
                    ))
                }
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .streaming(body)
}
