//! `tillval`: the server, tokens, demo tokens and the schema.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tillval_engine::rules::RuleSet;
use tillval_graphql::auth::{Auth, DEVELOPMENT_SECRET, Role};
use tillval_graphql::ids::{Kind, encode};
use tillval_graphql::listener::ConnectionLimits;
use tillval_graphql::trusted::TrustedDocuments;
use tillval_graphql::{App, AppConfig, sdl};
use tillval_services::demo::demo;
use tillval_services::store::PoolSettings;

#[derive(Debug, Parser)]
#[command(
    name = "tillval",
    version,
    about = "Add-on ordering for tenants: rules, cart, checkout and cases over GraphQL"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serves GraphQL at /graphql (WebSocket subscriptions at /graphql/ws).
    Serve(ServeArgs),
    /// Prints a bearer token.
    Token(TokenArgs),
    /// The demo landlord's tenants.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Prints the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
    /// Prints the trusted-documents manifest: every document the portal and the staff pages
    /// run, by SHA-256; `trusted-documents.json` is this output.
    Documents,
    /// Rule sets: check them, explain their decisions.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Imports a batch of the rental system's facts and the catalogue (JSON Lines, or CSV by
    /// the `.csv` ending or `--format csv`): all or nothing (see docs/integration.md).
    Import {
        /// The file; `-` reads standard input.
        file: PathBuf,
        #[arg(long, value_enum)]
        format: Option<ImportFormatArg>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Writes an online, consistent copy of the SQLite database to FILE while it serves,
    /// checked before it takes the name; never over an existing file (see docs/operations.md).
    Backup {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Webhook endpoints: where the events go (see docs/integration.md).
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ImportFormatArg {
    Jsonl,
    Csv,
}

#[derive(Debug, Subcommand)]
enum WebhooksCommand {
    /// Adds an endpoint and prints its signing secret, this once.
    Add {
        /// An absolute http or https URL.
        url: String,
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// The endpoints (never their secrets) and the outbox's depth.
    List {
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Debug, clap::Args)]
struct DatabaseArg {
    #[arg(
        long,
        env = "TILLVAL_DATABASE_URL",
        default_value = "sqlite://tillval.db"
    )]
    database: String,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// sqlite://FILE (created if missing), or postgres://USER@HOST:PORT/DB to share one
    /// database between several nodes.
    #[arg(
        long,
        env = "TILLVAL_DATABASE_URL",
        default_value = "sqlite://tillval.db"
    )]
    database: String,
    /// Most connections this node opens to the database.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    db_max_connections: u32,
    /// How long a request waits for a database connection before it fails, in milliseconds.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(10..=600_000))]
    db_acquire_timeout_ms: u64,
    /// A rule-set folder; the shipped rules when left out.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Loads the demo landlord (idempotently); without TILLVAL_JWT_SECRET a development
    /// secret is used.
    #[arg(long)]
    demo: bool,
    #[command(flatten)]
    mode: Mode,
    /// With --rules: publish the folder again whenever it changes (after the same checks).
    #[arg(long, requires = "rules")]
    watch: bool,
    /// A request's headers must arrive within this many milliseconds (idle connections are
    /// closed after it too).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    header_read_timeout_ms: u64,
    /// Connections open at once; more are closed as they come.
    #[arg(long, default_value_t = 4_096, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// Days the decision log keeps a refusal.
    #[arg(long, env = "TILLVAL_DECISION_LOG_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..=3650))]
    decision_log_days: u64,
    #[command(flatten)]
    tokens: TokenLimits,
    #[command(flatten)]
    webhooks: WebhookArgs,
    /// Run only trusted documents: `builtin` (the portal's and the staff pages' documents, as
    /// `tillval documents` prints them), or a manifest FILE of your own front end's documents
    /// (hash to document), added to the built-in ones. Off when left out.
    #[arg(long, env = "TILLVAL_TRUSTED_DOCUMENTS", value_name = "builtin|FILE")]
    trusted_documents: Option<String>,
}

/// How events go out to the webhook endpoints (docs/integration.md).
#[derive(Debug, clap::Args)]
struct WebhookArgs {
    /// Seconds a node holds a delivery it took: after a crash, another node (or this one,
    /// restarted) takes it over when this runs out. Longer than --webhook-timeout-secs.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..=3_600))]
    webhook_lease_secs: u64,
    /// Seconds one POST to an endpoint may take.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    webhook_timeout_secs: u64,
    /// Milliseconds before the first retry; doubled after each further failure (up to an hour).
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    webhook_backoff_ms: u64,
    /// Attempts before an event is dead-lettered for staff to replay.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    webhook_attempts: u32,
}

