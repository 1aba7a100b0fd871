//! Opaque global ids: `gid://tillval/RentalObject/lgh-1002`. Clients pass them back as they
//! got them; a wrong kind or a malformed id is simply not found.

const PREFIX: &str = "gid://tillval/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tenant,
    Property,
    RentalObject,
    Space,
    Category,
    AddOnOption,
    Case,
    Fee,
    WebhookEndpoint,
    OutboxEvent,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Tenant => "Tenant",
            Kind::Property => "Property",
            Kind::RentalObject => "RentalObject",
            Kind::Space => "Space",
            Kind::Category => "Category",
            Kind::AddOnOption => "AddOnOption",
            Kind::Case => "Case",
            Kind::Fee => "Fee",
            Kind::WebhookEndpoint => "WebhookEndpoint",
            Kind::OutboxEvent => "OutboxEvent",
        }
    }
}

pub fn encode(kind: Kind, raw: &str) -> async_graphql::ID {
    async_graphql::ID(format!("{PREFIX}{}/{raw}", kind.name()))
}

/// The raw id inside `id` if it is a `kind` id.
pub fn decode(kind: Kind, id: &str) -> Option<String> {
    let rest = id.strip_prefix(PREFIX)?;
    let (name, raw) = rest.split_once('/')?;
    (name == kind.name() && !raw.is_empty()).then(|| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_kinds() {
        let id = encode(Kind::RentalObject, "lgh-1002");
        assert_eq!(id.as_str(), "gid://tillval/RentalObject/lgh-1002");
        assert_eq!(decode(Kind::RentalObject, &id).as_deref(), Some("lgh-1002"));
        assert_eq!(decode(Kind::Case, &id), None);
        assert_eq!(decode(Kind::RentalObject, "lgh-1002"), None);
        assert_eq!(
            decode(Kind::RentalObject, "gid://tillval/RentalObject/"),
            None
        );
    }
}
