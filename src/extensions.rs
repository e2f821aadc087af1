//! The `Sec-WebSocket-Extensions` header grammar (RFC 6455 §9.1), independent of any one
//! extension:
//!
//! ```text
//! Sec-WebSocket-Extensions = extension-list
//! extension-list = 1#extension
//! extension = extension-token *( ";" extension-param )
//! extension-token = registered-token
//! registered-token = token
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```
//!
//! Each list element is parsed on its own: an element that breaks the grammar is reported as
//! such and the parser goes on at the next comma outside a quoted string, so one bad offer never
//! hides the offers after it. Several header lines are one list once joined with `", "` (RFC 9110
//! §5.3), which is how Node, Bun and Deno hand them over.

use std::borrow::Cow;

use crate::handshake::is_http_token;

/// One extension parameter: its name and, when it has one, its value (a quoted-string already
/// unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionParam<'a> {
    /// The parameter's name, as written.
    pub name: &'a str,
    /// Its value, `None` when the parameter has none.
    pub value: Option<Cow<'a, str>>,
}

/// One element of an extension list: an extension name and its parameters, in header order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The extension token, as written.
    pub name: &'a str,
    /// Its parameters, duplicates included: what they mean is the extension's business.
    pub params: Vec<ExtensionParam<'a>>,
}

/// A list element that does not follow the §9.1 grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset in the header value where the grammar broke.
    pub offset: usize,
}

/// A cursor over a header value.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Skips optional whitespace (RFC 9110 §5.6.3: spaces and horizontal tabs).
    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// The longest run of token characters at the cursor (possibly empty).
    fn token(&mut self) -> &'a str {
        let start = self.pos;
        let rest = self.text.as_bytes().get(start..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| !is_token_byte(b))
            .unwrap_or(rest.len());
        self.pos += len;
        // Token bytes are ASCII, so both ends are character boundaries.
        self.text.get(start..self.pos).unwrap_or_default()
    }

    /// A quoted-string (RFC 9110 §5.6.4) starting at the cursor's `"`, unescaped. `None` when it
    /// is not terminated or holds a byte a quoted-string may not.
    fn quoted_string(&mut self) -> Option<Cow<'a, str>> {
        let bytes = self.text.as_bytes();
        let start = self.pos + 1;
        let mut i = start;
        let mut owned: Option<String> = None;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Some(match owned {
                        Some(s) => Cow::Owned(s),
                        None => Cow::Borrowed(self.text.get(start..i)?),
                    });
                }
                b'\\' => {
                    // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                    let escaped = *bytes.get(i + 1)?;
                    if !is_qdtext_or_pair(escaped) || !escaped.is_ascii() {
                        return None;
                    }
                    let s = owned.get_or_insert_with(|| {
                        self.text.get(start..i).unwrap_or_default().to_owned()
                    });
                    s.push(char::from(escaped));
                    i += 2;
                }
                // Non-ASCII (obs-text) is allowed by HTTP but can never form a token, which is
                // all RFC 6455 §9.1 accepts inside the quotes: refuse it here.
                _ if is_qdtext_or_pair(b) && b.is_ascii() => {
                    if let Some(s) = owned.as_mut() {
                        s.push(char::from(b));
                    }
                    i += 1;
                }
                _ => return None,
            }
        }
        None
    }

    /// Moves past the next comma outside a quoted string, or to the end.
    fn recover(&mut self) {
        let bytes = self.text.as_bytes();
        let mut quoted = false;
        while let Some(&b) = bytes.get(self.pos) {
            self.pos += 1;
            match b {
                b'"' => quoted = !quoted,
                b'\\' if quoted => self.pos += 1,
                b',' if !quoted => return,
                _ => {}
            }
        }
        self.pos = self.pos.min(bytes.len());
    }
}

/// Token characters (RFC 9110 §5.6.2).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Bytes allowed inside a quoted-string, unescaped (qdtext) or after a backslash.
fn is_qdtext_or_pair(b: u8) -> bool {
    b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80
}

