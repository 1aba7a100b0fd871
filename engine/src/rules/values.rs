//! What the scripts see, and what they may give back. Facts become one shared rhai map per
//! decision (cloning a shared value is a reference count, not a deep copy), options become maps
//! once per catalogue load.

use std::collections::BTreeMap;

use chrono::Datelike;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, ImmutableString, Map};

use super::{Reason, ReasonCode, ReasonParam, RuleError};
use crate::model::{AddOnOption, Currency, LockKey, Money, OptionId, TenantFacts, Unit};

/// Money as a script sees it: `amount` (öre) and `currency`. A registered type rather than a
/// map, so that reading `option.monthly_price.amount` copies two words, not a map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScriptMoney {
    amount: i64,
    currency: ImmutableString,
}

impl ScriptMoney {
    fn of(money: Money) -> ScriptMoney {
        ScriptMoney {
            amount: money.minor(),
            currency: money.currency().code().into(),
        }
    }
    /// As engine money, for a reason's parameter; `None` for an unknown currency.
    fn to_money(&self) -> Option<Result<Money, crate::model::ModelError>> {
        let currency = Currency::parse(self.currency.as_str()).ok()?;
        Some(Money::from_minor(self.amount, currency))
    }
}

pub(crate) fn money_value(money: Money) -> Dynamic {
    Dynamic::from(ScriptMoney::of(money))
}

/// The option as a script sees it in `lock_keys(option)` and `option_blocks(tenant, option)`:
/// a registered type whose properties are read by getters (no map is built or copied per
/// read). Made once per catalogue; each call gets a reference-counted copy, and a script that
/// writes to its option writes to its own copy (copy on write), never to the catalogue's.
#[derive(Debug, Clone)]
pub(crate) struct OptionValue(Arc<OptionForScripts>);

#[derive(Debug, Clone)]
struct OptionForScripts {
    id: ImmutableString,
    category: ImmutableString,
    space: ImmutableString,
    name: ImmutableString,
    monthly_price: ScriptMoney,
    one_time_fee: ScriptMoney,
    unit: ImmutableString,
    max_quantity: i64,
    keys: Array,
}

pub(crate) fn option_value(option: &AddOnOption, keys: &[LockKey]) -> Dynamic {
    let (unit, max) = match option.unit() {
        Unit::Piece { max } => ("piece", max.get()),
        Unit::Single => ("single", 1),
    };
    Dynamic::from(OptionValue(Arc::new(OptionForScripts {
        id: option.id().as_str().into(),
        category: option.category().as_str().into(),
        space: option.space().as_str().into(),
        name: option.name().into(),
        monthly_price: ScriptMoney::of(option.monthly_price()),
        one_time_fee: ScriptMoney::of(option.one_time_fee()),
        unit: unit.into(),
        max_quantity: i64::from(max),
        keys: keys
            .iter()
            .map(|k| Dynamic::from(ImmutableString::from(k.as_str())))
            .collect(),
    })))
}

/// The apartment as a script sees it (`tenant.rental_object`), registered like the option.
#[derive(Debug, Clone)]
pub(crate) struct ApartmentValue(Arc<ApartmentForScripts>);

#[derive(Debug, Clone)]
struct ApartmentForScripts {
    id: ImmutableString,
    property: ImmutableString,
    building_year: i64,
    rooms: i64,
    area_sqm: i64,
    spaces: Array,
}

/// Registers a property with a getter and a copy-on-write setter.
macro_rules! property {
    ($engine:expr, $type:ty, $name:ident: $value:ty) => {
        $engine
            .register_get(stringify!($name), |v: &mut $type| v.0.$name.clone())
            .register_set(stringify!($name), |v: &mut $type, x: $value| {
                Arc::make_mut(&mut v.0).$name = x;
            });
    };
}

