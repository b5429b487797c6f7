use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app, spawn_with, user_error_code};

const REFRESH: &str = "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken refreshToken userErrors { field code message } } }";

const ME: &str = "{ me { id email role tenant { id name } memberships { role tenant { name } } } }";

#[tokio::test]
async fn sign_up_then_login_then_me_shows_the_owner_and_their_tenant() {
    let app = spawn_app().await;
    let owner = app.sign_up("Acme Outfitters", "Ann@Example.com").await;

    let body = app.login("ann@example.com", PASSWORD, None).await;
    let login = &body["data"]["login"];
    assert_eq!(login["role"], "OWNER");
    assert_eq!(login["tenant"]["id"], owner.tenant_id.as_str());
    let token = login["accessToken"].as_str().unwrap();

    let me = app.gql(Some(token), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "ann@example.com", "{me}");
    assert_eq!(me["data"]["me"]["role"], "OWNER");
    assert_eq!(me["data"]["me"]["tenant"]["name"], "Acme Outfitters");
}

#[tokio::test]
async fn data_survives_a_restart() {
    let app = spawn_app().await;
    app.sign_up("Persistent Shop", "keep@example.com").await;
    let settings = app.stop().await;

    let app = spawn_with(settings).await;
    let body = app.login("keep@example.com", PASSWORD, None).await;
    assert_eq!(
        body["data"]["login"]["tenant"]["name"], "Persistent Shop",
        "{body}"
    );
}

