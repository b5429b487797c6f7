//! Inbound mail, as a raw MIME message (what an MTA pipes, or a provider's "raw" option) or as
//! the JSON a mail provider posts (Postmark's inbound webhook, Mailgun's parsed routes, or
//! Orderflow's own shape), read into one form. Delivery status notifications (bounces) are
//! recognised and read for the message they report on. Pure.

use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde_json::Value;

/// A message a shopper sent us.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InboundMail {
    pub from: String,
    pub from_name: Option<String>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// Oldest first, without brackets.
    pub references: Vec<String>,
    /// An autoresponder, list mail, bounce or receipt (never answered automatically, so no
    /// two robots write to each other for ever).
    pub automated: bool,
    /// What the receiving server's `Authentication-Results` said of the sender's domain
    /// (DMARC, else DKIM, else SPF): None when it said nothing (or is not trusted). Set by
    /// [`InboundMail::judge_authentication`], from the headers our own server added.
    pub authenticated: Option<bool>,
    /// Every `Authentication-Results` header, topmost first, as received.
    pub authentication_results: Vec<String>,
    /// Set when the message is a bounce report.
    pub bounce: Option<Bounce>,
}

/// What a delivery status notification says about a message we sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bounce {
    pub original_message_id: Option<String>,
    pub recipient: Option<String>,
    /// e.g. 5.1.1
    pub status: Option<String>,
    pub diagnostic: Option<String>,
    /// 5.x.x: the address will not work; 4.x.x: it may later.
    pub permanent: bool,
    /// `Action: failed` (not delayed, delivered, relayed or expanded).
    pub failed: bool,
}

fn bare(id: &str) -> String {
    id.trim().trim_matches(['<', '>']).to_owned()
}

/// Every `<id>` in a header value such as References.
pub fn ids_in(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in value.split('<').skip(1) {
        if let Some((id, _)) = piece.split_once('>') {
            out.push(id.trim().to_owned());
        }
    }
    if out.is_empty() {
        out.extend(value.split_whitespace().map(bare).filter(|s| !s.is_empty()));
    }
    out
}

/// Whether the headers (name, value) mark a message as sent by a machine (RFC 3834
/// `Auto-Submitted`, `Precedence`, the common autoresponder and list headers, the null
/// return path) or its sender is a mailer daemon or a no-reply address.
fn is_automated(headers: &[(String, String)], from: &str) -> bool {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    let local = from
        .split('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    get("Auto-Submitted").is_some_and(|a| a != "no")
        || get("Precedence")
            .is_some_and(|p| ["bulk", "list", "auto_reply", "junk"].contains(&p.as_str()))
        || [
            "X-Autoreply",
            "X-Autorespond",
            "X-Auto-Response-Suppress",
            "List-Id",
            "List-Unsubscribe",
            "X-Loop",
        ]
        .iter()
        .any(|h| get(h).is_some())
        || get("Return-Path").is_some_and(|r| r == "<>")
        || [
            "mailer-daemon",
            "postmaster",
            "noreply",
            "no-reply",
            "donotreply",
            "do-not-reply",
        ]
        .contains(&local.as_str())
}

/// Every `Authentication-Results` header value, in the order received.
fn authentication_results(headers: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, v)| v.clone())
        .collect()
}

/// The authserv-id of an `Authentication-Results` value: its first token (RFC 8601 §2.2),
/// without a version number.
fn authserv_id(value: &str) -> &str {
    let head = value.split(';').next().unwrap_or_default().trim();
    head.split_whitespace().next().unwrap_or_default()
}

/// The verdict (RFC 8601) on the sender of the headers added by one of `trusted` (our own
/// receiving servers' authserv-ids): DMARC when given, else DKIM, else SPF. A header with any
/// other id was written by someone else — possibly the sender — and is not read.
pub fn authentication(results: &[String], trusted: &[String]) -> Option<bool> {
    let results: Vec<String> = results
        .iter()
        .filter(|r| {
            let id = authserv_id(r);
            trusted.iter().any(|t| t.eq_ignore_ascii_case(id))
        })
        .map(|v| v.to_ascii_lowercase())
        .collect();
    for method in ["dmarc", "dkim", "spf"] {
        let verdicts: Vec<&str> = results
            .iter()
            .flat_map(|r| r.split(';').skip(1))
            .filter_map(|clause| clause.trim().strip_prefix(method)?.strip_prefix('='))
            .filter_map(|v| v.split_whitespace().next())
            .collect();
        if verdicts.contains(&"pass") {
            return Some(true);
        }
        if verdicts
            .iter()
            .any(|v| ["fail", "softfail", "permerror"].contains(v))
        {
            return Some(false);
        }
    }
    None
}

