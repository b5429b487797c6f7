//! Outgoing mail through lettre: SMTP when SMTP_URL is set, otherwise one `.eml` file per
//! message in `$ORDERFLOW_DATA_DIR/outbox/`, so nothing needs a mail server to work.

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
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
}

/// A message to one recipient, in plain text and HTML.
pub struct Mail {
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
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
        Ok(Self { transport, from })
    }

    /// Sends one message; the error says why it was not accepted.
    pub async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        let to: Mailbox = mail
            .to
            .as_str()
            .parse()
            .context("recipient is not a valid address")?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
            .context("cannot build the message")?;
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
