//! GraphQL of reporting: the KPI report, the tenant's reporting timezone, and recomputing
//! days after a correction.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::period::{BadPeriod, Period};
use super::rollup::{CurrencyKpis as CurrencyRow, Kpis as KpiRow};
use super::{service, store};
use crate::domain::money::amount_from_units;
use crate::error::{AppError, UserError, UserErrorCode as C};
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::scalars::Amount;
use crate::tenancy::{Permission, TenantTx};

/// Money KPIs in one currency (orders are never converted between currencies).
#[derive(Clone, Debug, SimpleObject)]
pub struct CurrencyKpis {
    pub currency: String,
    /// Orders placed in this currency and not cancelled.
    pub orders: u64,
    /// Their totals (goods, shipping and tax, less discounts).
    pub revenue: Amount,
    /// Refunds made in the period.
    pub refunded: Amount,
    pub net_revenue: Amount,
    pub average_order_value: Option<Amount>,
    /// Shipping labels and payment fees booked in the ledger in the period.
    pub costs: Amount,
    pub cost_per_order: Option<Amount>,
    /// Distinct customers who placed those orders.
    pub customers: u64,
    pub revenue_per_customer: Option<Amount>,
}

impl CurrencyKpis {
    fn of(c: &CurrencyRow) -> Self {
        let m = |u: i64| Amount::from(amount_from_units(u, &c.currency));
        Self {
            orders: c.orders,
            revenue: m(c.revenue),
            refunded: m(c.refunded),
            net_revenue: m(c.net_revenue),
            average_order_value: c.average_order.map(m),
            costs: m(c.costs),
            cost_per_order: c.cost_per_order.map(m),
            customers: c.customers,
            revenue_per_customer: c.revenue_per_customer.map(m),
            currency: c.currency.clone(),
        }
    }
}

/// The KPIs of a period or of one day. Rates are fractions (0.95 = 95 %), durations seconds;
/// a rate or duration with nothing to measure is null.
#[derive(Clone, Debug, SimpleObject)]
pub struct Kpis {
    /// Orders placed (test orders excluded), cancelled and rejected ones included.
    pub orders: u64,
    pub cancelled_orders: u64,
    /// Distinct customers who placed an order that stands.
    pub customers: u64,
    /// Money per currency, the tenant's first.
    pub money: Vec<CurrencyKpis>,
    /// Orders whose first parcel shipped in the period.
    pub orders_shipped: u64,
    /// Received → first parcel shipped, median and 90th percentile (within 2 % or a minute).
    pub processing_median_seconds: Option<f64>,
    pub processing_p90_seconds: Option<f64>,
    /// Parcels shipped, and those without a wrong-item or missing-item exception.
    pub shipments: u64,
    pub accurate_shipments: u64,
    pub fulfillment_accuracy: Option<f64>,
    /// Parcels delivered; shipped → delivered.
    pub deliveries: u64,
    pub average_shipping_seconds: Option<f64>,
    pub median_shipping_seconds: Option<f64>,
    /// Delivered parcels that had a promised date, and those delivered by it.
    pub promised_deliveries: u64,
    pub on_time_deliveries: u64,
    pub on_time_rate: Option<f64>,
    /// Ratings from review requests (1–5); CSAT is the share of 4 and 5.
    pub reviews: u64,
    pub average_rating: Option<f64>,
    pub csat: Option<f64>,
    /// Returns requested (not cancelled or rejected), per order shipped.
    pub returns: u64,
    pub return_rate: Option<f64>,
    /// Units shipped over the average units on hand at the end of each day.
    pub units_shipped: u64,
    pub average_on_hand: Option<f64>,
    pub inventory_turnover: Option<f64>,
    /// Support threads opened, and those answered without staff.
    pub support_tickets: u64,
    pub auto_resolved_tickets: u64,
    pub auto_resolution_rate: Option<f64>,
    /// Orders first held for fraud review; approvals and staff rejections of reviewed orders
    /// (on the day they were decided); of the period's holds, those still waiting now.
    pub fraud_holds: u64,
    pub fraud_approved: u64,
    pub fraud_rejected: u64,
    pub fraud_pending: u64,
    /// Orders rejected by their fraud score without review.
    pub fraud_auto_rejected: u64,
    /// Channel listings the drift checks found showing another stock figure than Orderflow
    /// pushed, and corrected (per connection: `channelStock.driftFound`).
    pub stock_drift_corrected: u64,
}

