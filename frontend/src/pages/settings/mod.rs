//! Settings, one page per area, with a shared tab bar.

pub mod carriers;
pub mod channels;
pub mod keys;
pub mod rules;
pub mod team;
pub mod templates;
pub mod warehouses;
pub mod webhooks;

use leptos::prelude::*;
use leptos_router::components::A;

/// The tabs over every settings page.
pub fn tabs() -> impl IntoView {
    view! {
        <h1>"Settings"</h1>
        <nav class="bar tabs" aria-label="Settings">
            <A href="/settings/team">"Team"</A>
            <A href="/settings/api-keys">"API keys"</A>
            <A href="/settings/channels">"Channels"</A>
            <A href="/settings/warehouses">"Warehouses"</A>
            <A href="/settings/carriers">"Carriers"</A>
            <A href="/settings/templates">"Email templates"</A>
            <A href="/settings/rules">"Automation rules"</A>
            <A href="/settings/webhooks">"Outbound webhooks"</A>
        </nav>
    }
}
