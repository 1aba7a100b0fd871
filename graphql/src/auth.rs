//! Bearer tokens: JWT, HS256 only, `exp` required, `nbf` honoured, and no token living longer
//! than the configured maximum (a week by default). The claims name a tenant or a staff user;
//! nothing a tenant sends can name another tenant. Errors are worded here, never by the JWT
//! library, so that a client learns what was wrong and nothing about the implementation.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tillval_engine::model::TenantId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Tenant,
    Staff,
    /// The landlord's other systems: may move cases (and import facts), nothing else.
    Integration,
}

/// Who is asking, as the token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Tenant(TenantId),
    Staff(String),
    /// A system of the landlord's, by name.
    Integration(String),
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
}

/// The longest a token may live unless configured otherwise: a week.
pub const DEFAULT_MAX_LIFETIME_SECS: u64 = 7 * 24 * 3600;
/// The clock skew allowed between the issuer and this server.
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the token is invalid: {0}")]
    Invalid(&'static str),
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token lives longer than the {max_seconds} seconds allowed")]
    TooLongLived { max_seconds: u64 },
    #[error("the secret must be at least 32 bytes")]
    WeakSecret,
}

/// Signs and checks tokens with one secret.
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    max_lifetime_secs: u64,
    /// The key of the portal's form tokens, derived from the secret: every node that shares
    /// the secret accepts every node's forms.
    form_key: [u8; 32],
}

/// A verified token: who, and until when (seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub identity: Identity,
    pub expires_at: u64,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth { .. }")
    }
}

/// Only for `--demo` and development, announced loudly when used.
pub const DEVELOPMENT_SECRET: &str = "tillval-development-secret-not-for-production-use";

