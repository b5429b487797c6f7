//! Inbound mail is whatever anyone sends to the support address: raw MIME of any shape, a
//! provider's JSON of any shape, HTML of any shape. Each is read or refused, never a panic.

use orderflow::lifecycle::support::html_text::{self, MAX_TEXT};
use orderflow::lifecycle::support::inbound::{self, InboundMail};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::config;
use crate::strategies::{arb_json, edge_text};

const HEADERS: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "MIME-Version",
    "Auto-Submitted",
    "Precedence",
    "Return-Path",
    "Authentication-Results",
    "List-Id",
];

/// Markup that changes what the tokenizer reads next.
const TAGS: &[&str] = &[
    "<p>",
    "</p>",
    "<br>",
    "<script>",
    "</script>",
    "<style>",
    "<title>",
    "<!--",
    "-->",
    "&amp;",
    "&#x110000;",
    "&nbsp",
];

/// Lines a reply quotes its original with, in the forms mail clients write.
const REPLY_LINES: &[&str] = &[
    "> quoted",
    "On Tue, Jo wrote:",
    "Am Di., Jo schrieb:",
    "-- ",
    "--",
    "From: a@b.test",
    "-----Original Message-----",
];

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,80}",
        edge_text(),
        "[a-z]{1,8}@[a-z]{1,8}\\.test|\"[^\"]{0,20}\" <[a-z]{0,8}@?[a-z.]{0,8}>|<>|<[^>]{0,30}>( <[^>]{0,10}>){0,3}",
        // Encoded words, well formed or not.
        "=\\?(utf-8|iso-8859-1|x-unknown)\\?[BbQq]\\?[A-Za-z0-9+/=_%-]{0,40}\\?=",
        "(multipart/(mixed|alternative|report|digest)|text/(plain|html)|message/(rfc822|delivery-status)); ?(boundary=\"?[ -~]{0,20}\"?|charset=[a-z0-9-]{0,12}|report-type=delivery-status)",
        (1usize..20_000).prop_map(|n| "x".repeat(n)),
    ]
}

fn header() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        4 => prop::sample::select(HEADERS).prop_map(str::to_owned),
        1 => "[!-9;-~]{1,20}",
    ];
    (
        name,
        header_value(),
        "(\r\n|\n)",
        prop::option::of("[ \t][ -~]{0,40}"),
    )
        .prop_map(|(n, v, eol, folded)| match folded {
            Some(more) => format!("{n}: {v}{eol}{more}{eol}"),
            None => format!("{n}: {v}{eol}"),
        })
}

/// One body part: headers, a blank line, and content; multiparts nest others within
/// boundaries that may be missing, repeated, empty or prefixes of each other.
fn part() -> impl Strategy<Value = Vec<u8>> {
    let leaf = (
        prop::collection::vec(header(), 0..4),
        prop::collection::vec(any::<u8>(), 0..400),
    )
        .prop_map(|(headers, body)| {
            [headers.concat().into_bytes(), b"\r\n".to_vec(), body].concat()
        });
    leaf.prop_recursive(4, 24, 4, |inner| {
        (
            prop_oneof![Just("b".to_owned()), Just(String::new()), "[ -~]{1,70}"],
            "(mixed|alternative|report; report-type=delivery-status|digest)",
            prop::collection::vec(inner, 0..4),
            any::<bool>(),
        )
            .prop_map(|(boundary, subtype, parts, closed)| {
                let mut out = format!(
                    "Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\npreamble\r\n"
                )
                .into_bytes();
                for p in parts {
                    out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                    out.extend_from_slice(&p);
                    out.extend_from_slice(b"\r\n");
                }
                if closed {
                    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
                }
                out
            })
    })
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..2000),
        4 => (prop::collection::vec(header(), 0..8), part())
            .prop_map(|(headers, body)| [headers.concat().into_bytes(), body].concat()),
    ]
}

fn bracketless(id: &str) -> bool {
    !id.starts_with(['<', '>']) && !id.ends_with(['<', '>'])
}

fn check(mail: &InboundMail) -> Result<(), TestCaseError> {
    prop_assert!(mail.from.contains('@'), "from {:?}", mail.from);
    prop_assert_eq!(&mail.from, &mail.from.to_ascii_lowercase());
    prop_assert_eq!(mail.subject.trim(), mail.subject.as_str());
    let ids = mail
        .message_id
        .iter()
        .chain(&mail.in_reply_to)
        .chain(&mail.references);
    for id in ids {
        prop_assert!(bracketless(id), "id {id:?}");
    }
    if mail.bounce.is_some() {
        prop_assert!(mail.automated, "a bounce is never answered");
    }
    Ok(())
}

