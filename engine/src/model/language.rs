//! The languages messages exist in.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Swedish, the landlords' and most tenants' language.
    #[default]
    Sv,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Sv, Language::En];

    pub fn code(self) -> &'static str {
        match self {
            Language::Sv => "sv",
            Language::En => "en",
        }
    }

    /// Picks the first supported language of an `Accept-Language` header
    /// (`en-GB,en;q=0.9,sv;q=0.8`), by quality; Swedish when none is supported.
    pub fn from_accept_language(header: &str) -> Language {
        let mut best: Option<(Language, f32)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let language = match primary {
                "sv" => Language::Sv,
                "en" => Language::En,
                _ => continue,
            };
            if best.is_none_or(|(_, q)| quality > q) {
                best = Some((language, quality));
            }
        }
        best.map(|(l, _)| l).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_quality() {
        assert_eq!(
            Language::from_accept_language("en-GB,en;q=0.9,sv;q=0.8"),
            Language::En
        );
        assert_eq!(
            Language::from_accept_language("de, sv;q=0.5, en;q=0.4"),
            Language::Sv
        );
        assert_eq!(Language::from_accept_language("fr"), Language::Sv);
        assert_eq!(Language::from_accept_language(""), Language::Sv);
    }
}
