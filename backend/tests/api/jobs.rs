//! The job queue under the webhook pipeline: a job whose worker died runs again once its
//! lease lapses; a failing job is retried later and parked as dead after its last attempt;
//! the dedupe key keeps one queued copy.

use chrono::{Duration, Utc};
use orderflow::jobs::queue::{self, NewJob};
use orderflow::jobs::worker;
use orderflow::tenancy::GlobalTx;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{count_rows, owner_connection, spawn_app};

async fn sql(app: &crate::helpers::TestApp, statement: &str) {
    let db = owner_connection(app).await;
    db.execute_unprepared(statement).await.unwrap();
}

async fn status_of(app: &crate::helpers::TestApp) -> Vec<(String, String, i32)> {
    let db = owner_connection(app).await;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT kind, status, attempts FROM jobs ORDER BY kind",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get("", "kind").unwrap(),
                r.try_get("", "status").unwrap(),
                r.try_get("", "attempts").unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn leases_lapse_failures_back_off_and_the_last_attempt_parks_the_job() {
    let app = spawn_app().await;
    let tx = GlobalTx::begin(&app.state.db).await.unwrap();
    // A kind no worker handles fails every time; three attempts allowed (a claim whose
    // worker died counts as one).
    let mut failing = NewJob::now("test.no_such_handler", None, json!({}));
    failing.max_attempts = 3;
    queue::enqueue(&tx, failing.dedupe("only-once"))
        .await
        .unwrap();
    queue::enqueue(
        &tx,
        NewJob::now("test.no_such_handler", None, json!({})).dedupe("only-once"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        count_rows(&app, "jobs").await,
        1,
        "the dedupe key keeps one queued copy"
    );

    // A worker claims it and dies: nobody else gets it while the lease holds.
    let claimed = queue::claim(&app.state.db, "doomed-worker", &[], &[])
        .await
        .unwrap()
        .expect("a due job");
    assert_eq!(claimed.attempts, 1);
    assert!(
        queue::claim(&app.state.db, "other", &[], &[])
            .await
            .unwrap()
            .is_none(),
        "leased"
    );
    // The lease lapses: the next worker takes it, runs it, and it fails.
    sql(
        &app,
        &format!(
            "UPDATE jobs SET locked_until = '{}'",
            (Utc::now() - Duration::seconds(1)).to_rfc3339()
        ),
    )
    .await;
    assert!(worker::run_one(&app.state, "rescuer").await.unwrap());
    assert_eq!(
        status_of(&app).await,
        vec![("test.no_such_handler".into(), "queued".into(), 2)]
    );
    // Backed off: not due yet.
    assert!(!worker::run_one(&app.state, "rescuer").await.unwrap());
    sql(
        &app,
        &format!(
            "UPDATE jobs SET run_at = '{}'",
            (Utc::now() - Duration::seconds(1)).to_rfc3339()
        ),
    )
    .await;
    assert!(worker::run_one(&app.state, "rescuer").await.unwrap());
    let db = owner_connection(&app).await;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT status, last_error FROM jobs",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<String>("", "status").unwrap(),
        "dead",
        "parked after its last attempt"
    );
    assert!(
        row.try_get::<String>("", "last_error")
            .unwrap()
            .contains("no handler")
    );
    assert!(
        !worker::run_one(&app.state, "rescuer").await.unwrap(),
        "dead jobs are not run"
    );
}
