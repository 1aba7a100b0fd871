//! Who the portal is talking to: the session cookie (the same signed token the API takes), the
//! reader's language, and the two checks every form post passes (same origin, and the form
//! token that only a page of this session can hold).
//!
//! The cookie is `HttpOnly` (no script reads it), `Secure`, `SameSite=Lax` and lives as long as
//! its token. Lax rather than Strict so that the landlord's sign-in, which hands the token over
//! from its own site (`POST /session`), lands the tenant signed in; a cross-site *post* carries
//! no Lax cookie, and every post here must also hold the session's form token.

use axum::http::{HeaderMap, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use tillval_engine::model::{Language, TenantId};

use crate::auth::{Auth, Identity, Verified};

pub const SESSION_COOKIE: &str = "tillval_session";
pub const LANGUAGE_COOKIE: &str = "tillval_lang";

/// A signed-in tenant.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub tenant: TenantId,
}

impl Session {
    /// The tenant's session from the cookie, if it holds a valid tenant token. Staff tokens
    /// open no portal: the portal is the tenants'.
    pub fn from_cookies(jar: &CookieJar, auth: &Auth) -> Option<Session> {
        let token = jar.get(SESSION_COOKIE)?.value().to_owned();
        match auth.verify_token(&token) {
            Ok(Verified {
                identity: Identity::Tenant(tenant),
                ..
            }) => Some(Session { token, tenant }),
            _ => None,
        }
    }

    pub fn identity(&self) -> Identity {
        Identity::Tenant(self.tenant.clone())
    }

    /// The form token every post of this session must carry.
    pub fn form_token(&self, auth: &Auth) -> String {
        auth.form_token(&self.token)
    }
}

/// The cookie that holds `token` for `max_age_secs`.
pub fn session_cookie(token: String, max_age_secs: u64) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .max_age(cookie_duration(max_age_secs))
        .build()
}

/// The cookie that ends the session.
pub fn session_removal() -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .max_age(cookie_duration(0))
        .build()
}

pub fn language_cookie(language: Language) -> Cookie<'static> {
    Cookie::build((LANGUAGE_COOKIE, language_code(language)))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .max_age(cookie_duration(365 * 24 * 3600))
        .build()
}

fn cookie_duration(secs: u64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}

pub fn language_code(language: Language) -> &'static str {
    match language {
        Language::Sv => "sv",
        Language::En => "en",
    }
}

pub fn parse_language(code: &str) -> Option<Language> {
    match code {
        "sv" => Some(Language::Sv),
        "en" => Some(Language::En),
        _ => None,
    }
}

/// The reader's language: their choice (the switch's cookie), else `Accept-Language`, else
/// Swedish.
pub fn language(jar: &CookieJar, headers: &HeaderMap) -> Language {
    jar.get(LANGUAGE_COOKIE)
        .and_then(|c| parse_language(c.value()))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Language::from_accept_language)
        })
        .unwrap_or_default()
}

/// Whether a post comes from a page of this site: its `Origin` (or, without one, its
/// `Referer`) names the host the request was sent to. A post with neither is refused.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(source) = source else {
        return false;
    };
    let rest = source
        .strip_prefix("https://")
        .or_else(|| source.strip_prefix("http://"));
    rest.and_then(|r| r.split('/').next()) == Some(host)
}

/// A path on this site to go back to: local and plain, else the start page. Refuses what a
/// browser would take to another site (`//host`, `/\\host`, a scheme).
pub fn local_path(path: &str) -> &str {
    let plain = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 512
        && !path.chars().any(|c| c.is_control() || c == '\\');
    if plain { path } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn posts_from_another_site_or_from_nowhere_are_not_same_origin() {
        let host = (header::HOST, "127.0.0.1:8080");
        assert!(same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&headers(&[
            host.clone(),
            (header::REFERER, "http://127.0.0.1:8080/kassa")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:8080.evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "null")
        ])));
        assert!(!same_origin(&headers(&[host])));
        assert!(!same_origin(&headers(&[(
            header::ORIGIN,
            "http://127.0.0.1:8080"
        )])));
    }

    #[test]
    fn only_plain_local_paths_are_followed_back() {
        assert_eq!(local_path("/kassa"), "/kassa");
        assert_eq!(local_path("/kategori/x?a=1"), "/kategori/x?a=1");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "",
            "kassa",
            "/\u{0}x",
        ] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }
}
