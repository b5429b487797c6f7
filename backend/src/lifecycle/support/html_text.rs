//! The text of an HTML mail body, for messages that came without a plain part: read in one
//! pass by html5ever's tokenizer (linear in the input, no tree kept), after the input is cut to
//! [`MAX_HTML`]. What a reader does not see is left out (head, title, style, script,
//! template); block elements end lines; character references are decoded by the tokenizer.

use std::cell::{Cell, RefCell};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// Bytes of HTML read at most; the rest of a longer body is not looked at.
pub const MAX_HTML: usize = 512 * 1024;
/// Characters of text produced at most.
pub const MAX_TEXT: usize = 100_000;

/// Elements whose content is not shown.
const HIDDEN: &[&str] = &[
    "head", "title", "style", "script", "template", "noscript", "iframe", "object", "svg",
];
/// Elements that start or end a line.
const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
];

struct TextSink {
    out: RefCell<String>,
    chars: Cell<usize>,
    /// The hidden element being skipped, by name.
    hidden: RefCell<Option<String>>,
}

impl TextSink {
    fn push(&self, text: &str) {
        let room = MAX_TEXT.saturating_sub(self.chars.get());
        if room == 0 {
            return;
        }
        let mut out = self.out.borrow_mut();
        let taken: String = text.chars().take(room).collect();
        self.chars.set(self.chars.get() + taken.chars().count());
        out.push_str(&taken);
    }

    fn tag(&self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        {
            let mut hidden = self.hidden.borrow_mut();
            match (&*hidden, start) {
                (None, true) if HIDDEN.contains(&name) && !tag.self_closing => {
                    *hidden = Some(name.to_owned());
                }
                (Some(open), false) if open == name => *hidden = None,
                _ => {}
            }
        }
        if BLOCK.contains(&name) {
            self.push("\n");
        } else if matches!(name, "td" | "th") {
            self.push(" ");
        }
        // The tokenizer alone does not know which elements hold raw text: told here, so that
        // a `<` inside a script or style is not read as a tag.
        match (start, name) {
            (true, "script") => TokenSinkResult::RawData(RawKind::ScriptData),
            (true, "style" | "iframe" | "noscript" | "xmp" | "noembed" | "noframes") => {
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            (true, "title" | "textarea") => TokenSinkResult::RawData(RawKind::Rcdata),
            _ => TokenSinkResult::Continue,
        }
    }
}

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => self.tag(&tag),
            Token::CharacterTokens(text) if self.hidden.borrow().is_none() => {
                self.push(&text);
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

/// The text a reader of `html` sees: lines of single-spaced words, no blank runs.
pub fn html_to_text(html: &str) -> String {
    let mut cut = html.len().min(MAX_HTML);
    while !html.is_char_boundary(cut) {
        cut -= 1;
    }
    let sink = TextSink {
        out: RefCell::new(String::new()),
        chars: Cell::new(0),
        hidden: RefCell::new(None),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(&html[..cut]));
    // The sink never asks to pause for a script, so one feed reads everything.
    let _fed = tokenizer.feed(&input);
    tokenizer.end();
    let raw = tokenizer.sink.out.take();
    let mut text = String::with_capacity(raw.len());
    for line in raw.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&words.join(" "));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_reader_sees_and_nothing_else() {
        assert_eq!(
            html_to_text(
                "<html><head><title>T</title><style>p{color:red}</style></head><body><p>Where is &quot;it&quot;?</p><script>if (a < b) { x('</p>') }</script><p>Order&nbsp;#1001 &amp; more</p></body></html>"
            ),
            "Where is \"it\"?\nOrder #1001 & more"
        );
        assert_eq!(
            html_to_text("He<b>llo</b> <i>world</i><br>bye"),
            "Hello world\nbye"
        );
        assert_eq!(
            html_to_text("<table><tr><td>a</td><td>b</td></tr></table>"),
            "a b"
        );
        // Unclosed hidden elements hide the rest, as a browser would.
        assert_eq!(html_to_text("<p>keep</p><style>drop"), "keep");
        assert_eq!(html_to_text("plain text, no tags"), "plain text, no tags");
    }

    #[test]
    fn hostile_input_costs_linear_time_and_bounded_output() {
        // What made the old scanner quadratic: many openings of elements it searched past.
        let hostile = "<style><script><head>".repeat(200_000) + &"x".repeat(5_000_000);
        let started = std::time::Instant::now();
        let text = html_to_text(&hostile);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(text.chars().count() <= MAX_TEXT);
        let long = "<p>word</p>".repeat(1_000_000);
        let text = html_to_text(&long);
        assert!(text.chars().count() <= MAX_TEXT);
        // A multi-byte character at the cut is not split.
        let wide = "é".repeat(MAX_HTML);
        assert!(!html_to_text(&wide).is_empty());
    }
}
