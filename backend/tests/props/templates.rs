//! Tenants edit their notification templates: any text is checked, rendered or refused within
//! the fuel limit, without a panic, a hang, or a mail too large to send.

use std::time::{Duration, Instant};

use orderflow::infra::templates::{self, Rendered, Source, TemplateError, render, render_text};
use orderflow::lifecycle::notify::kind::Kind;
use orderflow::lifecycle::notify::templates::builtin;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::config;
use crate::strategies::{arb_json, edge_text};

/// Far more than a render within the fuel limit takes, even in a debug build: past it, the
/// limit did not hold.
const NO_HANG: Duration = Duration::from_secs(10);

/// What mail providers accept in one message (Postmark and SES take 10 MB).
const MAIL_BYTES: usize = 10 * 1024 * 1024;

const PARTS: [&str; 3] = ["subject", "text", "html"];

/// Pieces of template syntax, well formed or cut short, cheap to run.
const SNIPPETS: &[&str] = &[
    "{{ order.name }}",
    "{{ customer.first_name|upper }}",
    "{{ shop.name|default('x')|title }}",
    "{% for l in order.lines %}{{ l.title }} × {{ l.quantity }}{% endfor %}",
    "{% for i in range(50) %}{{ loop.index }}{% endfor %}",
    "{% if shipment.eta %}{{ shipment.eta }}{% else %}soon{% endif %}",
    "{% set s = 'ab' %}{{ s * 1000 }}",
    "{% macro m(n) %}<{{ n }}>{% endmacro %}{{ m(1) }}{{ m('x') }}",
    "{{ range(10)|join(',') }}",
    "{{ order|tojson }}",
    "{{ 1 / 0 }}",
    "{{ 9999999999999999999999 * 9999999999999 }}",
    "{{ undefined.a.b.c }}",
    "{{ ((((((((((1)))))))))) }}",
    "{% include 'subject.txt' %}",
    "{% extends 'layout.html' %}",
    "{% import 'nothing' as n %}",
    "{% raw %}{{ x }}{% endraw %}",
    "{% for %}",
    "{% if x %}",
    "{% endif %}",
    "{% endfor %}",
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "\n\n\n",
];

fn template_text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => any::<String>(),
        4 => prop::collection::vec(
            prop_oneof![
                3 => prop::sample::select(SNIPPETS).prop_map(str::to_owned),
                1 => "[ -~]{0,10}",
            ],
            0..12,
        )
        .prop_map(|parts| parts.concat()),
    ]
}

fn source() -> impl Strategy<Value = Source> {
    (template_text(), template_text(), template_text()).prop_map(|(subject, text, html)| Source {
        subject,
        text,
        html,
    })
}

/// A context shaped like the real one, with awkward values; or any JSON at all.
fn context() -> impl Strategy<Value = Value> {
    let text = || edge_text().prop_map(Value::String);
    prop_oneof![
        (
            text(),
            text(),
            text(),
            prop::collection::vec(arb_json(), 0..4)
        )
            .prop_map(|(shop, name, locale, lines)| json!({
                "locale": locale,
                "shop": { "name": shop, "reply_to": name },
                "customer": { "first_name": name },
                "order": { "name": name, "lines": lines },
                "shipment": { "eta": name },
            })),
        arb_json(),
    ]
}

