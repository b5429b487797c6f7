//! Every migration applies up, rolls back down, and applies again, on this run's database.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database};

use crate::helpers::{fresh_postgres_database, postgres_url};

#[tokio::test]
async fn every_migration_goes_up_down_and_up_again() {
    let url = match postgres_url() {
        Some(server) => fresh_postgres_database(&server).await,
        None => {
            let dir = std::env::temp_dir()
                .join(format!("orderflow-mig-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}?mode=rwc", dir.join("m.db").display())
        }
    };
    let db = Database::connect(&url).await.unwrap();
    let total = Migrator::migrations().len();
    assert!(total >= 2);

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(
        Migrator::get_pending_migrations(&db).await.unwrap().len(),
        0
    );
    let tables = [
        "tenants",
        "users",
        "memberships",
        "invitations",
        "api_keys",
        "refresh_tokens",
        "audit_log",
    ];
    for table in tables {
        db.execute_unprepared(&format!("SELECT COUNT(*) FROM {table}"))
            .await
            .unwrap();
    }

    // One step at a time, so each down() is exercised on its own.
    for remaining in (0..total).rev() {
        Migrator::down(&db, Some(1)).await.unwrap();
        assert_eq!(
            Migrator::get_applied_migrations(&db).await.unwrap().len(),
            remaining
        );
    }
    for table in tables {
        assert!(
            db.execute_unprepared(&format!("SELECT COUNT(*) FROM {table}"))
                .await
                .is_err(),
            "{table} dropped"
        );
    }

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(&db).await.unwrap().len(),
        total
    );
}
