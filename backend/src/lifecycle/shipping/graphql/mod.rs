//! GraphQL of shipping: carriers and their rate cards, shipments with labels and the rate
//! shopping behind them, the fulfillment settings (routing's among them), and the actions
//! (buy or void a label, set up carriers, change settings). The routing decision on an
//! order is routing's own (`routing/graphql.rs`).

pub mod types;

pub use self::types::*;

use crate::graphql::loader::Loaders;
use crate::lifecycle::shipping::loaders::ShipmentsOf;
use crate::order::graphql::types::OrderFields;
use async_graphql::{Context, ID, Object};
use std::sync::Arc;

use super::actions::{self, CarrierFields, ServiceFields};
use super::context::Context as Fulfil;
use super::repo::{self};
use super::service::{self as labels, Choice};
use crate::domain::{OrderId, VariantId};
use crate::graphql::context::actor_label;
use crate::graphql::context::{principal, state};
use crate::graphql::errors::{ConnectionTest, payload};
use crate::graphql::guard::Perm;
use crate::graphql::relay::decode_id;
use crate::lifecycle::settings::fulfillment as settings;
use crate::order::graphql::types::Order;
use crate::order::repo as orders;
use crate::tenancy::{Permission, TenantTx};

#[derive(Default)]
pub struct ShippingQuery;

#[Object]
impl ShippingQuery {
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn carriers(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Carrier>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = repo::carriers(&tx).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Carrier::from).collect())
    }

    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn shipment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Shipment>> {
        let p = principal(ctx)?;
        let id = decode_id(&id, "Shipment", "id")?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let row = repo::shipment(&tx, id).await?;
        tx.commit().await?;
        Ok(row.map(Shipment::from))
    }

    /// What each service would charge for a parcel now, with the three recommendations.
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn rate_quote(
        &self,
        ctx: &Context<'_>,
        shipment_id: ID,
    ) -> async_graphql::Result<Option<RateShopping>> {
        let p = principal(ctx)?;
        let id = decode_id(&shipment_id, "Shipment", "shipmentId")?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let Some(s) = repo::shipment(&tx, id).await? else {
            return Ok(None);
        };
        let Some(order) = orders::get(&tx, OrderId(s.order_id)).await? else {
            return Ok(None);
        };
        let lines = orders::lines_of(&tx, &[OrderId(order.id)]).await?;
        let variants: Vec<VariantId> = lines
            .iter()
            .filter_map(|l| l.variant_id.map(VariantId))
            .collect();
        let f = Fulfil::load(&tx, &variants).await?;
        tx.commit().await?;
        let shopping = labels::shop_for(&f, &order, &s)
            .map_err(|e| async_graphql::Error::new(e.to_string()))?;
        Ok(Some(shopping.into()))
    }

    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn fulfillment_settings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<FulfillmentSettings> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let s = settings::load(&tx).await?;
        tx.commit().await?;
        Ok(s.into())
    }
}

#[derive(Default)]
pub struct ShippingMutation;

fn id_of(id: &ID, kind: &str, field: &str) -> Result<uuid::Uuid, crate::error::AppError> {
    decode_id(id, kind, field)
}

