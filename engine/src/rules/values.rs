//! What the scripts see, and what they may give back. Facts become one shared rhai map per
//! decision (cloning a shared value is a reference count, not a deep copy), options become maps
//! once per catalogue load.

use std::collections::BTreeMap;

use chrono::Datelike;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, ImmutableString, Map};

use super::{Reason, ReasonCode, ReasonParam, RuleError};
use crate::model::{AddOnOption, Currency, LockKey, Money, OptionId, TenantFacts, Unit};

pub(crate) fn money_value(money: Money) -> Dynamic {
    let mut map = Map::new();
    map.insert("amount".into(), Dynamic::from_int(money.minor()));
    map.insert("currency".into(), Dynamic::from(money.currency().code()));
    Dynamic::from_map(map)
}

/// The option as a script sees it in `lock_keys(option)` and `option_blocks(tenant, option)`.
pub(crate) fn option_value(option: &AddOnOption, keys: &[LockKey]) -> Dynamic {
    let mut map = Map::new();
    map.insert("id".into(), option.id().as_str().into());
    map.insert("category".into(), option.category().as_str().into());
    map.insert("space".into(), option.space().as_str().into());
    map.insert("name".into(), option.name().into());
    map.insert("monthly_price".into(), money_value(option.monthly_price()));
    map.insert("one_time_fee".into(), money_value(option.one_time_fee()));
    let (unit, max) = match option.unit() {
        Unit::Piece { max } => ("piece", max.get()),
        Unit::Single => ("single", 1),
    };
    map.insert("unit".into(), unit.into());
    map.insert("max_quantity".into(), Dynamic::from_int(i64::from(max)));
    let keys: Array = keys
        .iter()
        .map(|k| Dynamic::from(rhai::ImmutableString::from(k.as_str())))
        .collect();
    map.insert("keys".into(), Dynamic::from_array(keys));
    Dynamic::from_map(map).into_shared()
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
    rental_object: Dynamic,
    // Made once per decision, cloned per read (not shared: a script that wrote to a shared
    // value would change it for the decisions after it).
    currency_text: Dynamic,
    debt: Dynamic,
    active_monthly_total: Dynamic,
    cart_monthly_total: Dynamic,
}

pub(crate) fn tenant_value(
    facts: &TenantFacts,
    cart: &CartSummary,
    currency: Currency,
) -> TenantValue {
    let object = &facts.rental_object;
    let mut apartment = Map::new();
    apartment.insert("id".into(), object.id().as_str().into());
    apartment.insert("property".into(), object.property().as_str().into());
    apartment.insert(
        "building_year".into(),
        Dynamic::from_int(i64::from(object.building_year())),
    );
    apartment.insert("rooms".into(), Dynamic::from_int(i64::from(object.rooms())));
    apartment.insert(
        "area_sqm".into(),
        Dynamic::from_int(i64::from(object.area_sqm())),
    );
    let spaces: Array = object
        .spaces()
        .iter()
        .map(|s| text(s.id.as_str()))
        .collect();
    apartment.insert("spaces".into(), Dynamic::from_array(spaces));
    TenantValue(Arc::new(TenantFactsForScripts {
        facts: facts.clone(),
        cart: cart.clone(),
        rental_object: Dynamic::from_map(apartment),
        currency_text: text(currency.code()),
        debt: money_value(facts.debt),
        active_monthly_total: money_value(facts.active_monthly_total),
        cart_monthly_total: money_value(cart.monthly_total.unwrap_or(Money::zero(currency))),
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
