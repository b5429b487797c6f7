//! PostgreSQL only: row-level security blocks a query that forgets its tenant filter.
//! (On SQLite there is no such backstop; this test reports itself skipped there.)

use orderflow::domain::TenantId;
use orderflow::tenancy::{AnyTx, GlobalTx, TenantTx};
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{postgres_url, spawn_app};

async fn count(tx: &impl AnyTx, sql: &str) -> Result<i64, sea_orm::DbErr> {
    let row = tx
        .conn()
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            sql.to_owned(),
        ))
        .await?
        .unwrap();
    row.try_get("", "n")
}

#[tokio::test]
async fn a_query_without_a_tenant_filter_still_sees_only_its_own_tenant() {
    if postgres_url().is_none() {
        eprintln!("skipped: row-level security exists on PostgreSQL only (set DATABASE_URL)");
        return;
    }
    let app = spawn_app().await;
    let a = app.sign_up("Alpha", "rls.a@example.com").await;
    let b = app.sign_up("Beta", "rls.b@example.com").await;
    app.create_api_key(&a, &["TENANT_READ"]).await;
    app.create_api_key(&a, &["TENANT_READ"]).await;
    app.create_api_key(&b, &["TENANT_READ"]).await;
    let ids = {
        let tx = GlobalTx::begin(&app.state.db).await.unwrap();
        let rows = tx
            .conn()
            .query_all_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT id FROM tenants ORDER BY id".to_owned(),
            ))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        rows.iter()
            .map(|r| TenantId(r.try_get::<uuid::Uuid>("", "id").unwrap()))
            .collect::<Vec<_>>()
    };
    let (alpha, beta) = (ids[0], ids[1]);

    // Deliberately no WHERE tenant_id = …: the policy filters.
    let tx = TenantTx::begin(&app.state.db, beta).await.unwrap();
    assert_eq!(
        count(&tx, "SELECT COUNT(*) AS n FROM api_keys")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        count(&tx, "SELECT COUNT(*) AS n FROM memberships")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        count(
            &tx,
            &format!("SELECT COUNT(*) AS n FROM api_keys WHERE tenant_id = '{alpha}'")
        )
        .await
        .unwrap(),
        0
    );
    // Writing into another tenant is refused by the policy's WITH CHECK.
    let insert = tx
        .conn()
        .execute_unprepared(&format!(
            "INSERT INTO audit_log (tenant_id, id, at, actor_kind, action, target, detail) VALUES ('{alpha}', gen_random_uuid(), now(), 'system', 'x', 'y', '{{}}')"
        ))
        .await;
    assert!(
        insert.is_err(),
        "insert into tenant A from B's transaction must fail"
    );
    drop(tx);

    let tx = TenantTx::begin(&app.state.db, alpha).await.unwrap();
    assert_eq!(
        count(&tx, "SELECT COUNT(*) AS n FROM api_keys")
            .await
            .unwrap(),
        2
    );
    tx.commit().await.unwrap();

    // With no tenant set at all, tenant tables look empty.
    let tx = GlobalTx::begin(&app.state.db).await.unwrap();
    assert_eq!(
        count(&tx, "SELECT COUNT(*) AS n FROM api_keys")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        count(&tx, "SELECT COUNT(*) AS n FROM audit_log")
            .await
            .unwrap(),
        0
    );
    // And the application role cannot switch row-level security off or escape it.
    assert!(
        tx.conn()
            .execute_unprepared("ALTER TABLE api_keys DISABLE ROW LEVEL SECURITY")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_application_runs_as_a_role_without_bypassrls() {
    if postgres_url().is_none() {
        eprintln!("skipped: PostgreSQL only (set DATABASE_URL)");
        return;
    }
    let app = spawn_app().await;
    let tx = GlobalTx::begin(&app.state.db).await.unwrap();
    let row = tx
        .conn()
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT current_user::text AS who, r.rolbypassrls AS bypass, r.rolsuper AS super FROM pg_roles r WHERE r.rolname = current_user".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<String>("", "who").unwrap(), "orderflow_app");
    assert!(!row.try_get::<bool>("", "bypass").unwrap());
    assert!(!row.try_get::<bool>("", "super").unwrap());
}
