//! Trusted documents: in production, opt-in, only the GraphQL documents of a manifest run.
//!
//! The manifest maps each document's SHA-256 (lower-case hex) to its text. The built-in one is
//! every document the portal and the staff pages run (`portal::documents`), exported with
//! `tillval documents` into `trusted-documents.json`, which CI keeps equal to the code. An
//! operator adds their own front end's documents with a manifest file of the same shape.
//!
//! A client sends a trusted document by its id (`"documentId": "sha256:<hex>"`, or Apollo's
//! `extensions.persistedQuery.sha256Hash`) or by its text; with trusted documents on, any other
//! document is refused before it is parsed or charged, over HTTP and over WebSocket alike. (An
//! Apollo persisted-query cache is not an allowlist: it learns whatever a client sends.)

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Request, ServerError, ServerResult};
use sha2::{Digest, Sha256};

/// The most documents a manifest may hold.
pub const MAX_DOCUMENTS: usize = 10_000;
/// The most one document may hold: what a tenant's request body may.
pub const MAX_DOCUMENT_BYTES: usize = crate::server::MAX_BODY_BYTES;
/// The most a manifest file may hold.
pub const MAX_MANIFEST_BYTES: usize = 16 * 1024 * 1024;

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("the manifest is larger than {} MiB", MAX_MANIFEST_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("the manifest is not a JSON object of hash to document: {0}")]
    NotAManifest(String),
    #[error("the manifest holds more than {MAX_DOCUMENTS} documents")]
    TooMany,
    #[error("{key}: not a SHA-256 in lower-case hex (64 characters, optionally after `sha256:`)")]
    BadKey { key: String },
    #[error("{key}: the document is longer than {MAX_DOCUMENT_BYTES} bytes")]
    TooLong { key: String },
    #[error("{key}: the document's SHA-256 is {actual}")]
    HashMismatch { key: String, actual: String },
}

/// The SHA-256 of a document, in lower-case hex: its id in a manifest.
pub fn document_hash(document: &str) -> String {
    format!("{:x}", Sha256::digest(document.as_bytes()))
}

/// A set of trusted documents, by hash.
#[derive(Debug, Clone, Default)]
pub struct TrustedDocuments {
    by_hash: BTreeMap<String, Arc<str>>,
}

static BUILTIN: LazyLock<TrustedDocuments> = LazyLock::new(|| {
    let mut documents = TrustedDocuments::default();
    for document in crate::portal::documents() {
        documents
            .by_hash
            .insert(document_hash(document), Arc::from(document));
    }
    documents
});

impl TrustedDocuments {
    /// The documents the portal and the staff pages run.
    pub fn builtin() -> TrustedDocuments {
        BUILTIN.clone()
    }

    /// Adds a manifest's documents (a JSON object of hash to document), each checked against
    /// its hash; answers how many there are now.
    pub fn add_manifest(&mut self, manifest: &str) -> Result<usize, ManifestError> {
        if manifest.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge);
        }
        let entries: BTreeMap<String, String> = serde_json::from_str(manifest)
            .map_err(|error| ManifestError::NotAManifest(error.to_string()))?;
        if entries.len() + self.by_hash.len() > MAX_DOCUMENTS {
            return Err(ManifestError::TooMany);
        }
        // Every entry is checked before any is added: a refused manifest adds nothing.
        let mut checked = Vec::with_capacity(entries.len());
        for (key, document) in entries {
            let Some(hash) = hash_of_id(&key) else {
                return Err(ManifestError::BadKey { key });
            };
            if document.len() > MAX_DOCUMENT_BYTES {
                return Err(ManifestError::TooLong { key });
            }
            let actual = document_hash(&document);
            if actual != hash {
                return Err(ManifestError::HashMismatch { key, actual });
            }
            checked.push((actual, Arc::from(document)));
        }
        self.by_hash.extend(checked);
        Ok(self.by_hash.len())
    }

    /// The document of an id (`sha256:<hex>` or `<hex>`).
    pub fn document(&self, id: &str) -> Option<&str> {
        let hash = hash_of_id(id)?;
        self.by_hash.get(hash).map(|document| &**document)
    }

    /// Whether a document's text is one of these.
    pub fn allows(&self, document: &str) -> bool {
        self.by_hash.contains_key(&document_hash(document))
    }

    /// How many documents there are.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The manifest as JSON (hash to document, sorted by hash), as `trusted-documents.json`
    /// holds it.
    pub fn manifest(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.by_hash).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Whether the in-process client may run a document: the pages run only built-in ones.
pub fn is_builtin(document: &str) -> bool {
    BUILTIN.allows(document)
}

/// The hex hash of a document id, when it is one.
fn hash_of_id(id: &str) -> Option<&str> {
    let hash = id.strip_prefix("sha256:").unwrap_or(id);
    let well_formed = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    well_formed.then_some(hash)
}

/// The error a refused document is answered with.
pub fn untrusted_error() -> ServerError {
    let mut error = ServerError::new(
        "only trusted documents run here: send a document of the manifest, or its documentId",
        None,
    );
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", "UNTRUSTED_DOCUMENT");
    error
}

/// The schema extension that refuses any document not in the manifest, for HTTP and
/// WebSocket alike, before it is parsed.
#[derive(Debug, Clone)]
pub struct TrustedOnly(pub Arc<TrustedDocuments>);

impl ExtensionFactory for TrustedOnly {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for TrustedOnly {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if !self.0.allows(&request.query) {
            return Err(untrusted_error());
        }
        next.run(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_manifest_holds_the_pages_documents_by_their_hashes() {
        let builtin = TrustedDocuments::builtin();
        assert!(builtin.len() >= 30, "{}", builtin.len());
        for document in crate::portal::documents() {
            assert!(builtin.allows(document));
            let id = format!("sha256:{}", document_hash(document));
            assert_eq!(builtin.document(&id), Some(document));
        }
        assert!(!builtin.allows("{ __typename }"));
        let mut again = TrustedDocuments::default();
        assert_eq!(again.add_manifest(&builtin.manifest()), Ok(builtin.len()));
    }

    #[test]
    fn a_bad_manifest_is_refused_and_says_why() {
        let good = "query A { terms { version } }";
        let hash = document_hash(good);
        let mut documents = TrustedDocuments::default();
        let bad = [
            ("[]".to_owned(), "not a JSON object"),
            ("{\"x\": 1}".to_owned(), "not a JSON object"),
            (
                format!("{{\"{hash}\": \"query B {{ terms {{ version }} }}\"}}"),
                "SHA-256 is",
            ),
            (
                format!("{{\"{}\": \"{good}\"}}", hash.to_uppercase()),
                "lower-case hex",
            ),
            ("{\"sha256:12\": \"{ a }\"}".to_owned(), "lower-case hex"),
            (
                format!("{{\"{hash}\": \"{}\"}}", "a".repeat(MAX_DOCUMENT_BYTES + 1)),
                "longer than",
            ),
        ];
        for (manifest, why) in bad {
            let error = documents.add_manifest(&manifest).unwrap_err().to_string();
            assert!(
                error.contains(why),
                "{error} for {}",
                &manifest[..manifest.len().min(80)]
            );
        }
        assert!(documents.is_empty(), "a refused manifest added nothing");
        let manifest = format!("{{\"sha256:{hash}\": \"{good}\"}}");
        assert_eq!(documents.add_manifest(&manifest), Ok(1));
        assert_eq!(documents.document(&hash), Some(good));
        assert_eq!(documents.document("sha256:zz"), None);
    }
}
