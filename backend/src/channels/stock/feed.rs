//! Amazon's JSON listings feed: many SKUs' quantities in one submission instead of a
//! `patchListingsItem` per SKU (five a second at most). A feed is a document uploaded to the
//! URL `createFeedDocument` gives, then `createFeed`; Amazon applies it within minutes.
//! [`CheckStockFeed`] then reads its processing report: a SKU Amazon refused keeps Amazon's
//! words and is sent again with its next change (as a refused patch is); a feed Amazon could
//! not process (`FATAL`, `CANCELLED`) makes all its SKUs stale again, to be sent anew.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::channel_listings;
use reqwest::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::listings::{self, NewLog};
use super::shop::{Api, CallError, Shop};
use super::write::{Figure, amazon_patch};
use crate::catalog::listing_marks;
use crate::channels::amazon::enc;
use crate::channels::connections::open_secrets;
use crate::channels::repo as channels;
use crate::channels::{Platform, health};
use crate::domain::{ConnectionId, TenantId};
use crate::jobs::{Claim, Job, JobError, Run};
use crate::state::AppState;
use crate::tenancy::{AnyTx, TenantTx};

/// Up to this many figures go as patches (applied in seconds); more go as one feed.
pub const PATCH_UP_TO: usize = 10;
/// Figures in one feed: `createFeed` restores one submission every two minutes, so each
/// carries many.
pub const MOST: u64 = 2_000;
const CONTENT_TYPE: &str = "application/json; charset=UTF-8";
/// A processing report may be this large once unzipped.
const MAX_REPORT: u64 = 32 * 1024 * 1024;
/// First look at a feed's processing; then twice as long each time, up to [`LONGEST`].
const FIRST_LOOK: Duration = Duration::from_secs(60);
const LONGEST: Duration = Duration::from_secs(15 * 60);
/// Looks before a feed still not processed is given up on (about four hours).
const MAX_LOOKS: i32 = 20;

/// The JSON listings feed setting each figure's `fulfillment_availability`: a `PATCH`
/// message per SKU, the patch `patchListingsItem` would send.
pub fn document(seller: &str, figures: &[Figure<'_>]) -> Value {
    let messages: Vec<Value> = figures
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut message = amazon_patch(f.quantity);
            message["messageId"] = json!(i + 1);
            message["sku"] = json!(f.listing.sku);
            message["operationType"] = json!("PATCH");
            message
        })
        .collect();
    json!({
        "header": { "sellerId": seller, "version": "2.0", "issueLocale": "en_US" },
        "messages": messages,
    })
}

/// Submits the figures as one feed; its id.
pub async fn submit(
    shop: &Shop<'_>,
    seller: &str,
    marketplace: &str,
    figures: &[Figure<'_>],
) -> Result<String, CallError> {
    let doc = shop
        .call(
            "Amazon createFeedDocument",
            Method::POST,
            "/feeds/2021-06-30/documents",
            Some(&json!({ "contentType": CONTENT_TYPE })),
        )
        .await?;
    let (Some(id), Some(url)) = (doc["feedDocumentId"].as_str(), doc["url"].as_str()) else {
        return Err(CallError::Refused(
            "Amazon's createFeedDocument answer has no feedDocumentId and url".into(),
        ));
    };
    let body = serde_json::to_vec(&document(seller, figures)).unwrap_or_default();
    shop.upload("Amazon feed document upload", url, CONTENT_TYPE, body)
        .await?;
    let feed = shop
        .call(
            "Amazon createFeed",
            Method::POST,
            "/feeds/2021-06-30/feeds",
            Some(&json!({
                "feedType": "JSON_LISTINGS_FEED",
                "marketplaceIds": [marketplace],
                "inputFeedDocumentId": id,
            })),
        )
        .await?;
    // Kept in a job and on listings: an id of Amazon's plain shape only.
    feed["feedId"]
        .as_str()
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_owned)
        .ok_or_else(|| CallError::Refused("Amazon's createFeed answer has no feedId".into()))
}

