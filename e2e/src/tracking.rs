//! A carrier's tracking scans in Orderflow's own webhook format, signed as a carrier would
//! (`X-Orderflow-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`).

use hmac::Mac;
use serde_json::json;

use crate::orderflow::Orderflow;

/// Hex HMAC-SHA256 of `body` under `secret`.
pub fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Posts one scan of `number` to the carrier webhook at `path`; returns the HTTP status.
pub async fn send_scan(
    app: &Orderflow,
    path: &str,
    secret: &str,
    number: &str,
    status: &str,
    at: &str,
) -> anyhow::Result<u16> {
    let body = serde_json::to_vec(
        &json!({ "trackingNumber": number, "status": status, "message": status, "occurredAt": at }),
    )?;
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut signed = format!("{ts}.").into_bytes();
    signed.extend_from_slice(&body);
    let res = app
        .client()
        .post(app.url(path))
        .header(
            "X-Orderflow-Signature",
            format!("t={ts},v1={}", hmac_hex(secret, &signed)),
        )
        .body(body)
        .send()
        .await?;
    Ok(res.status().as_u16())
}