#[tokio::test]
async fn a_user_in_two_tenants_picks_one_at_login_and_can_switch() {
    let app = spawn_app().await;
    let first = app.sign_up("First Store", "multi@example.com").await;
    // Signing up again with the same password adds a tenant to the same user.
    let second = app.sign_up("Second Store", "multi@example.com").await;
    assert_ne!(first.tenant_id, second.tenant_id);

    let body = app.login("multi@example.com", PASSWORD, None).await;
    assert_eq!(
        body["data"]["login"]["tenant"]["id"],
        first.tenant_id.as_str(),
        "the first joined is the default"
    );
    assert_eq!(
        body["data"]["login"]["availableTenants"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let body = app
        .login("multi@example.com", PASSWORD, Some(&second.tenant_id))
        .await;
    assert_eq!(body["data"]["login"]["tenant"]["name"], "Second Store");

    let switched = app
        .gql(
            Some(&first.access),
            "mutation($i: SwitchTenantInput!) { switchTenant(input: $i) { accessToken tenant { name } userErrors { code } } }",
            json!({ "i": { "tenantId": second.tenant_id } }),
        )
        .await;
    let token = switched["data"]["switchTenant"]["accessToken"]
        .as_str()
        .unwrap();
    let me = app.gql(Some(token), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["tenant"]["name"], "Second Store");
    assert_eq!(me["data"]["me"]["memberships"].as_array().unwrap().len(), 2);

    // A tenant the user does not belong to is refused.
    let other = app.sign_up("Stranger Store", "stranger@example.com").await;
    let body = app
        .login("multi@example.com", PASSWORD, Some(&other.tenant_id))
        .await;
    assert_eq!(user_error_code(&body, "login"), "NOT_A_MEMBER");
}

#[tokio::test]
async fn signing_up_with_a_taken_email_reveals_nothing_and_takes_nothing() {
    let app = spawn_app().await;
    let original = app.sign_up("Original", "taken@example.com").await;
    // Another password: answered like any sign-up, with a shop of the caller's own.
    let body = app
        .gql(
            None,
            "mutation { signUp(input: {tenantName: \"Copycat\", email: \"taken@example.com\", password: \"a different password\"}) { accessToken tenant { name } userErrors { field code } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["signUp"]["userErrors"], json!([]), "{body}");
    assert_eq!(body["data"]["signUp"]["tenant"]["name"], "Copycat");
    let copycat = body["data"]["signUp"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = app
        .gql(
            Some(&copycat),
            "{ me { emailVerified memberships { role } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["emailVerified"], false, "{me}");
    assert_eq!(me["data"]["me"]["memberships"].as_array().unwrap().len(), 1);
    // The owner's account is untouched: their password, their one shop.
    let login = app.login("taken@example.com", PASSWORD, None).await;
    assert_eq!(
        login["data"]["login"]["tenant"]["name"], "Original",
        "{login}"
    );
    assert_eq!(
        login["data"]["login"]["availableTenants"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The copycat's confirmation link went to the owner's mailbox, and it confirms nothing
    // for the owner's account either.
    let token = app.link_token_for("taken@example.com", "verify-email?token=");
    let body = app
        .gql(
            Some(&original.access),
            "mutation($t: String!) { verifyEmail(input: {token: $t}) { success userErrors { code } } }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(
        user_error_code(&body, "verifyEmail"),
        "TOKEN_INVALID",
        "{body}"
    );
    // Signing up with the right password adds a shop to the owner's account, as before.
    let more = app
        .gql(
            None,
            "mutation($p: String!) { signUp(input: {tenantName: \"Second\", email: \"taken@example.com\", password: $p}) { userErrors { code } } }",
            json!({ "p": PASSWORD }),
        )
        .await;
    assert_eq!(more["data"]["signUp"]["userErrors"], json!([]), "{more}");
    let login = app.login("taken@example.com", PASSWORD, None).await;
    assert_eq!(
        login["data"]["login"]["availableTenants"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_ends_the_whole_family() {
    let app = spawn_app().await;
    let owner = app.sign_up("Rotation", "rot@example.com").await;

    let body = app.gql(None, REFRESH, json!({ "t": owner.refresh })).await;
    let second = body["data"]["refreshToken"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second, owner.refresh);
    let access = body["data"]["refreshToken"]["accessToken"]
        .as_str()
        .unwrap();
    assert_eq!(
        app.gql(Some(access), ME, json!({})).await["data"]["me"]["email"],
        "rot@example.com"
    );

    // The first token again: reuse. It fails, and so does its successor from then on.
    let body = app.gql(None, REFRESH, json!({ "t": owner.refresh })).await;
    assert_eq!(user_error_code(&body, "refreshToken"), "TOKEN_REUSED");
    let body = app.gql(None, REFRESH, json!({ "t": second })).await;
    assert_eq!(user_error_code(&body, "refreshToken"), "TOKEN_INVALID");

    // Nonsense is refused with a field-named error.
    let body = app.gql(None, REFRESH, json!({ "t": "ofr_garbage" })).await;
    assert_eq!(
        body["data"]["refreshToken"]["userErrors"][0]["field"],
        json!(["input", "refreshToken"])
    );
}

#[tokio::test]
async fn logout_ends_the_session_of_its_refresh_token() {
    let app = spawn_app().await;
    let owner = app.sign_up("Logout", "bye@example.com").await;
    let body = app
        .gql(None, "mutation($t: String) { logout(input: {refreshToken: $t}) { success userErrors { code } } }", json!({ "t": owner.refresh }))
        .await;
    assert_eq!(body["data"]["logout"]["success"], true, "{body}");
    let body = app.gql(None, REFRESH, json!({ "t": owner.refresh })).await;
    assert_eq!(user_error_code(&body, "refreshToken"), "TOKEN_INVALID");
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_the_new_password_works() {
    let app = spawn_app().await;
    let owner = app.sign_up("Passwords", "pw@example.com").await;
    let q = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { accessToken userErrors { field code } } }";

    let body = app.gql(Some(&owner.access), q, json!({ "i": { "currentPassword": "not it at all", "newPassword": "a brand new password" } })).await;
    assert_eq!(
        body["data"]["changePassword"]["userErrors"][0]["field"],
        json!(["input", "currentPassword"])
    );

    let body = app
        .gql(
            Some(&owner.access),
            q,
            json!({ "i": { "currentPassword": PASSWORD, "newPassword": "short" } }),
        )
        .await;
    assert_eq!(
        user_error_code(&body, "changePassword"),
        "PASSWORD_TOO_SHORT"
    );

    let body = app
        .gql(
            Some(&owner.access),
            q,
            json!({ "i": { "currentPassword": PASSWORD, "newPassword": "a brand new password" } }),
        )
        .await;
    assert_eq!(
        body["data"]["changePassword"]["userErrors"],
        json!([]),
        "{body}"
    );
    let body = app.gql(None, REFRESH, json!({ "t": owner.refresh })).await;
    assert_eq!(
        user_error_code(&body, "refreshToken"),
        "TOKEN_INVALID",
        "old sessions ended"
    );
    assert_eq!(
        user_error_code(&app.login("pw@example.com", PASSWORD, None).await, "login"),
        "INVALID_CREDENTIALS"
    );
    assert!(
        app.login("pw@example.com", "a brand new password", None)
            .await["data"]["login"]["accessToken"]
            .is_string()
    );
}

/// A login from `ip` (the app trusts X-Forwarded-For, as behind a proxy).
async fn login_from(
    app: &crate::helpers::TestApp,
    ip: &str,
    email: &str,
    password: &str,
) -> serde_json::Value {
    app.client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", ip)
        .json(&json!({
            "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken userErrors { code message } } }",
            "variables": { "i": { "email": email, "password": password } },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn login_outcome(body: &serde_json::Value) -> String {
    if body["data"]["login"]["accessToken"].is_string() {
        return "OK".into();
    }
    match body["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => code.to_owned(),
        None => user_error_code(body, "login"),
    }
}

#[tokio::test]
async fn a_password_guesser_is_slowed_and_stopped_but_the_owner_is_never_locked_out() {
    let mut settings = crate::helpers::fresh_settings().await;
    settings.trust_proxy = true;
    let app = crate::helpers::spawn_with(settings).await;
    app.sign_up("Limits", "limit@example.com").await;
    // The owner signs in from home.
    let home = "198.51.100.7";
    assert_eq!(
        login_outcome(&login_from(&app, home, "limit@example.com", PASSWORD).await),
        "OK"
    );
    // A guesser's first failures are answered as failures…
    for _ in 0..5 {
        let body = login_from(
            &app,
            "203.0.113.9",
            "limit@example.com",
            "wrong password here",
        )
        .await;
        assert_eq!(login_outcome(&body), "INVALID_CREDENTIALS", "{body}");
    }
    // …then every new client waits between tries, even with the right password, and is told
    // how long (at most five minutes: a pause, not a lockout).
    for ip in ["203.0.113.9", "203.0.113.10", "192.0.2.44"] {
        let body = login_from(&app, ip, "limit@example.com", PASSWORD).await;
        assert_eq!(login_outcome(&body), "RATE_LIMITED", "{ip}: {body}");
        let message = body["data"]["login"]["userErrors"][0]["message"]
            .as_str()
            .unwrap();
        let wait: u64 = message
            .split_whitespace()
            .find_map(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no wait in {message}"));
        assert!((1..=300).contains(&wait), "{message}");
    }
    // The owner's own client goes straight in.
    assert_eq!(
        login_outcome(&login_from(&app, home, "limit@example.com", PASSWORD).await),
        "OK"
    );
    // Another account from the guesser's client is not affected.
    app.sign_up("Other", "fine@example.com").await;
    assert_eq!(
        login_outcome(&login_from(&app, "203.0.113.9", "fine@example.com", PASSWORD).await),
        "OK"
    );
    // A forged X-Forwarded-For entry to the left of the proxy's is not believed: the
    // right-most is the client.
    let body = login_from(
        &app,
        &format!("{home}, 203.0.113.9"),
        "limit@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(login_outcome(&body), "RATE_LIMITED", "{body}");
}

#[tokio::test]
async fn an_api_key_authenticates_with_its_scopes_and_stops_working_when_revoked() {
    let app = spawn_app().await;
    let owner = app.sign_up("Keys", "keys@example.com").await;
    let (id, secret) = app.create_api_key(&owner, &["TENANT_READ"]).await;

    let me = app
        .gql(
            Some(&secret),
            "{ me { id email permissions tenant { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["data"]["me"]["permissions"],
        json!(["TENANT_READ"]),
        "{me}"
    );
    assert_eq!(me["data"]["me"]["email"], json!(null));
    assert_eq!(me["data"]["me"]["tenant"]["name"], "Keys");

    // The listing never shows the secret, only its prefix.
    let list = app
        .gql(
            Some(&owner.access),
            "{ apiKeys(first: 10) { edges { node { id prefix scopes } } } }",
            json!({}),
        )
        .await;
    let listed = list.to_string();
    assert!(!listed.contains(&secret));
    assert!(
        secret.contains(
            list["data"]["apiKeys"]["edges"][0]["node"]["prefix"]
                .as_str()
                .unwrap()
                .trim_start_matches("ofk_…")
        )
    );

    let body = app.gql(Some(&owner.access), "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { revokedAt } userErrors { code } } }", json!({ "id": id })).await;
    assert!(
        body["data"]["revokeApiKey"]["apiKey"]["revokedAt"].is_string(),
        "{body}"
    );
    let (status, body) = app.post(Some(&secret), "{ me { id } }", json!({})).await;
    assert_eq!(
        (status, crate::helpers::error_code(&body)),
        (401, "API_KEY_REVOKED")
    );
}

#[tokio::test]
async fn api_keys_cannot_carry_scopes_reserved_to_people() {
    let app = spawn_app().await;
    let owner = app.sign_up("Scopes", "scopes@example.com").await;
    let body = app
        .gql(Some(&owner.access), "mutation { createApiKey(input: {name: \"x\", scopes: [API_KEYS_MANAGE]}) { secret userErrors { field code } } }", json!({}))
        .await;
    assert_eq!(user_error_code(&body, "createApiKey"), "SCOPE_NOT_ALLOWED");
    assert_eq!(body["data"]["createApiKey"]["secret"], json!(null));
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_an_emailed_link_once() {
    let app = crate::helpers::spawn_app().await;
    let owner = app.sign_up("Reset Shop", "forgetful@reset.example").await;
    const REQUEST: &str = "mutation($e: String!) { requestPasswordReset(input: {email: $e}) { success userErrors { field code } } }";
    const RESET: &str = "mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) { success userErrors { field code } } }";
    // The same answer for an address without an account, and no mail.
    for email in ["forgetful@reset.example", "nobody@reset.example"] {
        let body = app
            .gql(None, REQUEST, serde_json::json!({ "e": email }))
            .await;
        assert_eq!(
            body["data"]["requestPasswordReset"]["success"], true,
            "{body}"
        );
    }
    let bad = app
        .gql(None, REQUEST, serde_json::json!({ "e": "not an address" }))
        .await;
    assert_eq!(
        bad["data"]["requestPasswordReset"]["userErrors"][0]["field"],
        serde_json::json!(["input", "email"])
    );
    // The link arrives (sent after the answer).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mail = loop {
        let found = crate::notify::outbox(&app).into_iter().find(|m| {
            m.to == "forgetful@reset.example" && m.text.contains("/reset-password?token=")
        });
        if let Some(m) = found {
            break m;
        }
        assert!(std::time::Instant::now() < deadline, "no reset email");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(
        crate::notify::outbox(&app)
            .iter()
            .all(|m| m.to != "nobody@reset.example")
    );
    let link = mail
        .text
        .split_whitespace()
        .find(|w| w.contains("/reset-password?token="))
        .unwrap()
        .to_owned();
    let token = link
        .split("token=")
        .nth(1)
        .unwrap()
        .trim_end_matches(['.', ','])
        .to_owned();
    let short = app
        .gql(None, RESET, serde_json::json!({ "t": token, "p": "short" }))
        .await;
    assert_eq!(
        short["data"]["resetPassword"]["userErrors"][0]["field"],
        serde_json::json!(["input", "newPassword"])
    );
    let done = app
        .gql(
            None,
            RESET,
            serde_json::json!({ "t": token, "p": "a brand new passphrase" }),
        )
        .await;
    assert_eq!(done["data"]["resetPassword"]["success"], true, "{done}");
    let again = app
        .gql(
            None,
            RESET,
            serde_json::json!({ "t": token, "p": "another new passphrase" }),
        )
        .await;
    assert_eq!(
        crate::helpers::user_error_code(&again, "resetPassword"),
        "TOKEN_REUSED"
    );
    // The new password works, the old one does not, and the old session's refresh is gone.
    let new_login = app
        .login("forgetful@reset.example", "a brand new passphrase", None)
        .await;
    assert!(
        new_login["data"]["login"]["accessToken"].is_string(),
        "{new_login}"
    );
    let old_login = app
        .login("forgetful@reset.example", crate::helpers::PASSWORD, None)
        .await;
    assert_eq!(
        crate::helpers::user_error_code(&old_login, "login"),
        "INVALID_CREDENTIALS"
    );
    let refreshed = app.gql(None, "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken userErrors { code } } }", serde_json::json!({ "t": owner.refresh })).await;
    assert!(
        refreshed["data"]["refreshToken"]["accessToken"].is_null(),
        "{refreshed}"
    );
    app.stop().await;
}