fn check(result: Result<Rendered, TemplateError>, started: Instant) -> Result<(), TestCaseError> {
    prop_assert!(started.elapsed() < NO_HANG, "took {:?}", started.elapsed());
    match result {
        Ok(mail) => {
            prop_assert!(!mail.subject.contains('\n'), "a subject is one line");
            prop_assert!(mail.text.ends_with('\n'));
            prop_assert!(mail.subject.len() + mail.text.len() + mail.html.len() <= MAIL_BYTES);
        }
        Err(e) => {
            prop_assert!(PARTS.contains(&e.part), "part {}", e.part);
            prop_assert!(!e.message.is_empty());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn any_template_is_checked_and_errors_name_their_part(source in source()) {
        let started = Instant::now();
        for e in templates::validate(&source) {
            prop_assert!(PARTS.contains(&e.part), "part {}", e.part);
            prop_assert!(!e.message.is_empty());
        }
        prop_assert!(started.elapsed() < NO_HANG);
    }

    #[test]
    fn any_template_renders_or_names_its_part(source in source(), ctx in context()) {
        let started = Instant::now();
        // A part that does not parse stops the rendering, and the error names it (an empty
        // subject is refused on save only).
        let first_refused = templates::validate(&source)
            .into_iter()
            .find(|e| e.message != "must not be empty")
            .map(|e| e.part);
        let rendered = render(&source, &ctx);
        if first_refused.is_some() {
            prop_assert_eq!(rendered.as_ref().err().map(|e| e.part), first_refused);
        }
        check(rendered, started)?;
    }

    #[test]
    fn any_reply_template_renders_or_fails_in_time(text in template_text(), ctx in context()) {
        let started = Instant::now();
        let rendered = render_text(&text, &ctx);
        prop_assert!(started.elapsed() < NO_HANG);
        if let Ok(out) = rendered {
            prop_assert!(out.ends_with('\n') && out.len() <= MAIL_BYTES);
        }
    }

    #[test]
    fn builtin_templates_render_any_context_and_escape_what_it_holds(
        kind in prop::sample::select(Kind::ALL.to_vec()),
        ctx in context(),
        word in "[a-z]{3,10}",
    ) {
        let started = Instant::now();
        check(render(&builtin(kind), &ctx), started)?;
        let markup = format!("<b>{word}</b>");
        let ctx = json!({ "shop": { "name": markup }, "customer": { "first_name": markup }, "order": { "name": markup } });
        let mail = render(&builtin(kind), &ctx).unwrap();
        prop_assert!(!mail.html.contains(&markup), "{kind:?} writes {markup} unescaped");
    }

    #[test]
    fn recursion_is_refused_not_overflowed(
        depth in 1usize..2_000,
        shape in 0..4,
    ) {
        // Each of these recurses until the recursion limit or the fuel stops it.
        let text = match shape {
            0 => "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}".to_owned(),
            1 => "{% include 'body.txt' %}".to_owned(),
            2 => format!("{}x{}", "{% if true %}".repeat(depth), "{% endif %}".repeat(depth)),
            _ => format!("{{{{ {}1{} }}}}", "(".repeat(depth), ")".repeat(depth)),
        };
        let source = Source { subject: "s".into(), text, html: "h".into() };
        let started = Instant::now();
        let _ = templates::validate(&source);
        let _ = render(&source, &json!({}));
        prop_assert!(started.elapsed() < NO_HANG);
    }
}

proptest! {
    #![proptest_config(config(8))]

    #[test]
    fn runaway_loops_stop_at_the_fuel_limit(outer in 1u32..100_001, inner in 1u32..100_001) {
        let text = format!("{{% for a in range({outer}) %}}{{% for b in range({inner}) %}}.{{% endfor %}}{{% endfor %}}");
        let started = Instant::now();
        let rendered = render_text(&text, &json!({}));
        prop_assert!(started.elapsed() < NO_HANG);
        if u64::from(outer) * u64::from(inner) > 1_000_000 {
            prop_assert!(rendered.is_err(), "{outer} × {inner} iterations ran past the fuel");
        }
    }

    #[test]
    fn rendered_mail_stays_within_what_a_provider_accepts(
        times in 1u32..8,
        width in 0usize..3_000_000,
        doublings in 0u32..25,
    ) {
        // The fuel counts instructions, not bytes: one repetition, or a macro that doubles
        // its argument, writes megabytes for a handful of instructions.
        let repeated = format!("{{% for i in range({times}) %}}{{{{ 'x' * {width} }}}}{{% endfor %}}");
        let doubled = format!("{{% macro d(s, n) %}}{{% if n > 0 %}}{{{{ d(s ~ s, n - 1) }}}}{{% else %}}{{{{ s }}}}{{% endif %}}{{% endmacro %}}{{{{ d('x', {doublings}) }}}}");
        for text in [repeated, doubled] {
            if let Ok(out) = render_text(&text, &json!({})) {
                prop_assert!(out.len() <= MAIL_BYTES, "{} bytes from {text}", out.len());
            }
        }
    }
}

/// How deep the chains below go: a few hundred kilobytes of template.
const CHAIN: usize = 100_000;

/// A unary or conditional chain in an expression is parsed by recursion; if that recursion is
/// unbounded, a long enough chain overflows the stack, which aborts the whole process (the
/// server, for a template saved through the API). So each chain is validated in a child
/// process, on a stack the size of a server worker thread's (2 MiB), and watched from here.
#[test]
fn deeply_chained_expressions_are_refused_not_a_crash() {
    for shape in ["not", "minus", "else"] {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "templates::validate_a_deep_chain"])
            .env("PROPS_DEEP_CHAIN", shape)
            .env("RUST_MIN_STACK", (2 * 1024 * 1024).to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "validating a template with {CHAIN} `{shape}` in a row crashed the process: {status}"
        );
    }
}

/// The child of the test above; does nothing when run on its own.
#[test]
fn validate_a_deep_chain() {
    let Some(shape) = std::env::var_os("PROPS_DEEP_CHAIN") else {
        return;
    };
    let piece = match shape.to_str() {
        Some("not") => "not ",
        Some("minus") => "-",
        _ => "1 if x else ",
    };
    let source = Source {
        subject: format!("{{{{ {}1 }}}}", piece.repeat(CHAIN)),
        text: "t".into(),
        html: "h".into(),
    };
    // Refused or accepted, either will do; only a crash will not.
    let _ = templates::validate(&source);
}
