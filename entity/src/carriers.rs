//! A tenant's carrier: how its tracking numbers are written and how its tracking webhooks are signed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "carriers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// ups, usps, fedex, dhl, s10 or orderflow.
    pub tracking_format: String,
    /// Shipper account or mailer id printed into tracking numbers.
    pub account: String,
    /// Format of its tracking webhooks: easypost, shippo, aftership or orderflow.
    pub tracking_source: String,
    /// Sealed.
    pub webhook_secret: Option<String>,
    pub zone_chart: Json,
    /// The next tracking-number serial.
    pub next_serial: i64,
    pub active: bool,
    /// simulated (Orderflow's rate cards, labels drawn here), easypost or shippo.
    pub provider: String,
    /// Sealed.
    pub api_key: Option<String>,
    /// The provider's API, when not its production one (a sandbox).
    pub api_base: Option<String>,
    /// The provider's carrier accounts to rate with (JSON array of ids); all when null.
    pub provider_accounts: Option<Json>,
    /// pdf or zpl: the label file bought from the provider.
    pub label_format: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
