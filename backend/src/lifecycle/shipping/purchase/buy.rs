//! Buying the chosen rate, sent once per purchase: a purchase found `buying` (an earlier
//! run may have bought before it wrote the answer down) first asks the provider what exists
//! for its shipment; a queued purchase is asked about again.

use std::sync::Arc;

use entity::label_purchases;
use sea_orm::DbErr;

use super::{Chosen, Next, RunError, Scene, account_of, label_format};
use crate::domain::TenantId;
use crate::lifecycle::shipping::carrier::CarrierSetup;
use crate::lifecycle::shipping::remote::easypost::EasyPost;
use crate::lifecycle::shipping::remote::shippo::Shippo;
use crate::lifecycle::shipping::remote::{Account, Provider, Purchase, RemoteError};
use crate::state::AppState;

pub(super) fn chosen_of(p: &label_purchases::Model) -> Result<Chosen, RunError> {
    serde_json::from_value(p.rate.clone().unwrap_or_default())
        .map_err(|e| RunError::Db(DbErr::Custom(format!("the stored rate is unreadable: {e}"))))
}

/// A purchase found `buying`: an earlier run may have bought before it could write the
/// answer down, so the provider is asked first.
/// `wanted`: the parcel still wants its label (else nothing new is bought).
pub(super) async fn recover_or_buy(
    state: &Arc<AppState>,
    s: &Scene,
    wanted: bool,
) -> Result<Next, RunError> {
    let chosen = chosen_of(&s.p)?;
    let Some(c) = s.p.carrier_id.and_then(|id| s.ctx.book.carrier(id)) else {
        return Ok(Next::Fail {
            why: "the carrier account is no longer active".into(),
            address: false,
        });
    };
    let tenant = TenantId(s.p.tenant_id);
    let account = match account_of(state, tenant, c) {
        Ok(a) => a,
        Err(why) => {
            return Ok(Next::Fail {
                why,
                address: false,
            });
        }
    };
    let remote_shipment = s.p.remote_shipment.clone().unwrap_or_default();
    let found = match c.provider {
        Provider::Easypost => {
            let api = EasyPost {
                client: &state.http,
                account: &account,
            };
            api.shipment(&remote_shipment)
                .await
                .map(|(_, label)| label.map(Purchase::Bought))
        }
        Provider::Shippo => {
            let api = Shippo {
                client: &state.http,
                account: &account,
            };
            api.find(&chosen.rate(), &s.p.id.to_string()).await
        }
        Provider::Simulated => Ok(None),
    };
    match found {
        Ok(Some(found)) => Ok(answer(found)),
        Ok(None) if wanted => buy(state, s, c, &account, chosen).await,
        Ok(None) => Ok(Next::Cancelled),
        Err(e) => Ok(failed_call(e)),
    }
}

pub(super) fn answer(p: Purchase) -> Next {
    match p {
        Purchase::Bought(label) => Next::Bought(label.into()),
        Purchase::Pending { transaction_id } => Next::Pending(transaction_id),
    }
}

pub(super) fn failed_call(e: RemoteError) -> Next {
    match e {
        RemoteError::Unavailable {
            reason,
            retry_after,
        } => Next::Wait {
            why: reason,
            after: retry_after,
        },
        RemoteError::Refused(why) => Next::Fail {
            why,
            address: false,
        },
    }
}

pub(super) async fn buy(
    state: &Arc<AppState>,
    s: &Scene,
    c: &CarrierSetup,
    account: &Account,
    chosen: Chosen,
) -> Result<Next, RunError> {
    let bought = match c.provider {
        Provider::Easypost => {
            let api = EasyPost {
                client: &state.http,
                account,
            };
            api.buy(
                s.p.remote_shipment.as_deref().unwrap_or_default(),
                &chosen.rate_id,
            )
            .await
        }
        Provider::Shippo => {
            let api = Shippo {
                client: &state.http,
                account,
            };
            api.buy(&chosen.rate(), label_format(c), &s.p.id.to_string())
                .await
        }
        Provider::Simulated => return Ok(Next::Local(chosen.choice())),
    };
    let next = match bought {
        Ok(p) => answer(p),
        Err(e) => failed_call(e),
    };
    if matches!(next, Next::Bought(_)) {
        crate::infra::faults::pause_at("label.answered").await;
    }
    Ok(next)
}

pub(super) async fn poll(state: &Arc<AppState>, s: &Scene) -> Result<Next, RunError> {
    let chosen = chosen_of(&s.p)?;
    let Some(c) = s.p.carrier_id.and_then(|id| s.ctx.book.carrier(id)) else {
        return Ok(Next::Fail {
            why: "the carrier account is no longer active".into(),
            address: false,
        });
    };
    let account = match account_of(state, TenantId(s.p.tenant_id), c) {
        Ok(a) => a,
        Err(why) => {
            return Ok(Next::Fail {
                why,
                address: false,
            });
        }
    };
    let transaction = s.p.transaction_id.clone().unwrap_or_default();
    let api = Shippo {
        client: &state.http,
        account: &account,
    };
    Ok(match api.transaction(&transaction, &chosen.rate()).await {
        Ok(p) => answer(p),
        Err(e) => failed_call(e),
    })
}