/// Where a feed stands.
#[derive(Debug, PartialEq)]
pub enum Processing {
    /// Still queued or in progress (Amazon's status).
    Waiting(String),
    /// Processed: the SKUs Amazon refused, with its words, and how many it accepted.
    Done {
        refused: BTreeMap<String, String>,
        accepted: Option<i64>,
    },
    /// Amazon could not process it (`FATAL`, `CANCELLED`).
    Failed(String),
}

/// The SKUs a processing report refuses (issues of severity `ERROR`), each with its issues'
/// words.
pub fn refusals(report: &Value) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for issue in report["issues"].as_array().into_iter().flatten() {
        let (Some(sku), Some("ERROR")) = (issue["sku"].as_str(), issue["severity"].as_str()) else {
            continue;
        };
        let words = format!(
            "{} {}",
            issue["code"].as_str().unwrap_or_default(),
            issue["message"].as_str().unwrap_or_default()
        );
        out.entry(sku.to_owned())
            .and_modify(|w| {
                w.push_str("; ");
                w.push_str(words.trim());
            })
            .or_insert_with(|| format!("Amazon: {}", words.trim()));
    }
    out
}

/// Reads where a feed stands, and its report once it is processed.
pub async fn processing(shop: &Shop<'_>, feed: &str) -> Result<Processing, CallError> {
    let f = shop
        .call(
            "Amazon getFeed",
            Method::GET,
            &format!("/feeds/2021-06-30/feeds/{}", enc(feed)),
            None,
        )
        .await?;
    let status = f["processingStatus"].as_str().unwrap_or("unknown");
    match status {
        "DONE" => {}
        "FATAL" | "CANCELLED" => return Ok(Processing::Failed(status.to_owned())),
        _ => return Ok(Processing::Waiting(status.to_owned())),
    }
    let Some(result) = f["resultFeedDocumentId"].as_str() else {
        return Ok(Processing::Done {
            refused: BTreeMap::new(),
            accepted: None,
        });
    };
    let d = shop
        .call(
            "Amazon getFeedDocument",
            Method::GET,
            &format!("/feeds/2021-06-30/documents/{}", enc(result)),
            None,
        )
        .await?;
    let url = d["url"]
        .as_str()
        .ok_or_else(|| CallError::Refused("Amazon's getFeedDocument answer has no url".into()))?;
    let bytes = shop.download("Amazon processing report", url).await?;
    let text = if d["compressionAlgorithm"].as_str() == Some("GZIP") {
        gunzip(&bytes)?
    } else {
        bytes
    };
    let report: Value = serde_json::from_slice(&text)
        .map_err(|e| CallError::Refused(format!("Amazon's processing report is not JSON: {e}")))?;
    Ok(Processing::Done {
        refused: refusals(&report),
        accepted: report["summary"]["messagesAccepted"].as_i64(),
    })
}

/// A GZIP report, unzipped up to [`MAX_REPORT`].
fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, CallError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_REPORT + 1)
        .read_to_end(&mut out)
        .map_err(|e| CallError::Refused(format!("Amazon's processing report: {e}")))?;
    if out.len() as u64 > MAX_REPORT {
        return Err(CallError::Refused(format!(
            "Amazon's processing report is over {} MB unzipped",
            MAX_REPORT / 1024 / 1024
        )));
    }
    Ok(out)
}

/// Reads a submitted feed's report once Amazon has processed it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckStockFeed {
    pub connection: ConnectionId,
    pub feed: String,
    #[serde(default)]
    pub round: i32,
}

impl Job for CheckStockFeed {
    const NAME: &'static str = "channel.stock_feed";
    const CALLS_OUT: bool = true;
    const TIME_LIMIT: Duration = Duration::from_secs(120);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("stock_feed:{}:{}", self.connection, self.feed))
    }
}

impl Run for CheckStockFeed {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        check(state, claim.tenant, self)
            .await
            .map_err(|e| e.to_string())
    }
}

/// The listings a feed carried are waiting on it; its report is read in a minute.
pub async fn submitted(
    tx: &TenantTx,
    connection: ConnectionId,
    feed: &str,
    listings: &[uuid::Uuid],
) -> Result<(), DbErr> {
    for chunk in listings.chunks(500) {
        channel_listings::Entity::update_many()
            .col_expr(channel_listings::Column::StockFeed, Expr::value(feed))
            .filter(channel_listings::Column::TenantId.eq(tx.tenant().uuid()))
            .filter(channel_listings::Column::Id.is_in(chunk.iter().copied()))
            .exec(tx.conn())
            .await?;
    }
    CheckStockFeed {
        connection,
        feed: feed.to_owned(),
        round: 0,
    }
    .enqueue_at(tx, later(0))
    .await
}

