//! GraphQL of automation rules: save (checked, versioned), enable or disable, dry-run against
//! past orders, and the run log.

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::actions::{self, Action, Kind};
use super::service::{self, Rule, Run};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::order::graphql::types::Order;
use crate::tenancy::{Permission, TenantTx};
use crate::webhooks::pattern;

#[derive(Clone, Debug, SimpleObject, InputObject)]
#[graphql(input_name = "AutomationActionInput")]
pub struct AutomationAction {
    pub kind: Kind,
    /// The tag, the hold reason or the note.
    pub value: String,
}

#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct AutomationRule {
    pub id: ID,
    pub name: String,
    /// The timeline events it runs on: `order.screened`, `order.*`, `return.requested`…
    pub trigger: String,
    pub condition: String,
    pub actions: Vec<AutomationAction>,
    pub enabled: bool,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub key: uuid::Uuid,
}

impl From<Rule> for AutomationRule {
    fn from(r: Rule) -> Self {
        let list: Vec<Action> = serde_json::from_value(r.actions).unwrap_or_default();
        Self {
            id: global_id("AutomationRule", r.id),
            name: r.name,
            trigger: r.trigger,
            condition: r.condition,
            actions: list
                .into_iter()
                .map(|a| AutomationAction {
                    kind: a.kind,
                    value: a.value,
                })
                .collect(),
            enabled: r.enabled,
            version: r.version,
            updated_at: r.updated_at,
            key: r.id,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct AutomationRuleVersion {
    pub version: i32,
    pub name: String,
    pub trigger: String,
    pub condition: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

#[ComplexObject]
impl AutomationRule {
    /// Every saved version, oldest first.
    async fn versions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<AutomationRuleVersion>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = service::versions(&tx, self.key).await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|v| AutomationRuleVersion {
                version: v.version,
                name: v.name,
                trigger: v.trigger,
                condition: v.condition,
                enabled: v.enabled,
                created_at: v.created_at,
            })
            .collect())
    }
}

/// One run of a rule on one event.
#[derive(Clone, Debug, SimpleObject)]
pub struct AutomationRun {
    pub id: ID,
    pub rule_id: ID,
    pub rule_version: i32,
    pub event_kind: String,
    pub order_id: ID,
    pub matched: bool,
    /// What each action did.
    pub outcomes: Vec<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Run> for AutomationRun {
    fn from(r: Run) -> Self {
        Self {
            id: global_id("AutomationRun", r.id),
            rule_id: global_id("AutomationRule", r.rule_id),
            rule_version: r.rule_version,
            event_kind: r.event_kind,
            order_id: global_id("Order", r.order_id),
            matched: r.matched,
            outcomes: r
                .results
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|x| x["outcome"].as_str().map(str::to_owned))
                .collect(),
            error: r.error,
            created_at: r.created_at,
        }
    }
}

#[derive(InputObject)]
pub struct SaveAutomationRuleInput {
    /// Left out to make a new rule; given to save the rule's next version.
    pub id: Option<ID>,
    pub name: String,
    pub trigger: String,
    pub condition: String,
    pub actions: Vec<AutomationAction>,
    #[graphql(default = true)]
    pub enabled: bool,
}

#[derive(InputObject)]
pub struct AutomationRuleIdInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct AutomationRulePayload {
    pub rule: Option<AutomationRule>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct DryRunAutomationRuleInput {
    pub trigger: String,
    pub condition: String,
    /// How many of the latest orders to try (1 to 5,000).
    #[graphql(default = 1000)]
    pub last: i32,
}

#[derive(SimpleObject)]
pub struct DryRunResult {
    pub evaluated: i32,
    pub matched: i32,
    /// "This rule would have matched 37 of the last 1,000 orders."
    pub summary: String,
    /// The first 20 orders it matched, newest first.
    pub orders: Vec<Order>,
}

#[derive(SimpleObject)]
pub struct DryRunPayload {
    pub result: Option<DryRunResult>,
    pub user_errors: Vec<UserError>,
}

fn checked(
    name: &str,
    trigger: &str,
    condition: &str,
    list: &[AutomationAction],
) -> Result<Vec<Action>, UserError> {
    if name.trim().is_empty() || name.trim().chars().count() > 120 {
        return Err(UserError::on(
            "name",
            C::Invalid,
            "must be 1 to 120 characters",
        ));
    }
    pattern::check(trigger).map_err(|m| UserError::on("trigger", C::Invalid, m))?;
    service::condition(condition)
        .map_err(|e| UserError::on("condition", C::Invalid, e.to_string()))?;
    let list: Vec<Action> = list
        .iter()
        .map(|a| Action {
            kind: a.kind,
            value: a.value.trim().to_owned(),
        })
        .collect();
    actions::check(&list)
        .map_err(|(i, m)| UserError::at(&["actions", &i.to_string(), "value"], C::Invalid, m))?;
    Ok(list)
}

#[derive(Default)]
pub struct AutomationQuery;

#[Object]
impl AutomationQuery {
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn automation_rules(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<AutomationRule>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = service::rules(&tx).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The run log, newest first; of one rule when given.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn automation_runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        rule_id: Option<ID>,
    ) -> async_graphql::Result<Connection<String, AutomationRun>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let cursor = decode_cursor(after.as_deref())?;
        let rule = rule_id
            .map(|r| decode_id(&r, "AutomationRule", "ruleId"))
            .transpose()?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = service::runs(&tx, rule, cursor, limit + 1).await?;
        tx.commit().await?;
        let nodes = rows.into_iter().map(|r| (r.id, r.into())).collect();
        Ok(connection(nodes, limit, cursor.is_some()))
    }
}

#[derive(Default)]
pub struct AutomationMutation;

#[Object]
impl AutomationMutation {
    /// Saves a rule, checked first (each mistake names its field, and the condition's its
    /// column); saving an existing rule makes its next version.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn save_automation_rule(
        &self,
        ctx: &Context<'_>,
        input: SaveAutomationRuleInput,
    ) -> async_graphql::Result<AutomationRulePayload> {
        let p = principal(ctx)?;
        let id = input
            .id
            .as_ref()
            .map(|i| decode_id(i, "AutomationRule", "id"))
            .transpose()?;
        let st = state(ctx);
        let outcome: Outcome<Rule> = async {
            p.require(Permission::SettingsManage)?;
            let list = checked(
                &input.name,
                &input.trigger,
                &input.condition,
                &input.actions,
            )?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let now = Utc::now();
            let (base, new) = match id {
                Some(id) => match service::rule_for_update(&tx, id).await? {
                    Some(r) => (r, false),
                    None => return Err(UserError::on("id", C::NotFound, "no such rule").into()),
                },
                None => (
                    Rule {
                        tenant_id: p.tenant.uuid(),
                        id: uuid::Uuid::now_v7(),
                        name: String::new(),
                        trigger: String::new(),
                        condition: String::new(),
                        actions: serde_json::json!([]),
                        enabled: true,
                        version: 0,
                        updated_by: None,
                        created_at: now,
                        updated_at: now,
                    },
                    true,
                ),
            };
            let rule = Rule {
                name: input.name.trim().to_owned(),
                trigger: input.trigger.trim().to_owned(),
                condition: input.condition.trim().to_owned(),
                actions: serde_json::to_value(&list).unwrap_or_default(),
                enabled: input.enabled,
                version: base.version + 1,
                updated_by: p.actor.id(),
                updated_at: now,
                ..base
            };
            let saved = service::save(&tx, rule, new).await?;
            tx.commit().await?;
            Ok(saved)
        }
        .await;
        let (rule, user_errors) = payload(outcome)?;
        Ok(AutomationRulePayload {
            rule: rule.map(Into::into),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn delete_automation_rule(
        &self,
        ctx: &Context<'_>,
        input: AutomationRuleIdInput,
    ) -> async_graphql::Result<AutomationRulePayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.id, "AutomationRule", "id")?;
        let st = state(ctx);
        let outcome: Outcome<Rule> = async {
            p.require(Permission::SettingsManage)?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let Some(r) = service::rule(&tx, id).await? else {
                return Err(UserError::on("id", C::NotFound, "no such rule").into());
            };
            service::delete(&tx, id).await?;
            tx.commit().await?;
            Ok(r)
        }
        .await;
        let (rule, user_errors) = payload(outcome)?;
        Ok(AutomationRulePayload {
            rule: rule.map(Into::into),
            user_errors,
        })
    }

    /// What a condition would have matched among the latest orders, as they are now.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn dry_run_automation_rule(
        &self,
        ctx: &Context<'_>,
        input: DryRunAutomationRuleInput,
    ) -> async_graphql::Result<DryRunPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let outcome: Outcome<DryRunResult> = async {
            p.require(Permission::SettingsManage)?;
            pattern::check(&input.trigger).map_err(|m| UserError::on("trigger", C::Invalid, m))?;
            let condition = service::condition(&input.condition)
                .map_err(|e| UserError::on("condition", C::Invalid, e.to_string()))?;
            if !(1..=5000).contains(&input.last) {
                return Err(UserError::on("last", C::Invalid, "must be between 1 and 5000").into());
            }
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let run =
                service::dry_run(&tx, input.trigger.trim(), &condition, input.last as u64).await?;
            tx.commit().await?;
            let matched = run.matched.len();
            Ok(DryRunResult {
                evaluated: i32::try_from(run.evaluated).unwrap_or(i32::MAX),
                matched: i32::try_from(matched).unwrap_or(i32::MAX),
                summary: format!(
                    "This rule would have matched {matched} of the last {} orders.",
                    run.evaluated
                ),
                orders: run.matched.into_iter().take(20).map(Order::from).collect(),
            })
        }
        .await;
        let (result, user_errors) = payload(outcome)?;
        Ok(DryRunPayload {
            result,
            user_errors,
        })
    }
}
