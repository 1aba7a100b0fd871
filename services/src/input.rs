//! The inputs of the services' operations, by what they mean. An error names the input it
//! refuses with one of these; a facade names it in its own terms (the GraphQL facade maps each
//! to its input field), so the services never spell another layer's field names.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Input {
    Action,
    Amount,
    Category,
    ContactPhone,
    Currency,
    Description,
    Details,
    First,
    IdempotencyKey,
    MonthlyPrice,
    Option,
    Quantity,
    ReasonCode,
    Retention,
    Secret,
    Url,
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Input::Action => "action",
            Input::Amount => "amount",
            Input::Category => "category",
            Input::ContactPhone => "contact phone",
            Input::Currency => "currency",
            Input::Description => "description",
            Input::Details => "details",
            Input::First => "first",
            Input::IdempotencyKey => "idempotency key",
            Input::MonthlyPrice => "monthly price",
            Input::Option => "option",
            Input::Quantity => "quantity",
            Input::ReasonCode => "reason code",
            Input::Retention => "retention",
            Input::Secret => "secret",
            Input::Url => "url",
        })
    }
}
