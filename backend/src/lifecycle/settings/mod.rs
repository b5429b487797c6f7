//! A tenant's lifecycle settings: when fraud screening holds or rejects, which regions and
//! addresses count as risky, how long stock stays reserved for an unpaid order, and the stock
//! level below which rules hear of it. A tenant that never saved any gets the defaults.

pub mod fulfillment;

use chrono::Utc;
use entity::lifecycle_settings;
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait, sea_query::OnConflict};

use crate::domain::address::parse_country;
use crate::error::{UserError, UserErrorCode as C};
use crate::tenancy::{AnyTx, TenantTx};

#[derive(Clone, Debug, PartialEq)]
pub struct LifecycleSettings {
    /// Scores from here up are held for review.
    pub fraud_review_score: i32,
    /// Scores from here up are rejected.
    pub fraud_reject_score: i32,
    /// ISO country codes.
    pub high_risk_countries: Vec<String>,
    /// Address fragments (a street line, a postal code) of forwarders the tenant has met.
    pub forwarder_addresses: Vec<String>,
    /// Reserve stock for orders still waiting for payment (bank transfer, cash on delivery).
    pub reserve_unpaid: bool,
    pub unpaid_reservation_hours: i32,
    /// An allocation that leaves a SKU with fewer units free (all warehouses together)
    /// records `order.stock_low` on the order; 0 is off.
    pub low_stock_threshold: i32,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self {
            fraud_review_score: 60,
            fraud_reject_score: 90,
            high_risk_countries: Vec::new(),
            forwarder_addresses: Vec::new(),
            reserve_unpaid: true,
            unpaid_reservation_hours: 48,
            low_stock_threshold: 0,
        }
    }
}

impl LifecycleSettings {
    /// Checks and normalises, naming the field at fault.
    pub fn validate(mut self) -> Result<Self, UserError> {
        for (field, v) in [
            ("fraudReviewScore", self.fraud_review_score),
            ("fraudRejectScore", self.fraud_reject_score),
        ] {
            if !(1..=101).contains(&v) {
                return Err(UserError::on(
                    field,
                    C::Invalid,
                    "must be between 1 and 101 (101: never)",
                ));
            }
        }
        if self.fraud_reject_score < self.fraud_review_score {
            return Err(UserError::on(
                "fraudRejectScore",
                C::Invalid,
                "must not be below fraudReviewScore",
            ));
        }
        if !(1..=720).contains(&self.unpaid_reservation_hours) {
            return Err(UserError::on(
                "unpaidReservationHours",
                C::Invalid,
                "must be between 1 and 720 hours",
            ));
        }
        if !(0..=1_000_000).contains(&self.low_stock_threshold) {
            return Err(UserError::on(
                "lowStockThreshold",
                C::Invalid,
                "must be between 0 (off) and 1000000 units",
            ));
        }
        let mut countries = Vec::new();
        for (i, raw) in self.high_risk_countries.iter().enumerate() {
            let code = parse_country(raw).map_err(|m| {
                UserError::at(&["highRiskCountries", &i.to_string()], C::Invalid, m)
            })?;
            if !countries.contains(&code) {
                countries.push(code);
            }
        }
        self.high_risk_countries = countries;
        for (i, f) in self.forwarder_addresses.iter().enumerate() {
            let len = f.trim().chars().count();
            if !(4..=200).contains(&len) {
                return Err(UserError::at(
                    &["forwarderAddresses", &i.to_string()],
                    C::Invalid,
                    "each address fragment must be 4 to 200 characters",
                ));
            }
        }
        self.forwarder_addresses = self
            .forwarder_addresses
            .iter()
            .map(|f| f.trim().to_owned())
            .collect();
        Ok(self)
    }
}

fn from_row(r: lifecycle_settings::Model) -> LifecycleSettings {
    LifecycleSettings {
        fraud_review_score: r.fraud_review_score,
        fraud_reject_score: r.fraud_reject_score,
        high_risk_countries: serde_json::from_value(r.high_risk_countries).unwrap_or_default(),
        forwarder_addresses: serde_json::from_value(r.forwarder_addresses).unwrap_or_default(),
        reserve_unpaid: r.reserve_unpaid,
        unpaid_reservation_hours: r.unpaid_reservation_hours,
        low_stock_threshold: r.low_stock_threshold,
    }
}

pub async fn load(tx: &TenantTx) -> Result<LifecycleSettings, DbErr> {
    Ok(lifecycle_settings::Entity::find_by_id(tx.tenant().uuid())
        .one(tx.conn())
        .await?
        .map(from_row)
        .unwrap_or_default())
}

pub async fn save(tx: &TenantTx, s: &LifecycleSettings) -> Result<(), DbErr> {
    use lifecycle_settings::Column as Col;
    let row = lifecycle_settings::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        fraud_review_score: Set(s.fraud_review_score),
        fraud_reject_score: Set(s.fraud_reject_score),
        high_risk_countries: Set(serde_json::json!(s.high_risk_countries)),
        forwarder_addresses: Set(serde_json::json!(s.forwarder_addresses)),
        reserve_unpaid: Set(s.reserve_unpaid),
        unpaid_reservation_hours: Set(s.unpaid_reservation_hours),
        low_stock_threshold: Set(s.low_stock_threshold),
        updated_at: Set(Utc::now()),
    };
    lifecycle_settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(Col::TenantId)
                .update_columns([
                    Col::FraudReviewScore,
                    Col::FraudRejectScore,
                    Col::HighRiskCountries,
                    Col::ForwarderAddresses,
                    Col::ReserveUnpaid,
                    Col::UnpaidReservationHours,
                    Col::LowStockThreshold,
                    Col::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let bad = LifecycleSettings {
            fraud_review_score: 80,
            fraud_reject_score: 70,
            ..Default::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().field,
            vec!["input", "fraudRejectScore"]
        );
        let bad = LifecycleSettings {
            high_risk_countries: vec!["ng".into(), "Nigeria".into()],
            ..Default::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().field,
            vec!["input", "highRiskCountries", "1"]
        );
        let ok = LifecycleSettings {
            high_risk_countries: vec!["ng".into(), "NG".into()],
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(ok.high_risk_countries, vec!["NG"]);
        let bad = LifecycleSettings {
            low_stock_threshold: -1,
            ..Default::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().field,
            vec!["input", "lowStockThreshold"]
        );
    }
}
