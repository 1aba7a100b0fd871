//! A rule set's source through the checks a staff user's candidate goes through (compile,
//! contract, the set's own test cases), one of its files replaced by the fuzzer's text. The
//! oracle: no panic, no hang (the sandbox bounds every script), and a set that compiles is
//! decided on the seed's tenants without a panic either.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tillval_engine::rules::check::check;
use tillval_engine::rules::{RuleSetSource, SandboxLimits, ScriptSource};

#[derive(Debug, Arbitrary)]
enum File {
    Manifest,
    KeyBlocks,
    LockKeys,
    OrderBlocks,
    OptionBlocks,
    MessagesSv,
    Test,
}

#[derive(Debug, Arbitrary)]
struct Input {
    file: File,
    text: String,
}

fuzz_target!(|input: Input| {
    let mut source = RuleSetSource::shipped();
    let script = |name: &str, code: String| ScriptSource {
        name: name.to_owned(),
        code,
    };
    let replace = |source: &mut RuleSetSource, name: &str, code: String| {
        source.scripts.retain(|s| s.name != name);
        source.scripts.push(script(name, code));
    };
    match input.file {
        File::Manifest => source.manifest = input.text,
        File::KeyBlocks => replace(&mut source, "key_blocks.rhai", input.text),
        File::LockKeys => replace(&mut source, "lock_keys.rhai", input.text),
        File::OrderBlocks => replace(&mut source, "order_blocks.rhai", input.text),
        File::OptionBlocks => replace(&mut source, "option_blocks.rhai", input.text),
        File::MessagesSv => source.messages_sv = Some(input.text),
        File::Test => source.tests = vec![script("tests/fuzz.toml", input.text)],
    }
    let _ = check(&source, SandboxLimits::default(), 0);
});