/// Provider JSON: Postmark's, Mailgun's or Orderflow's fields, with any values.
fn provider_json() -> impl Strategy<Value = Value> {
    let text = || prop::option::of(prop_oneof![edge_text(), "[a-z]{1,8}@[a-z]{1,8}\\.test"]);
    prop_oneof![
        arb_json(),
        (
            text(),
            text(),
            text(),
            text(),
            text(),
            prop::option::of(arb_json())
        )
            .prop_map(|(from, to, body, html, raw, headers)| {
                json!({ "from": from, "To": to, "TextBody": body, "html": html,
                        "RawEmail": raw, "Headers": headers, "message-headers": headers })
            }),
        (text(), text(), arb_json()).prop_map(|(email, body, full)| {
            json!({ "FromFull": { "Email": email, "Name": full }, "body-plain": body })
        }),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_bytes_are_a_message_or_a_reason(raw in message()) {
        match inbound::parse_mime(&raw) {
            Ok(mail) => check(&mail)?,
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }

    #[test]
    fn any_provider_json_is_a_message_or_names_a_field(v in provider_json()) {
        match inbound::parse_json(&v) {
            Ok(mail) => check(&mail)?,
            Err(e) => {
                prop_assert!(["raw", "from", "text"].contains(&e.field), "field {}", e.field);
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn html_text_is_bounded_and_tidy(html in prop_oneof![
        3 => any::<String>(),
        3 => prop::collection::vec(prop_oneof![
            prop::sample::select(TAGS).prop_map(str::to_owned),
            "[ -~]{0,20}",
        ], 0..200).prop_map(|parts| parts.concat()),
        1 => (1usize..15_000).prop_map(|n| "<td>é w".repeat(n)),
    ]) {
        let text = html_text::html_to_text(&html);
        prop_assert!(text.chars().count() <= MAX_TEXT);
        for line in text.lines() {
            prop_assert!(!line.is_empty(), "no blank lines");
            prop_assert_eq!(line.split_whitespace().collect::<Vec<_>>().join(" "), line);
        }
    }

    #[test]
    fn plain_text_reads_as_its_own_words(s in "[^<&\\x00\\x{feff}]{0,300}") {
        let expected: Vec<String> = s
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect();
        prop_assert_eq!(html_text::html_to_text(&s), expected.join("\n"));
    }

    #[test]
    fn what_a_style_element_holds_is_not_read(s in "[^<]{0,200}", after in "[a-z]{1,10}") {
        let html = format!("<p>{after}</p><style>{s}</style>");
        prop_assert_eq!(html_text::html_to_text(&html), after);
    }

    #[test]
    fn the_new_part_of_a_reply_has_no_quotes_and_is_its_own_new_part(text in prop_oneof![
        any::<String>(),
        prop::collection::vec(prop_oneof![
            prop::sample::select(REPLY_LINES).prop_map(str::to_owned),
            "[ -~]{0,30}",
        ], 0..20).prop_map(|lines| lines.join("\r\n")),
    ]) {
        let new = inbound::new_text(&text);
        prop_assert!(new.len() <= text.len());
        prop_assert!(new.lines().all(|l| !l.trim().starts_with('>')));
        prop_assert_eq!(inbound::new_text(&new), new);
    }

    #[test]
    fn ids_in_brackets_are_read_in_order(ids in prop::collection::vec("[^<>]{0,20}", 1..6), sep in "[ ,\t]{0,3}") {
        let header = ids.iter().map(|id| format!("<{id}>")).collect::<Vec<_>>().join(sep.as_str());
        let expected: Vec<String> = ids.iter().map(|id| id.trim().to_owned()).collect();
        prop_assert_eq!(inbound::ids_in(&header), expected);
    }

    #[test]
    fn ids_in_any_text_carry_no_brackets_at_their_ends(value in any::<String>()) {
        for id in inbound::ids_in(&value) {
            prop_assert!(bracketless(&id), "id {id:?}");
        }
    }

    #[test]
    fn only_our_own_servers_verdicts_count(
        ours in prop::collection::vec(verdict("mx\\.ours\\.test"), 0..4),
        theirs in prop::collection::vec(verdict("[a-z]{1,8}\\.evil\\.test"), 0..4),
        position in any::<prop::sample::Index>(),
    ) {
        let trusted = ["MX.OURS.TEST".to_owned()];
        let mut all = ours.clone();
        for t in theirs {
            let at = position.index(all.len() + 1);
            all.insert(at, t);
        }
        prop_assert_eq!(
            inbound::authentication(&all, &trusted),
            inbound::authentication(&ours, &trusted),
            "a header someone else wrote changes nothing"
        );
        prop_assert_eq!(inbound::authentication(&all, &[]), None, "no trusted server, no verdict");
        let pass = "mx.ours.test; dmarc=pass; dkim=fail".to_owned();
        prop_assert_eq!(inbound::authentication(&[pass], &trusted), Some(true), "DMARC decides first");
    }
}

/// An `Authentication-Results` value by `authserv` with random method results.
fn verdict(authserv: &'static str) -> impl Strategy<Value = String> {
    let clause =
        "(dmarc|dkim|spf|DKIM|arc)=(pass|fail|softfail|permerror|none|neutral)( [ -:<-~]{0,12})?";
    (authserv, prop::collection::vec(clause, 0..4)).prop_map(|(id, clauses)| {
        std::iter::once(id)
            .chain(clauses)
            .collect::<Vec<_>>()
            .join("; ")
    })
}