impl InboundMail {
    /// Sets [`InboundMail::authenticated`] from the headers our receiving servers added.
    pub fn judge_authentication(&mut self, trusted: &[String]) {
        self.authenticated = authentication(&self.authentication_results, trusted);
    }
}

/// Reads a raw RFC 5322 message.
pub fn parse_mime(raw: &[u8]) -> Result<InboundMail, String> {
    // mail-parser 0.11 panics on some malformed nestings (a multipart/digest holding a
    // message/rfc822 with the same boundary, found by the property tests): a refusal here,
    // whichever of its calls it is in.
    std::panic::catch_unwind(|| read_mime(raw))
        .unwrap_or_else(|_| Err("the body is not a MIME message Orderflow can read".into()))
}

fn read_mime(raw: &[u8]) -> Result<InboundMail, String> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or("the body is not a MIME message")?;
    let is_report = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let from = message.from().and_then(|a| a.first());
    // A report may come from a bare MAILER-DAEMON: it is read for what it reports.
    let address = match from.and_then(|f| f.address()).filter(|a| a.contains('@')) {
        Some(a) => a.to_owned(),
        None if is_report => "mailer-daemon@unknown.invalid".to_owned(),
        None if from.is_none() => return Err("the message has no From address".into()),
        None => return Err("the From header holds no address".into()),
    };
    let headers: Vec<(String, String)> = message
        .headers_raw()
        .map(|(n, v)| (n.to_owned(), v.trim().to_owned()))
        .collect();
    let references = message
        .references()
        .as_text_list()
        .map(|l| l.iter().map(|s| bare(s)).collect())
        .or_else(|| message.references().as_text().map(ids_in))
        .unwrap_or_default();
    let in_reply_to = message
        .in_reply_to()
        .as_text_list()
        .and_then(|l| l.first().map(|s| bare(s)))
        .or_else(|| message.in_reply_to().as_text().map(bare));
    let report_type = message
        .content_type()
        .filter(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        })
        .map(|ct| {
            ct.attribute("report-type")
                .unwrap_or_default()
                .to_ascii_lowercase()
        });
    // Only a delivery-status report that says delivery failed is a bounce; a delay notice, a
    // read receipt or a complaint report is a machine's message, not the shopper's.
    let bounce = match report_type.as_deref() {
        Some("delivery-status") => Some(read_report(&message)).filter(|b| b.failed),
        _ => None,
    };
    Ok(InboundMail {
        from: address.to_ascii_lowercase(),
        from_name: from
            .and_then(|f| f.name())
            .map(str::to_owned)
            .filter(|n| !n.is_empty()),
        to: message
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_ascii_lowercase(),
        subject: message.subject().unwrap_or_default().trim().to_owned(),
        text: message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        html: message.body_html(0).map(|h| h.into_owned()),
        message_id: message.message_id().map(bare),
        in_reply_to,
        references,
        automated: report_type.is_some() || is_automated(&headers, &address),
        authenticated: None,
        authentication_results: authentication_results(&headers),
        bounce,
    })
}

