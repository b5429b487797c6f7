//! Settings, one page per area, with a shared tab bar.

pub mod carriers;
pub mod channel_stock;
pub mod channels;
pub mod keys;
pub mod payments;
pub mod rules;
pub mod team;
pub mod templates;
pub mod warehouses;
pub mod webhooks;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::session::session;

/// The tabs over every settings page.
pub fn tabs() -> impl IntoView {
    view! {
        <h1>"Settings"</h1>
        <nav class="bar tabs" aria-label="Settings">
            {[
                ("/settings/team", "Team", "MEMBERS_READ"),
                ("/settings/api-keys", "API keys", "API_KEYS_MANAGE"),
                ("/settings/channels", "Channels", "CHANNELS_MANAGE"),
                ("/settings/warehouses", "Warehouses", "CATALOG_READ"),
                ("/settings/carriers", "Carriers", "SETTINGS_MANAGE"),
                ("/settings/payments", "Payments", "SETTINGS_MANAGE"),
                ("/settings/templates", "Email templates", "SETTINGS_MANAGE"),
                ("/settings/rules", "Automation rules", "SETTINGS_MANAGE"),
                ("/settings/webhooks", "Outbound webhooks", "SETTINGS_MANAGE"),
            ]
            .into_iter()
            .filter(|(_, _, p)| session().can(p))
            .map(|(href, label, _)| view! { <A href=href>{label}</A> })
            .collect_view()}
        </nav>
    }
}