fn later(round: i32) -> DateTime<Utc> {
    let wait = FIRST_LOOK
        .saturating_mul(1 << round.clamp(0, 8))
        .min(LONGEST);
    Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default()
}

async fn check(state: &AppState, tenant: TenantId, job: CheckStockFeed) -> Result<(), DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let connection = channels::connection(&tx, job.connection).await?;
    tx.commit().await?;
    let Some(c) = connection.filter(|c| c.platform == Platform::Amazon.as_str()) else {
        return Ok(());
    };
    let read = match open_secrets(&state.sealer, &c) {
        Ok(secrets) => match Shop::open(
            &state.http,
            Platform::Amazon,
            &secrets.credentials,
            &c.shop_domain,
        )
        .await
        {
            Ok(shop) if matches!(shop.api, Api::Amazon { .. }) => {
                processing(&shop, &job.feed).await
            }
            Ok(_) => return Ok(()),
            Err(e) => Err(CallError::from(e)),
        },
        Err(_) => Err(CallError::Access(
            "the Amazon connection's credentials cannot be opened".into(),
        )),
    };
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let more = job.round + 1 < MAX_LOOKS;
    match read {
        Ok(Processing::Done { refused, accepted }) => done(&tx, &job, &refused, accepted).await?,
        Ok(Processing::Waiting(_)) | Err(CallError::Down(_)) if more => again(&tx, &job).await?,
        Ok(Processing::Waiting(why) | Processing::Failed(why))
        | Err(CallError::Down(why) | CallError::Access(why) | CallError::Refused(why)) => {
            failed(&tx, &job, &why).await?;
        }
    }
    tx.commit().await
}

async fn again(tx: &TenantTx, job: &CheckStockFeed) -> Result<(), DbErr> {
    let round = job.round + 1;
    CheckStockFeed {
        round,
        ..job.clone()
    }
    .enqueue_at(tx, later(round))
    .await
}

