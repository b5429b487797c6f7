//! Invitations by email, roles, and removal.

use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app, user_error_code};

const ROLE: &str = "mutation($i: UpdateMembershipRoleInput!) { updateMembershipRole(input: $i) { member { role user { email } } userErrors { field code message } } }";

async fn user_id(app: &crate::helpers::TestApp, token: &str) -> String {
    app.gql(Some(token), "{ me { id } }", json!({})).await["data"]["me"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_invitation_is_emailed_and_accepting_it_joins_the_tenant_with_its_role() {
    let app = spawn_app().await;
    let owner = app.sign_up("Team Shop", "owner@example.com").await;
    let body = app
        .gql(Some(&owner.access), "mutation { inviteUser(input: {email: \"Staffer@Example.com\", role: STAFF}) { invitation { email role status emailStatus } userErrors { code } } }", json!({}))
        .await;
    let invitation = &body["data"]["inviteUser"]["invitation"];
    assert_eq!(invitation["email"], "staffer@example.com", "{body}");
    assert_eq!(
        (
            invitation["status"].as_str(),
            invitation["emailStatus"].as_str()
        ),
        (Some("PENDING"), Some("SENT"))
    );

    let token = app.invitation_token_for("staffer@example.com");
    let accept = "mutation($i: AcceptInviteInput!) { acceptInvite(input: $i) { accessToken role tenant { name } userErrors { field code } } }";
    let body = app
        .gql(None, accept, json!({ "i": { "token": token } }))
        .await;
    assert_eq!(
        body["data"]["acceptInvite"]["userErrors"][0]["field"],
        json!(["input", "password"]),
        "a new user must choose a password"
    );

    let body = app
        .gql(
            None,
            accept,
            json!({ "i": { "token": token, "password": PASSWORD } }),
        )
        .await;
    assert_eq!(body["data"]["acceptInvite"]["role"], "STAFF", "{body}");
    assert_eq!(body["data"]["acceptInvite"]["tenant"]["name"], "Team Shop");

    let body = app
        .gql(
            None,
            accept,
            json!({ "i": { "token": token, "password": PASSWORD } }),
        )
        .await;
    assert_eq!(user_error_code(&body, "acceptInvite"), "INVITATION_USED");

    let members = app.gql(Some(&owner.access), "{ members { edges { node { role user { email } } } } invitations { edges { node { status } } } }", json!({})).await;
    assert_eq!(
        members["data"]["members"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        members["data"]["invitations"]["edges"][0]["node"]["status"],
        "ACCEPTED"
    );
}

#[tokio::test]
async fn an_existing_user_joins_a_second_tenant_as_themselves_never_by_the_link_alone() {
    let app = spawn_app().await;
    let a = app.sign_up("Shop A", "a@example.com").await;
    let b = app.sign_up("Shop B", "b@example.com").await;
    app.gql(Some(&a.access), "mutation { inviteUser(input: {email: \"b@example.com\", role: VIEWER}) { userErrors { code } } }", json!({})).await;
    let token = app.invitation_token_for("b@example.com");
    const ACCEPT: &str = "mutation($t: String!, $p: String) { acceptInvite(input: {token: $t, password: $p}) { role tenant { name } userErrors { field code } } }";
    // The link alone (a forwarded mail, a shared screen) or a wrong password: refused.
    for password in [None, Some("not b's password at all")] {
        let body = app
            .gql(None, ACCEPT, json!({ "t": token, "p": password }))
            .await;
        assert_eq!(
            user_error_code(&body, "acceptInvite"),
            "INVALID_CREDENTIALS",
            "{body}"
        );
    }
    // Signed in as b: joins, no password asked.
    let body = app
        .gql(Some(&b.access), ACCEPT, json!({ "t": token }))
        .await;
    assert_eq!(
        body["data"]["acceptInvite"]["tenant"]["name"], "Shop A",
        "{body}"
    );
    let login = app.login("b@example.com", PASSWORD, None).await;
    assert_eq!(
        login["data"]["login"]["availableTenants"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Signed out, b's own password does it too.
    let c = app.sign_up("Shop C", "c@example.com").await;
    app.gql(Some(&c.access), "mutation { inviteUser(input: {email: \"b@example.com\", role: STAFF}) { userErrors { code } } }", json!({})).await;
    let token = app.invitation_token_for("b@example.com");
    let body = app
        .gql(None, ACCEPT, json!({ "t": token, "p": PASSWORD }))
        .await;
    assert_eq!(
        body["data"]["acceptInvite"]["tenant"]["name"], "Shop C",
        "{body}"
    );
}

#[tokio::test]
async fn a_revoked_or_resent_invitation_link_stops_working() {
    let app = spawn_app().await;
    let owner = app.sign_up("Invites", "inv@example.com").await;
    let body = app.gql(Some(&owner.access), "mutation { inviteUser(input: {email: \"x@example.com\", role: STAFF}) { invitation { id } } }", json!({})).await;
    let id = body["data"]["inviteUser"]["invitation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = app.invitation_token_for("x@example.com");
    app.gql(
        Some(&owner.access),
        "mutation($id: ID!) { resendInvitation(input: {id: $id}) { userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    let second = app.invitation_token_for("x@example.com");
    assert_ne!(first, second);
    let accept = "mutation($t: String!) { acceptInvite(input: {token: $t, password: \"a fine password\"}) { accessToken userErrors { code } } }";
    assert_eq!(
        user_error_code(
            &app.gql(None, accept, json!({ "t": first })).await,
            "acceptInvite"
        ),
        "TOKEN_INVALID"
    );

    app.gql(
        Some(&owner.access),
        "mutation($id: ID!) { revokeInvitation(input: {id: $id}) { invitation { status } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        user_error_code(
            &app.gql(None, accept, json!({ "t": second })).await,
            "acceptInvite"
        ),
        "TOKEN_INVALID"
    );
}

#[tokio::test]
async fn roles_change_at_once_and_a_tenant_always_keeps_an_owner() {
    let app = spawn_app().await;
    let owner = app.sign_up("Roles", "boss@example.com").await;
    let admin = app.add_member(&owner, "admin@example.com", "ADMIN").await;
    let staff = app.add_member(&owner, "staff@example.com", "STAFF").await;
    let owner_id = user_id(&app, &owner.access).await;
    let staff_id = user_id(&app, &staff.access).await;

    // The last owner cannot step down.
    let body = app
        .gql(
            Some(&owner.access),
            ROLE,
            json!({ "i": { "userId": owner_id, "role": "ADMIN" } }),
        )
        .await;
    assert_eq!(user_error_code(&body, "updateMembershipRole"), "LAST_OWNER");

    // An admin may not create owners.
    let body = app
        .gql(
            Some(&admin.access),
            ROLE,
            json!({ "i": { "userId": staff_id, "role": "OWNER" } }),
        )
        .await;
    assert_eq!(user_error_code(&body, "updateMembershipRole"), "FORBIDDEN");

    // Demoting staff to viewer takes effect on their very next request.
    assert!(
        app.gql(
            Some(&staff.access),
            "{ members { edges { node { id } } } }",
            json!({})
        )
        .await["errors"]
            .is_null()
    );
    let body = app
        .gql(
            Some(&admin.access),
            ROLE,
            json!({ "i": { "userId": staff_id, "role": "VIEWER" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateMembershipRole"]["member"]["role"], "VIEWER",
        "{body}"
    );
    let body = app
        .gql(
            Some(&staff.access),
            "{ members { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(crate::helpers::error_code(&body), "FORBIDDEN");

    // Removal ends their access, including refresh.
    let body = app.gql(Some(&owner.access), "mutation($u: ID!) { removeMember(input: {userId: $u}) { member { role } userErrors { code } } }", json!({ "u": staff_id })).await;
    assert_eq!(
        body["data"]["removeMember"]["userErrors"],
        json!([]),
        "{body}"
    );
    let (status, _) = app
        .post(Some(&staff.access), "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 401);
    let body = app.gql(None, "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { userErrors { code } } }", json!({ "t": staff.refresh })).await;
    assert_eq!(user_error_code(&body, "refreshToken"), "TOKEN_INVALID");

    // Unknown members are named as such.
    let body = app
        .gql(
            Some(&owner.access),
            ROLE,
            json!({ "i": { "userId": "bm90LWEtdXNlcg", "role": "STAFF" } }),
        )
        .await;
    assert_eq!(crate::helpers::error_code(&body), "BAD_USER_INPUT");
}