/// The per-recipient fields of a delivery-status part and the reported message's id.
fn read_report(message: &mail_parser::Message<'_>) -> Bounce {
    let mut bounce = Bounce::default();
    for part in &message.parts {
        let ct = part
            .content_type()
            .map(|c| {
                format!(
                    "{}/{}",
                    c.ctype().to_ascii_lowercase(),
                    c.subtype().unwrap_or_default().to_ascii_lowercase()
                )
            })
            .unwrap_or_default();
        match &part.body {
            PartType::Message(inner) if bounce.original_message_id.is_none() => {
                bounce.original_message_id = inner.message_id().map(bare);
            }
            _ if ct == "message/delivery-status" || ct == "message/global-delivery-status" => {
                let text = String::from_utf8_lossy(part.contents()).into_owned();
                for line in text.lines() {
                    let Some((name, value)) = line.split_once(':') else {
                        continue;
                    };
                    let value = value.trim();
                    match name.trim().to_ascii_lowercase().as_str() {
                        "final-recipient" | "original-recipient" if bounce.recipient.is_none() => {
                            let addr = value.split_once(';').map_or(value, |(_, a)| a).trim();
                            bounce.recipient = Some(addr.to_ascii_lowercase());
                        }
                        "status" => bounce.status = Some(value.to_owned()),
                        "action" => bounce.failed |= value.eq_ignore_ascii_case("failed"),
                        "diagnostic-code" => {
                            let d = value.split_once(';').map_or(value, |(_, d)| d).trim();
                            bounce.diagnostic = Some(d.to_owned());
                        }
                        _ => {}
                    }
                }
            }
            _ if ct == "text/rfc822-headers" && bounce.original_message_id.is_none() => {
                let text = String::from_utf8_lossy(part.contents()).into_owned();
                bounce.original_message_id = text
                    .lines()
                    .find_map(|l| {
                        let (n, v) = l.split_once(':')?;
                        n.trim().eq_ignore_ascii_case("message-id").then(|| bare(v))
                    })
                    .filter(|s| !s.is_empty());
            }
            _ => {}
        }
    }
    bounce.permanent = bounce.status.as_deref().is_some_and(|s| s.starts_with('5'));
    bounce
}

