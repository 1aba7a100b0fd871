//! The Standard Webhooks signature: HMAC-SHA256 keyed with the secret's bytes over
//! `{webhook-id}.{webhook-timestamp}.{body}`, sent as `v1,{base64}` in `webhook-signature`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::{SecretError, key};

/// The three headers of a signed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
}

/// Signs `body` for the delivery `id` at `timestamp` (seconds since the epoch).
pub fn sign(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<SignedHeaders, SecretError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)?).map_err(|_| SecretError::Length)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(SignedHeaders {
        id: id.to_owned(),
        timestamp: timestamp.to_string(),
        signature: format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries: this secret, id, timestamp and
    /// body sign to this signature.
    #[test]
    fn signs_the_specifications_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signed = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(
            signed.map(|s| s.signature),
            Ok("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_owned())
        );
    }
}
