//! Prints the catalogue view of the demo tenants' apartments: what each may order and why not.
//!
//! cargo run -p tillval-services --example catalogue_view -- [--lang sv|en] [--tenant ID] [--rules DIR]

use std::error::Error;
use std::path::PathBuf;
use std::sync::Arc;

use tillval_engine::availability::{OptionStatus, catalogue_view};
use tillval_engine::catalogue::{CatalogueCache, InMemoryCatalogueSource};
use tillval_engine::model::Language;
use tillval_engine::rules::RuleSet;
use tillval_services::demo::demo;

struct Args {
    language: Language,
    tenant: Option<String>,
    rules: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        language: Language::Sv,
        tenant: None,
        rules: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--lang" => {
                args.language = match value()?.as_str() {
                    "sv" => Language::Sv,
                    "en" => Language::En,
                    other => return Err(format!("--lang takes sv or en, not {other:?}")),
                }
            }
            "--tenant" => args.tenant = Some(value()?),
            "--rules" => args.rules = Some(PathBuf::from(value()?)),
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("{problem}");
            }
            eprintln!("usage: catalogue_view [--lang sv|en] [--tenant ID] [--rules DIR]");
            std::process::exit(2);
        }
    };
    let rules = match &args.rules {
        Some(dir) => RuleSet::load(dir)?,
        None => RuleSet::shipped()?,
    };
    let today = chrono::Utc::now().date_naive();
    let demo = demo(today)?;
    let cache = CatalogueCache::new(
        Arc::new(InMemoryCatalogueSource::new(demo.catalogues.clone())),
        100,
        std::time::Duration::from_secs(300),
    );
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    println!(
        "tillval demo · rule set {:?} {} · {today}\n",
        rules.name(),
        rules.version()
    );
    for tenant in demo
        .tenants
        .iter()
        .filter(|t| args.tenant.as_ref().is_none_or(|id| t.id.as_str() == id))
    {
        let object = &tenant.facts.rental_object;
        let prepared = runtime.block_on(cache.get(object.property(), &rules))?;
        let view = catalogue_view(&rules, &prepared, &tenant.facts, &tenant.cart);
        println!(
            "━━ {} ({}) · {} · {} · case: {:?}",
            tenant.name,
            tenant.id,
            object.id(),
            object.address(),
            tenant.case
        );
        println!("   cart: {} article(s)", view.article_count);
        for reason in &view.gate.reasons {
            println!(
                "   ✗ {} [{}]",
                rules.render(reason, args.language),
                reason.code
            );
        }
        if let Some(error) = &view.gate.error {
            println!("   ! rule error: {error}");
        }
        for category in &view.categories {
            println!("   {}", category.category.name);
            for option in &category.options {
                let o = &option.option;
                let mark = match option.availability.status {
                    OptionStatus::Available => "✓",
                    OptionStatus::InCart => "●",
                    OptionStatus::LockedByCart => "🔒",
                    OptionStatus::Blocked => "✗",
                    OptionStatus::RuleError => "!",
                };
                let per_month = if args.language == Language::Sv {
                    "/mån"
                } else {
                    "/month"
                };
                println!(
                    "     {mark} {:<32} {:>14}{per_month}  {:<9} {:?}",
                    o.name(),
                    o.monthly_price().format(args.language),
                    o.space().as_str(),
                    option.availability.status
                );
                // The gate's reasons were printed once above.
                if view.gate.is_open() {
                    for reason in &option.availability.reasons {
                        println!(
                            "         {} [{}]",
                            rules.render(reason, args.language),
                            reason.code
                        );
                    }
                }
            }
        }
        println!();
    }
    let stats = cache.stats();
    println!(
        "catalogue cache: {} hit(s), {} miss(es)",
        stats.hits, stats.misses
    );
    Ok(())
}
