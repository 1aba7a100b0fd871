//! Short human texts (names, descriptions): trimmed, non-empty where they must be, bounded.

use super::ModelError;

pub(crate) fn required(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<String, ModelError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ModelError::EmptyText { field });
    }
    optional(field, trimmed, max_chars)
}

/// Trimmed, at most `max_chars`, and without control characters but line breaks and tabs:
/// the one check every stored text passes, so that both databases store it alike (PostgreSQL
/// refuses NUL, SQLite would keep it).
pub fn optional(field: &'static str, value: &str, max_chars: usize) -> Result<String, ModelError> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max_chars {
        return Err(ModelError::TextTooLong { field, max_chars });
    }
    if has_control_characters(trimmed) {
        return Err(ModelError::InvalidText {
            field,
            reason: "has control characters",
        });
    }
    Ok(trimmed.to_owned())
}

/// Whether `text` holds a control character other than a line break or a tab.
pub fn has_control_characters(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// The longest start of `text` within `max_bytes`, cut at a character boundary.
pub fn prefix_within(text: &str, max_bytes: usize) -> &str {
    let mut end = text.len().min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or("")
}

/// A picture's address: relative (`/pictures/…`), or `https:`/`http:`. Anything else
/// (`javascript:`, `data:`) is refused, since pages put it in an `src`.
pub(crate) fn url(field: &'static str, value: &str) -> Result<String, ModelError> {
    let url = required(field, value, 500)?;
    let lower = url.to_ascii_lowercase();
    let allowed = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (lower.starts_with('/') && !lower.starts_with("//"));
    if !allowed || url.chars().any(char::is_whitespace) {
        return Err(ModelError::InvalidText {
            field,
            reason: "must be an https:, http: or relative (/…) address",
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picture_addresses_are_https_http_or_relative() {
        for good in [
            "https://cdn.example/a.jpg",
            "HTTP://x/y.png",
            "/pictures/a-1.svg",
        ] {
            assert!(url("picture", good).is_ok(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "//evil.example/x.png",
            "vbscript:x",
            "https://x/a b.png",
            "",
        ] {
            assert!(url("picture", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn control_characters_are_refused_but_line_breaks_are_text() {
        assert!(optional("message", "a\u{0}b", 10).is_err());
        assert!(optional("message", "a\u{1b}b", 10).is_err());
        assert_eq!(optional("message", " a\nb\tc ", 10).unwrap(), "a\nb\tc");
    }
}
