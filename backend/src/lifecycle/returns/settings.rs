//! Loading and saving a tenant's return policy (the defaults until it saves one).

use chrono::Utc;
use entity::return_settings;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait};

use super::policy::Policy;
use crate::tenancy::{AnyTx, TenantTx};

fn from_row(r: return_settings::Model) -> Policy {
    let d = Policy::default();
    Policy {
        window_days: r.window_days,
        final_sale_skus: serde_json::from_value(r.final_sale_skus).unwrap_or_default(),
        reasons: serde_json::from_value(r.reasons).unwrap_or(d.reasons),
        grade_refund_percent: serde_json::from_value(r.grade_refund_percent)
            .unwrap_or(d.grade_refund_percent),
        auto_approve: r.auto_approve,
        auto_approve_max_units: r.auto_approve_max_units,
        auto_approve_max_fraud_score: r.auto_approve_max_fraud_score,
        auto_approve_max_recent: r.auto_approve_max_recent,
        restocking_fee_percent: r.restocking_fee_percent,
        refund_shipping: r.refund_shipping,
        deduct_label_cost: r.deduct_label_cost,
        handling_cost_units: r.handling_cost_units,
        refurbish_cost_units: r.refurbish_cost_units,
        auto_refund: r.auto_refund,
        warehouse_id: r.warehouse_id,
    }
}

pub async fn load(tx: &TenantTx) -> Result<Policy, DbErr> {
    Ok(return_settings::Entity::find_by_id(tx.tenant().uuid())
        .one(tx.conn())
        .await?
        .map(from_row)
        .unwrap_or_default())
}

pub async fn save(tx: &TenantTx, p: &Policy) -> Result<(), DbErr> {
    use return_settings::Column as C;
    let row = return_settings::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        window_days: Set(p.window_days),
        final_sale_skus: Set(serde_json::json!(p.final_sale_skus)),
        reasons: Set(serde_json::to_value(&p.reasons).unwrap_or_default()),
        grade_refund_percent: Set(serde_json::json!(p.grade_refund_percent)),
        auto_approve: Set(p.auto_approve),
        auto_approve_max_units: Set(p.auto_approve_max_units),
        auto_approve_max_fraud_score: Set(p.auto_approve_max_fraud_score),
        auto_approve_max_recent: Set(p.auto_approve_max_recent),
        restocking_fee_percent: Set(p.restocking_fee_percent),
        refund_shipping: Set(p.refund_shipping),
        deduct_label_cost: Set(p.deduct_label_cost),
        handling_cost_units: Set(p.handling_cost_units),
        refurbish_cost_units: Set(p.refurbish_cost_units),
        auto_refund: Set(p.auto_refund),
        warehouse_id: Set(p.warehouse_id),
        updated_at: Set(Utc::now()),
    };
    return_settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(C::TenantId)
                .update_columns([
                    C::WindowDays,
                    C::FinalSaleSkus,
                    C::Reasons,
                    C::GradeRefundPercent,
                    C::AutoApprove,
                    C::AutoApproveMaxUnits,
                    C::AutoApproveMaxFraudScore,
                    C::AutoApproveMaxRecent,
                    C::RestockingFeePercent,
                    C::RefundShipping,
                    C::DeductLabelCost,
                    C::HandlingCostUnits,
                    C::RefurbishCostUnits,
                    C::AutoRefund,
                    C::WarehouseId,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}
