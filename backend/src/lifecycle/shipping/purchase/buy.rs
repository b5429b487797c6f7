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
use crate::lifecycle::shipping::remote::{
    Account, LabelFormat, Provider, Purchase, RemoteError, RemoteRate,
};
use crate::state::AppState;

pub(super) fn chosen_of(p: &label_purchases::Model) -> Result<Chosen, RunError> {
    serde_json::from_value(p.rate.clone().unwrap_or_default())
        .map_err(|e| RunError::Db(DbErr::Custom(format!("the stored rate is unreadable: {e}"))))
}

/// One purchase's calls to its provider: the account, the provider's shipment and the rate
/// being bought, under the purchase's idempotency key. Shared by the parcel's label job and
/// the return label's.
pub(crate) struct Buying<'a> {
    pub state: &'a AppState,
    pub carrier: &'a CarrierSetup,
    pub account: Account,
    /// The provider's shipment the rate belongs to.
    pub shipment: &'a str,
    pub rate: RemoteRate,
    /// Orderflow's key for the purchase (Shippo finds a transaction by it).
    pub key: String,
    pub format: LabelFormat,
}

impl Buying<'_> {
    fn easypost(&self) -> EasyPost<'_> {
        EasyPost {
            client: &self.state.http,
            account: &self.account,
        }
    }

    fn shippo(&self) -> Shippo<'_> {
        Shippo {
            client: &self.state.http,
            account: &self.account,
        }
    }

    /// What the provider already has for this purchase (an earlier run may have bought
    /// before it could write the answer down).
    pub async fn find(&self) -> Result<Option<Purchase>, RemoteError> {
        match self.carrier.provider {
            Provider::Easypost => self
                .easypost()
                .shipment(self.shipment)
                .await
                .map(|(_, label)| label.map(Purchase::Bought)),
            Provider::Shippo => self.shippo().find(&self.rate, &self.key).await,
            Provider::Simulated => Ok(None),
        }
    }

    /// Buys the rate: the call that spends money.
    pub async fn buy(&self) -> Result<Purchase, RemoteError> {
        let bought = match self.carrier.provider {
            Provider::Easypost => self.easypost().buy(self.shipment, &self.rate.id).await,
            Provider::Shippo => self.shippo().buy(&self.rate, self.format, &self.key).await,
            Provider::Simulated => Err(RemoteError::Refused(
                "a simulated carrier sells no postage".into(),
            )),
        };
        if matches!(bought, Ok(Purchase::Bought(_))) {
            crate::infra::faults::pause_at("label.answered").await;
        }
        bought
    }

    /// Asks about a queued transaction (Shippo's QUEUED).
    pub async fn poll(&self, transaction: &str) -> Result<Purchase, RemoteError> {
        self.shippo().transaction(transaction, &self.rate).await
    }
}

/// A parcel purchase's calls to its provider.
fn buying<'a>(
    state: &'a Arc<AppState>,
    s: &'a Scene,
    account: &Account,
    c: &'a CarrierSetup,
    chosen: &Chosen,
) -> Buying<'a> {
    Buying {
        state,
        carrier: c,
        account: account.clone(),
        shipment: s.p.remote_shipment.as_deref().unwrap_or_default(),
        rate: chosen.rate(),
        key: s.p.id.to_string(),
        format: label_format(c),
    }
}

/// The purchase's carrier and its opened account, or why there is none.
fn carrier_of<'a>(
    state: &Arc<AppState>,
    s: &'a Scene,
) -> Result<(&'a CarrierSetup, Account), String> {
    let c =
        s.p.carrier_id
            .and_then(|id| s.ctx.book.carrier(id))
            .ok_or("the carrier account is no longer active")?;
    let account = account_of(state, TenantId(s.p.tenant_id), c)?;
    Ok((c, account))
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
    let (c, account) = match carrier_of(state, s) {
        Ok(found) => found,
        Err(why) => {
            return Ok(Next::Fail {
                why,
                address: false,
            });
        }
    };
    let calls = buying(state, s, &account, c, &chosen);
    match calls.find().await {
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
    if c.provider == Provider::Simulated {
        return Ok(Next::Local(chosen.choice()));
    }
    Ok(match buying(state, s, account, c, &chosen).buy().await {
        Ok(p) => answer(p),
        Err(e) => failed_call(e),
    })
}

pub(super) async fn poll(state: &Arc<AppState>, s: &Scene) -> Result<Next, RunError> {
    let chosen = chosen_of(&s.p)?;
    let (c, account) = match carrier_of(state, s) {
        Ok(found) => found,
        Err(why) => {
            return Ok(Next::Fail {
                why,
                address: false,
            });
        }
    };
    let transaction = s.p.transaction_id.clone().unwrap_or_default();
    Ok(
        match buying(state, s, &account, c, &chosen)
            .poll(&transaction)
            .await
        {
            Ok(p) => answer(p),
            Err(e) => failed_call(e),
        },
    )
}
