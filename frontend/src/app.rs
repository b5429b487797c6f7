//! The shell: the router, the navigation, the tenant switch and sign-out. A page whose session
//! lapsed shows the sign-in form in its place and comes back after signing in, at the same URL.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::api;
use crate::pages::{
    accept, dashboard, inbox, inventory, login, orders, returns, review, settings, verify,
};
use crate::session::{Status, session};

#[component]
pub fn App() -> impl IntoView {
    let s = session();
    view! {
        <Router>
            {move || match s.status.get() {
                Status::Checking => view! { <div class="boot" role="status">"Loading Orderflow…"</div> }.into_any(),
                // The invitation link works without a session: it makes one.
                Status::SignedOut if on_invitation() => view! { <accept::AcceptInvite/> }.into_any(),
                Status::SignedOut => view! { <login::Login/> }.into_any(),
                Status::SignedIn => view! { <Shell/> }.into_any(),
            }}
        </Router>
    }
}

fn on_invitation() -> bool {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|p| p == "/accept-invite")
}

#[component]
fn Shell() -> impl IntoView {
    view! {
        <div class="shell">
            <Nav/>
            <main>
                <Unverified/>
                <Routes fallback=|| view! { <h1>"Not found"</h1><p>"There is no such page. "<a href="/">"Back to the dashboard"</a></p> }>
                    <Route path=path!("/") view=dashboard::Dashboard/>
                    <Route path=path!("/orders") view=orders::list::Orders/>
                    <Route path=path!("/orders/:id") view=orders::detail::OrderDetail/>
                    <Route path=path!("/review") view=review::Review/>
                    <Route path=path!("/returns") view=returns::Returns/>
                    <Route path=path!("/rma/:id") view=returns::ReturnDetail/>
                    <Route path=path!("/inbox") view=inbox::Inbox/>
                    <Route path=path!("/inbox/:id") view=inbox::Thread/>
                    <Route path=path!("/inventory") view=inventory::Inventory/>
                    <Route path=path!("/settings") view=settings::team::Team/>
                    <Route path=path!("/settings/team") view=settings::team::Team/>
                    <Route path=path!("/settings/api-keys") view=settings::keys::ApiKeys/>
                    <Route path=path!("/settings/channels") view=settings::channels::Channels/>
                    <Route path=path!("/settings/rules") view=settings::rules::Rules/>
                    <Route path=path!("/settings/webhooks") view=settings::webhooks::Webhooks/>
                    <Route path=path!("/settings/warehouses") view=settings::warehouses::Warehouses/>
                    <Route path=path!("/settings/carriers") view=settings::carriers::Carriers/>
                    <Route path=path!("/settings/payments") view=settings::payments::Payments/>
                    <Route path=path!("/settings/templates") view=settings::templates::Templates/>
                    <Route path=path!("/accept-invite") view=accept::AcceptInvite/>
                    <Route path=path!("/verify-email") view=verify::VerifyEmail/>
                </Routes>
            </main>
        </div>
    }
}

/// Reminds a user whose address is not confirmed (they cannot join other shops until it is).
#[component]
fn Unverified() -> impl IntoView {
    let s = session();
    let unconfirmed = move || {
        s.me.get()
            .filter(|m| m.email_verified == Some(false))
            .and_then(|m| m.email)
    };
    let on_verify_page = move || {
        web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .is_some_and(|p| p == "/verify-email")
    };
    view! {
        <Show when=move || unconfirmed().is_some() && !on_verify_page()>
            <div class="notice info" role="status">
                {move || format!("Confirm your email address: we sent a link to {}. ", unconfirmed().unwrap_or_default())}
                <verify::ResendVerification/>
            </div>
        </Show>
    }
}

#[component]
fn Nav() -> impl IntoView {
    let s = session();
    let switch = move |ev: leptos::ev::Event| {
        let tenant = event_target_value(&ev);
        spawn_local(async move {
            match api::switch_tenant(&tenant).await {
                // Every page's data and live feed belong to the shop: start over in the new one.
                Ok(()) => {
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().assign("/");
                    }
                }
                Err(e) => s.seen(&e),
            }
        });
    };
    let sign_out = move |_| {
        spawn_local(async move {
            api::logout().await;
            s.signed_out();
        });
    };
    let me = move || s.me.get();
    view! {
        <nav class="nav" aria-label="Main">
            <div class="brand">"Orderflow"</div>
            <A href="/" exact=true>"Dashboard"</A>
            <A href="/orders">"Orders"</A>
            <A href="/review">"Review queue"</A>
            <A href="/returns">"Returns"</A>
            <A href="/inbox">"Inbox"</A>
            <A href="/inventory">"Inventory"</A>
            // Settings are for those who manage something there.
            <Show when=move || ["MEMBERS_READ", "SETTINGS_MANAGE", "API_KEYS_MANAGE", "CHANNELS_MANAGE"].iter().any(|p| s.can(p))>
                <A href="/settings">"Settings"</A>
            </Show>
            <div class="grow"></div>
            <div class="who">
                <div>{move || me().and_then(|m| m.email).unwrap_or_default()}</div>
                <div class="small">{move || me().and_then(|m| m.role).map(|r| crate::fmt::words(&r)).unwrap_or_default()}</div>
                <label class="small" for="tenant-switch">"Shop"</label>
                <select id="tenant-switch" on:change=switch>
                    {move || {
                        let m = me();
                        let current = m.as_ref().map(|m| m.tenant.id.clone()).unwrap_or_default();
                        m.map(|m| m.memberships).unwrap_or_default().into_iter().map(|t| {
                            let selected = t.tenant.id == current;
                            view! { <option value=t.tenant.id.clone() selected=selected>{t.tenant.name.clone()}</option> }
                        }).collect_view()
                    }}
                </select>
                <button class="link" on:click=sign_out>"Sign out"</button>
            </div>
        </nav>
    }
}
