//! Customer communication: each tenant's sender and automation settings, its edited
//! templates, every email sent (the outbox row that makes sending idempotent), suppressed
//! addresses, support threads and their messages; and password resets (global, like users).

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000008_notify"
    }
}

const TABLES: [&str; 7] = [
    "order_reviews",
    "notification_settings",
    "notification_templates",
    "notifications",
    "email_suppressions",
    "support_threads",
    "support_messages",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(tenant_table(
                "notification_settings",
                vec![
                    uuid_col(c("tenant_id")),
                    // The From of the tenant's mail; the platform's sender when unset.
                    opt_text_col(c("sender_name")),
                    opt_text_col(c("sender_address")),
                    opt_text_col(c("reply_to")),
                    // Locale for shoppers whose own is unknown, e.g. en_US.
                    text_col(c("default_locale")),
                    // Days after delivery to ask for a review; 0 turns it off.
                    int_col("review_request_days"),
                    bool_col("auto_reply"),
                    // Percent: below it, an inbound message goes to staff.
                    int_col("auto_reply_confidence"),
                    // Kinds the tenant does not send (e.g. the channel already confirms orders).
                    json_col("disabled_kinds"),
                    // Sealed token the inbound-mail webhook must present.
                    opt_long_text("inbound_secret"),
                    time_col(c("updated_at")),
                ],
                &["tenant_id"],
            ))
            .await?;

        manager
            .create_table(tenant_table(
                "notification_templates",
                vec![
                    uuid_col(c("tenant_id")),
                    text_col(c("kind")),
                    long_text("subject"),
                    long_text("text_body"),
                    long_text("html_body"),
                    int_col("version"),
                    opt_uuid("updated_by"),
                    time_col(c("updated_at")),
                ],
                &["tenant_id", "kind"],
            ))
            .await?;

        // One row per email: written with the event that causes it, so a message exists
        // once per (kind, order, event) however often its job runs.
        manager
            .create_table(tenant_table(
                "notifications",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    text_col(c("kind")),
                    // kind:order:event (or kind:subject for mail about no order).
                    text_col(c("dedupe_key")),
                    opt_uuid("order_id"),
                    opt_uuid("event_id"),
                    opt_uuid("thread_id"),
                    opt_uuid("support_message_id"),
                    text_col(c("recipient")),
                    // What the template needs beyond the order: the shipment, the exception…
                    json_col("context"),
                    // queued, sent, failed, bounced, suppressed
                    text_col(c("status")),
                    opt_long_text("subject"),
                    // Our Message-ID, fixed before the first attempt (so a receiver sees a
                    // resend after a crash as the same message).
                    text_col(c("message_id")),
                    opt_long_text("in_reply_to"),
                    opt_long_text("reference_ids"),
                    opt_text_col(c("locale")),
                    int_col("attempts"),
                    // When the last attempt began: an attempt younger than a job lease is
                    // still in flight, and nobody else sends meanwhile.
                    opt_time("attempted_at"),
                    opt_long_text("last_error"),
                    opt_long_text("bounce_reason"),
                    time_col(c("created_at")),
                    opt_time("sent_at"),
                    opt_time("bounced_at"),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "notifications",
            "notifications_dedupe_key",
            &["tenant_id", "dedupe_key"],
            true,
        )
        .await?;
        index(
            manager,
            "notifications",
            "notifications_order_idx",
            &["tenant_id", "order_id"],
            false,
        )
        .await?;
        index(
            manager,
            "notifications",
            "notifications_message_id_idx",
            &["tenant_id", "message_id"],
            false,
        )
        .await?;

        manager
            .create_table(tenant_table(
                "email_suppressions",
                vec![
                    uuid_col(c("tenant_id")),
                    text_col(c("email")),
                    // review_request (unsubscribed), or all (hard bounce)
                    text_col(c("scope")),
                    text_col(c("reason")),
                    time_col(c("created_at")),
                ],
                &["tenant_id", "email", "scope"],
            ))
            .await?;

        manager
            .create_table(tenant_table(
                "support_threads",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    opt_uuid("customer_id"),
                    opt_uuid("order_id"),
                    text_col(c("email")),
                    opt_text_col(c("customer_name")),
                    long_text("subject"),
                    // open, waiting (on the shopper), closed
                    text_col(c("status")),
                    opt_text_col(c("intent")),
                    opt_int_col(c("confidence")),
                    // needs_staff, auto_replied, replied, closed
                    text_col(c("handling")),
                    int_col("message_count"),
                    time_col(c("last_message_at")),
                    time_col(c("created_at")),
                    time_col(c("updated_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "support_threads",
            "support_threads_recent_idx",
            &["tenant_id", "last_message_at"],
            false,
        )
        .await?;
        index(
            manager,
            "support_threads",
            "support_threads_order_idx",
            &["tenant_id", "order_id"],
            false,
        )
        .await?;
        index(
            manager,
            "support_threads",
            "support_threads_email_idx",
            &["tenant_id", "email"],
            false,
        )
        .await?;

        let mut messages = tenant_table(
            "support_messages",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                uuid_col(c("thread_id")),
                // inbound, outbound
                text_col(c("direction")),
                // email, api, staff, auto
                text_col(c("source")),
                text_col(c("from_address")),
                opt_text_col(c("from_name")),
                text_col(c("to_address")),
                long_text("subject"),
                long_text("text_body"),
                opt_long_text("html_body"),
                // The RFC 5322 Message-ID (without brackets), for threading and dedupe.
                text_col(c("message_id")),
                opt_long_text("in_reply_to"),
                opt_long_text("reference_ids"),
                opt_text_col(c("intent")),
                opt_int_col(c("confidence")),
                // Per-intent scores, the order context and the reasons behind the handling.
                opt_json("classification"),
                opt_long_text("suggested_reply"),
                // An action staff confirm with one click: {kind, orderId, possible, reason, …}
                opt_json("proposed_action"),
                // proposed, confirmed, dismissed, failed
                opt_text_col(c("action_status")),
                opt_uuid("author_id"),
                opt_text_col(c("author_label")),
                time_col(c("created_at")),
            ],
            &["tenant_id", "id"],
        );
        messages.foreign_key(&mut scoped_fk(
            c("support_messages"),
            c("thread_id"),
            c("support_threads"),
            c("id"),
        ));
        manager.create_table(messages).await?;
        index(
            manager,
            "support_messages",
            "support_messages_thread_idx",
            &["tenant_id", "thread_id", "created_at"],
            false,
        )
        .await?;
        index(
            manager,
            "support_messages",
            "support_messages_message_id_key",
            &["tenant_id", "message_id"],
            true,
        )
        .await?;

        // The shopper's answer to a review request.
        manager
            .create_table(tenant_table(
                "order_reviews",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("order_id")),
                    int_col("rating"),
                    opt_long_text("comment"),
                    time_col(c("created_at")),
                    time_col(c("updated_at")),
                ],
                &["tenant_id", "order_id"],
            ))
            .await?;

        // Global, like users: a reset is asked for by email, before any tenant is known.
        manager
            .create_table(
                Table::create()
                    .table(c("password_resets"))
                    .col(uuid_col(c("id")).primary_key())
                    .col(uuid_col(c("user_id")))
                    .col(text_col(c("token_hash")))
                    .col(time_col(c("expires_at")))
                    .col(opt_time("used_at"))
                    .col(opt_time("sent_at"))
                    .col(opt_long_text("last_error"))
                    .col(time_col(c("created_at")))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "password_resets",
            "password_resets_token_key",
            &["token_hash"],
            true,
        )
        .await?;
        index(
            manager,
            "password_resets",
            "password_resets_user_idx",
            &["user_id"],
            false,
        )
        .await?;
        rls::grant_app_access(manager, "password_resets").await?;

        for table in TABLES {
            rls::enable_tenant_rls(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "password_resets",
            "order_reviews",
            "support_messages",
            "support_threads",
            "email_suppressions",
            "notifications",
            "notification_templates",
            "notification_settings",
        ] {
            manager
                .drop_table(Table::drop().table(c(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
