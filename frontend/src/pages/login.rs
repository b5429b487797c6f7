//! Signing in. Shown in place of any page while signed out, so the URL (a deep link, or the page
//! a lapsed session was on) is where the user lands afterwards.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::session::session;

#[component]
pub fn Login() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::login(&email.get_untracked(), &password.get_untracked()).await {
                Ok(_) => session().reload(),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let on = move |field: &'static str| move || error.get().and_then(|e| e.on(field));
    view! {
        <form class="login" on:submit=submit aria-label="Sign in">
            <h1>"Orderflow"</h1>
            <label for="login-email">"Email"</label>
            <input id="login-email" name="email" type="email" autocomplete="username" required
                prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
            <div class="field-error">{on("email")}</div>
            <label for="login-password">"Password"</label>
            <input id="login-password" name="password" type="password" autocomplete="current-password" required
                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            <div class="field-error">{on("password")}</div>
            {move || error.get().filter(|e| e.on("email").is_none() && e.on("password").is_none()).map(|e| view! {
                <div class="notice error" role="alert">{e.describe()}</div>
            })}
            <button class="primary" type="submit" disabled=move || busy.get()>
                {move || if busy.get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}
