//! The import file parser (JSON Lines and CSV): every record read field by field, every
//! problem kept. The oracle: no panic, and every problem names a line that exists (or 0, the
//! batch as a whole) with a message in both languages.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tillval_engine::model::Language;
use tillval_services::import::{ImportFormat, parse};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = if first % 2 == 0 {
        ImportFormat::JsonLines
    } else {
        ImportFormat::Csv
    };
    let now = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
    let (_, problems) = parse(text, format, now);
    let lines = u64::try_from(text.lines().count()).unwrap_or(u64::MAX) + 1;
    for problem in problems {
        assert!(
            problem.line <= lines,
            "line {} of {lines}: {problem:?}",
            problem.line
        );
        assert!(
            !problem.message(Language::Sv).is_empty() && !problem.message(Language::En).is_empty()
        );
    }
});
