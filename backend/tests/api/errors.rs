//! Bad input and bad credentials: each gets a clear error with a stable code, and nothing is
//! half-written.

use chrono::{Duration, Utc};
use orderflow::domain::{TenantId, UserId};
use orderflow::infra::jwt::JwtKeys;
use serde_json::json;

use crate::helpers::{JWT_SECRET, PASSWORD, count_rows, error_code, spawn_app, user_error_code};

const SIGN_UP: &str = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken userErrors { field message code } } }";

#[tokio::test]
async fn malformed_email_and_short_password_name_their_field_and_create_nothing() {
    let app = spawn_app().await;
    let body = app
        .gql(
            None,
            SIGN_UP,
            json!({ "i": { "tenantName": "Shop", "email": "not-an-email", "password": PASSWORD } }),
        )
        .await;
    let err = &body["data"]["signUp"]["userErrors"][0];
    assert_eq!(
        (err["code"].as_str(), &err["field"]),
        (Some("INVALID_EMAIL"), &json!(["input", "email"])),
        "{body}"
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("name@example.com")
    );

    let body = app.gql(None, SIGN_UP, json!({ "i": { "tenantName": "Shop", "email": "ok@example.com", "password": "short" } })).await;
    let err = &body["data"]["signUp"]["userErrors"][0];
    assert_eq!(
        (err["code"].as_str(), &err["field"]),
        (Some("PASSWORD_TOO_SHORT"), &json!(["input", "password"]))
    );

    let body = app
        .gql(
            None,
            SIGN_UP,
            json!({ "i": { "tenantName": "  ", "email": "ok@example.com", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(
        body["data"]["signUp"]["userErrors"][0]["field"],
        json!(["input", "tenantName"])
    );

    assert_eq!(count_rows(&app, "tenants").await, 0);
    assert_eq!(count_rows(&app, "users").await, 0);

    let body = app.login("not-an-email", PASSWORD, None).await;
    assert_eq!(user_error_code(&body, "login"), "INVALID_EMAIL");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.sign_up("Shop", "real@example.com").await;
    let wrong = app
        .login("real@example.com", "not the password", None)
        .await;
    let unknown = app.login("nobody@example.com", PASSWORD, None).await;
    assert_eq!(user_error_code(&wrong, "login"), "INVALID_CREDENTIALS");
    assert_eq!(
        wrong["data"]["login"]["userErrors"],
        unknown["data"]["login"]["userErrors"]
    );
    assert_eq!(wrong["data"]["login"]["accessToken"], json!(null));
}

#[tokio::test]
async fn expired_tampered_and_malformed_tokens_are_refused_with_401_and_a_code() {
    let app = spawn_app().await;
    let owner = app.sign_up("Tokens", "tok@example.com").await;
    let keys = JwtKeys::new(JWT_SECRET.as_bytes());

    let (expired, _) = keys
        .issue(
            UserId::new(),
            TenantId::new(),
            Utc::now() - Duration::hours(2),
        )
        .unwrap();
    let (status, body) = app.post(Some(&expired), "{ me { id } }", json!({})).await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "TOKEN_EXPIRED"),
        "{body}"
    );

    let mut tampered = owner.access.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (status, body) = app.post(Some(&tampered), "{ me { id } }", json!({})).await;
    assert_eq!((status, error_code(&body)), (401, "TOKEN_INVALID"));

    let forged = JwtKeys::new(b"someone else's secret, also long enough")
        .issue(UserId::new(), TenantId::new(), Utc::now())
        .unwrap()
        .0;
    let (status, body) = app.post(Some(&forged), "{ me { id } }", json!({})).await;
    assert_eq!((status, error_code(&body)), (401, "TOKEN_INVALID"));

    let res = app
        .client
        .post(app.url("/graphql"))
        .header("authorization", "Basic abc")
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn no_credentials_means_unauthenticated_not_an_empty_answer() {
    let app = spawn_app().await;
    let body = app.gql(None, "{ me { id } }", json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(body["data"], json!(null));
}

#[tokio::test]
async fn over_deep_and_over_complex_queries_are_refused_before_running() {
    let app = spawn_app().await;
    let owner = app.sign_up("Limits", "deep@example.com").await;
    let mut deep = String::from("{ __schema { types { fields { type ");
    for _ in 0..14 {
        deep.push_str("{ ofType ");
    }
    deep.push_str("{ name }");
    for _ in 0..14 {
        deep.push('}');
    }
    deep.push_str(" } } } }");
    let body = app.gql(Some(&owner.access), &deep, json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_DEEP", "{body}");

    // Pages of 100, four connections deep in aliases: over the complexity budget.
    let wide: String = (0..60)
        .map(|i| format!("a{i}: members(first: 100) {{ edges {{ node {{ id role }} }} }} "))
        .collect();
    let body = app
        .gql(Some(&owner.access), &format!("{{ {wide} }}"), json!({}))
        .await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");

    let body = app.gql(Some(&owner.access), "{ me { id ", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED", "{body}");
    let body = app
        .gql(Some(&owner.access), "{ me { noSuchField } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
}

#[tokio::test]
async fn page_sizes_outside_bounds_are_bad_input_naming_the_argument() {
    let app = spawn_app().await;
    let owner = app.sign_up("Paging", "page@example.com").await;
    let body = app
        .gql(
            Some(&owner.access),
            "{ members(first: 1000) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "first");
}
