//! Bearer tokens: JWT, HS256 only, `exp` required. The claims name a tenant or a staff user;
//! nothing a tenant sends can name another tenant.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tillval_engine::model::TenantId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Tenant,
    Staff,
}

/// Who is asking, as the token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Tenant(TenantId),
    Staff(String),
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    exp: u64,
    iat: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("the token has expired")]
    Expired,
    #[error("the secret must be at least 32 bytes")]
    WeakSecret,
}

/// Signs and checks tokens with one secret.
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth { .. }")
    }
}

/// Only for `--demo` and development, announced loudly when used.
pub const DEVELOPMENT_SECRET: &str = "tillval-development-secret-not-for-production-use";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Auth {
    pub fn new(secret: &[u8]) -> Result<Auth, AuthError> {
        if secret.len() < 32 {
            return Err(AuthError::WeakSecret);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 5;
        Ok(Auth {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    pub fn issue(&self, subject: &str, role: Role, ttl_seconds: u64) -> Result<String, AuthError> {
        let iat = now();
        let claims = Claims {
            sub: subject.to_owned(),
            role,
            iat,
            exp: iat + ttl_seconds,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid(e.to_string()),
            })?;
        match data.claims.role {
            Role::Tenant => TenantId::parse(&data.claims.sub)
                .map(Identity::Tenant)
                .map_err(|e| AuthError::Invalid(e.to_string())),
            Role::Staff if !data.claims.sub.trim().is_empty() => {
                Ok(Identity::Staff(data.claims.sub))
            }
            Role::Staff => Err(AuthError::Invalid("empty subject".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