impl WebhookArgs {
    fn dispatcher(&self) -> anyhow::Result<tillval_webhooks::DispatcherConfig> {
        if self.webhook_lease_secs <= self.webhook_timeout_secs {
            bail!(
                "--webhook-lease-secs ({}) must be longer than --webhook-timeout-secs ({}): a delivery still in flight would be taken by another node",
                self.webhook_lease_secs,
                self.webhook_timeout_secs
            );
        }
        Ok(tillval_webhooks::DispatcherConfig {
            lease: Duration::from_secs(self.webhook_lease_secs),
            timeout: Duration::from_secs(self.webhook_timeout_secs),
            backoff_base: Duration::from_millis(self.webhook_backoff_ms),
            max_attempts: self.webhook_attempts,
            ..Default::default()
        })
    }
}

impl ServeArgs {
    fn pool(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
        }
    }

    fn connections(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            ..Default::default()
        }
    }

    /// What the app is built from, with the signing keys in `auth`.
    fn app_config(&self, auth: Arc<Auth>) -> anyhow::Result<AppConfig> {
        let mut config = AppConfig::new(&self.database, auth);
        config.webhooks = Some(self.webhooks.dispatcher()?);
        // Fair limits: on in production, off in development; TILLVAL_LIMITS=on|off says else.
        let limits_on = match std::env::var("TILLVAL_LIMITS").as_deref() {
            Ok("on") => true,
            Ok("off") => false,
            Ok(other) => bail!("TILLVAL_LIMITS is on or off, not {other:?}"),
            Err(_) => self.mode.production(),
        };
        config.limits = limits_on.then(tillval_graphql::limits::LimitsConfig::default);
        config.metrics_token = std::env::var("TILLVAL_METRICS_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty());
        config.trusted_documents = match self.trusted_documents.as_deref() {
            None | Some("") => None,
            Some("builtin") => Some(TrustedDocuments::builtin()),
            Some(file) => {
                let text = read_bounded(
                    Path::new(file),
                    tillval_graphql::trusted::MAX_MANIFEST_BYTES,
                )
                .with_context(|| format!("reading the trusted documents {file}"))?;
                let mut documents = TrustedDocuments::builtin();
                let count = documents
                    .add_manifest(&text)
                    .with_context(|| format!("the trusted documents {file}"))?;
                tracing::info!(file, count, "trusted documents only");
                Some(documents)
            }
        };
        config.pool = self.pool();
        config.rules_dir = self.rules.clone();
        config.watch = self.watch;
        config.demo = self.demo;
        config.production = self.mode.production();
        config.connections = self.connections();
        config.decision_log_retention = Duration::from_secs(self.decision_log_days * 86_400);
        Ok(config)
    }
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// The tenant id (or, with --role staff or integration, the staff user's or the system's name).
    #[arg(long)]
    tenant: String,
    #[arg(long, value_enum, default_value = "tenant")]
    role: RoleArg,
    /// Seconds the token lives: at most the maximum lifetime.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    ttl: u64,
    #[command(flatten)]
    tokens: TokenLimits,
}

/// Production or development: one switch, the flag or the environment.
#[derive(Debug, Clone, Copy, clap::Args)]
struct Mode {
    /// No introspection, no field suggestions, no GraphiQL, no demo pictures; a JWT secret is
    /// required. The environment variable TILLVAL_ENV=production does the same.
    #[arg(long)]
    production: bool,
}

impl Mode {
    /// A command without the flag (minting tokens) still honours the environment.
    fn from_env() -> Mode {
        Mode { production: false }
    }

    fn production(self) -> bool {
        self.production
            || std::env::var("TILLVAL_ENV").is_ok_and(|v| v.eq_ignore_ascii_case("production"))
    }
}

