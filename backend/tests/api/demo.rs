//! `orderflow demo`: the demo shop is set up once, and its stream takes orders from three
//! channels through every stage — screened (some held for fraud), allocated (some waiting for
//! stock), labelled, scanned by the carrier, delivered, rated, returned, inspected and refunded
//! — so the KPIs move.

use std::time::Duration;

use orderflow::demo::stream::{Options, Pace, Stream, api_for_demo};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::engine::drain;
use crate::helpers::{owner_connection, spawn_app};

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

#[tokio::test]
async fn the_demo_streams_orders_through_every_stage() {
    let app = spawn_app().await;
    orderflow::demo::ensure_demo_tenant(&app.state)
        .await
        .unwrap();
    let now = Duration::ZERO;
    let options = Options {
        pace: Pace {
            transit: now,
            after: now,
        },
        ..Options::default()
    };
    let api = api_for_demo(&app.state).await.unwrap();
    let mut stream = Stream::new(app.state.clone(), api.clone(), options.clone())
        .await
        .unwrap();
    let mut placed = Vec::new();
    for _ in 0..36 {
        placed.push(stream.place().await.unwrap());
    }
    let mut total = orderflow::demo::stream::Step::default();
    // Ten rounds of the world, then more while it still moves (a return asked for late needs
    // three more rounds to be picked up, delivered and inspected), within a bound.
    for round in 0..30 {
        drain(&app).await;
        let step = stream.world().await.unwrap();
        let moved = step.scans + step.returns + step.inspections > 0;
        total.scans += step.scans;
        total.reviews += step.reviews;
        total.returns += step.returns;
        total.inspections += step.inspections;
        total.messages += step.messages;
        if round >= 10 && !moved {
            break;
        }
    }
    drain(&app).await;
    eprintln!("the demo's world: {total:?}");
    let db = owner_connection(&app).await;
    // Every order was captured, from each channel.
    assert_eq!(count(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM orders WHERE channel IN ('shopify', 'woocommerce', 'api')").await, 36 + count(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM orders WHERE name LIKE '%-EX'").await);
    for channel in ["shopify", "woocommerce", "api"] {
        let n = count(
            &db,
            &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM orders WHERE channel = '{channel}'"),
        )
        .await;
        assert!(n >= 8, "{channel}: {n}");
    }
    // The risky ones were held: for fraud review, or for payment review where the card's
    // address check failed. (That the scarce items run out is the generator's unit test.)
    let risky = placed.iter().filter(|o| o.risky).count() as i64;
    assert!(risky >= 1, "the seed gives a risky order among 36");
    assert_eq!(count(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM orders WHERE state IN ('fraud_review', 'rejected', 'payment_review')").await, risky);
    // Parcels went out and arrived; shoppers rated, wrote in and sent things back.
    let delivered = count(
        &db,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM shipments WHERE delivered_at IS NOT NULL",
    )
    .await;
    assert!(delivered >= 20, "{delivered} delivered");
    assert!(total.scans >= 3 * delivered as u64, "{total:?}");
    assert!(
        total.reviews >= 10 && total.returns >= 2 && total.messages >= 1,
        "{total:?}"
    );
    assert_eq!(
        count(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM order_reviews").await,
        total.reviews as i64
    );
    assert!(count(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM support_threads").await >= 1);
    assert!(total.inspections >= 1, "{total:?}");
    assert!(count(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM refunds").await >= 1);
    assert!(
        count(
            &db,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM notifications WHERE kind = 'shipped'"
        )
        .await
            >= 20
    );

    // The dashboard shows it.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive();
    let q = "query($f: NaiveDate!, $t: NaiveDate!) { kpis(from: $f, to: $t) { timezone kpis { orders deliveries reviews returns supportTickets fraudHolds money { revenue } } } }";
    let body = api
        .call(
            q,
            json!({ "f": (today - chrono::Days::new(1)).to_string(), "t": today.to_string() }),
        )
        .await
        .unwrap();
    let k = &body["kpis"]["kpis"];
    assert_eq!(body["kpis"]["timezone"], "America/New_York");
    assert!(k["orders"].as_i64().unwrap() >= 36, "{k}");
    assert_eq!(k["deliveries"].as_i64().unwrap(), delivered, "{k}");
    assert_eq!(k["reviews"].as_u64().unwrap(), total.reviews);
    assert!(k["returns"].as_u64().unwrap() >= 1);

    // A second start finds the shop and carries on numbering.
    let mut again = Stream::new(app.state.clone(), api, options).await.unwrap();
    let next = again.place().await.unwrap();
    assert_eq!(
        next.number,
        36 + count(
            &db,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM orders WHERE name LIKE '%-EX'"
        )
        .await as u64
    );
    assert_eq!(
        count(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM carriers").await,
        1
    );
    db.close().await.ok();
}
