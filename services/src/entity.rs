//! The kinds of thing a lookup can fail to find.

/// What a lookup did not find. Unknown and not the caller's are never told apart (S1), so the
/// kind of thing is all an error says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    AddOnOption,
    CartLine,
    Case,
    Catalogue,
    Fee,
    LockKey,
    Property,
    RentalObject,
    RuleSet,
    Tenant,
    Terms,
    WebhookEndpoint,
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Entity::AddOnOption => "option",
            Entity::CartLine => "cart line",
            Entity::Case => "case",
            Entity::Catalogue => "catalogue",
            Entity::Fee => "fee",
            Entity::LockKey => "lock key",
            Entity::Property => "property",
            Entity::RentalObject => "rental object",
            Entity::RuleSet => "rule set",
            Entity::Tenant => "tenant",
            Entity::Terms => "terms",
            Entity::WebhookEndpoint => "webhook endpoint",
        })
    }
}