/// Registers `Money`, `Option` and `Apartment`: their properties and what a script may do
/// with money. See docs/rules.md.
pub(crate) fn register_value_types(engine: &mut Engine) {
    engine.register_type_with_name::<ScriptMoney>("Money");
    engine
        .register_get("amount", |m: &mut ScriptMoney| m.amount)
        .register_set("amount", |m: &mut ScriptMoney, amount: i64| {
            m.amount = amount
        })
        .register_get("currency", |m: &mut ScriptMoney| m.currency.clone())
        .register_set("currency", |m: &mut ScriptMoney, c: ImmutableString| {
            m.currency = c
        })
        // `money["amount"]`, as when money was a map.
        .register_indexer_get(
            |m: &mut ScriptMoney,
             field: ImmutableString|
             -> Result<Dynamic, Box<rhai::EvalAltResult>> {
                match field.as_str() {
                    "amount" => Ok(Dynamic::from_int(m.amount)),
                    "currency" => Ok(Dynamic::from(m.currency.clone())),
                    other => {
                        Err(format!("money has no `{other}`; it has amount and currency").into())
                    }
                }
            },
        )
        .register_fn("==", |a: &mut ScriptMoney, b: ScriptMoney| *a == b)
        .register_fn("!=", |a: &mut ScriptMoney, b: ScriptMoney| *a != b)
        .register_fn("to_string", |m: &mut ScriptMoney| {
            format!("{} {}", m.amount, m.currency)
        })
        .register_fn("to_debug", |m: &mut ScriptMoney| {
            format!("#{{ amount: {}, currency: \"{}\" }}", m.amount, m.currency)
        });

    engine.register_type_with_name::<OptionValue>("Option");
    property!(engine, OptionValue, id: ImmutableString);
    property!(engine, OptionValue, category: ImmutableString);
    property!(engine, OptionValue, space: ImmutableString);
    property!(engine, OptionValue, name: ImmutableString);
    property!(engine, OptionValue, monthly_price: ScriptMoney);
    property!(engine, OptionValue, one_time_fee: ScriptMoney);
    property!(engine, OptionValue, unit: ImmutableString);
    property!(engine, OptionValue, max_quantity: i64);
    property!(engine, OptionValue, keys: Array);

    engine.register_type_with_name::<ApartmentValue>("Apartment");
    property!(engine, ApartmentValue, id: ImmutableString);
    property!(engine, ApartmentValue, property: ImmutableString);
    property!(engine, ApartmentValue, building_year: i64);
    property!(engine, ApartmentValue, rooms: i64);
    property!(engine, ApartmentValue, area_sqm: i64);
    property!(engine, ApartmentValue, spaces: Array);
}

/// What the cart holds, as far as the rules are concerned.
#[derive(Debug, Clone, Default)]
pub struct CartSummary {
    /// Each lock key the cart's lines occupy, with the option occupying it.
    pub keys: BTreeMap<LockKey, OptionId>,
    /// Each cart line's option with its quantity.
    pub lines: BTreeMap<OptionId, u32>,
    pub monthly_total: Option<Money>,
    pub article_count: u32,
}

/// The `tenant` argument of every rule: the facts, the apartment and the cart, behind one
/// `Arc`. A registered type rather than a map, so that passing it is a reference count and the
/// keyed look-ups (`tenant.has_ongoing_order(key)`) are native and copy nothing.
#[derive(Debug, Clone)]
pub(crate) struct TenantValue(Arc<TenantFactsForScripts>);

#[derive(Debug)]
pub(crate) struct TenantFactsForScripts {
    facts: TenantFacts,
    cart: CartSummary,
    rental_object: ApartmentValue,
    // Made once per decision, copied per read (a script writes to its own copy).
    currency_text: Dynamic,
    debt: ScriptMoney,
    active_monthly_total: ScriptMoney,
    cart_monthly_total: ScriptMoney,
}

