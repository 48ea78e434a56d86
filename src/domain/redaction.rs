//! What the request journal must never hold: credentials in headers, form fields, query
//! parameters and JSON members, replaced by [`MASK`] before anything is stored.

use std::borrow::Cow;

/// What a secret is replaced by.
pub const MASK: &str = "***";

/// Headers whose values are secrets (compared ignoring case).
const SECRET_HEADERS: [&str; 3] = ["authorization", "proxy-authorization", "appkey"];

/// Form fields, query parameters and JSON members whose values are secrets (compared
/// ignoring case, at any depth): the union of what the token endpoint, the client
/// endpoints and their answers carry.
const SECRET_NAMES: [&str; 6] = [
    "client_secret",
    "clientsecret",
    "password",
    "refresh_token",
    "access_token",
    "appkey",
];

/// True for a header whose value must be masked.
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// True for a field or member name whose value must be masked.
pub fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// `a=1&client_secret=x` with every secret field's value masked; the rest verbatim.
/// Used for query strings and `application/x-www-form-urlencoded` bodies.
pub fn redact_form(text: &str) -> Cow<'_, str> {
    let secret = |pair: &str| {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        is_secret_name(&percent_decode(key))
    };
    if !text.split('&').any(secret) {
        return Cow::Borrowed(text);
    }
    let parts: Vec<Cow<'_, str>> = text
        .split('&')
        .map(|pair| {
            if secret(pair) {
                let key = pair.split_once('=').map_or(pair, |(k, _)| k);
                Cow::Owned(format!("{key}={MASK}"))
            } else {
                Cow::Borrowed(pair)
            }
        })
        .collect();
    Cow::Owned(parts.join("&"))
}

/// A form key decoded (`+` and `%XX`), enough to compare it with the secret names.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && s.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(c) => {
                        out.push(c);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// JSON text with the value of every secret member masked, at any depth, the rest
/// verbatim. It scans tokens rather than parsing, so it also works on a body cut
/// short (a secret cut in the middle is masked to the end) and on text that is not
/// JSON at all (which it leaves alone unless it holds `"<secret name>":`).
pub fn redact_json(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let (mut i, mut copied) = (0, 0);
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let key_end = string_end(b, i);
        let key = &text[i..key_end];
        i = key_end;
        let mut j = skip_ws(b, key_end);
        if j >= b.len() || b[j] != b':' || !is_secret_key(key) {
            continue;
        }
        j = skip_ws(b, j + 1);
        let value_end = match b.get(j) {
            None | Some(b'{' | b'[') => continue,
            Some(b'"') => string_end(b, j),
            Some(_) => b[j..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                .map_or(b.len(), |n| j + n),
        };
        let s = out.get_or_insert_with(|| String::with_capacity(text.len()));
        s.push_str(&text[copied..j]);
        s.push('"');
        s.push_str(MASK);
        s.push('"');
        copied = value_end;
        i = value_end;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut s) => {
            s.push_str(&text[copied..]);
            Cow::Owned(s)
        }
    }
}

/// The index after the string literal that starts at `start` (a `"`), or the end of
/// the text when it is cut short.
fn string_end(b: &[u8], start: usize) -> usize {
    let mut k = start + 1;
    while k < b.len() {
        match b[k] {
            b'\\' => k += 2,
            b'"' => return k + 1,
            _ => k += 1,
        }
    }
    b.len()
}

fn skip_ws(b: &[u8], mut k: usize) -> usize {
    while k < b.len() && b[k].is_ascii_whitespace() {
        k += 1;
    }
    k
}

/// True when the literal `"…"` names a secret; escapes (`"client\u005fsecret"`) are
/// decoded first, so they cannot hide one.
fn is_secret_key(literal: &str) -> bool {
    if literal.contains('\\') {
        serde_json::from_str::<String>(literal).is_ok_and(|k| is_secret_name(&k))
    } else {
        let inner = literal.strip_prefix('"').unwrap_or(literal);
        is_secret_name(inner.strip_suffix('"').unwrap_or(inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_secrets_are_masked_and_other_fields_kept() {
        assert_eq!(
            redact_form(
                "grant_type=password&client_id=c&client_secret=s3&password=p%26w&refresh_token=r"
            ),
            "grant_type=password&client_id=c&client_secret=***&password=***&refresh_token=***"
        );
        assert_eq!(redact_form("a=1&b=2"), "a=1&b=2");
        assert_eq!(redact_form("client%5Fsecret=x"), "client%5Fsecret=***");
        assert_eq!(redact_form("appkey"), "appkey=***");
    }

    #[test]
    fn json_secrets_are_masked_at_any_depth() {
        let text = r#"{"a":{"clientSecret": "s1","list":[{"APPKEY":"k"}]},"access_token":"t","refresh_token":"r","n":5}"#;
        assert_eq!(
            redact_json(text),
            r#"{"a":{"clientSecret": "***","list":[{"APPKEY":"***"}]},"access_token":"***","refresh_token":"***","n":5}"#
        );
    }

    #[test]
    fn a_secret_cut_short_is_masked_to_the_end() {
        assert_eq!(
            redact_json(r#"{"x":"y","clientSecret":"abc"#),
            r#"{"x":"y","clientSecret":"***""#
        );
    }

    #[test]
    fn escaped_names_and_non_string_values_are_masked() {
        assert_eq!(
            redact_json(r#"{"client\u005fsecret":"s","password":12345}"#),
            r#"{"client\u005fsecret":"***","password":"***"}"#
        );
    }

    #[test]
    fn a_secret_name_as_a_value_is_not_a_member() {
        let text = r#"{"name":"password","x":"appkey"}"#;
        assert_eq!(redact_json(text), text);
    }

    #[test]
    fn secret_headers_are_recognised_ignoring_case() {
        assert!(is_secret_header("Authorization"));
        assert!(is_secret_header("AppKey"));
        assert!(!is_secret_header("content-type"));
    }
}
