//! The invitation link's page: signed in, join as that account; signed out, choose a password
//! for a new account (or give the password of the address's existing one); signed in
//! afterwards.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde_json::json;

use crate::api::{self, ApiError};
use crate::session::{Status, session};

#[component]
pub fn AcceptInvite() -> impl IntoView {
    let params = use_query_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let navigate = use_navigate();
    let accept = Action::new_local(move |_: &()| {
        let (t, p) = (token(), password.get_untracked());
        let navigate = navigate.clone();
        async move {
            let q = "mutation($i: AcceptInviteInput!) { acceptInvite(input: $i) { accessToken accessTokenExpiresAt refreshToken userErrors { field message code } } }";
            let p = Some(p).filter(|p| !p.is_empty());
            let vars = json!({ "i": { "token": t, "password": p } });
            // Signed in, the invitation is accepted as this account.
            let answer = if session().status.get_untracked() == Status::SignedIn {
                api::mutate(q, vars, "acceptInvite").await
            } else {
                api::public_mutation(q, vars, "acceptInvite").await
            };
            match answer {
                Ok(payload) => {
                    api::keep(&payload);
                    navigate(
                        "/",
                        NavigateOptions {
                            replace: true,
                            ..Default::default()
                        },
                    );
                    session().reload();
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    view! {
        <form class="login" on:submit=move |ev| { ev.prevent_default(); accept.dispatch(()); }>
            <h1>"Join the shop"</h1>
            <p class="muted">{move || match session().me.get().and_then(|m| m.email) {
                Some(email) if session().status.get() == Status::SignedIn => format!("Signed in as {email}: if the invitation is for this address, join without a password."),
                _ => "Choose a password for your new account. If this address already has an Orderflow account, give its password instead.".to_owned(),
            }}</p>
            <label for="accept-password">"Password (at least 12 characters)"</label>
            <input id="accept-password" type="password" autocomplete="new-password" prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            <div class="field-error">{move || error.get().and_then(|e| e.on("password"))}</div>
            {move || error.get().filter(|e| e.on("password").is_none()).map(|e| view! { <div class="notice error" role="alert">{e.describe()}</div> })}
            <button class="primary" type="submit">"Join"</button>
        </form>
    }
}
