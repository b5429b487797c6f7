//! Email templates rendered with minijinja, sandboxed: a tenant's edited text is checked
//! before it is kept and bounded while it runs (fuel, output size, chains), so no template
//! can hold a worker or exhaust memory. The built-in sources are their owners': notify's
//! (`lifecycle::notify::templates`) and the account mail's (`auth::service::mail`). Values in
//! the context are already formatted for the shopper's locale; undefined values are "chainable" so an optional block (`{% if shipment.eta %}`)
//! needs no guard for a missing parent. HTML is auto-escaped and wrapped in one layout.

use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde::Serialize;

/// The three parts of an email template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Source {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// An email ready to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// For the List-Unsubscribe header of optional mail.
    pub unsubscribe_url: Option<String>,
}

/// What is wrong with a template, by part (`subject`, `text`, `html`) and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub part: &'static str,
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.part, self.message)
    }
}

/// A built-in template's three parts, read at build time from `backend/templates/notify/` by
/// file name.
#[macro_export]
macro_rules! builtin_template {
    ($name:literal) => {
        $crate::infra::templates::Source {
            subject: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/templates/notify/",
                $name,
                ".subject.txt"
            ))
            .to_owned(),
            text: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/templates/notify/",
                $name,
                ".txt"
            ))
            .to_owned(),
            html: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/templates/notify/",
                $name,
                ".html"
            ))
            .to_owned(),
        }
    };
}

const LAYOUT: &str = r#"<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{ subject }}</title></head>
<body style="margin:0;padding:0;background:#f4f4f5;font-family:Helvetica,Arial,sans-serif;color:#18181b">
<table role="presentation" width="100%" cellspacing="0" cellpadding="0" style="background:#f4f4f5"><tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="600" cellspacing="0" cellpadding="0" style="max-width:600px;width:100%;background:#ffffff;border-radius:8px">
<tr><td style="padding:20px 28px;border-bottom:1px solid #e4e4e7;font-size:18px;font-weight:bold">{{ shop.name }}</td></tr>
<tr><td style="padding:24px 28px;font-size:15px;line-height:1.5">{{ body }}</td></tr>
<tr><td style="padding:16px 28px;border-top:1px solid #e4e4e7;font-size:12px;color:#71717a">{{ shop.name }}{% if shop.reply_to %} · Questions? Reply to this email or write to {{ shop.reply_to }}.{% endif %}</td></tr>
</table></td></tr></table></body></html>"#;

/// Template instructions one rendering may run: the built-in templates use a few thousand; a
/// tenant's loop over a huge range stops here instead of holding a worker.
const FUEL: u64 = 200_000;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env
}

fn describe(err: &minijinja::Error) -> String {
    let what = err
        .detail()
        .map(str::to_owned)
        .unwrap_or_else(|| err.kind().to_string());
    match err.line() {
        Some(line) => format!("line {line}: {what}"),
        None => what,
    }
}

fn parts(source: &Source) -> [(&'static str, &'static str, &str); 3] {
    [
        ("subject", "subject.txt", source.subject.as_str()),
        ("text", "body.txt", source.text.as_str()),
        ("html", "body.html", source.html.as_str()),
    ]
}

/// Longest subject template, and longest text or HTML template.
pub const MAX_SUBJECT: usize = 2 * 1024;
pub const MAX_BODY: usize = 100 * 1024;
/// Most `not`, `-` and `else` one tag may hold.
const MAX_CHAIN: usize = 64;
/// Largest number a template may write (larger ones only serve to blow up a string).
const MAX_NUMBER: u64 = 10_000;
/// Most bytes one rendered part may have.
pub const MAX_OUTPUT: usize = 2 * 1024 * 1024;
/// What no template needs and what would let one build a string without bound: repetition
/// (`'x' * n`), state carried across a loop (`namespace`), and macros calling themselves.
const FORBIDDEN: &[(&str, &str)] = &[
    ("*", "multiplication"),
    ("namespace", "namespace()"),
    ("macro", "macros"),
    ("call", "call blocks"),
    ("recursive", "recursive loops"),
    ("import", "imports"),
    ("include", "includes"),
    ("extends", "extends"),
];