impl Kpis {
    fn of(k: &KpiRow) -> Self {
        Self {
            orders: k.orders,
            cancelled_orders: k.cancelled,
            customers: k.customers,
            money: k.money.iter().map(CurrencyKpis::of).collect(),
            orders_shipped: k.orders_shipped,
            processing_median_seconds: k.processing_median,
            processing_p90_seconds: k.processing_p90,
            shipments: k.shipments,
            accurate_shipments: k.accurate_shipments,
            fulfillment_accuracy: k.fulfillment_accuracy,
            deliveries: k.deliveries,
            average_shipping_seconds: k.shipping_average,
            median_shipping_seconds: k.shipping_median,
            promised_deliveries: k.promised,
            on_time_deliveries: k.on_time,
            on_time_rate: k.on_time_rate,
            reviews: k.reviews,
            average_rating: k.average_rating,
            csat: k.csat,
            returns: k.returns,
            return_rate: k.return_rate,
            units_shipped: k.units_shipped,
            average_on_hand: k.average_on_hand,
            inventory_turnover: k.inventory_turnover,
            support_tickets: k.tickets,
            auto_resolved_tickets: k.auto_resolved,
            auto_resolution_rate: k.auto_resolution_rate,
            fraud_holds: k.fraud_holds,
            fraud_approved: k.fraud_approved,
            fraud_rejected: k.fraud_rejected,
            fraud_pending: k.fraud_pending,
            fraud_auto_rejected: k.fraud_auto_rejected,
            stock_drift_corrected: k.stock_drift,
        }
    }
}

/// Whole local days and the instants they span.
#[derive(Clone, Debug, SimpleObject)]
pub struct ReportPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl ReportPeriod {
    fn of(p: &Period) -> Self {
        let (starts_at, ends_at) = p.bounds();
        Self {
            from: p.from,
            to: p.to,
            starts_at,
            ends_at,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct KpiDay {
    pub date: NaiveDate,
    pub kpis: Kpis,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct KpiReport {
    /// The tenant's timezone: the days are its days.
    pub timezone: String,
    pub currency: String,
    pub period: ReportPeriod,
    /// The same number of days just before.
    pub previous_period: ReportPeriod,
    pub kpis: Kpis,
    pub previous_kpis: Kpis,
    /// One entry per day of the period, for charts.
    pub daily: Vec<KpiDay>,
}

impl KpiReport {
    pub fn of(r: &service::Report) -> Self {
        Self {
            timezone: r.period.tz.name().to_owned(),
            currency: r.currency.clone(),
            period: ReportPeriod::of(&r.period),
            previous_period: ReportPeriod::of(&r.previous),
            kpis: Kpis::of(&r.current),
            previous_kpis: Kpis::of(&r.before),
            daily: r
                .daily
                .iter()
                .map(|(d, k)| KpiDay {
                    date: *d,
                    kpis: Kpis::of(k),
                })
                .collect(),
        }
    }
}

/// A period refused, naming the argument.
pub fn bad_period(e: BadPeriod) -> AppError {
    match e {
        BadPeriod::Backwards => AppError::bad_input("to", "must not be before from"),
        BadPeriod::TooLong(n) => {
            AppError::bad_input("to", format!("a report covers at most {n} days"))
        }
    }
}

#[derive(Default)]
pub struct ReportingQuery;

#[Object]
impl ReportingQuery {
    /// The KPIs of the days `from..=to` in the tenant's timezone, against the same number of
    /// days just before, with a daily series.
    #[graphql(guard = "Perm(Permission::ReportsRead)")]
    async fn kpis(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> async_graphql::Result<KpiReport> {
        let p = principal(ctx)?;
        let report = service::report(state(ctx), p.tenant, from, to)
            .await?
            .map_err(bad_period)?;
        Ok(KpiReport::of(&report))
    }
}

#[derive(SimpleObject)]
pub struct TimezonePayload {
    pub timezone: Option<String>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct RecomputeKpisPayload {
    /// Days computed again.
    pub days: Option<u64>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct ReportingMutation;

#[Object]
impl ReportingMutation {
    /// Sets the IANA timezone (e.g. `Europe/Paris`) whose days the KPIs count in; stored
    /// rollups of the old timezone are recomputed as they are read.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn set_tenant_timezone(
        &self,
        ctx: &Context<'_>,
        timezone: String,
    ) -> async_graphql::Result<TimezonePayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let outcome = async {
            let tz: chrono_tz::Tz = timezone.trim().parse().map_err(|_| {
                UserError::on(
                    "timezone",
                    C::Invalid,
                    "must be an IANA timezone such as Europe/Paris or America/New_York",
                )
            })?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            store::set_timezone(&tx, tz).await?;
            tx.commit().await?;
            Ok::<_, crate::error::Fail>(tz.name().to_owned())
        }
        .await;
        let (timezone, user_errors) = payload(outcome)?;
        Ok(TimezonePayload {
            timezone,
            user_errors,
        })
    }

    /// Computes the KPI days `from..=to` again now, after past data was corrected (days
    /// settle 35 days after they end and are not recomputed by themselves).
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn recompute_kpis(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> async_graphql::Result<RecomputeKpisPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let outcome = async {
            let days = service::recompute(st, p.tenant, from, to)
                .await?
                .map_err(|e| UserError::on("to", C::Invalid, e.to_string()))?;
            Ok::<_, crate::error::Fail>(days as u64)
        }
        .await;
        let (days, user_errors) = payload(outcome)?;
        Ok(RecomputeKpisPayload { days, user_errors })
    }
}