#[Object]
impl ShippingMutation {
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn create_carrier(
        &self,
        ctx: &Context<'_>,
        input: CreateCarrierInput,
    ) -> async_graphql::Result<CarrierPayload> {
        let p = principal(ctx)?;
        let outcome = async {
            let f = CarrierFields {
                code: Some(input.code),
                name: Some(input.name),
                tracking_format: Some(input.tracking_format.into()),
                account: input.account,
                tracking_source: input.tracking_source.map(Into::into),
                webhook_secret: input.webhook_secret,
                zone_chart: zone_chart(input.zone_chart)?,
                active: None,
                provider: input.provider.map(Into::into),
                api_key: input.api_key,
                api_base: input.api_base,
                provider_accounts: input.provider_accounts,
                label_format: input.label_format.map(Into::into),
            };
            actions::create_carrier(state(ctx), p, f).await
        }
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(CarrierPayload {
            carrier: value.map(Carrier::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn update_carrier(
        &self,
        ctx: &Context<'_>,
        input: UpdateCarrierInput,
    ) -> async_graphql::Result<CarrierPayload> {
        let p = principal(ctx)?;
        let id = id_of(&input.id, "Carrier", "id")?;
        let outcome = async {
            let f = CarrierFields {
                code: input.code,
                name: input.name,
                tracking_format: input.tracking_format.map(Into::into),
                account: input.account,
                tracking_source: input.tracking_source.map(Into::into),
                webhook_secret: input.webhook_secret,
                zone_chart: zone_chart(input.zone_chart)?,
                active: input.active,
                provider: input.provider.map(Into::into),
                api_key: input.api_key,
                api_base: input.api_base,
                provider_accounts: input.provider_accounts,
                label_format: input.label_format.map(Into::into),
            };
            actions::update_carrier(state(ctx), p, id, f).await
        }
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(CarrierPayload {
            carrier: value.map(Carrier::from),
            user_errors,
        })
    }

    /// Calls the carrier's API with its key (a harmless read) and answers in its words.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn test_carrier_connection(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ConnectionTest> {
        let p = principal(ctx)?;
        let id = id_of(&id, "Carrier", "id")?;
        let (ok, message) = super::purchase::check_account(state(ctx), p.tenant, id).await?;
        Ok(ConnectionTest { ok, message })
    }

    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn create_carrier_service(
        &self,
        ctx: &Context<'_>,
        input: CreateCarrierServiceInput,
    ) -> async_graphql::Result<CarrierServicePayload> {
        let p = principal(ctx)?;
        let carrier = id_of(&input.carrier_id, "Carrier", "carrierId")?;
        let outcome = async {
            let f = ServiceFields {
                code: Some(input.code),
                name: Some(input.name),
                currency: Some(input.currency),
                rate_card: Some(input.rate_card.parse()?),
                cutoff: Some(input.cutoff),
                active: None,
            };
            actions::create_service(state(ctx), p, carrier, f).await
        }
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(CarrierServicePayload {
            service: value.map(CarrierService::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn update_carrier_service(
        &self,
        ctx: &Context<'_>,
        input: UpdateCarrierServiceInput,
    ) -> async_graphql::Result<CarrierServicePayload> {
        let p = principal(ctx)?;
        let id = id_of(&input.id, "CarrierService", "id")?;
        let outcome = async {
            let f = ServiceFields {
                code: input.code,
                name: input.name,
                currency: input.currency,
                rate_card: input.rate_card.map(RateCardType::parse).transpose()?,
                cutoff: input.cutoff.map(Some),
                active: input.active,
            };
            actions::update_service(state(ctx), p, id, f).await
        }
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(CarrierServicePayload {
            service: value.map(CarrierService::from),
            user_errors,
        })
    }

    /// Buys a label for a parcel: the recommendation asked for (the tenant's default), or a
    /// given service. When every parcel has one, the order is shipped.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn buy_shipping_label(
        &self,
        ctx: &Context<'_>,
        input: BuyShippingLabelInput,
    ) -> async_graphql::Result<ShipmentPayload> {
        let p = principal(ctx)?;
        let shipment = id_of(&input.shipment_id, "Shipment", "shipmentId")?;
        let choice = match (&input.service_id, input.pick) {
            (Some(s), _) => Some(Choice::Service(id_of(s, "CarrierService", "serviceId")?)),
            (None, Some(pick)) => Some(Choice::Recommended(pick.into())),
            (None, None) => None,
        };
        let label = actor_label(ctx, p).await?;
        let outcome = actions::buy_label(state(ctx), p, label, shipment, choice).await;
        let (value, user_errors) = payload(outcome)?;
        let (order, shipment) = value.map_or((None, None), |(o, s)| (Some(o), Some(s)));
        Ok(ShipmentPayload {
            shipment: shipment.map(Shipment::from),
            order: order.map(Order::from),
            user_errors,
        })
    }

    /// Voids a label the carrier has not scanned; the stock goes back on the reservation.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn void_shipping_label(
        &self,
        ctx: &Context<'_>,
        input: VoidShippingLabelInput,
    ) -> async_graphql::Result<ShipmentPayload> {
        let p = principal(ctx)?;
        let shipment = id_of(&input.shipment_id, "Shipment", "shipmentId")?;
        let label = actor_label(ctx, p).await?;
        let outcome = actions::void_label(state(ctx), p, label, shipment, input.reason).await;
        let (value, user_errors) = payload(outcome)?;
        let (order, shipment) = value.map_or((None, None), |(o, s)| (Some(o), Some(s)));
        Ok(ShipmentPayload {
            shipment: shipment.map(Shipment::from),
            order: order.map(Order::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn update_fulfillment_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateFulfillmentSettingsInput,
    ) -> async_graphql::Result<FulfillmentSettingsPayload> {
        let p = principal(ctx)?;
        let outcome = actions::update_settings(state(ctx), p, |mut s| {
            if let Some(w) = input.routing_weights {
                s.weights = settings::Weights {
                    shipping: w.shipping,
                    late_day: w.late_day,
                    workload: w.workload,
                    extra_parcel: w.extra_parcel,
                    preferred: w.preferred,
                };
            }
            if let Some(v) = input.never_split {
                s.rules.never_split = v;
            }
            if let Some(v) = input.skip_at_capacity {
                s.rules.skip_at_capacity = v;
            }
            if let Some(v) = input.preferred_warehouses {
                s.rules.prefer = v
                    .into_iter()
                    .map(|p| settings::Preference {
                        country: p.country,
                        warehouse: p.warehouse,
                    })
                    .collect();
            }
            if let Some(v) = input.auto_buy_labels {
                s.auto_buy_labels = v;
            }
            if let Some(v) = input.warehouse_workflow {
                s.warehouse_workflow = v;
            }
            if let Some(v) = input.label_pick {
                s.label_pick = v.into();
            }
            if let Some(v) = input.standard_promise_days {
                s.standard_promise_days = v;
            }
            if let Some(v) = input.express_promise_days {
                s.express_promise_days = v;
            }
            if let Some(v) = input.lost_after_days {
                s.lost_after_days = v;
            }
            if let Some(v) = input.wave_size {
                s.wave_size = v;
            }
            if let Some(v) = input.channel_stock_buffer {
                s.channel_stock_buffer = v;
            }
            s
        })
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(FulfillmentSettingsPayload {
            settings: value.map(FulfillmentSettings::from),
            user_errors,
        })
    }
}

/// Shipping's field on an order: its parcels. A part of `Order` (listed in `schema::parts`).
pub struct ShipmentsPart(Arc<OrderFields>);

impl From<Arc<OrderFields>> for ShipmentsPart {
    fn from(order: Arc<OrderFields>) -> Self {
        Self(order)
    }
}

#[Object]
impl ShipmentsPart {
    /// The parcels: planned by routing, then labelled and tracked.
    async fn shipments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Shipment>> {
        let (tenant, order) = self.0.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, ShipmentsOf(order)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Shipment::from)
            .collect())
    }
}