/// Why a JSON body could not be read, naming the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn text_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// A header from Postmark's `Headers: [{Name, Value}]` or Mailgun's `message-headers`.
fn json_header(v: &Value, name: &str) -> Option<String> {
    json_headers(v)
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// Every header of a provider's JSON, as (name, value).
fn json_headers(v: &Value) -> Vec<(String, String)> {
    if let Some(list) = v.get("Headers").and_then(Value::as_array) {
        return list
            .iter()
            .filter_map(|h| {
                Some((
                    h.get("Name")?.as_str()?.to_owned(),
                    h.get("Value")?.as_str()?.to_owned(),
                ))
            })
            .collect();
    }
    let headers = match v.get("message-headers") {
        Some(Value::String(s)) => serde_json::from_str::<Value>(s).unwrap_or_default(),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    headers
        .as_array()
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|p| {
                    let p = p.as_array()?;
                    Some((
                        p.first()?.as_str()?.to_owned(),
                        p.get(1)?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Splits `Name <a@b>` into the address and the name.
fn mailbox(raw: &str) -> (String, Option<String>) {
    match raw.rsplit_once('<') {
        Some((name, rest)) => {
            let addr = rest
                .trim_end()
                .trim_end_matches('>')
                .trim()
                .to_ascii_lowercase();
            let name = name.trim().trim_matches('"').trim();
            (addr, (!name.is_empty()).then(|| name.to_owned()))
        }
        None => (raw.trim().to_ascii_lowercase(), None),
    }
}

/// Reads the JSON a mail provider posts: Postmark (`FromFull`, `TextBody`, `Headers`), Mailgun
/// (`sender`/`from`, `body-plain`, `message-headers`) or Orderflow's own (`from`, `text`).
pub fn parse_json(v: &Value) -> Result<InboundMail, FieldError> {
    if let Some(raw) = text_at(v, &["RawEmail", "raw", "email"]) {
        return parse_mime(raw.as_bytes()).map_err(|message| FieldError {
            field: "raw",
            message,
        });
    }
    let (from, from_name) = match v.get("FromFull") {
        Some(full) => (
            text_at(full, &["Email"])
                .unwrap_or_default()
                .to_ascii_lowercase(),
            text_at(full, &["Name"]).map(str::to_owned),
        ),
        None => {
            let raw = text_at(v, &["from", "From", "sender"]).unwrap_or_default();
            let (addr, name) = mailbox(raw);
            (
                addr,
                name.or_else(|| text_at(v, &["fromName", "FromName"]).map(str::to_owned)),
            )
        }
    };
    if !from.contains('@') {
        return Err(FieldError {
            field: "from",
            message: "must be the sender's email address".into(),
        });
    }
    let to = v
        .get("ToFull")
        .and_then(Value::as_array)
        .and_then(|l| l.first())
        .and_then(|t| text_at(t, &["Email"]))
        .or_else(|| text_at(v, &["to", "To", "recipient", "OriginalRecipient"]))
        .map(|t| mailbox(t).0)
        .unwrap_or_default();
    let text = text_at(
        v,
        &[
            "TextBody",
            "body-plain",
            "text",
            "StrippedTextReply",
            "stripped-text",
        ],
    )
    .unwrap_or_default()
    .to_owned();
    let html = text_at(v, &["HtmlBody", "body-html", "html"]).map(str::to_owned);
    if text.trim().is_empty() && html.as_deref().is_none_or(|h| h.trim().is_empty()) {
        return Err(FieldError {
            field: "text",
            message: "the message has no text".into(),
        });
    }
    let header = |name: &str, keys: &[&str]| {
        json_header(v, name).or_else(|| text_at(v, keys).map(str::to_owned))
    };
    let message_id = header("Message-ID", &["messageId", "Message-Id"]).map(|m| bare(&m));
    let in_reply_to = header("In-Reply-To", &["inReplyTo", "In-Reply-To"]).map(|m| bare(&m));
    let references = header("References", &["references", "References"])
        .map(|r| ids_in(&r))
        .unwrap_or_default();
    let automated = is_automated(&json_headers(v), &from);
    Ok(InboundMail {
        from,
        from_name,
        to,
        subject: text_at(v, &["Subject", "subject"])
            .unwrap_or_default()
            .trim()
            .to_owned(),
        text: if text.trim().is_empty() {
            html.as_deref()
                .map(super::html_text::html_to_text)
                .unwrap_or_default()
        } else {
            text
        },
        html,
        message_id,
        in_reply_to,
        references,
        automated,
        authenticated: None,
        authentication_results: authentication_results(&json_headers(v)),
        bounce: None,
    })
}

/// The new part of a reply: the text above the quoted message ("On … wrote:", "> " lines,
/// "-----Original Message-----") and a signature separator.
pub fn new_text(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        // "On … wrote:" in the languages mail clients write it in, and Outlook's header block.
        let wrote = [
            "wrote:",
            "schrieb:",
            "a écrit :",
            "a écrit:",
            "escribió:",
            "ha scritto:",
            "schreef:",
            "skrev:",
        ];
        let quote_header = (wrote.iter().any(|w| t.ends_with(w)) && t.len() < 200)
            || t.starts_with("-----Original Message-----")
            || t == "-- "
            || t == "--"
            || (t.starts_with("From:") && !out.is_empty());
        if quote_header {
            break;
        }
        if t.starts_with('>') {
            continue;
        }
        out.push(line.trim_end());
    }
    out.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: &str = "From: Jane Doe <Jane@Example.com>\r\n\
To: Acme Support <support@acme.test>\r\n\
Subject: Re: Your order #1001 is on its way\r\n\
Message-ID: <reply-1@mail.example.com>\r\n\
In-Reply-To: <0190abc@acme.test>\r\n\
References: <0190aaa@acme.test>\r\n <0190abc@acme.test>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Where is it? It was due yesterday =E2=80=94 thanks!\r\n\
\r\n\
On Tue, 24 Nov 2026, Acme wrote:\r\n\
> Your order is on its way\r\n\
--b1\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>Where is it?</p>\r\n\
--b1--\r\n";

    #[test]
    fn a_raw_reply_is_read_with_its_threading_headers() {
        let mail = parse_mime(REPLY.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mail.from, "jane@example.com");
        assert_eq!(mail.from_name.as_deref(), Some("Jane Doe"));
        assert_eq!(mail.to, "support@acme.test");
        assert_eq!(mail.subject, "Re: Your order #1001 is on its way");
        assert_eq!(mail.message_id.as_deref(), Some("reply-1@mail.example.com"));
        assert_eq!(mail.in_reply_to.as_deref(), Some("0190abc@acme.test"));
        assert_eq!(mail.references, ["0190aaa@acme.test", "0190abc@acme.test"]);
        assert!(
            mail.text.contains("due yesterday — thanks"),
            "{}",
            mail.text
        );
        assert_eq!(
            new_text(&mail.text),
            "Where is it? It was due yesterday — thanks!"
        );
        assert!(!mail.automated && mail.bounce.is_none());
    }

    #[test]
    fn a_bounce_names_the_message_it_reports() {
        let dsn = "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n\
To: shop@acme.test\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
Auto-Submitted: auto-replied\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\
\r\n\
--r\r\n\
Content-Type: text/plain\r\n\
\r\n\
I'm sorry to have to inform you that your message could not be delivered.\r\n\
--r\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; mx.example.com\r\n\
\r\n\
Final-Recipient: rfc822; nobody@example.com\r\n\
Action: failed\r\n\
Status: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.com>: Recipient address rejected\r\n\
--r\r\n\
Content-Type: text/rfc822-headers\r\n\
\r\n\
From: Acme <shop@acme.test>\r\n\
To: nobody@example.com\r\n\
Message-ID: <0190abc@acme.test>\r\n\
Subject: Your order #1001 is on its way\r\n\
--r--\r\n";
        let mail = parse_mime(dsn.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let bounce = mail.bounce.unwrap_or_default();
        assert_eq!(
            bounce.original_message_id.as_deref(),
            Some("0190abc@acme.test")
        );
        assert_eq!(bounce.recipient.as_deref(), Some("nobody@example.com"));
        assert_eq!(bounce.status.as_deref(), Some("5.1.1"));
        assert!(bounce.permanent);
        assert!(
            bounce
                .diagnostic
                .unwrap_or_default()
                .contains("Recipient address rejected")
        );
        assert!(mail.automated);
    }

    #[test]
    fn machines_and_unauthenticated_senders_are_recognised() {
        let with = |headers: &str| {
            let raw = format!(
                "From: Shop <orders@shop.example>\r\nTo: a@b.example\r\nSubject: x\r\n{headers}Content-Type: text/plain\r\n\r\nhello\r\n"
            );
            parse_mime(raw.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
        };
        assert!(!with("").automated);
        for h in [
            "Auto-Submitted: auto-replied\r\n",
            "X-Autoreply: yes\r\n",
            "List-Id: <news.shop.example>\r\n",
            "Precedence: bulk\r\n",
            "Return-Path: <>\r\n",
        ] {
            assert!(with(h).automated, "{h}");
        }
        assert!(!with("Auto-Submitted: no\r\n").automated);
        let daemon = parse_mime(b"From: MAILER-DAEMON@mx.example\r\nSubject: x\r\n\r\nhi\r\n")
            .unwrap_or_default();
        assert!(daemon.automated);
        let judged = |headers: &str| {
            let mut mail = with(headers);
            mail.judge_authentication(&["mx.example".to_owned()]);
            mail.authenticated
        };
        assert_eq!(judged(""), None);
        assert_eq!(
            judged(
                "Authentication-Results: mx.example; dkim=pass header.d=shop.example; spf=pass; dmarc=pass (p=REJECT)\r\n"
            ),
            Some(true)
        );
        assert_eq!(
            judged(
                "Authentication-Results: mx.example; spf=fail smtp.mailfrom=shop.example; dmarc=fail\r\n"
            ),
            Some(false)
        );
        assert_eq!(
            judged(
                "Authentication-Results: MX.example 1; spf=softfail smtp.mailfrom=shop.example\r\n"
            ),
            Some(false)
        );
    }

    #[test]
    fn only_our_own_servers_authentication_results_are_believed() {
        // The sender wrote a passing header of their own; our server (mx.example) found the
        // domain failing, and put its header on top.
        let raw = "Authentication-Results: mx.example; dmarc=fail header.from=shop.example\r\n\
                   Authentication-Results: mx.google.com; dkim=pass; spf=pass; dmarc=pass\r\n\
                   From: ceo@shop.example\r\nTo: a@b.example\r\nSubject: x\r\n\r\nhello\r\n";
        let mut mail = parse_mime(raw.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        mail.judge_authentication(&["mx.example".to_owned()]);
        assert_eq!(mail.authenticated, Some(false));
        // A forged pass alone, with no header of ours: nothing is known.
        let forged = "Authentication-Results: mx.example.evil; dmarc=pass\r\n\
                      Authentication-Results: mx.google.com; dmarc=pass\r\n\
                      From: ceo@shop.example\r\nTo: a@b.example\r\nSubject: x\r\n\r\nhello\r\n";
        let mut mail = parse_mime(forged.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        mail.judge_authentication(&["mx.example".to_owned()]);
        assert_eq!(mail.authenticated, None);
        // Nothing configured: nothing believed.
        mail.judge_authentication(&[]);
        assert_eq!(mail.authenticated, None);
    }

    #[test]
    fn a_bounce_from_a_bare_mailer_daemon_is_still_read() {
        let dsn = "From: MAILER-DAEMON\r\nTo: shop@acme.test\r\nSubject: failure\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.1.1\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <m1@acme.test>\r\n--r--\r\n";
        let mail = parse_mime(dsn.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            mail.bounce.and_then(|b| b.original_message_id).as_deref(),
            Some("m1@acme.test")
        );
        assert!(parse_mime(b"Subject: no sender\r\n\r\nhi\r\n").is_err());
    }

    #[test]
    fn a_delay_notice_or_a_read_receipt_is_not_a_bounce() {
        let report = |kind: &str, body: &str| {
            format!(
                "From: MAILER-DAEMON@mx.example\r\nTo: shop@acme.test\r\nSubject: report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type={kind}; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nreport\r\n--r\r\n{body}--r--\r\n"
            )
        };
        let delayed = report(
            "delivery-status",
            "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\nAction: delayed\r\nStatus: 4.4.7\r\n",
        );
        let mail = parse_mime(delayed.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert!(mail.bounce.is_none() && mail.automated);
        let receipt = report(
            "disposition-notification",
            "Content-Type: message/disposition-notification\r\n\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n",
        );
        let mail = parse_mime(receipt.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert!(mail.bounce.is_none() && mail.automated);
    }

    #[test]
    fn a_nesting_that_crashes_the_mime_parser_is_refused() {
        let raw = b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\npreamble\r\n--b\r\nContent-Type: multipart/digest; boundary=\"b\"\r\n\r\npreamble\r\n--b\r\n\r\n\x00\r\n--b\r\nContent-Type: message/rfc822;boundary=\r\n\r\n_9\x82d\xefuA\xa8C\x86\xcbg\xb1=\x85\x9c\x99\xd74\xe9\xac\x1f\r\n\r\n--b--\r\n";
        assert!(parse_mime(raw).is_err());
    }

    #[test]
    fn html_only_json_mail_is_read_for_its_text() {
        let mail = parse_json(&serde_json::json!({
            "from": "a@b.example",
            "html": "<html><head><style>p{color:red}</style></head><body><p>Where is &quot;it&quot;?</p><script>x()</script></body></html>"
        }))
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(mail.text, "Where is \"it\"?");
    }

    #[test]
    fn postmark_and_mailgun_json_are_read() {
        let postmark = serde_json::json!({
            "FromName": "Jane Doe", "From": "jane@example.com",
            "FromFull": { "Email": "jane@example.com", "Name": "Jane Doe", "MailboxHash": "" },
            "To": "support@acme.test",
            "ToFull": [{ "Email": "support@acme.test", "Name": "", "MailboxHash": "" }],
            "Subject": "Where is my order?", "MessageID": "73e6d360-66eb-11e1-8e72-a8206ea7d3",
            "TextBody": "Hi, where is order #1001?", "HtmlBody": "<p>Hi</p>", "StrippedTextReply": "",
            "Headers": [
                { "Name": "Message-ID", "Value": "<abc@mail.example.com>" },
                { "Name": "In-Reply-To", "Value": "<0190abc@acme.test>" }
            ]
        });
        let mail = parse_json(&postmark).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(mail.from, "jane@example.com");
        assert_eq!(mail.message_id.as_deref(), Some("abc@mail.example.com"));
        assert_eq!(mail.in_reply_to.as_deref(), Some("0190abc@acme.test"));
        let mailgun = serde_json::json!({
            "sender": "jane@example.com", "from": "Jane Doe <jane@example.com>",
            "recipient": "support@acme.test", "subject": "Cancel", "body-plain": "Please cancel",
            "message-headers": "[[\"Message-Id\", \"<m1@example.com>\"], [\"Precedence\", \"bulk\"]]"
        });
        let mail = parse_json(&mailgun).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (mail.from.as_str(), mail.text.as_str()),
            ("jane@example.com", "Please cancel")
        );
        assert_eq!(mail.message_id.as_deref(), Some("m1@example.com"));
        assert!(mail.automated);
        let err = parse_json(&serde_json::json!({ "from": "nobody", "text": "x" }));
        assert_eq!(err.map_err(|e| e.field), Err("from"));
        let err = parse_json(&serde_json::json!({ "from": "a@b.c", "text": " " }));
        assert_eq!(err.map_err(|e| e.field), Err("text"));
    }
}
