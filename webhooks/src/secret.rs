//! Endpoint secrets: `whsec_` and 32 random bytes in base64, as Standard Webhooks writes them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The prefix of every secret.
pub const PREFIX: &str = "whsec_";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("a secret starts with `whsec_` and holds base64")]
    Malformed,
    #[error("a secret holds 24 to 64 bytes")]
    Length,
    #[error("the system's random source failed: {0}")]
    Random(String),
}

/// A new secret from the operating system's random source.
pub fn generate() -> Result<String, SecretError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| SecretError::Random(e.to_string()))?;
    Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
}

/// The key bytes of a `whsec_` secret: what the HMAC is keyed with.
pub fn key(secret: &str) -> Result<Vec<u8>, SecretError> {
    let encoded = secret.strip_prefix(PREFIX).ok_or(SecretError::Malformed)?;
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| SecretError::Malformed)?;
    if !(24..=64).contains(&bytes.len()) {
        return Err(SecretError::Length);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_reads_back_and_two_differ() {
        let (Ok(one), Ok(two)) = (generate(), generate()) else {
            panic!("the random source works here");
        };
        assert_ne!(one, two);
        assert_eq!(key(&one).map(|k| k.len()), Ok(32));
        for bad in [
            "",
            "whsec_",
            "secret",
            "whsec_!!!!",
            "whsec_c2hvcnQ=",
            "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ] {
            assert!(key(bad).is_err(), "{bad:?}");
        }
    }
}