/// The feed's listings of this connection.
fn of_feed(tx: &TenantTx, job: &CheckStockFeed) -> sea_orm::UpdateMany<channel_listings::Entity> {
    channel_listings::Entity::update_many()
        .filter(channel_listings::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(channel_listings::Column::ConnectionId.eq(job.connection.uuid()))
        .filter(channel_listings::Column::StockFeed.eq(job.feed.as_str()))
}

/// Processed: refused SKUs keep Amazon's words and are no longer counted as showing the
/// figure; the others are done with the feed.
async fn done(
    tx: &TenantTx,
    job: &CheckStockFeed,
    refused: &BTreeMap<String, String>,
    accepted: Option<i64>,
) -> Result<(), DbErr> {
    use channel_listings::Column as C;
    for (sku, words) in refused {
        of_feed(tx, job)
            .col_expr(C::LastError, Expr::value(words.as_str()))
            .col_expr(C::PushedQuantity, Expr::value(Option::<i64>::None))
            .col_expr(C::StockFeed, Expr::value(Option::<String>::None))
            .filter(C::Sku.eq(sku.as_str()))
            .exec(tx.conn())
            .await?;
    }
    let rest = of_feed(tx, job)
        .col_expr(C::StockFeed, Expr::value(Option::<String>::None))
        .exec(tx.conn())
        .await?
        .rows_affected;
    let items = rest as usize + refused.len();
    listings::log(
        tx,
        NewLog {
            connection: job.connection,
            kind: "stock_feed",
            state: if refused.is_empty() { "sent" } else { "failed" },
            items,
            changed: rest as usize,
            summary: format!(
                "Amazon processed listings feed {}: {} accepted{}",
                job.feed,
                accepted.map_or_else(|| rest.to_string(), |a| a.to_string()),
                if refused.is_empty() {
                    String::new()
                } else {
                    format!(", {} refused", refused.len())
                }
            ),
            answer: refused
                .iter()
                .next()
                .map(|(sku, words)| format!("{sku}: {words}")),
            took: None,
        },
    )
    .await?;
    health::worked(tx, job.connection.uuid()).await
}

/// Not processed (or not readable): its listings are stale again and sent anew.
async fn failed(tx: &TenantTx, job: &CheckStockFeed, why: &str) -> Result<(), DbErr> {
    use channel_listings::Column as C;
    let words = format!("Amazon listings feed {}: {why}", job.feed);
    let now = Utc::now();
    let stale = of_feed(tx, job)
        .col_expr(C::DirtyAt, Expr::value(now))
        .col_expr(C::PushedQuantity, Expr::value(Option::<i64>::None))
        .col_expr(C::StockFeed, Expr::value(Option::<String>::None))
        .col_expr(C::LastError, Expr::value(words.as_str()))
        .exec(tx.conn())
        .await?
        .rows_affected;
    listings::log(
        tx,
        NewLog {
            connection: job.connection,
            kind: "stock_feed",
            state: "failed",
            items: stale as usize,
            changed: 0,
            summary: format!("{stale} listings stale again, to be sent anew"),
            answer: Some(words.clone()),
            took: None,
        },
    )
    .await?;
    health::failed(tx, job.connection.uuid(), &words).await?;
    listing_marks::schedule(tx, [job.connection.uuid()]).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::stock::listings::Listing;

    fn fixture(path: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(path);
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn the_feed_patches_each_sku_as_amazons_example_does() {
        let example = fixture("amazon/writeback/listings_feed_v2_example_JSON_LISTINGS_FEED.json");
        let theirs = example["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["operationType"] == "PATCH")
            .unwrap();
        let listing = |sku: &str| Listing {
            sku: sku.into(),
            ..super::super::write::tests::listing("1", sku)
        };
        let (a, b) = (listing("My-SKU-D"), listing("KETTLE-1"));
        let figures = [
            Figure {
                listing: &a,
                quantity: 10,
            },
            Figure {
                listing: &b,
                quantity: 0,
            },
        ];
        let ours = document("A3SELLERID", &figures);
        assert_eq!(ours["header"]["version"], example["header"]["version"]);
        assert_eq!(ours["header"]["sellerId"], "A3SELLERID");
        let first = &ours["messages"][0];
        for key in ["operationType", "sku"] {
            assert_eq!(first[key], theirs[key], "{key}");
        }
        assert_eq!(first["messageId"], 1);
        assert_eq!(
            first["patches"][0]["path"], theirs["patches"][0]["path"],
            "{theirs}"
        );
        assert_eq!(
            first["patches"][0]["value"][0]["fulfillment_channel_code"],
            "DEFAULT"
        );
        assert_eq!(ours["messages"][1]["messageId"], 2);
        assert_eq!(ours["messages"][1]["patches"][0]["value"][0]["quantity"], 0);
    }

    #[test]
    fn a_processing_report_refuses_the_skus_with_errors() {
        let report = fixture("amazon/writeback/listings_feed_v2_processing_report_example.json");
        let refused = refusals(&report);
        assert_eq!(refused.keys().collect::<Vec<_>>(), ["My-SKU-B", "My-SKU-C"]);
        assert_eq!(
            refused["My-SKU-B"],
            "Amazon: 90220 '[batteries_required]' is required but not supplied.; 90220 '[supplier_declared_dg_hz_regulation]' is required but not supplied."
        );
    }

    #[test]
    fn a_zipped_report_is_read_and_a_bomb_is_not() {
        use std::io::Write;
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(br#"{"issues":[]}"#).unwrap();
        assert_eq!(gunzip(&z.finish().unwrap()).unwrap(), br#"{"issues":[]}"#);
        let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..(MAX_REPORT / 1024 / 1024 + 1) {
            bomb.write_all(&zeros).unwrap();
        }
        assert!(gunzip(&bomb.finish().unwrap()).is_err());
    }

    #[test]
    fn looks_at_a_feed_come_further_apart() {
        let first = later(0) - Utc::now();
        let late = later(12) - Utc::now();
        assert!(first <= chrono::Duration::seconds(60) && first > chrono::Duration::seconds(58));
        assert!(late <= chrono::Duration::minutes(15) && late > chrono::Duration::minutes(14));
    }
}