/// What every token the server takes (and this binary mints) is held to.
#[derive(Debug, Clone, Copy, clap::Args)]
struct TokenLimits {
    /// The longest a token may live, in seconds; longer ones are refused.
    #[arg(long = "token-max-lifetime", env = "TILLVAL_TOKEN_MAX_LIFETIME", default_value_t = tillval_graphql::auth::DEFAULT_MAX_LIFETIME_SECS, value_parser = clap::value_parser!(u64).range(60..=31_536_000))]
    max_lifetime_secs: u64,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Compiles a rule-set folder, checks its functions, runs its test cases (DIR/tests/*.toml);
    /// exits 0 only when all is well.
    Check {
        dir: PathBuf,
        /// Also run N generated inputs and fail on any script error or broken invariant.
        #[arg(long, default_value_t = 0)]
        fuzz: u32,
    },
    /// What the folder's set would change for every household of the database, against the
    /// set in force there: per option, category and reason code. Changes nothing.
    Impact(ImpactArgs),
    /// For the cases of a facts file (the test-case format), every option's status, reasons
    /// and the function and file that decided it.
    Explain {
        dir: PathBuf,
        #[arg(long)]
        facts: PathBuf,
        #[arg(long, value_enum, default_value = "en")]
        lang: LangArg,
    },
}

#[derive(Debug, clap::Args)]
struct ImpactArgs {
    /// The candidate rule-set folder.
    dir: PathBuf,
    /// The database whose households and active set to compare against.
    #[arg(
        long,
        env = "TILLVAL_DATABASE_URL",
        default_value = "sqlite://tillval.db"
    )]
    database: String,
    /// The whole report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LangArg {
    Sv,
    En,
}

#[derive(Debug, Subcommand)]
enum DemoCommand {
    /// The demo tenants with a token each: id, name, seed case, rental object.
    Tokens {
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
        ttl: u64,
        #[command(flatten)]
        tokens: TokenLimits,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Tenant,
    Staff,
    /// The landlord's maintenance or rental system: moves cases, nothing else.
    Integration,
}

/// The JWT secret: `TILLVAL_JWT_SECRET`, or outside production the development secret, loudly.
fn auth(production: bool, limits: TokenLimits) -> anyhow::Result<Auth> {
    match std::env::var("TILLVAL_JWT_SECRET") {
        Ok(secret) if !secret.is_empty() => {
            Auth::with_max_lifetime(secret.as_bytes(), limits.max_lifetime_secs)
                .context("TILLVAL_JWT_SECRET")
        }
        _ if production => bail!("refusing to start in production without TILLVAL_JWT_SECRET"),
        _ => {
            eprintln!(
                "\n  !!! WARNING: TILLVAL_JWT_SECRET is not set; using the PUBLIC development secret.\n  !!! Anyone can mint tokens. Never run like this with real data.\n"
            );
            tracing::warn!("using the development JWT secret");
            Ok(Auth::with_max_lifetime(
                DEVELOPMENT_SECRET.as_bytes(),
                limits.max_lifetime_secs,
            )?)
        }
    }
}

fn init_logs(production: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if production {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let production = args.mode.production();
    init_logs(production);
    let auth = Arc::new(auth(production, args.tokens)?);
    let app = App::build(args.app_config(auth)?).await?;
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, production, "tillval listening");
    println!("tillval is serving GraphQL at http://{address}/graphql");
    if !production {
        println!("  GraphiQL:     http://{address}/graphiql");
    }
    if args.demo {
        println!("  demo tokens:  cargo run -p tillval-graphql -- demo tokens --json");
        println!(
            "                (put one in GraphiQL's headers: {{\"Authorization\": \"Bearer <token>\"}})"
        );
    }
    println!("  a token:      cargo run -p tillval-graphql -- token --tenant ID [--role staff]");
    app.serve(listener, shutdown_signal()).await?;
    Ok(())
}

/// Checks a folder and prints its problems; whether it is fit to publish.
fn rules_check(dir: &std::path::Path, fuzz: u32) -> bool {
    use tillval_engine::rules::{RuleSetSource, SandboxLimits, check::check};
    let source = match RuleSetSource::read_dir(dir) {
        Ok(source) => source,
        Err(error) => {
            eprintln!("{}: {error}", dir.display());
            return false;
        }
    };
    let report = check(&source, SandboxLimits::default(), fuzz);
    for problem in &report.problems {
        println!("{}/{problem}", dir.display());
    }
    if let Some(rules) = &report.rules {
        println!(
            "{}: rule set {:?} {}: {} script(s), {}/{} test case(s) passed{}",
            dir.display(),
            rules.name(),
            rules.version(),
            source.scripts.len(),
            report.tests.cases_passed,
            report.tests.cases_run,
            if report.fuzz_cases > 0 {
                format!(", {} generated input(s) checked", report.fuzz_cases)
            } else {
                String::new()
            }
        );
    }
    for (function, cases) in &report.coverage.functions {
        println!("  {function}: blocks something in {cases} case(s)");
    }
    let uncovered = report.coverage.uncovered_codes();
    if !uncovered.is_empty() {
        println!(
            "  reason code(s) no test case produces: {}",
            uncovered.join(", ")
        );
    }
    if report.is_ok() {
        println!("ok");
    } else {
        println!("{} problem(s)", report.problems.len());
    }
    report.is_ok()
}

/// Backs the SQLite database up; a refusal (PostgreSQL, an existing file) exits 2.
async fn backup(file: &std::path::Path, database: &str) -> anyhow::Result<std::process::ExitCode> {
    use tillval_store::BackupError;
    let store = tillval_store::SqlStore::open(database, PoolSettings::default())
        .await
        .with_context(|| tillval_graphql::app::redact(database))?;
    let written = store.backup(file).await;
    store.close().await;
    match written {
        Ok(backup) => {
            println!(
                "backup: {} ({} bytes, {} cases, integrity ok)",
                backup.path.display(),
                backup.bytes,
                backup.cases
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(error @ (BackupError::NotSqlite | BackupError::TargetExists(_))) => {
            eprintln!("{error}");
            Ok(std::process::ExitCode::from(2))
        }
        Err(error) => Err(error.into()),
    }
}

/// Imports one batch; prints what it did, or every problem (exit 2) with nothing changed.
async fn import(
    file: &std::path::Path,
    format: Option<ImportFormatArg>,
    database: &str,
) -> anyhow::Result<std::process::ExitCode> {
    use std::io::Read;
    use tillval_services::import::ImportFormat;
    use tillval_services::imported::ImportOutcome;
    use tillval_services::service::{Services, SystemClock};
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    }
    let format = match format {
        Some(ImportFormatArg::Csv) => ImportFormat::Csv,
        Some(ImportFormatArg::Jsonl) => ImportFormat::JsonLines,
        None if file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv")) =>
        {
            ImportFormat::Csv
        }
        None => ImportFormat::JsonLines,
    };
    let store = tillval_store::SqlStore::open(database, PoolSettings::default())
        .await
        .with_context(|| tillval_graphql::app::redact(database))?;
    let services = Services::new(store, RuleSet::shipped()?, Arc::new(SystemClock));
    // Fees take their lock keys from the rule set in force, not the shipped one.
    services
        .start_rule_sets(&tillval_engine::rules::RuleSetSource::shipped())
        .await?;
    let started = std::time::Instant::now();
    let outcome = services.import(&text, format).await?;
    services.store().close().await;
    match outcome {
        ImportOutcome::Applied(counts) => {
            println!(
                "imported: {} applied, {} unchanged, {} older than stored, in {:.2} s",
                counts.applied,
                counts.unchanged,
                counts.stale,
                started.elapsed().as_secs_f64()
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        ImportOutcome::Refused(problems) => {
            for problem in &problems {
                eprintln!(
                    "{}: {} ({})",
                    problem.code.as_str(),
                    problem.message(tillval_engine::model::Language::En),
                    problem.field.as_deref().unwrap_or("-")
                );
            }
            eprintln!("refused: {} problem(s), nothing changed", problems.len());
            Ok(std::process::ExitCode::from(2))
        }
    }
}

/// Previews the folder's set against the database's active one and prints what changes.
async fn webhooks(command: WebhooksCommand) -> anyhow::Result<std::process::ExitCode> {
    use tillval_services::service::{Services, SystemClock};
    let database = match &command {
        WebhooksCommand::Add { database, .. } | WebhooksCommand::List { database } => {
            &database.database
        }
    };
    let store = tillval_store::SqlStore::open(database, PoolSettings::default())
        .await
        .with_context(|| tillval_graphql::app::redact(database))?;
    let services = Services::new(store, RuleSet::shipped()?, Arc::new(SystemClock));
    match command {
        WebhooksCommand::Add {
            url, description, ..
        } => {
            let secret = tillval_webhooks::secret::generate()?;
            match services
                .webhook_endpoint_add(&url, &secret, &description)
                .await
            {
                Ok(endpoint) => {
                    println!("endpoint {} -> {}", endpoint.id, endpoint.url);
                    println!("secret (shown this once): {secret}");
                    Ok(std::process::ExitCode::SUCCESS)
                }
                Err(tillval_services::ServiceError::InvalidInput { field, message }) => {
                    eprintln!("{field}: {message}");
                    Ok(std::process::ExitCode::from(2))
                }
                Err(error) => Err(error.into()),
            }
        }
        WebhooksCommand::List { .. } => {
            for e in services.webhook_endpoints().await? {
                let state = if e.enabled { "on" } else { "off" };
                println!("{}\t{state}\t{}\t{}", e.id, e.url, e.description);
            }
            let depth = services.outbox_depth().await?;
            println!(
                "outbox: {} pending (oldest {}), {} dead",
                depth.pending,
                depth
                    .oldest_pending
                    .map_or_else(|| "-".to_owned(), |at| at.to_rfc3339()),
                depth.dead
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

async fn rules_impact(args: ImpactArgs) -> anyhow::Result<bool> {
    use tillval_engine::rules::RuleSetSource;
    use tillval_services::service::{Services, SystemClock};
    let source = RuleSetSource::read_dir(&args.dir)
        .with_context(|| format!("rule set {}", args.dir.display()))?;
    let store = tillval_store::SqlStore::open(&args.database, PoolSettings::default())
        .await
        .with_context(|| tillval_graphql::app::redact(&args.database))?;
    let services = Services::new(store, RuleSet::shipped()?, Arc::new(SystemClock));
    services.start_rule_sets(&RuleSetSource::shipped()).await?;
    let preview = match services.rule_set_impact(&source).await {
        Ok(preview) => preview,
        Err(tillval_services::ServiceError::RuleSetRefused(problems)) => {
            for problem in &problems {
                println!("{}/{problem}", args.dir.display());
            }
            return Ok(false);
        }
        Err(error) => return Err(error.into()),
    };
    let report = &preview.report;
    if args.json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(true);
    }
    println!(
        "{} against {}: {} household(s), {} changed; {} pair(s) newly blocked, {} newly available, {} with other reasons ({} ms{})",
        preview.candidate,
        preview.active,
        report.households,
        report.households_changed,
        report.totals.newly_blocked,
        report.totals.newly_available,
        report.totals.reasons_changed,
        preview.elapsed.as_millis(),
        if preview.complete {
            ""
        } else {
            ", stopped by the time limit"
        }
    );
    for (code, counts) in &report.by_reason {
        println!(
            "  {code}: {} newly blocked, {} newly available, {} other reasons",
            counts.newly_blocked, counts.newly_available, counts.reasons_changed
        );
    }
    for option in report.by_option.values() {
        println!(
            "  {:<28} {:>6} newly blocked {:>6} newly available {:>6} other reasons",
            option.option.as_str(),
            option.counts.newly_blocked,
            option.counts.newly_available,
            option.counts.reasons_changed
        );
    }
    for errors in report.script_errors.values() {
        println!(
            "  script errors in {}: {} (e.g. {})",
            errors.function, errors.count, errors.example
        );
    }
    Ok(report.script_errors.is_empty())
}

fn rules_explain(
    dir: &std::path::Path,
    facts: &std::path::Path,
    language: tillval_engine::model::Language,
) -> anyhow::Result<()> {
    use tillval_engine::availability::catalogue_view;
    use tillval_engine::catalogue::PreparedCatalogue;
    use tillval_engine::rules::testcases::{TestFile, build};
    let rules = RuleSet::load(dir).with_context(|| format!("rule set {}", dir.display()))?;
    let text =
        std::fs::read_to_string(facts).with_context(|| format!("reading {}", facts.display()))?;
    let file: TestFile = toml::from_str(&text)
        .with_context(|| format!("{} is not a facts file", facts.display()))?;
    for case in &file.cases {
        let inputs = build(&file, case).with_context(|| format!("case {:?}", case.name))?;
        let prepared = PreparedCatalogue::prepare(inputs.catalogue, &rules);
        let view = catalogue_view(&rules, &prepared, &inputs.facts, &inputs.cart);
        println!(
            "case {:?} (rule set {:?} {})",
            case.name,
            rules.name(),
            rules.version()
        );
        let gate = if view.gate.is_open() {
            "open".to_owned()
        } else {
            "closed".to_owned()
        };
        println!(
            "  gate: {gate}{}",
            rules
                .origin("order_blocks")
                .map(|o| format!("  [order_blocks in {o}]"))
                .unwrap_or_default()
        );
        for reason in &view.gate.reasons {
            println!("    {} {}", reason.code, rules.render(reason, language));
        }
        for option in view.options() {
            let availability = &option.availability;
            let decided = availability.decided_by.map(|d| match d.function() {
                Some(function) => {
                    format!("{function} in {}", rules.origin(function).unwrap_or("?"))
                }
                None => "the cart (engine)".to_owned(),
            });
            println!(
                "  {:<24} {:<15} {}",
                option.option.id().as_str(),
                format!("{:?}", availability.status),
                decided
                    .map(|d| format!("decided by {d}"))
                    .unwrap_or_default()
            );
            for reason in &availability.reasons {
                println!("      {} {}", reason.code, rules.render(reason, language));
            }
            if let Some(error) = &availability.error {
                println!("      error: {error}");
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let done: anyhow::Result<()> = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Token(TokenArgs {
            tenant,
            role,
            ttl,
            tokens,
        }) => {
            let auth = auth(Mode::from_env().production(), tokens)?;
            let role = match role {
                RoleArg::Tenant => Role::Tenant,
                RoleArg::Staff => Role::Staff,
                RoleArg::Integration => Role::Integration,
            };
            println!("{}", auth.issue(&tenant, role, ttl)?);
            Ok(())
        }
        Command::Demo {
            command: DemoCommand::Tokens { json, ttl, tokens },
        } => {
            let auth = auth(Mode::from_env().production(), tokens)?;
            let demo = demo(chrono::Utc::now().date_naive())?;
            let mut tenants = Vec::new();
            for tenant in &demo.tenants {
                tenants.push(serde_json::json!({
                    "id": tenant.id.as_str(),
                    "name": tenant.name,
                    "case": tenant.case,
                    "rentalObjectId": encode(Kind::RentalObject, tenant.facts.rental_object.id().as_str()).to_string(),
                    "token": auth.issue(tenant.id.as_str(), Role::Tenant, ttl)?,
                }));
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&tenants)?);
            } else {
                for t in &tenants {
                    println!(
                        "{:<14} {:<14} {}",
                        t["id"].as_str().unwrap_or(""),
                        t["case"].as_str().unwrap_or(""),
                        t["token"].as_str().unwrap_or("")
                    );
                }
            }
            Ok(())
        }
        Command::Webhooks { command } => return webhooks(command).await,
        Command::Import {
            file,
            format,
            database,
        } => return import(&file, format, &database.database).await,
        Command::Backup { file, database } => return backup(&file, &database.database).await,
        Command::Schema => {
            print!("{}", sdl());
            Ok(())
        }
        Command::Documents => {
            print!("{}", TrustedDocuments::builtin().manifest());
            Ok(())
        }
        Command::Rules {
            command: RulesCommand::Check { dir, fuzz },
        } => {
            if !rules_check(&dir, fuzz) {
                return Ok(std::process::ExitCode::FAILURE);
            }
            Ok(())
        }
        Command::Rules {
            command: RulesCommand::Impact(args),
        } => {
            if !rules_impact(args).await? {
                return Ok(std::process::ExitCode::FAILURE);
            }
            Ok(())
        }
        Command::Rules {
            command: RulesCommand::Explain { dir, facts, lang },
        } => {
            let language = match lang {
                LangArg::Sv => tillval_engine::model::Language::Sv,
                LangArg::En => tillval_engine::model::Language::En,
            };
            rules_explain(&dir, &facts, language)
        }
    };
    done.map(|()| std::process::ExitCode::SUCCESS)
}

/// A text file of at most `limit` bytes: a larger one is refused before it is read whole.
fn read_bounded(file: &Path, limit: usize) -> anyhow::Result<String> {
    let mut text = String::new();
    std::fs::File::open(file)?
        .take(u64::try_from(limit).unwrap_or(u64::MAX) + 1)
        .read_to_string(&mut text)?;
    if text.len() > limit {
        bail!("{} is larger than {limit} bytes", file.display());
    }
    Ok(text)
}