impl TenantValue {
    /// Whether any look-up that `key_use` says `key_blocks` makes answers something for `key`.
    /// When none does, `key_blocks` answers for `key` what it answers for every such key.
    pub(crate) fn has_facts_on(&self, key: &LockKey, key_use: super::KeyUse) -> bool {
        match key_use {
            super::KeyUse::Direct => true,
            super::KeyUse::ThroughLookups {
                ongoing_orders,
                unpaid_fees,
                cart_keys,
            } => {
                (ongoing_orders && self.0.facts.ongoing_orders.contains_key(key))
                    || (unpaid_fees && self.0.facts.unpaid_fees.contains_key(key))
                    || (cart_keys && self.0.cart.keys.contains_key(key))
            }
        }
    }
}

impl TenantValue {
    /// Every key some look-up that `key_use` says `key_blocks` makes answers something for
    /// (for [`super::KeyUse::Direct`], none: there every key is decided alone anyway).
    pub(crate) fn fact_keys(&self, key_use: super::KeyUse) -> impl Iterator<Item = &LockKey> {
        let (ongoing, unpaid, cart) = match key_use {
            super::KeyUse::Direct => (false, false, false),
            super::KeyUse::ThroughLookups {
                ongoing_orders,
                unpaid_fees,
                cart_keys,
            } => (ongoing_orders, unpaid_fees, cart_keys),
        };
        let facts = &self.0.facts;
        let ongoing = facts.ongoing_orders.keys().filter(move |_| ongoing);
        let unpaid = facts.unpaid_fees.keys().filter(move |_| unpaid);
        let cart = self.0.cart.keys.keys().filter(move |_| cart);
        ongoing.chain(unpaid).chain(cart)
    }
}

pub(crate) fn tenant_value(
    facts: &TenantFacts,
    cart: &CartSummary,
    currency: Currency,
) -> TenantValue {
    let object = &facts.rental_object;
    let apartment = ApartmentValue(Arc::new(ApartmentForScripts {
        id: object.id().as_str().into(),
        property: object.property().as_str().into(),
        building_year: i64::from(object.building_year()),
        rooms: i64::from(object.rooms()),
        area_sqm: i64::from(object.area_sqm()),
        spaces: object
            .spaces()
            .iter()
            .map(|s| text(s.id.as_str()))
            .collect(),
    }));
    TenantValue(Arc::new(TenantFactsForScripts {
        facts: facts.clone(),
        cart: cart.clone(),
        rental_object: apartment,
        currency_text: text(currency.code()),
        debt: ScriptMoney::of(facts.debt),
        active_monthly_total: ScriptMoney::of(facts.active_monthly_total),
        cart_monthly_total: ScriptMoney::of(cart.monthly_total.unwrap_or(Money::zero(currency))),
    }))
}

fn text(value: &str) -> Dynamic {
    Dynamic::from(ImmutableString::from(value))
}

fn or_unit<T>(value: Option<T>, into: impl FnOnce(T) -> Dynamic) -> Dynamic {
    value.map(into).unwrap_or(Dynamic::UNIT)
}

