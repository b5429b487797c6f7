//! The address-confirmation link's page: confirms the signed-in user's email with the link's
//! token (signed out, the sign-in form shows here first, so only the account's owner confirms).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use serde_json::json;

use crate::api::{self, ApiError};
use crate::session::session;

const VERIFY: &str = "mutation($t: String!) { verifyEmail(input: {token: $t}) { success userErrors { field message code } } }";

#[component]
pub fn VerifyEmail() -> impl IntoView {
    let params = use_query_map();
    let outcome = RwSignal::new(None::<Result<(), ApiError>>);
    let token = params.with_untracked(|p| p.get("token").unwrap_or_default());
    spawn_local(async move {
        let result = api::mutate(VERIFY, json!({ "t": token }), "verifyEmail")
            .await
            .map(|_| ());
        if result.is_ok() {
            session().reload();
        }
        outcome.set(Some(result));
    });
    view! {
        <h1>"Confirm your email address"</h1>
        {move || match outcome.get() {
            None => view! { <p role="status">"Confirming…"</p> }.into_any(),
            Some(Ok(())) => view! { <div class="notice ok" role="status">"Your address is confirmed. "<a href="/">"Go to the dashboard"</a></div> }.into_any(),
            Some(Err(e)) => view! {
                <div class="notice error" role="alert">{e.describe()}</div>
                <ResendVerification/>
            }.into_any(),
        }}
    }
}

/// A button that mails a new confirmation link to the signed-in user.
#[component]
pub fn ResendVerification() -> impl IntoView {
    let sent = RwSignal::new(None::<Result<(), ApiError>>);
    let resend = move |_| {
        spawn_local(async move {
            let q = "mutation { resendVerificationEmail { success userErrors { field message code } } }";
            sent.set(Some(
                api::mutate(q, json!({}), "resendVerificationEmail")
                    .await
                    .map(|_| ()),
            ));
        });
    };
    view! {
        <button class="link" on:click=resend>"Send a new link"</button>
        {move || sent.get().map(|r| match r {
            Ok(()) => view! { <span class="small" role="status">" Sent: check your mail."</span> }.into_any(),
            Err(e) => view! { <span class="small" role="alert">{format!(" {}", e.describe())}</span> }.into_any(),
        })}
    }
}
