//! The GraphQL client: one POST per operation with the session's bearer token, renewed shortly
//! before it lapses. Refresh tokens are single use (a reused one ends the session), so one
//! renewal runs at a time and a renewal another tab made is picked up instead of repeated.

use std::cell::RefCell;

use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use gloo_net::http::Request;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const ENDPOINT: &str = "/graphql";
const STORAGE_KEY: &str = "orderflow.session";
/// Renew when less than this is left of the access token (ms).
const RENEW_AHEAD_MS: f64 = 60_000.0;

/// A mutation's complaint about one input field.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct UserError {
    pub field: Vec<String>,
    pub message: String,
    pub code: String,
}

impl UserError {
    /// The field's name as the form knows it: the last part of the path that is not an index.
    pub fn field_name(&self) -> &str {
        self.field
            .iter()
            .rev()
            .find(|p| p.parse::<usize>().is_err())
            .map_or("", String::as_str)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// No session, or it ended: sign in again.
    SignedOut,
    /// The caller may not do this.
    Forbidden(String),
    /// A mutation refused its input, field by field.
    User(Vec<UserError>),
    /// Anything else, said in words.
    Message(String),
}

impl ApiError {
    /// What to show the user.
    pub fn describe(&self) -> String {
        match self {
            Self::SignedOut => "Your session has ended. Sign in again.".into(),
            Self::Forbidden(m) => format!("Not allowed: {m}"),
            Self::User(list) => list
                .iter()
                .map(|e| {
                    let f = e.field_name();
                    if f.is_empty() || f == "input" {
                        e.message.clone()
                    } else {
                        format!("{f}: {}", e.message)
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
            Self::Message(m) => m.clone(),
        }
    }

    /// The user error naming `field`, if any.
    pub fn on(&self, field: &str) -> Option<String> {
        match self {
            Self::User(list) => list
                .iter()
                .find(|e| e.field_name() == field)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// What the browser keeps of a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    /// Milliseconds since the epoch.
    pub expires_at: f64,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

pub fn load_tokens() -> Option<Tokens> {
    let raw = storage()?.get_item(STORAGE_KEY).ok().flatten()?;
    serde_json::from_str(&raw).ok()
}

pub fn save_tokens(t: &Tokens) {
    if let (Some(s), Ok(raw)) = (storage(), serde_json::to_string(t)) {
        let _ = s.set_item(STORAGE_KEY, &raw);
    }
}

pub fn clear_tokens() {
    if let Some(s) = storage() {
        let _ = s.remove_item(STORAGE_KEY);
    }
}

/// The tokens of an `AuthPayload`, stored; `None` when it carries none.
pub fn keep(payload: &Value) -> Option<Tokens> {
    let access = payload["accessToken"].as_str()?;
    let refresh = payload["refreshToken"].as_str()?;
    let expires = payload["accessTokenExpiresAt"].as_str().unwrap_or_default();
    let t = Tokens {
        access: access.to_owned(),
        refresh: refresh.to_owned(),
        expires_at: js_sys::Date::parse(expires),
    };
    save_tokens(&t);
    Some(t)
}

type Renewal = Shared<LocalBoxFuture<'static, Result<Tokens, ApiError>>>;

thread_local! {
    static RENEWING: RefCell<Option<Renewal>> = const { RefCell::new(None) };
}

async fn post(body: &Value, token: Option<&str>) -> Result<Value, ApiError> {
    let mut req = Request::post(ENDPOINT).header("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let resp = req
        .body(body.to_string())
        .map_err(|e| ApiError::Message(e.to_string()))?
        .send()
        .await
        .map_err(|_| {
            ApiError::Message(
                "Orderflow cannot be reached. Check your connection and try again.".into(),
            )
        })?;
    let status = resp.status();
    let json: Value = resp.json().await.map_err(|_| {
        ApiError::Message(format!(
            "The server answered {status} without a readable body."
        ))
    })?;
    Ok(json)
}

fn classify(errors: &Value) -> Option<ApiError> {
    let list = errors.as_array().filter(|l| !l.is_empty())?;
    let code_of = |e: &Value| {
        e["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // No session, or its access token lapsed or cannot be read: renew, else sign in again.
    let gone = ["UNAUTHENTICATED", "TOKEN_EXPIRED", "TOKEN_INVALID"];
    if list.iter().any(|e| gone.contains(&code_of(e).as_str())) {
        return Some(ApiError::SignedOut);
    }
    let messages: Vec<String> = list
        .iter()
        .map(|e| e["message"].as_str().unwrap_or("error").to_owned())
        .collect();
    if list.iter().any(|e| code_of(e) == "FORBIDDEN") {
        return Some(ApiError::Forbidden(messages.join("; ")));
    }
    Some(ApiError::Message(messages.join("; ")))
}

async fn renew_now(stale: Tokens) -> Result<Tokens, ApiError> {
    // Another tab may have renewed already: its tokens are the ones to use.
    if let Some(current) = load_tokens()
        && current.refresh != stale.refresh
    {
        return Ok(current);
    }
    let body = json!({
        "query": "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken accessTokenExpiresAt refreshToken userErrors { field message code } } }",
        "variables": { "t": stale.refresh },
    });
    let answer = post(&body, None).await?;
    let payload = &answer["data"]["refreshToken"];
    match keep(payload) {
        Some(t) => Ok(t),
        None => {
            clear_tokens();
            Err(ApiError::SignedOut)
        }
    }
}

/// Fresh tokens: the stored ones, renewed first when they are about to lapse (or `force`).
pub async fn fresh_tokens(force: bool) -> Result<Tokens, ApiError> {
    let t = load_tokens().ok_or(ApiError::SignedOut)?;
    if !force && t.expires_at - js_sys::Date::now() > RENEW_AHEAD_MS {
        return Ok(t);
    }
    let shared = RENEWING.with(|r| {
        r.borrow_mut()
            .get_or_insert_with(|| {
                async move {
                    let out = renew_now(t).await;
                    // Done: the next renewal is a new one (cleared here, once, not by each waiter).
                    RENEWING.with(|r| r.borrow_mut().take());
                    out
                }
                .boxed_local()
                .shared()
            })
            .clone()
    });
    shared.await
}

/// Runs an operation as the signed-in user; `data` on success.
pub async fn gql(query: &str, variables: Value) -> Result<Value, ApiError> {
    let body = json!({ "query": query, "variables": variables });
    let mut tokens = fresh_tokens(false).await?;
    for attempt in 0..2 {
        let answer = post(&body, Some(&tokens.access)).await?;
        match classify(&answer["errors"]) {
            None => return Ok(answer["data"].clone()),
            // The token may have been revoked or have lapsed in flight: renew once.
            Some(ApiError::SignedOut) if attempt == 0 => tokens = fresh_tokens(true).await?,
            Some(e) => return Err(e),
        }
    }
    Err(ApiError::SignedOut)
}

/// Runs a mutation and returns its payload (`data[root]`), or its user errors.
pub async fn mutate(query: &str, variables: Value, root: &str) -> Result<Value, ApiError> {
    payload_of(&gql(query, variables).await?, root)
}

/// A mutation's payload, or its user errors.
fn payload_of(data: &Value, root: &str) -> Result<Value, ApiError> {
    let payload = data[root].clone();
    let errors: Vec<UserError> =
        serde_json::from_value(payload["userErrors"].clone()).unwrap_or_default();
    if errors.is_empty() {
        Ok(payload)
    } else {
        Err(ApiError::User(errors))
    }
}

/// Runs a mutation that needs no session (signing in, accepting an invitation): its payload,
/// or its user errors.
pub async fn public_mutation(query: &str, variables: Value, root: &str) -> Result<Value, ApiError> {
    let answer = post(&json!({ "query": query, "variables": variables }), None).await?;
    if let Some(e) = classify(&answer["errors"]) {
        return Err(e);
    }
    payload_of(&answer["data"], root)
}

/// Downloads a file the server hands out only with the bearer token (labels, packing slips):
/// fetched with it, then saved from memory under `name`.
pub async fn download(path: &str, name: &str) -> Result<(), ApiError> {
    use wasm_bindgen::JsCast;
    let tokens = fresh_tokens(false).await?;
    let resp = Request::get(path)
        .header("Authorization", &format!("Bearer {}", tokens.access))
        .send()
        .await
        .map_err(|e| ApiError::Message(e.to_string()))?;
    if !resp.ok() {
        return Err(ApiError::Message(format!(
            "the file could not be fetched ({})",
            resp.status()
        )));
    }
    let bytes = resp
        .binary()
        .await
        .map_err(|e| ApiError::Message(e.to_string()))?;
    let type_ = resp
        .headers()
        .get("content-type")
        .unwrap_or_else(|| "application/octet-stream".into());
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(&type_);
    let failed = |_| ApiError::Message("the browser could not save the file".into());
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(failed)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(failed)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| ApiError::Message("no document".into()))?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(failed)?
        .dyn_into()
        .map_err(|_| ApiError::Message("no anchor".into()))?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Signs in; the payload (tenant, role, tenants) when it worked.
pub async fn login(email: &str, password: &str) -> Result<Value, ApiError> {
    let payload = public_mutation(
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { accessToken accessTokenExpiresAt refreshToken userErrors { field message code } } }",
        json!({ "e": email, "p": password }),
        "login",
    )
    .await?;
    keep(&payload).ok_or_else(|| ApiError::Message("the sign-in answer had no session".into()))?;
    Ok(payload)
}

/// Ends this browser's session on the server too.
pub async fn logout() {
    if let Some(t) = load_tokens() {
        let _ = gql(
            "mutation($t: String) { logout(input: {refreshToken: $t}) { success } }",
            json!({ "t": t.refresh }),
        )
        .await;
    }
    clear_tokens();
}

/// Acts in another tenant from now on.
pub async fn switch_tenant(tenant: &str) -> Result<(), ApiError> {
    let payload = mutate(
        "mutation($t: ID!) { switchTenant(input: {tenantId: $t}) { accessToken accessTokenExpiresAt refreshToken userErrors { field message code } } }",
        json!({ "t": tenant }),
        "switchTenant",
    )
    .await?;
    // The old session stays valid until it lapses; this tab now uses the new one.
    keep(&payload).ok_or_else(|| ApiError::Message("the switch answer had no session".into()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(path: &[&str]) -> UserError {
        UserError {
            field: path.iter().map(|p| (*p).to_owned()).collect(),
            message: "is wrong".into(),
            code: "INVALID".into(),
        }
    }

    #[test]
    fn a_user_error_lands_on_its_field_not_on_an_index() {
        let e = ApiError::User(vec![
            error(&["input", "lines", "0"]),
            error(&["input", "address", "country"]),
        ]);
        assert_eq!(e.on("lines").as_deref(), Some("is wrong"));
        assert_eq!(e.on("country").as_deref(), Some("is wrong"));
        assert_eq!(e.on("city"), None);
        assert_eq!(e.describe(), "lines: is wrong; country: is wrong");
        assert_eq!(
            ApiError::User(vec![error(&["input"])]).describe(),
            "is wrong"
        );
    }

    #[test]
    fn graphql_errors_are_sorted_by_their_code() {
        let gone = json!([{ "message": "no", "extensions": { "code": "UNAUTHENTICATED" } }]);
        assert_eq!(classify(&gone), Some(ApiError::SignedOut));
        for code in ["TOKEN_EXPIRED", "TOKEN_INVALID"] {
            let lapsed =
                json!([{ "message": "the token is not valid", "extensions": { "code": code } }]);
            assert_eq!(classify(&lapsed), Some(ApiError::SignedOut), "{code}");
        }
        let denied =
            json!([{ "message": "needs ORDERS_MANAGE", "extensions": { "code": "FORBIDDEN" } }]);
        assert_eq!(
            classify(&denied),
            Some(ApiError::Forbidden("needs ORDERS_MANAGE".into()))
        );
        assert_eq!(classify(&json!(null)), None);
        assert_eq!(classify(&json!([])), None);
    }
}
