//! Staff's side of the outbox: the webhook endpoints (added, switched on and off), what was
//! given up on (dead letters) and putting it back, and how deep the outbox is.

use crate::events::{DeadLetter, OutboxDepth, WebhookEndpoint};
use crate::service::{ServiceError, Services};
use crate::store::Store;

/// The longest endpoint URL taken.
const URL_MAX: usize = 2_000;
const DESCRIPTION_MAX: usize = 200;

fn invalid(field: crate::Input, message: &str) -> ServiceError {
    ServiceError::InvalidInput {
        field,
        message: message.to_owned(),
    }
}

/// An endpoint's URL: absolute `http` or `https`, with a host, no credentials in it.
fn checked_url(text: &str) -> Result<String, ServiceError> {
    let text = text.trim();
    if text.len() > URL_MAX {
        return Err(invalid(crate::Input::Url, "at most 2,000 characters"));
    }
    let url = url::Url::parse(text)
        .map_err(|_| invalid(crate::Input::Url, "an absolute http or https URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(crate::Input::Url, "an absolute http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            crate::Input::Url,
            "no user or password in the URL: the signature is the credential",
        ));
    }
    Ok(url.to_string())
}

impl<S: Store> Services<S> {
    /// Adds an endpoint that gets every event written from now on, signed with `secret`.
    pub async fn webhook_endpoint_add(
        &self,
        url: &str,
        secret: &str,
        description: &str,
    ) -> Result<WebhookEndpoint, ServiceError> {
        let url = checked_url(url)?;
        if !secret.starts_with("whsec_") || !(30..=120).contains(&secret.len()) {
            return Err(invalid(crate::Input::Secret, "a `whsec_` secret"));
        }
        let description = description.trim();
        if description.chars().count() > DESCRIPTION_MAX
            || description.chars().any(char::is_control)
        {
            return Err(invalid(
                crate::Input::Description,
                "at most 200 characters, no control characters",
            ));
        }
        Ok(self
            .store
            .webhook_endpoint_add(&url, secret, description, self.clock.now())
            .await?)
    }

    pub async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, ServiceError> {
        Ok(self.store.webhook_endpoints().await?)
    }

    pub async fn webhook_endpoint_set_enabled(
        &self,
        endpoint: i64,
        enabled: bool,
    ) -> Result<WebhookEndpoint, ServiceError> {
        Ok(self
            .store
            .webhook_endpoint_set_enabled(endpoint, enabled)
            .await?)
    }

    /// An endpoint's dead letters, oldest first, `first` (1 to 100) of them.
    pub async fn webhook_dead_letters(
        &self,
        endpoint: i64,
        first: i64,
    ) -> Result<Vec<DeadLetter>, ServiceError> {
        let first = u32::try_from(first)
            .ok()
            .filter(|f| (1..=100).contains(f))
            .ok_or_else(|| invalid(crate::Input::First, "1 to 100"))?;
        Ok(self.store.dead_letters(endpoint, first).await?)
    }

    /// Puts one dead letter of an endpoint's, or all of them, back to be delivered now.
    pub async fn webhook_replay(
        &self,
        endpoint: i64,
        event: Option<i64>,
    ) -> Result<u64, ServiceError> {
        Ok(self
            .store
            .dead_letters_replay(endpoint, event, self.clock.now())
            .await?)
    }

    pub async fn outbox_depth(&self) -> Result<OutboxDepth, ServiceError> {
        Ok(self.store.outbox_depth().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_absolute_http_without_credentials() {
        for good in [
            "https://hyra.example/hooks/tillval",
            "http://127.0.0.1:8089/in",
        ] {
            assert!(checked_url(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "hyra.example/hooks",
            "/hooks",
            "ftp://hyra.example/x",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://user:pw@hyra.example/",
            "http://",
            &format!("https://hyra.example/{}", "a".repeat(2_001)),
        ] {
            assert!(checked_url(bad).is_err(), "{bad}");
        }
    }
}