/// Registers the `Tenant` type: its properties and its look-ups. See docs/rules.md.
pub(crate) fn register_tenant_type(engine: &mut Engine) {
    engine.register_type_with_name::<TenantValue>("Tenant");
    engine
        .register_get("id", |t: &mut TenantValue| text(t.0.facts.tenant.as_str()))
        .register_get("ordering_enabled", |t: &mut TenantValue| {
            t.0.facts.ordering_enabled
        })
        .register_get("currency", |t: &mut TenantValue| t.0.currency_text.clone())
        .register_get("debt", |t: &mut TenantValue| t.0.debt.clone())
        .register_get("active_monthly_total", |t: &mut TenantValue| {
            t.0.active_monthly_total.clone()
        })
        .register_get("cart_monthly_total", |t: &mut TenantValue| {
            t.0.cart_monthly_total.clone()
        })
        .register_get("cart_article_count", |t: &mut TenantValue| {
            i64::from(t.0.cart.article_count)
        })
        .register_get("today", |t: &mut TenantValue| {
            text(&t.0.facts.today.format("%Y-%m-%d").to_string())
        })
        .register_get("year", |t: &mut TenantValue| {
            i64::from(t.0.facts.today.year())
        })
        .register_get("month", |t: &mut TenantValue| {
            i64::from(t.0.facts.today.month())
        })
        .register_get("day", |t: &mut TenantValue| {
            i64::from(t.0.facts.today.day())
        })
        .register_get("rental_object", |t: &mut TenantValue| {
            t.0.rental_object.clone()
        })
        .register_get("co_tenants", |t: &mut TenantValue| {
            t.0.facts
                .co_tenants
                .iter()
                .map(|c| text(c.as_str()))
                .collect::<Array>()
        })
        // Whole maps, for scripts that look at everything; the look-ups below are cheaper.
        .register_get("ongoing_orders", |t: &mut TenantValue| {
            t.0.facts
                .ongoing_orders
                .iter()
                .map(|(key, order)| (key.as_str().into(), text(&order.case_number)))
                .collect::<Map>()
        })
        .register_get("unpaid_fees", |t: &mut TenantValue| {
            t.0.facts
                .unpaid_fees
                .iter()
                .map(|(key, fee)| (key.as_str().into(), money_value(*fee)))
                .collect::<Map>()
        })
        .register_get("cart_keys", |t: &mut TenantValue| {
            t.0.cart
                .keys
                .iter()
                .map(|(key, option)| (key.as_str().into(), text(option.as_str())))
                .collect::<Map>()
        })
        .register_get("cart_lines", |t: &mut TenantValue| {
            t.0.cart
                .lines
                .iter()
                .map(|(option, quantity)| {
                    (
                        option.as_str().into(),
                        Dynamic::from_int(i64::from(*quantity)),
                    )
                })
                .collect::<Map>()
        })
        .register_fn(
            "has_ongoing_order",
            |t: &mut TenantValue, key: ImmutableString| {
                t.0.facts.ongoing_orders.contains_key(key.as_str())
            },
        )
        .register_fn(
            "ongoing_order",
            |t: &mut TenantValue, key: ImmutableString| {
                or_unit(t.0.facts.ongoing_orders.get(key.as_str()), |o| {
                    text(&o.case_number)
                })
            },
        )
        .register_fn(
            "has_unpaid_fee",
            |t: &mut TenantValue, key: ImmutableString| {
                t.0.facts.unpaid_fees.contains_key(key.as_str())
            },
        )
        .register_fn("unpaid_fee", |t: &mut TenantValue, key: ImmutableString| {
            or_unit(
                t.0.facts.unpaid_fees.get(key.as_str()).copied(),
                money_value,
            )
        })
        .register_fn("in_cart", |t: &mut TenantValue, option: ImmutableString| {
            t.0.cart.lines.keys().any(|o| o.as_str() == option.as_str())
        })
        .register_fn(
            "cart_holder",
            |t: &mut TenantValue, key: ImmutableString| {
                or_unit(t.0.cart.keys.get(key.as_str()), |o| text(o.as_str()))
            },
        );
}