/// What the template engine must never be given: a part longer than its limit, or a tag with
/// a long chain of `not`, `-` or `… if … else` — minijinja (3.1) parses those by recursion with
/// no depth limit, and a few hundred kilobytes of `not not not …` overflow the stack, which
/// aborts the process rather than failing the request.
fn guard(part: &'static str, text: &str) -> Result<(), TemplateError> {
    let limit = if part == "subject" {
        MAX_SUBJECT
    } else {
        MAX_BODY
    };
    if text.len() > limit {
        return Err(TemplateError {
            part,
            message: format!("is longer than {} KiB", limit / 1024),
        });
    }
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let inner = &after[1..];
        let end = inner.find(close).unwrap_or(inner.len());
        // `{{-` and `-}}` (and `+`) control whitespace; string literals are not code.
        let raw = &inner[..end];
        let raw = raw.strip_prefix(['-', '+']).unwrap_or(raw);
        let raw = raw.strip_suffix(['-', '+']).unwrap_or(raw);
        let tag = without_strings(raw);
        let chain = tag.matches('-').count()
            + tag
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .filter(|w| *w == "not" || *w == "else")
                .count();
        if chain > MAX_CHAIN {
            return Err(TemplateError {
                part,
                message: format!(
                    "one tag holds {chain} `not`, `-` or `else`; at most {MAX_CHAIN} are allowed"
                ),
            });
        }
        let words: Vec<&str> = tag
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .collect();
        for (what, name) in FORBIDDEN {
            if (*what == "*" && tag.contains('*')) || words.contains(what) {
                return Err(TemplateError {
                    part,
                    message: format!("{name} are not available in email templates"),
                });
            }
        }
        if let Some(n) = words
            .iter()
            .filter_map(|w| w.parse::<u64>().ok())
            .find(|n| *n > MAX_NUMBER)
        {
            return Err(TemplateError {
                part,
                message: format!("the number {n} is larger than {MAX_NUMBER}"),
            });
        }
        rest = &inner[end..];
    }
    Ok(())
}

/// `tag` with its string literals emptied (`'a-b'` becomes `''`).
fn without_strings(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in tag.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                    out.push(c);
                }
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

/// Checks that each part parses; the errors name the part and the line.
pub fn validate(source: &Source) -> Vec<TemplateError> {
    let mut errors = Vec::new();
    for (part, name, text) in parts(source) {
        if part == "subject" && text.trim().is_empty() {
            errors.push(TemplateError {
                part,
                message: "must not be empty".into(),
            });
            continue;
        }
        if let Err(err) = guard(part, text) {
            errors.push(err);
            continue;
        }
        let mut env = environment();
        if let Err(err) = env.add_template(name, text) {
            errors.push(TemplateError {
                part,
                message: describe(&err),
            });
        }
    }
    errors
}

/// Renders the three parts with `context`, the HTML inside the layout.
pub fn render(source: &Source, context: &serde_json::Value) -> Result<Rendered, TemplateError> {
    let mut env = environment();
    for (part, name, text) in parts(source) {
        guard(part, text)?;
        env.add_template_owned(name, text.to_owned())
            .map_err(|err| TemplateError {
                part,
                message: describe(&err),
            })?;
    }
    env.add_template("layout.html", LAYOUT)
        .map_err(|err| TemplateError {
            part: "html",
            message: describe(&err),
        })?;
    let ctx = Value::from(Serde(context));
    let run = |part: &'static str, name: &str, ctx: &Value| {
        let template = env.get_template(name).map_err(|err| TemplateError {
            part,
            message: describe(&err),
        })?;
        render_capped(part, |out| {
            template.render_captured_to(ctx, out).map(|_| ())
        })
    };
    // A subject is one line, whatever the template did with whitespace.
    let subject = run("subject", "subject.txt", &ctx)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let text = tidy(&run("text", "body.txt", &ctx)?);
    let body = run("html", "body.html", &ctx)?;
    let lang = context
        .get("locale")
        .and_then(|l| l.as_str())
        .and_then(|l| l.split('_').next())
        .unwrap_or("en")
        .to_owned();
    let page = minijinja::context! {
        body => Value::from_safe_string(body),
        subject => subject.clone(),
        lang => lang,
        ..ctx.clone()
    };
    let layout = env
        .get_template("layout.html")
        .map_err(|err| TemplateError {
            part: "html",
            message: describe(&err),
        })?;
    let html = render_capped("html", |out| {
        layout.render_captured_to(&page, out).map(|_| ())
    })?;
    let unsubscribe_url = context
        .pointer("/review/unsubscribe_url")
        .and_then(|u| u.as_str())
        .map(str::to_owned);
    Ok(Rendered {
        subject,
        text,
        html,
        unsubscribe_url,
    })
}