fn mac(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    // HMAC takes a key of any length, so this cannot fail; a zero tag would only refuse forms.
    match hmac::Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Auth {
    pub fn new(secret: &[u8]) -> Result<Auth, AuthError> {
        Auth::with_max_lifetime(secret, DEFAULT_MAX_LIFETIME_SECS)
    }

    /// Tokens living longer than `max_lifetime_secs` (from `iat`, or from now) are refused.
    pub fn with_max_lifetime(secret: &[u8], max_lifetime_secs: u64) -> Result<Auth, AuthError> {
        if secret.len() < 32 {
            return Err(AuthError::WeakSecret);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Ok(Auth {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            max_lifetime_secs,
            form_key: mac(secret, b"tillval portal form tokens v1"),
        })
    }

    pub fn max_lifetime_secs(&self) -> u64 {
        self.max_lifetime_secs
    }

    /// The anti-forgery token of a session's forms: an HMAC of the session's token, so a page
    /// on another site, which cannot read the session, cannot make one.
    pub fn form_token(&self, session: &str) -> String {
        mac(&self.form_key, session.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `given` is the form token of `session`, compared in constant time.
    pub fn form_token_ok(&self, session: &str, given: &str) -> bool {
        use hmac::Mac;
        let Some(given) = hex(given) else {
            return false;
        };
        let Ok(mut check) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.form_key) else {
            return false;
        };
        check.update(session.as_bytes());
        check.verify_slice(&given).is_ok()
    }

    pub fn issue(&self, subject: &str, role: Role, ttl_seconds: u64) -> Result<String, AuthError> {
        if ttl_seconds > self.max_lifetime_secs {
            return Err(AuthError::TooLongLived {
                max_seconds: self.max_lifetime_secs,
            });
        }
        let iat = now();
        let claims = Claims {
            sub: subject.to_owned(),
            role,
            iat: Some(iat),
            nbf: None,
            exp: iat.saturating_add(ttl_seconds),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| AuthError::Invalid("it could not be signed"))
    }

    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        self.verify_token(token).map(|v| v.identity)
    }

    /// Verifies a token and says until when it holds.
    pub fn verify_token(&self, token: &str) -> Result<Verified, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                tracing::debug!(error = %e, "token refused");
                match e.kind() {
                    ErrorKind::ExpiredSignature => AuthError::Expired,
                    ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                    ErrorKind::InvalidSignature => {
                        AuthError::Invalid("the signature does not match")
                    }
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        AuthError::Invalid("only HS256 is accepted")
                    }
                    ErrorKind::MissingRequiredClaim(_) => {
                        AuthError::Invalid("a required claim (sub, exp) is missing")
                    }
                    _ => AuthError::Invalid("it is not a well-formed token"),
                }
            })?;
        let claims = data.claims;
        let start = claims.iat.unwrap_or_else(now).max(claims.nbf.unwrap_or(0));
        if claims.exp.saturating_sub(start) > self.max_lifetime_secs.saturating_add(LEEWAY_SECS)
            || claims.exp.saturating_sub(now()) > self.max_lifetime_secs.saturating_add(LEEWAY_SECS)
        {
            return Err(AuthError::TooLongLived {
                max_seconds: self.max_lifetime_secs,
            });
        }
        let identity = match claims.role {
            Role::Tenant => TenantId::parse(&claims.sub)
                .map(Identity::Tenant)
                .map_err(|_| AuthError::Invalid("the subject is not a tenant id"))?,
            Role::Staff if !claims.sub.trim().is_empty() => Identity::Staff(claims.sub),
            Role::Integration if !claims.sub.trim().is_empty() => Identity::Integration(claims.sub),
            Role::Staff | Role::Integration => {
                return Err(AuthError::Invalid("the subject is empty"));
            }
        };
        Ok(Verified {
            identity,
            expires_at: claims.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_tokens_belong_to_one_session_and_one_secret() {
        let auth = Auth::new(DEVELOPMENT_SECRET.as_bytes()).unwrap();
        let token = auth.form_token("session-a");
        assert_eq!(token.len(), 64);
        assert!(auth.form_token_ok("session-a", &token));
        assert!(!auth.form_token_ok("session-b", &token));
        assert!(!auth.form_token_ok("session-a", ""));
        assert!(!auth.form_token_ok("session-a", &token[..63]));
        assert!(!auth.form_token_ok("session-a", &"zz".repeat(32)));
        assert!(!auth.form_token_ok("session-a", "ä".repeat(32).as_str()));
        let other = Auth::new(&[7u8; 32]).unwrap();
        assert!(!other.form_token_ok("session-a", &token));
    }

    #[test]
    fn issues_and_verifies_and_refuses_tampering_and_weak_secrets() {
        let auth = Auth::new(DEVELOPMENT_SECRET.as_bytes()).unwrap();
        let token = auth.issue("anna-svensson", Role::Tenant, 60).unwrap();
        assert_eq!(
            auth.verify(&token).unwrap(),
            Identity::Tenant(TenantId::parse("anna-svensson").unwrap())
        );
        let other = Auth::new(&[7u8; 32]).unwrap();
        assert!(other.verify(&token).is_err());
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(auth.verify(&tampered).is_err());
        assert!(matches!(Auth::new(b"short"), Err(AuthError::WeakSecret)));
        let staff = auth.issue("ola", Role::Staff, 60).unwrap();
        assert_eq!(auth.verify(&staff).unwrap(), Identity::Staff("ola".into()));
    }

    fn signed(claims: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(DEVELOPMENT_SECRET.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn lifetimes_are_bounded_and_nbf_is_honoured_in_our_own_words() {
        let auth = Auth::new(DEVELOPMENT_SECRET.as_bytes()).unwrap();
        // A ttl near u64::MAX or past the maximum is refused when minting, not an overflow.
        for ttl in [u64::MAX, i64::MAX as u64, DEFAULT_MAX_LIFETIME_SECS + 1] {
            assert!(matches!(
                auth.issue("anna-svensson", Role::Tenant, ttl),
                Err(AuthError::TooLongLived { .. })
            ));
        }
        let now = now();
        let year_9999 = signed(serde_json::json!({
            "sub": "anna-svensson", "role": "tenant", "exp": 253_402_300_799u64
        }));
        assert!(matches!(
            auth.verify(&year_9999),
            Err(AuthError::TooLongLived { .. })
        ));
        let later = signed(serde_json::json!({
            "sub": "anna-svensson", "role": "tenant", "exp": now + 600, "nbf": now + 300
        }));
        assert_eq!(auth.verify(&later), Err(AuthError::NotYetValid));
        let garbage = auth.verify("not.a.token").unwrap_err().to_string();
        assert_eq!(
            garbage,
            "the token is invalid: it is not a well-formed token"
        );
        let verified = auth
            .verify_token(&auth.issue("anna-svensson", Role::Tenant, 60).unwrap())
            .unwrap();
        assert!((now + 59..=now + 61).contains(&verified.expires_at));
    }
}