/// `lock_keys` answers an array of strings (one string is taken as a one-key array).
pub(crate) fn lock_keys_from(value: Dynamic) -> Result<Vec<LockKey>, RuleError> {
    let bad = |detail: String| RuleError::BadReturn {
        function: "lock_keys",
        detail,
    };
    let items: Array = if value.is_string() {
        vec![value]
    } else {
        value
            .into_array()
            .map_err(|t| bad(format!("a {t}; expected an array of strings")))?
    };
    if items.is_empty() {
        return Err(bad("no keys; every option occupies at least one".into()));
    }
    let mut keys = Vec::with_capacity(items.len());
    for item in items {
        let text = item
            .into_immutable_string()
            .map_err(|t| bad(format!("a {t} among the keys; expected strings")))?;
        let key = LockKey::parse(text.as_str()).map_err(|e| bad(e.to_string()))?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// `*_blocks` answer an array of reason maps `#{ code: "DEBT", debt: … }`, or `()` for none.
pub(crate) fn reasons_from(
    function: &'static str,
    value: Dynamic,
) -> Result<Vec<Reason>, RuleError> {
    let bad = |detail: String| RuleError::BadReturn { function, detail };
    if value.is_unit() {
        return Ok(Vec::new());
    }
    let items = value.into_array().map_err(|t| {
        bad(format!(
            "a {t}; expected an array of reasons like #{{ code: \"DEBT\" }}"
        ))
    })?;
    if items.len() > MAX_REASONS {
        return Err(bad(format!(
            "{} reasons; at most {MAX_REASONS} are shown",
            items.len()
        )));
    }
    items
        .into_iter()
        .map(|item| {
            let map = item.try_cast::<Map>().ok_or_else(|| {
                bad("a reason that is not a map; expected #{ code: \"…\", … }".into())
            })?;
            reason_from_map(map).map_err(bad)
        })
        .collect()
}

/// Reasons one answer may give: a person reads them all.
pub(crate) const MAX_REASONS: usize = 16;
/// Parameters one reason may carry.
pub(crate) const MAX_PARAMS: usize = 16;
/// Characters of a text parameter; a longer one is cut (and says so with "…"), so that what a
/// script returns cannot grow an answer without bound.
pub const MAX_PARAM_CHARS: usize = 200;

fn reason_from_map(map: Map) -> Result<Reason, String> {
    if map.len() > MAX_PARAMS + 1 {
        return Err(format!(
            "a reason with {} parameters; at most {MAX_PARAMS}",
            map.len() - 1
        ));
    }
    let mut code = None;
    let mut params = BTreeMap::new();
    for (name, value) in map {
        if name.as_str() == "code" {
            let text = value
                .into_immutable_string()
                .map_err(|t| format!("a reason whose code is a {t}, not a string"))?;
            code = Some(ReasonCode::parse(text.as_str())?);
        } else {
            params.insert(name.to_string(), param_from(name.as_str(), value)?);
        }
    }
    let code = code.ok_or("a reason without a code")?;
    Ok(Reason { code, params })
}

/// `text`, at most [`MAX_PARAM_CHARS`] characters of it.
pub(crate) fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_PARAM_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => {
            let mut short = text.get(..end).unwrap_or("").to_owned();
            short.push('…');
            short
        }
    }
}

fn param_from(name: &str, value: Dynamic) -> Result<ReasonParam, String> {
    if let Ok(i) = value.as_int() {
        return Ok(ReasonParam::Int(i));
    }
    if let Ok(b) = value.as_bool() {
        return Ok(ReasonParam::Bool(b));
    }
    if value.is_string() {
        return value
            .into_immutable_string()
            .map(|s| ReasonParam::Text(cut(s.as_str())))
            .map_err(|t| format!("parameter {name} is a {t}"));
    }
    let type_name = value.type_name();
    if value.is::<ScriptMoney>() {
        return match value.try_cast::<ScriptMoney>().and_then(|m| m.to_money()) {
            Some(money) => money
                .map(ReasonParam::Money)
                .map_err(|e| format!("parameter {name}: {e}")),
            None => Err(format!("parameter {name} is money in an unknown currency")),
        };
    }
    if let Some(map) = value.try_cast::<Map>() {
        let amount = map.get("amount").and_then(|a| a.as_int().ok());
        let currency = map
            .get("currency")
            .and_then(|c| c.clone().into_immutable_string().ok())
            .and_then(|c| Currency::parse(c.as_str()).ok());
        if let (Some(amount), Some(currency), 2) = (amount, currency, map.len()) {
            return Money::from_minor(amount, currency)
                .map(ReasonParam::Money)
                .map_err(|e| format!("parameter {name}: {e}"));
        }
        return Err(format!(
            "parameter {name} is a map but not money (#{{ amount, currency }})"
        ));
    }
    Err(format!(
        "parameter {name} is a {type_name}; parameters are integers, strings, booleans or money"
    ))
}
