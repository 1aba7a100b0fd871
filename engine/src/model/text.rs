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

pub(crate) fn optional(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<String, ModelError> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max_chars {
        return Err(ModelError::TextTooLong { field, max_chars });
    }
    Ok(trimmed.to_owned())
}
