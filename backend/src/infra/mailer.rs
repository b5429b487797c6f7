//! Outgoing mail through lettre: SMTP when SMTP_URL is set (smtp:// with STARTTLS by
//! `?tls=required`, smtps:// for TLS, user:password@ for authentication), otherwise one
//! `.eml` file per message in `$ORDERFLOW_DATA_DIR/outbox/`, so nothing needs a mail server.

use anyhow::Context;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;
use crate::domain::Email;

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// Domains a tenant's own From address may be in.
    sender_domains: Vec<String>,
}

/// A message to one recipient, in plain text and HTML, from the platform's sender.
pub struct Mail {
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A message with its sender and threading headers chosen by the caller.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub to: Mailbox,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Without angle brackets: `id@domain`.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Message-IDs in angle brackets, space separated, oldest first.
    pub references: Option<String>,
    /// RFC 8058 one-click unsubscribe URL.
    pub unsubscribe: Option<String>,
    /// RFC 3834 `Auto-Submitted`: `auto-generated` (notifications) or `auto-replied`
    /// (automatic answers), so other robots do not answer; None for a person's message.
    pub auto_submitted: Option<&'static str>,
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config.mail_from.parse().context(
            "ORDERFLOW_MAIL_FROM: not a valid mailbox, e.g. \"Shop <no-reply@shop.com>\"",
        )?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .context("SMTP_URL: not a valid smtp:// or smtps:// URL")?
                    .build(),
            ),
            None => {
                let dir = config.outbox_dir();
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create mail outbox {}", dir.display()))?;
                Transport::File(AsyncFileTransport::new(dir))
            }
        };
        let mut sender_domains = config.sender_domains.clone();
        if sender_domains.is_empty() {
            sender_domains.push(from.email.domain().to_ascii_lowercase());
        }
        Ok(Self {
            transport,
            from,
            sender_domains,
        })
    }

    /// Whether mail may go out From `address` (its domain is one the platform sends for).
    pub fn may_send_as(&self, address: &str) -> bool {
        address.rsplit_once('@').is_some_and(|(_, d)| {
            self.sender_domains
                .iter()
                .any(|s| s.eq_ignore_ascii_case(d))
        })
    }

    /// The platform's own sender (ORDERFLOW_MAIL_FROM).
    pub fn platform_sender(&self) -> &Mailbox {
        &self.from
    }

    /// Sends one message from the platform's sender; the error says why it was not accepted.
    pub async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        let to: Mailbox = mail
            .to
            .as_str()
            .parse()
            .context("recipient is not a valid address")?;
        let domain = self.from.email.domain().to_owned();
        self.send_outgoing(Outgoing {
            from: self.from.clone(),
            reply_to: None,
            to,
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
            message_id: format!("{}@{domain}", uuid::Uuid::now_v7().simple()),
            in_reply_to: None,
            references: None,
            unsubscribe: None,
            auto_submitted: Some("auto-generated"),
        })
        .await
    }

    /// Sends a message as given.
    pub async fn send_outgoing(&self, mail: Outgoing) -> anyhow::Result<()> {
        let message = build(mail)?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message)
                    .await
                    .context("SMTP server refused the message")?;
            }
            Transport::File(file) => {
                file.send(message)
                    .await
                    .context("cannot write to the mail outbox")?;
            }
        }
        Ok(())
    }
}

/// The MIME message: multipart/alternative, plain text first, with the threading headers.
pub fn build(mail: Outgoing) -> anyhow::Result<Message> {
    let mut builder = Message::builder()
        .from(mail.from)
        .to(mail.to)
        .subject(mail.subject)
        .message_id(Some(format!("<{}>", mail.message_id)));
    if let Some(reply_to) = mail.reply_to {
        builder = builder.reply_to(reply_to);
    }
    if let Some(parent) = mail.in_reply_to {
        builder = builder.in_reply_to(format!("<{}>", parent.trim_matches(['<', '>'])));
    }
    if let Some(references) = mail.references {
        builder = builder.references(references);
    }
    let mut message = builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(mail.text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(mail.html),
                ),
        )
        .context("cannot build the message")?;
    if let Some(value) = mail.auto_submitted {
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            value.to_owned(),
        ));
    }
    if let Some(url) = mail.unsubscribe {
        let headers = message.headers_mut();
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{url}>"),
        ));
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_owned(),
        ));
    }
    Ok(message)
}
