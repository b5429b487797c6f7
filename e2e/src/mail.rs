//! Reading a received message: headers, MIME parts, transfer encodings (7bit, 8bit,
//! quoted-printable, base64), and the invitation link inside.

use anyhow::{Context, bail};
use base64::Engine;

/// A message or one MIME part: unfolded headers and the raw (still encoded) body.
#[derive(Clone, Debug)]
pub struct Part {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Part {
    /// Splits headers from body. Line endings become `\n`; folded headers are unfolded.
    pub fn parse(raw: &str) -> Self {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = match raw.split_once("\n\n") {
            Some((head, body)) => (head.to_owned(), body.to_owned()),
            None if raw.starts_with('\n') => (String::new(), raw[1..].to_owned()),
            None => (raw, String::new()),
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = headers.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        Self { headers, body }
    }

    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type, lower case, without parameters; `text/plain` when absent.
    pub fn media_type(&self) -> String {
        self.header("Content-Type")
            .and_then(|v| v.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "text/plain".to_owned())
    }

    /// A parameter of Content-Type, such as `boundary`, unquoted.
    pub fn content_type_param(&self, name: &str) -> Option<String> {
        let value = self.header("Content-Type")?;
        value.split(';').skip(1).find_map(|param| {
            let (key, value) = param.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().trim_matches('"').to_owned())
        })
    }

    /// The parts of a `multipart/*` body; empty for any other part.
    pub fn subparts(&self) -> Vec<Part> {
        let Some(boundary) = self
            .media_type()
            .starts_with("multipart/")
            .then(|| self.content_type_param("boundary"))
            .flatten()
        else {
            return Vec::new();
        };
        let delimiter = format!("--{boundary}");
        let closing = format!("--{boundary}--");
        let mut parts = Vec::new();
        let mut current: Option<Vec<&str>> = None;
        for line in self.body.split('\n') {
            let trimmed = line.trim_end();
            if trimmed == closing {
                if let Some(lines) = current.take() {
                    parts.push(Part::parse(&lines.join("\n")));
                }
                break;
            }
            if trimmed == delimiter {
                if let Some(lines) = current.take() {
                    parts.push(Part::parse(&lines.join("\n")));
                }
                current = Some(Vec::new());
            } else if let Some(lines) = current.as_mut() {
                lines.push(line);
            }
        }
        parts
    }

    /// The body with its Content-Transfer-Encoding undone, read as UTF-8.
    pub fn decoded_body(&self) -> anyhow::Result<String> {
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .trim()
            .to_ascii_lowercase();
        let bytes = match encoding.as_str() {
            "7bit" | "8bit" | "binary" => self.body.clone().into_bytes(),
            "quoted-printable" => decode_quoted_printable(&self.body),
            "base64" => decode_base64(&self.body)?,
            other => bail!("unknown Content-Transfer-Encoding {other:?}"),
        };
        String::from_utf8(bytes).context("the decoded body is not UTF-8")
    }

    /// The first `text/plain` part, depth first (the message itself when it is one), decoded.
    pub fn text_plain(&self) -> anyhow::Result<String> {
        if self.media_type() == "text/plain" {
            return self.decoded_body();
        }
        for part in self.subparts() {
            if let Ok(text) = part.text_plain() {
                return Ok(text);
            }
        }
        bail!("no text/plain part in a {} message", self.media_type())
    }
}

/// Undoes quoted-printable: `=XX` escapes and `=` soft line breaks. Expects `\n` line endings.
pub fn decode_quoted_printable(body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut lines = body.split('\n').peekable();
    while let Some(line) = lines.next() {
        // Trailing whitespace is padding added in transport (RFC 2045 §6.7 rule 3).
        let line = line.trim_end_matches([' ', '\t', '\r']);
        let (line, soft_break) = match line.strip_suffix('=') {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && let Some(byte) = bytes
                    .get(i + 1..i + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                out.push(byte);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        if !soft_break && lines.peek().is_some() {
            out.push(b'\n');
        }
    }
    out
}

/// Undoes base64, ignoring line breaks and other whitespace.
pub fn decode_base64(body: &str) -> anyhow::Result<Vec<u8>> {
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.as_bytes()))
        .context("the body is not valid base64")
}

/// The decoded text/plain body of a raw message.
pub fn text_plain(raw: &str) -> anyhow::Result<String> {
    Part::parse(raw).text_plain()
}

/// The token of the first `…/accept-invite?token=…` link in `text`.
pub fn invitation_token(text: &str) -> Option<String> {
    const MARKER: &str = "/accept-invite?token=";
    let start = text.find(MARKER)? + MARKER.len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    (!token.is_empty()).then_some(token)
}

/// Whether `token` has the shape of an invitation token: `ofi_<32 hex>_<43 base64url>`.
pub fn is_invitation_token(token: &str) -> bool {
    let Some(rest) = token.strip_prefix("ofi_") else {
        return false;
    };
    let Some((tenant, secret)) = rest.split_at_checked(32) else {
        return false;
    };
    let Some(secret) = secret.strip_prefix('_') else {
        return false;
    };
    tenant.chars().all(|c| c.is_ascii_hexdigit())
        && secret.len() == 43
        && secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str =
        "ofi_0193a5b2c4d67e8f9a0b1c2d3e4f5a6b_Ab-cd_EFghijklmnopqrstuvwxyz0123456789ABCDE";

    #[test]
    fn the_token_shape_is_recognised() {
        assert!(is_invitation_token(TOKEN));
        assert!(!is_invitation_token("ofi_short_x"));
        assert!(!is_invitation_token(&TOKEN.replace("ofi_", "ofk_")));
        assert!(!is_invitation_token(&format!("{TOKEN}x")));
    }

    #[test]
    fn quoted_printable_soft_breaks_and_escapes_are_undone() {
        let body = "Accept: http://h/accept-invite?token=3Dofi_0193a5b2c4d67e8f9a0b=\n1c2d3e4f5a6b_A=\nb-cd_EF =C3=A9t=C3=A9\nnext line\n";
        let text = String::from_utf8(decode_quoted_printable(body)).unwrap();
        assert_eq!(
            text,
            "Accept: http://h/accept-invite?token=ofi_0193a5b2c4d67e8f9a0b1c2d3e4f5a6b_Ab-cd_EF été\nnext line\n"
        );
    }

    #[test]
    fn the_text_part_of_a_multipart_message_is_found_and_decoded() {
        let link = format!("http://127.0.0.1:1/accept-invite?token={TOKEN}");
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("Hello,\n\nAccept the invitation: {link}\n"));
        let (first, second) = encoded.split_at(40);
        let raw = format!(
            "From: a@b\r\nTo: new.person@example.com\r\nContent-Type: multipart/alternative;\r\n boundary=\"XyZ\"\r\n\r\n\
             --XyZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{first}\r\n{second}\r\n\
             --XyZ\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<a href=3D\"x\">x</a>\r\n\
             --XyZ--\r\n"
        );
        let message = Part::parse(&raw);
        assert_eq!(message.header("to"), Some("new.person@example.com"));
        assert_eq!(
            message.content_type_param("boundary").as_deref(),
            Some("XyZ")
        );
        let text = message.text_plain().unwrap();
        assert!(text.contains(&link), "{text}");
        assert_eq!(invitation_token(&text).as_deref(), Some(TOKEN));
    }
}
