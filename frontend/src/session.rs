//! Who is signed in, in which tenant, with which permissions. The shell reads it to show the
//! pages (or the sign-in form, in place, so the page survives a lapsed session) and the pages
//! read it to offer only the actions the role allows.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{self, ApiError};

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub timezone: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Membership {
    pub tenant: Tenant,
    pub role: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub email: Option<String>,
    /// Null for an API key.
    pub email_verified: Option<bool>,
    pub role: Option<String>,
    pub permissions: Vec<String>,
    pub memberships: Vec<Membership>,
    pub tenant: Tenant,
}

const ME: &str = "{ me { email emailVerified role permissions memberships { role tenant { id name currency timezone } } tenant { id name currency timezone } } }";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Status {
    /// Reading the stored session.
    Checking,
    SignedOut,
    SignedIn,
}

/// The session, shared through the context.
#[derive(Clone, Copy)]
pub struct Session {
    pub me: RwSignal<Option<Me>>,
    pub status: RwSignal<Status>,
}

impl Session {
    fn new() -> Self {
        let s = Self {
            me: RwSignal::new(None),
            status: RwSignal::new(Status::Checking),
        };
        if api::load_tokens().is_some() {
            s.reload();
        } else {
            s.status.set(Status::SignedOut);
        }
        s
    }

    /// Reads `me` again (after signing in or switching tenants).
    pub fn reload(self) {
        spawn_local(async move {
            match api::gql(ME, json!({})).await {
                Ok(data) => match serde_json::from_value::<Me>(data["me"].clone()) {
                    Ok(me) => {
                        self.me.set(Some(me));
                        self.status.set(Status::SignedIn);
                    }
                    Err(_) => self.signed_out(),
                },
                Err(ApiError::SignedOut) => self.signed_out(),
                // The server is unreachable or failing (a deploy, a blip): keep the session and
                // ask again shortly.
                Err(_) => {
                    gloo_timers::future::TimeoutFuture::new(3_000).await;
                    self.reload();
                }
            }
        });
    }

    pub fn signed_out(self) {
        api::clear_tokens();
        self.me.set(None);
        self.status.set(Status::SignedOut);
    }

    /// Whether the signed-in role has `permission` (e.g. `ORDERS_MANAGE`). Reactive.
    pub fn can(self, permission: &str) -> bool {
        self.me.with(|m| {
            m.as_ref()
                .is_some_and(|m| m.permissions.iter().any(|p| p == permission))
        })
    }

    /// The tenant's timezone ("" until known: the browser's own then).
    pub fn timezone(self) -> String {
        self.me.with(|m| {
            m.as_ref()
                .map(|m| m.tenant.timezone.clone())
                .unwrap_or_default()
        })
    }

    /// The tenant's currency ("" until known).
    pub fn currency(self) -> String {
        self.me.with(|m| {
            m.as_ref()
                .map(|m| m.tenant.currency.clone())
                .unwrap_or_default()
        })
    }

    /// Sorts an API error: a lapsed session shows the sign-in form in place.
    pub fn seen(self, e: &ApiError) {
        if *e == ApiError::SignedOut {
            self.signed_out();
        }
    }
}

thread_local! {
    // One session per page; event handlers and tasks run outside any reactive owner, so it is
    // kept here rather than only in the context.
    static CURRENT: std::cell::Cell<Option<Session>> = const { std::cell::Cell::new(None) };
}

/// The session of this page (made by the shell before any page).
pub fn session() -> Session {
    match CURRENT.with(std::cell::Cell::get) {
        Some(s) => s,
        None => {
            let s = Session::new();
            CURRENT.with(|c| c.set(Some(s)));
            s
        }
    }
}

/// Runs a query as the session; a lapsed session shows the sign-in form.
pub async fn query(q: &str, vars: Value) -> Result<Value, ApiError> {
    let out = api::gql(q, vars).await;
    if let Err(e) = &out {
        session().seen(e);
    }
    out
}

/// Runs a mutation as the session: its payload, or its user errors.
pub async fn mutation(q: &str, vars: Value, root: &str) -> Result<Value, ApiError> {
    let out = api::mutate(q, vars, root).await;
    if let Err(e) = &out {
        session().seen(e);
    }
    out
}