/// Parses one element at the cursor (which is on a non-space, non-comma byte) up to its
/// terminating comma or the end.
fn parse_element<'a>(cur: &mut Cursor<'a>) -> Result<Extension<'a>, SyntaxError> {
    let fail = |cur: &Cursor<'_>| SyntaxError { offset: cur.pos };
    let name = cur.token();
    if name.is_empty() {
        return Err(fail(cur));
    }
    let mut params = Vec::new();
    loop {
        cur.skip_ows();
        match cur.peek() {
            None => break,
            Some(b',') => {
                cur.pos += 1;
                break;
            }
            Some(b';') => cur.pos += 1,
            Some(_) => return Err(fail(cur)),
        }
        cur.skip_ows();
        let param = cur.token();
        if param.is_empty() {
            return Err(fail(cur));
        }
        cur.skip_ows();
        let value = if cur.peek() == Some(b'=') {
            cur.pos += 1;
            cur.skip_ows();
            let value = if cur.peek() == Some(b'"') {
                // RFC 6455 §9.1: "When using the quoted-string syntax variant, the value after
                // quoted-string unescaping MUST conform to the 'token' ABNF."
                match cur.quoted_string() {
                    Some(v) if is_http_token(&v) => v,
                    _ => return Err(fail(cur)),
                }
            } else {
                Cow::Borrowed(cur.token())
            };
            if value.is_empty() {
                return Err(fail(cur));
            }
            Some(value)
        } else {
            None
        };
        params.push(ExtensionParam { name: param, value });
    }
    Ok(Extension { name, params })
}

/// Parses a `Sec-WebSocket-Extensions` value into its elements, in header order. Empty list
/// elements (`a,,b`, a leading or trailing comma) are skipped, as RFC 9110 §5.6.1 asks of a
/// recipient; an element that breaks the grammar is an `Err` in its place.
pub fn parse_extensions(header: &str) -> Vec<Result<Extension<'_>, SyntaxError>> {
    let mut cur = Cursor {
        text: header,
        pos: 0,
    };
    let mut elements = Vec::new();
    loop {
        while matches!(cur.peek(), Some(b' ' | b'\t' | b',')) {
            cur.pos += 1;
        }
        if cur.peek().is_none() {
            return elements;
        }
        let element = parse_element(&mut cur);
        if element.is_err() {
            cur.recover();
        }
        elements.push(element);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param<'a>(name: &'a str, value: Option<&'a str>) -> ExtensionParam<'a> {
        ExtensionParam {
            name,
            value: value.map(Cow::Borrowed),
        }
    }

    #[test]
    fn parses_several_offers_with_parameters() {
        let parsed = parse_extensions(
            "permessage-deflate; client_max_window_bits, permessage-deflate ;server_max_window_bits = 10 , x-foo",
        );
        assert_eq!(
            parsed,
            vec![
                Ok(Extension {
                    name: "permessage-deflate",
                    params: vec![param("client_max_window_bits", None)],
                }),
                Ok(Extension {
                    name: "permessage-deflate",
                    params: vec![param("server_max_window_bits", Some("10"))],
                }),
                Ok(Extension {
                    name: "x-foo",
                    params: vec![],
                }),
            ]
        );
    }

    #[test]
    fn unescapes_quoted_string_values() {
        let parsed = parse_extensions(r#"a; b="10"; c="1\5""#);
        assert_eq!(
            parsed,
            vec![Ok(Extension {
                name: "a",
                params: vec![param("b", Some("10")), param("c", Some("15"))],
            })]
        );
    }

    #[test]
    fn skips_empty_elements() {
        assert_eq!(parse_extensions(" , ,\t").len(), 0);
        assert_eq!(parse_extensions(",a,,b,").len(), 2);
    }

    #[test]
    fn reports_a_broken_element_and_goes_on_after_its_comma() {
        for header in [
            "a b, c",
            "a;, c",
            "a; b=, c",
            "a; =1, c",
            r#"a; b="x,y", c"#,
            r#"a; b="", c"#,
            "a; b=\"\u{e9}\", c",
            "\u{e9}, c",
            "a; b=1 2, c",
        ] {
            let parsed = parse_extensions(header);
            assert_eq!(parsed.len(), 2, "{header:?}: {parsed:?}");
            assert!(parsed[0].is_err(), "{header:?}");
            assert_eq!(
                parsed[1],
                Ok(Extension {
                    name: "c",
                    params: vec![]
                }),
                "{header:?}"
            );
        }
    }

    #[test]
    fn an_unterminated_quoted_string_swallows_the_rest() {
        let parsed = parse_extensions(r#"a; b="1, c"#);
        assert_eq!(parsed.len(), 1);
        assert!(parsed[0].is_err());
    }
}