/// Renders a plain-text template (a reply draft).
pub fn render_text(source: &str, context: &serde_json::Value) -> Result<String, TemplateError> {
    guard("text", source)?;
    let mut env = environment();
    env.add_template_owned("reply.txt", source.to_owned())
        .map_err(|err| TemplateError {
            part: "text",
            message: describe(&err),
        })?;
    let template = env.get_template("reply.txt").map_err(|err| TemplateError {
        part: "text",
        message: describe(&err),
    })?;
    let ctx = Value::from(Serde(context));
    render_capped("text", |out| {
        template.render_captured_to(&ctx, out).map(|_| ())
    })
    .map(|t| tidy(&t))
}

/// Output that refuses to grow past [`MAX_OUTPUT`].
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT {
            return Err(std::io::Error::other("output too long"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `render` into capped output; its text, or why not (too long included).
fn render_capped(
    part: &'static str,
    render: impl FnOnce(&mut Capped) -> Result<(), minijinja::Error>,
) -> Result<String, TemplateError> {
    let mut out = Capped(Vec::new());
    render(&mut out).map_err(|err| TemplateError {
        part,
        message: if err.kind() == minijinja::ErrorKind::WriteFailure {
            format!("renders to more than {} MiB", MAX_OUTPUT / (1024 * 1024))
        } else {
            describe(&err)
        },
    })?;
    String::from_utf8(out.0).map_err(|_| TemplateError {
        part,
        message: "rendered to something that is not text".into(),
    })
}

/// Collapses the blank lines that skipped blocks leave behind.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_owned() + "\n"
}

#[cfg(test)]
mod guard_tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source {
            subject: "Hi".into(),
            text: text.into(),
            html: "<p>x</p>".into(),
        }
    }

    #[test]
    fn templates_that_could_blow_up_are_refused_before_the_engine_sees_them() {
        for bad in [
            "{{ 'x' * 100000000 }}",
            "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
            "{% macro d(s, n) %}{{ d(s ~ s, n - 1) }}{% endmacro %}{{ d('x', 40) }}",
            "{{ 'x'|indent(100000000) }}",
            &format!("{{{{ {}1 }}}}", "not ".repeat(100_000)),
            &format!("{{{{ {}1 }}}}", "-".repeat(100)),
            &"x".repeat(MAX_BODY + 1),
        ] {
            let errors = validate(&source(bad));
            assert_eq!(errors.len(), 1, "{}", &bad[..bad.len().min(80)]);
            assert_eq!(errors[0].part, "text");
            assert!(render(&source(bad), &serde_json::json!({})).is_err());
        }
    }

    #[test]
    fn output_past_the_cap_is_an_error_not_an_allocation() {
        let line = "z".repeat(300);
        let many = format!("{{% for i in range(10000) %}}{{{{ '{line}' }}}}{{% endfor %}}");
        match render_text(&many, &serde_json::json!({})) {
            Ok(out) => panic!("rendered {} bytes", out.len()),
            Err(err) => assert!(err.message.contains("MiB"), "{}", err.message),
        }
        // Ordinary templates are untouched.
        assert!(
            validate(&source(
                "{% if a %}{{ a|upper }}{% else %}-{% endif %} {{ b ~ c }}"
            ))
            .is_empty()
        );
    }
}
