//! Users, roles and invitations: members with their role (changed at once), invitations by
//! email with their delivery status, resent or revoked.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::tabs;
use crate::api::ApiError;
use crate::fmt;
use crate::session::{mutation, query, session};
use crate::widgets::{Confirm, error_notice, loaded, mutation_action};

const TEAM: &str = "{ members(first: 100) { nodes { id role joinedAt user { email } } } invitations(first: 100) { nodes { id email role status emailStatus emailError expiresAt } } }";
const ROLES: [&str; 4] = ["OWNER", "ADMIN", "STAFF", "VIEWER"];

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[component]
pub fn Team() -> impl IntoView {
    let reload = RwSignal::new(0_u32);
    let team = LocalResource::new(move || {
        reload.track();
        async move { query(TEAM, json!({})).await }
    });
    let email = RwSignal::new(String::new());
    let role = RwSignal::new("STAFF".to_owned());
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let invite = Action::new_local(move |_: &()| {
        let (e, r) = (email.get_untracked(), role.get_untracked());
        async move {
            let q = "mutation($e: String!, $r: Role!) { inviteUser(input: {email: $e, role: $r}) { invitation { email } userErrors { field message code } } }";
            match mutation(q, json!({ "e": e, "r": r }), "inviteUser").await {
                Ok(p) => {
                    error.set(None);
                    email.set(String::new());
                    notice.set(Some(format!(
                        "Invitation emailed to {}.",
                        s(&p["invitation"]["email"])
                    )));
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    });
    let change_role = move |user: String, to: String| {
        leptos::task::spawn_local(async move {
            let q = "mutation($u: ID!, $r: Role!) { updateMembershipRole(input: {userId: $u, role: $r}) { userErrors { field message code } } }";
            match mutation(q, json!({ "u": user, "r": to }), "updateMembershipRole").await {
                Ok(_) => notice.set(Some("Role changed.".into())),
                Err(e) => error.set(Some(e)),
            }
            reload.update(|n| *n += 1);
        });
    };
    view! {
        {tabs()}
        {move || notice.get().map(|m| view! { <div class="notice ok" role="status">{m}</div> })}
        {move || error.get().map(|e| error_notice(&e))}
        {move || loaded(team.get(), move |d| {
            let manage = session().can("MEMBERS_MANAGE");
            let owner = session().me.with(|m| m.as_ref().and_then(|m| m.role.clone()).is_some_and(|r| r == "OWNER"));
            let tz = session().timezone();
            let members = d["members"]["nodes"].as_array().cloned().unwrap_or_default();
            let invitations: Vec<Value> = d["invitations"]["nodes"].as_array().cloned().unwrap_or_default().into_iter().filter(|i| i["status"] == "PENDING").collect();
            view! {
                <h2>"Members"</h2>
                <div class="table-wrap"><table id="members">
                    <thead><tr><th>"Email"</th><th>"Role"</th><th>"Joined"</th><th></th></tr></thead>
                    <tbody>{members.into_iter().map(|m| {
                        let user = s(&m["id"]);
                        let current = s(&m["role"]);
                        let email = s(&m["user"]["email"]);
                        let u2 = user.clone();
                        view! { <tr>
                            <td>{email.clone()}</td>
                            <td>{if manage { view! {
                                <select aria-label=format!("Role of {email}") on:change=move |ev| change_role(u2.clone(), event_target_value(&ev))>
                                    {ROLES.iter().filter(|r| **r != "OWNER" || owner || current == "OWNER").map(|r| view! { <option value=*r selected=*r == current>{fmt::words(r)}</option> }).collect_view()}
                                </select>
                            }.into_any() } else { fmt::words(&current).into_any() }}</td>
                            <td>{fmt::date(m["joinedAt"].as_str().unwrap_or_default(), &tz)}</td>
                            <td>{manage.then(|| view! { <Confirm label="Remove" danger=true question=format!("Remove {email} from this shop?")
                                action=mutation_action("removeMember", "mutation($u: ID!) { removeMember(input: {userId: $u}) { userErrors { field message code } } }".into(), json!({ "u": user }), reload)/> })}</td>
                        </tr> }
                    }).collect_view()}</tbody>
                </table></div>
                <h2>"Pending invitations"</h2>
                {if invitations.is_empty() { view! { <p class="muted">"None."</p> }.into_any() } else { view! {
                    <div class="table-wrap"><table id="invitations">
                        <thead><tr><th>"Email"</th><th>"Role"</th><th>"Email sent"</th><th>"Expires"</th><th></th></tr></thead>
                        <tbody>{invitations.into_iter().map(|i| {
                            let id = s(&i["id"]);
                            view! { <tr>
                                <td>{s(&i["email"])}</td><td>{fmt::words(&s(&i["role"]))}</td>
                                <td>{fmt::words(&s(&i["emailStatus"]))}<div class="small field-error">{s(&i["emailError"])}</div></td>
                                <td>{fmt::date(i["expiresAt"].as_str().unwrap_or_default(), &tz)}</td>
                                <td>{manage.then(|| view! {
                                    <Confirm label="Resend" question="Send the invitation again (the old link stops working)?".to_owned()
                                        action=mutation_action("resendInvitation", "mutation($i: ID!) { resendInvitation(input: {id: $i}) { userErrors { field message code } } }".into(), json!({ "i": id.clone() }), reload)/>
                                    <Confirm label="Revoke" danger=true question="Revoke the invitation?".to_owned()
                                        action=mutation_action("revokeInvitation", "mutation($i: ID!) { revokeInvitation(input: {id: $i}) { userErrors { field message code } } }".into(), json!({ "i": id.clone() }), reload)/>
                                })}</td>
                            </tr> }
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any() }}
            }.into_any()
        })}
        <Show when=move || session().can("MEMBERS_MANAGE")>
            <div class="card">
                <h2>"Invite someone"</h2>
                <form class="form" on:submit=move |ev| { ev.prevent_default(); notice.set(None); invite.dispatch(()); }>
                    <label for="invite-email">"Email"</label>
                    <input id="invite-email" type="email" required prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
                    <div class="field-error">{move || error.get().and_then(|e| e.on("email"))}</div>
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" on:change=move |ev| role.set(event_target_value(&ev))>
                        <option value="ADMIN">"Admin — everything but ownership"</option>
                        <option value="STAFF" selected=true>"Staff — works orders, returns and messages"</option>
                        <option value="VIEWER">"Viewer — sees everything, changes nothing"</option>
                        {move || session().me.with(|m| m.as_ref().and_then(|m| m.role.clone()).is_some_and(|r| r == "OWNER")).then(|| view! { <option value="OWNER">"Owner"</option> })}
                    </select>
                    <div class="actions"><button class="primary" type="submit" id="invite-send">"Send invitation"</button></div>
                </form>
            </div>
        </Show>
    }
}
