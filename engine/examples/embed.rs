//! Embedding the engine: load a rule set from a folder, check it (compile, contract, its own
//! test cases and generated inputs), then decide one household's catalogue view and print it.
//! Default features only: no database, no async runtime, no HTTP.
//!
//! cargo run -p tillval-engine --example embed -- [RULES_DIR] [--lang sv|en]
//!
//! RULES_DIR defaults to the shipped `rules/`; the catalogue and the household are the TOML
//! files in `engine/examples/embed/`.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tillval_engine::availability::{OptionStatus, catalogue_view};
use tillval_engine::catalogue::PreparedCatalogue;
use tillval_engine::model::{Cart, Catalogue, Language, TenantFacts};
use tillval_engine::rules::check::check;
use tillval_engine::rules::{RuleSetSource, SandboxLimits};

/// Generated households the check decides, on top of the set's own test cases.
const FUZZ_CASES: u32 = 200;

fn main() -> Result<(), Box<dyn Error>> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/embed");
    let mut rules_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("rules"), |root| root.join("rules"));
    let mut language = Language::Sv;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--lang" => {
                language = match args.next().as_deref() {
                    Some("en") => Language::En,
                    Some("sv") => Language::Sv,
                    other => return Err(format!("--lang takes sv or en, not {other:?}").into()),
                }
            }
            dir => rules_dir = PathBuf::from(dir),
        }
    }

    // 1. Load and check the rule set, as publishing does.
    let source = RuleSetSource::read_dir(&rules_dir)?;
    let report = check(&source, SandboxLimits::default(), FUZZ_CASES);
    println!(
        "rule set {}: {} problem(s), {} of {} test case(s) passed, {} generated household(s) decided",
        rules_dir.display(),
        report.problems.len(),
        report.tests.cases_passed,
        report.tests.cases_run,
        report.fuzz_cases
    );
    for problem in &report.problems {
        println!("  problem: {problem}");
    }
    let Some(rules) = report.rules.filter(|_| report.problems.is_empty()) else {
        return Err("the rule set is not fit to go live".into());
    };

    // 2. The catalogue and the household, from files (a landlord's systems would give them).
    let catalogue: Catalogue =
        toml::from_str(&std::fs::read_to_string(here.join("catalogue.toml"))?)?;
    let facts: TenantFacts =
        toml::from_str(&std::fs::read_to_string(here.join("household.toml"))?)?;
    let cart = Cart::empty(facts.tenant.clone(), facts.rental_object.id().clone());

    // 3. Decide and print: what the household may order, and why not.
    let prepared = PreparedCatalogue::prepare(Arc::new(catalogue), &rules);
    let view = catalogue_view(&rules, &prepared, &facts, &cart);
    println!("{} ({}):", facts.rental_object.address(), facts.tenant);
    for reason in &view.gate.reasons {
        println!("  everything blocked: {}", rules.render(reason, language));
    }
    for category in &view.categories {
        println!("  {}", category.category.name);
        for option in &category.options {
            let status = match option.availability.status {
                OptionStatus::Available => match language {
                    Language::Sv => "kan beställas".to_owned(),
                    Language::En => "available".to_owned(),
                },
                OptionStatus::InCart => match language {
                    Language::Sv => "i varukorgen".to_owned(),
                    Language::En => "in the cart".to_owned(),
                },
                _ => option
                    .availability
                    .reasons
                    .iter()
                    .map(|r| rules.render(r, language))
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            println!(
                "    {:<22} {:>10}/month  {}",
                option.option.name(),
                option.option.monthly_price().to_string(),
                status
            );
        }
    }
    Ok(())
}
