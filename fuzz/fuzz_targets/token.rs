//! The token parser: an `Authorization` header's value through `bearer_token` and the JWT
//! check (signature, algorithm, expiry, lifetime, role). The oracle: no panic, and the answer
//! is the same when asked twice (no state leaks between checks).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tillval_graphql::auth::Auth;
use tillval_graphql::server::bearer_token;

static AUTH: LazyLock<Auth> = LazyLock::new(|| {
    Auth::new(b"a fuzzing secret of at least thirty-two bytes").unwrap_or_else(|e| panic!("{e}"))
});

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let token = bearer_token(header).unwrap_or(header);
    let first = AUTH.verify(token).map_err(|e| e.to_string());
    let second = AUTH.verify(token).map_err(|e| e.to_string());
    assert_eq!(format!("{first:?}"), format!("{second:?}"));
});
