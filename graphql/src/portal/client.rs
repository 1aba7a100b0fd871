//! The portal as a client of the public GraphQL API: every page's data and every action is one
//! of the operations in `operations.rs`, executed in-process against the same schema that
//! serves `/graphql`, with the signed-in tenant's identity and language, exactly as a request
//! with their token would be. No side door: what the portal can do, any front end can.

use async_graphql::{Request, Variables};
use serde::de::DeserializeOwned;
use tillval_engine::model::Language;

use crate::auth::Identity;
use crate::schema::TillvalSchema;

/// Why an operation gave no data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The API's error, with its `extensions.code` (`NOT_FOUND`, `UNAUTHENTICATED`, …).
    #[error("{code}: {message}")]
    Api { code: String, message: String },
    /// The answer did not have the shape the operation asks for: a defect of the portal.
    #[error("unexpected answer: {0}")]
    Shape(String),
}

impl ClientError {
    pub fn code(&self) -> &str {
        match self {
            ClientError::Api { code, .. } => code,
            ClientError::Shape(_) => "INTERNAL",
        }
    }
}

#[derive(Clone)]
pub struct Client {
    schema: TillvalSchema,
    identity: Identity,
    language: Language,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("identity", &self.identity)
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(schema: TillvalSchema, identity: Identity, language: Language) -> Client {
        Client {
            schema,
            identity,
            language,
        }
    }

    /// Runs `document` with `variables` and reads its data as `T`.
    pub async fn run<T: DeserializeOwned>(
        &self,
        document: &str,
        variables: serde_json::Value,
    ) -> Result<T, ClientError> {
        // The pages run only the documents of the built-in manifest, so it is always complete.
        if !crate::trusted::is_builtin(document) {
            tracing::error!(
                document,
                "a page ran a document missing from portal::documents"
            );
            return Err(ClientError::Api {
                code: "UNTRUSTED_DOCUMENT".to_owned(),
                message: "a document missing from the trusted-documents manifest".to_owned(),
            });
        }
        let request = Request::new(document)
            .variables(Variables::from_json(variables))
            .data(self.identity.clone())
            .data(self.language);
        let response = self.schema.execute(request).await;
        if let Some(error) = response.errors.first() {
            let code = error
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .and_then(|c| match c {
                    async_graphql::Value::String(s) => Some(s.clone()),
                    async_graphql::Value::Enum(e) => Some(e.to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| "INTERNAL".to_owned());
            return Err(ClientError::Api {
                code,
                message: error.message.clone(),
            });
        }
        let data = response
            .data
            .into_json()
            .map_err(|e| ClientError::Shape(e.to_string()))?;
        serde_json::from_value(data).map_err(|e| ClientError::Shape(e.to_string()))
    }

    /// The schema, for the subscription the cases page follows.
    pub fn schema(&self) -> &TillvalSchema {
        &self.schema
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }
}
