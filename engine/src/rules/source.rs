//! Where a rule set's text comes from: a folder on disk, memory, or the set that ships inside
//! the binary. The engine compiles a [`RuleSetSource`] and never cares which.

use std::path::Path;

use super::RuleSetError;

/// One rhai script of a rule set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScriptSource {
    /// The file name, used in every error position (`key_blocks.rhai:4:9`).
    pub name: String,
    pub code: String,
}

/// The text of a rule set: `ruleset.toml`, `*.rhai`, `messages/sv.toml`, `messages/en.toml`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleSetSource {
    pub manifest: String,
    pub scripts: Vec<ScriptSource>,
    pub messages_sv: Option<String>,
    pub messages_en: Option<String>,
    /// The set's own test cases (`tests/*.toml`), see [`super::testcases`].
    pub tests: Vec<ScriptSource>,
}

pub const MANIFEST_FILE: &str = "ruleset.toml";
/// A bound on what one rule set may hold, so a mistaken folder cannot eat the server.
const MAX_SOURCE_BYTES: u64 = 1024 * 1024;

impl RuleSetSource {
    /// The rule set that ships in `rules/`, compiled into the binary: the fallback for every
    /// function and message a landlord's set leaves out.
    pub fn shipped() -> Self {
        RuleSetSource {
            manifest: include_str!("../../../rules/ruleset.toml").to_owned(),
            scripts: vec![
                ScriptSource {
                    name: "key_blocks.rhai".into(),
                    code: include_str!("../../../rules/key_blocks.rhai").to_owned(),
                },
                ScriptSource {
                    name: "lock_keys.rhai".into(),
                    code: include_str!("../../../rules/lock_keys.rhai").to_owned(),
                },
                ScriptSource {
                    name: "order_blocks.rhai".into(),
                    code: include_str!("../../../rules/order_blocks.rhai").to_owned(),
                },
            ],
            messages_sv: Some(include_str!("../../../rules/messages/sv.toml").to_owned()),
            messages_en: Some(include_str!("../../../rules/messages/en.toml").to_owned()),
            tests: vec![ScriptSource {
                name: "tests/seed.toml".into(),
                code: include_str!("../../../rules/tests/seed.toml").to_owned(),
            }],
        }
    }

    /// Reads a rule-set folder: the manifest, every `*.rhai` directly in it (by name), and the
    /// messages, and the test cases in `tests/*.toml`. Other subfolders (examples) are not part
    /// of the set.
    pub fn read_dir(dir: &Path) -> Result<Self, RuleSetError> {
        let read = |path: &Path| -> Result<String, RuleSetError> {
            let too_big = std::fs::metadata(path)
                .map(|m| m.len() > MAX_SOURCE_BYTES)
                .unwrap_or(false);
            if too_big {
                return Err(RuleSetError::Read {
                    path: path.to_owned(),
                    detail: "larger than 1 MiB".into(),
                });
            }
            std::fs::read_to_string(path).map_err(|e| RuleSetError::Read {
                path: path.to_owned(),
                detail: e.to_string(),
            })
        };
        let optional = |path: &Path| -> Result<Option<String>, RuleSetError> {
            if path.exists() {
                read(path).map(Some)
            } else {
                Ok(None)
            }
        };
        let manifest = read(&dir.join(MANIFEST_FILE))?;
        let entries = std::fs::read_dir(dir).map_err(|e| RuleSetError::Read {
            path: dir.to_owned(),
            detail: e.to_string(),
        })?;
        let mut scripts = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| RuleSetError::Read {
                path: dir.to_owned(),
                detail: e.to_string(),
            })?;
            let path = entry.path();
            if path.is_file() && path.extension().is_some_and(|e| e == "rhai") {
                let name = entry.file_name().to_string_lossy().into_owned();
                scripts.push(ScriptSource {
                    name,
                    code: read(&path)?,
                });
            }
        }
        scripts.sort_by(|a, b| a.name.cmp(&b.name));
        let mut tests = Vec::new();
        let tests_dir = dir.join("tests");
        if tests_dir.is_dir() {
            let entries = std::fs::read_dir(&tests_dir).map_err(|e| RuleSetError::Read {
                path: tests_dir.clone(),
                detail: e.to_string(),
            })?;
            for entry in entries {
                let entry = entry.map_err(|e| RuleSetError::Read {
                    path: tests_dir.clone(),
                    detail: e.to_string(),
                })?;
                let path = entry.path();
                if path.is_file() && path.extension().is_some_and(|e| e == "toml") {
                    let name = format!("tests/{}", entry.file_name().to_string_lossy());
                    tests.push(ScriptSource {
                        name,
                        code: read(&path)?,
                    });
                }
            }
            tests.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(RuleSetSource {
            manifest,
            scripts,
            messages_sv: optional(&dir.join("messages").join("sv.toml"))?,
            messages_en: optional(&dir.join("messages").join("en.toml"))?,
            tests,
        })
    }
}
