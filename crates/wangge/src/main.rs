//! `wangge`: the one binary. Serves the web UI and API, migrates, loads the
//! demo community, and imports or exports grid boundaries.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use wangge_app::sheets::{ImportMode, SheetKind};
use wangge_app::{App, AppError, AuthConfig, ImportOptions, SystemClock, UserSpec, Vault};
use wangge_core::policy::Role;
use wangge_core::{Lang, Localized};

/// mimalloc: a server allocating and freeing many small buffers per request
/// spends markedly less time in the allocator than with glibc's
/// (`bench/case-intake` measures it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use wangge_store::ScopeKind;
use wangge_store::{StoreOptions, redact_url};
use wangge_web::WebConfig;

const DEFAULT_DATABASE: &str = "sqlite://./wangge.db";
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// wangge (网格): grid-based community governance.
///
/// One binary: SQLite by default (a file beside you), PostgreSQL for a city
/// with several app nodes. Settings come from flags, then environment
/// variables, then the config file, then defaults.
#[derive(Parser)]
#[command(name = "wangge", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// Database: `sqlite://PATH` (default `sqlite://./wangge.db`) or `postgres://USER@HOST/DB`.
    #[arg(long, global = true, env = "WANGGE_DATABASE_URL")]
    database_url: Option<String>,
    /// A TOML file with `database_url`, `listen`, `log_format` and `key_file` keys.
    #[arg(long, global = true, env = "WANGGE_CONFIG")]
    config: Option<PathBuf>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    log_json: bool,
    /// The encryption key file for ID and phone numbers (created, mode 0600,
    /// when missing). Default: `wangge.key` beside the SQLite file, or in
    /// the working directory for PostgreSQL. `WANGGE_KEY` (64 hex
    /// characters) takes precedence. Keep it out of the database's backups.
    #[arg(long, global = true, env = "WANGGE_KEY_FILE")]
    key_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web server (migrates the database first).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "WANGGE_LISTEN")]
        listen: Option<String>,
        /// Load the demo community first, unless it is already loaded.
        #[arg(long)]
        demo: bool,
        /// Where the demo writes its accounts (default: demo-accounts.json beside the SQLite file).
        #[arg(long)]
        accounts_file: Option<PathBuf>,
        /// Mark cookies Secure even without X-Forwarded-Proto (TLS in front of wangge).
        #[arg(long, env = "WANGGE_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Minutes without activity after which a session ends.
        #[arg(long, env = "WANGGE_IDLE_TIMEOUT_MINUTES", default_value_t = 30)]
        idle_timeout_minutes: i64,
        /// Failed logins in a row that lock an account.
        #[arg(long, env = "WANGGE_MAX_FAILED_LOGINS", default_value_t = 5)]
        max_failed_logins: i64,
        /// Minutes an account stays locked.
        #[arg(long, env = "WANGGE_LOCKOUT_MINUTES", default_value_t = 30)]
        lockout_minutes: i64,
    },
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Load the synthetic demo community: one street, two communities,
    /// sixteen grids, buildings, dwellings, about 3,700 households and
    /// 9,500 residents, 111 businesses, 320 cases in every state, and one
    /// account per role (printed,
    /// with one-time passwords, and written to demo-accounts.json).
    /// Parts already loaded are left alone.
    Demo {
        /// Where to write the accounts (default: demo-accounts.json beside the SQLite file).
        #[arg(long)]
        accounts_file: Option<PathBuf>,
    },
    /// Users and their roles.
    #[command(subcommand)]
    User(UserCommand),
    /// API keys of Open311 clients (civic apps, 12345 integrations).
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Grid boundaries as GeoJSON (WGS-84).
    #[command(subcommand)]
    Grids(GridsCommand),
    /// Import register records from a spreadsheet (CSV or XLSX, Chinese
    /// headers as in the template).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export register records to a spreadsheet (masked unless --full).
    #[command(subcommand)]
    Export(ExportCommand),
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Residents (人口信息), formed into households by dwelling.
    Residents(SheetArgs),
    /// Businesses (商户信息).
    Businesses(SheetArgs),
    /// Buildings (楼栋信息) with their units and dwellings: import these first.
    Buildings(SheetArgs),
    /// Write an import template (XLSX unless the name ends in .csv).
    Template {
        out: PathBuf,
        /// residents, businesses or buildings.
        #[arg(long, default_value = "residents")]
        kind: String,
    },
}

/// A sheet to import: every row is checked before anything is written.
#[derive(clap::Args)]
struct SheetArgs {
    /// The CSV (UTF-8 or GB18030) or XLSX file.
    file: PathBuf,
    /// Import as this user: rows go to their grids.
    #[arg(long = "as")]
    user: String,
    /// dry-run (report only), all-or-nothing, or valid-only.
    #[arg(long, default_value = "dry-run")]
    mode: String,
    /// Where to write the rejected rows with their errors (CSV).
    #[arg(long)]
    rejected: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Residents the user may read.
    Residents {
        /// Export as this user (their scope; audited).
        #[arg(long = "as")]
        user: String,
        /// XLSX unless the name ends in .csv.
        #[arg(short, long)]
        out: PathBuf,
        /// Full ID and phone numbers (needs the reveal permission).
        #[arg(long)]
        full: bool,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key for a client; prints the key, once.
    Add {
        /// The client's name: letters, digits, '-', '_' or '.'.
        name: String,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a client's key: its requests are refused from now on.
    Revoke { name: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; prints a one-time password to change at first login.
    Add {
        /// 3 to 32 letters, digits, '.', '_' or '-'.
        #[arg(long)]
        username: String,
        /// admin, street_officer, community_secretary, grid_leader, grid_worker,
        /// unit_leader, volunteer, department_staff or resident.
        #[arg(long)]
        role: String,
        /// Name shown to others (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// Grid code(s) (14 digits) for grid leaders, workers, unit leaders, volunteers.
        #[arg(long = "grid")]
        grids: Vec<String>,
        /// Community code(s) (12 digits) for community secretaries.
        #[arg(long = "community")]
        communities: Vec<String>,
        /// Street code(s) (9 digits) for street officers.
        #[arg(long = "street")]
        streets: Vec<String>,
        /// Department code(s) for department staff.
        #[arg(long = "department")]
        departments: Vec<String>,
    },
    /// List users with their roles and state.
    List,
    /// Give a user a new one-time password (ends their sessions).
    Passwd { username: String },
    /// Disable a user (ends their sessions); `--enable` undoes it.
    Disable {
        username: String,
        #[arg(long)]
        enable: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain of the whole audit log.
    Verify,
}

#[derive(Subcommand)]
enum GridsCommand {
    /// Import a GeoJSON FeatureCollection of grid boundaries, all or nothing.
    ///
    /// Each feature needs `code` (14-digit grid code) and `name` properties;
    /// `external_code`, `community_name`, `street_name` and `district_name`
    /// are optional (names are needed only for units that do not exist yet).
    /// A feature for an existing grid with a new shape closes the current
    /// boundary version and opens a new one; buildings follow.
    Import {
        /// The .geojson file ("-" for standard input).
        file: PathBuf,
        /// When the boundaries take effect: RFC 3339 time or YYYY-MM-DD
        /// (midnight, China time). Default: now.
        #[arg(long)]
        effective: Option<String>,
        /// Check the file and report what would change, without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export the boundaries in force as a GeoJSON FeatureCollection.
    Export {
        /// Export the boundaries in force at this time (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        at: Option<String>,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    database_url: Option<String>,
    listen: Option<String>,
    log_format: Option<String>,
    key_file: Option<PathBuf>,
}

fn load_config(path: Option<&PathBuf>) -> Result<ConfigFile> {
    let Some(path) = path else {
        return Ok(ConfigFile::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("bad config file {}", path.display()))
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The SQLite file a database URL names, if it names one.
fn sqlite_path(database_url: &str) -> Option<PathBuf> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        return None;
    }
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .unwrap_or(database_url);
    Some(PathBuf::from(path))
}

/// Beside the SQLite file, else in the working directory.
fn beside_database(database_url: &str, name: &str) -> PathBuf {
    sqlite_path(database_url)
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

struct Opened {
    app: Arc<App>,
    database_url: String,
}

async fn open_app(
    database_url: &str,
    key_file: Option<&PathBuf>,
    auth: AuthConfig,
) -> Result<Opened> {
    tracing::info!(database = %redact_url(database_url), "opening database");
    let store = wangge_store::connect(database_url, &StoreOptions::default())
        .await
        .with_context(|| format!("cannot open database {}", redact_url(database_url)))?;
    let key_path = key_file
        .cloned()
        .unwrap_or_else(|| beside_database(database_url, "wangge.key"));
    let vault = Vault::load(std::env::var("WANGGE_KEY").ok().as_deref(), &key_path)
        .context("cannot load the encryption key")?;
    let app = App::with_auth(store, Arc::new(SystemClock), vault, auth)
        .await
        .map_err(|e| anyhow::anyhow!(e.localized(Lang::En)))?;
    Ok(Opened {
        app,
        database_url: database_url.to_owned(),
    })
}

fn parse_time(raw: &str, flag: &str) -> Result<jiff::Timestamp> {
    wangge_web::api::parse_instant(raw)
        .with_context(|| format!("--{flag} must be an RFC 3339 time or YYYY-MM-DD, got {raw:?}"))
}

async fn run(cli: Cli) -> Result<()> {
    let config = load_config(cli.global.config.as_ref())?;
    let json_logs = cli.global.log_json || config.log_format.as_deref() == Some("json");
    init_logging(json_logs);
    let database_url = cli
        .global
        .database_url
        .or(config.database_url)
        .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
    let key_file = cli.global.key_file.or(config.key_file);
    let auth = match &cli.command {
        Command::Serve {
            idle_timeout_minutes,
            max_failed_logins,
            lockout_minutes,
            ..
        } => {
            if *idle_timeout_minutes < 1 || *max_failed_logins < 1 || *lockout_minutes < 0 {
                bail!("idle timeout and failed-login limit must be at least 1, lockout at least 0");
            }
            AuthConfig {
                idle_timeout: jiff::SignedDuration::from_mins(*idle_timeout_minutes),
                max_failed_logins: *max_failed_logins,
                lockout: jiff::SignedDuration::from_mins(*lockout_minutes),
            }
        }
        _ => AuthConfig::default(),
    };
    let opened = open_app(&database_url, key_file.as_ref(), auth).await?;
    let app = opened.app.clone();

    match cli.command {
        Command::Migrate => {
            println!("database {} is up to date", redact_url(&database_url));
        }
        Command::Demo { accounts_file } => {
            load_demo(&opened, accounts_file).await?;
            println!(
                "browse it: wangge --database-url {} serve, then open http://{DEFAULT_LISTEN}/",
                redact_url(&database_url)
            );
        }
        Command::Serve {
            listen,
            demo,
            accounts_file,
            secure_cookies,
            ..
        } => {
            let listen = listen
                .or(config.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
            if demo {
                load_demo(&opened, accounts_file).await?;
            }
            serve(app, &listen, WebConfig { secure_cookies }).await?;
        }
        Command::User(cmd) => user_command(&app, cmd).await?,
        Command::Apikey(cmd) => apikey_command(&app, cmd).await?,
        Command::Import(cmd) => import_command(&app, cmd).await?,
        Command::Export(cmd) => export_command(&app, cmd).await?,
        Command::Audit(AuditCommand::Verify) => match app.verify_audit().await {
            Ok(Ok(n)) => println!("audit log intact: {n} record(s), every hash links"),
            Ok(Err(b)) => bail!("audit log BROKEN at record {}: {}", b.seq, b.reason),
            Err(e) => bail!(e.localized(Lang::En)),
        },
        Command::Grids(GridsCommand::Import {
            file,
            effective,
            dry_run,
        }) => {
            let effective = effective.map(|e| parse_time(&e, "effective")).transpose()?;
            let input = if file.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
                buf
            } else {
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?
            };
            match app
                .import_boundaries(&input, ImportOptions { effective, dry_run })
                .await
            {
                Ok(report) => {
                    println!(
                        "{}{} created, {} redrawn, {} renamed, {} unchanged; {} building(s) reassigned, {} outside every grid",
                        if report.dry_run { "dry run: " } else { "" },
                        report.created.len(),
                        report.redrawn.len(),
                        report.renamed.len(),
                        report.unchanged,
                        report.buildings_reassigned,
                        report.buildings_outside,
                    );
                }
                Err(AppError::BadBoundaries(errors)) => {
                    for e in &errors {
                        eprintln!("{}: {}", file.display(), e.localized(Lang::En));
                    }
                    bail!(
                        "{} problem(s) in {}; nothing was imported",
                        errors.len(),
                        file.display()
                    );
                }
                Err(e) => bail!(e.localized(Lang::En)),
            }
        }
        Command::Grids(GridsCommand::Export { at, output }) => {
            let at = at.map(|a| parse_time(&a, "at")).transpose()?;
            let doc = app
                .export_boundaries(at)
                .await
                .map_err(|e| anyhow::anyhow!(e.localized(Lang::En)))?;
            let text = serde_json::to_string_pretty(&doc)?;
            match output {
                Some(path) => std::fs::write(&path, text + "\n")
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => {
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{text}")?;
                }
            }
        }
    }
    Ok(())
}

async fn load_demo(opened: &Opened, accounts_file: Option<PathBuf>) -> Result<()> {
    let report = opened
        .app
        .load_demo()
        .await
        .map_err(|e| anyhow::anyhow!(e.localized(Lang::En)))?;
    if report.already_loaded {
        println!(
            "demo community already loaded (reset a password with `wangge user passwd USERNAME`)"
        );
        return Ok(());
    }
    if report.grids > 0 {
        println!(
            "demo loaded: {} communities, {} grids, {} buildings, {} units",
            report.communities, report.grids, report.buildings, report.units
        );
    }
    if !report.accounts.is_empty() {
        println!(
            "demo register: {} households, {} residents, {} businesses (synthetic people only), {} cases ({} reminders and overdue notices in the inboxes)",
            report.households, report.residents, report.businesses, report.cases, report.notices
        );
        let f = &report.field;
        println!(
            "demo field work: {} patrols, {} visits, {} referrals, {} campaigns, {} opinions, {} notices",
            f.patrols, f.visits, f.referrals, f.campaigns, f.opinions, f.notices
        );
        println!("\nsign in at /login with one of these one-time passwords:");
        for a in &report.accounts {
            println!(
                "  {:<22} {:<24} {}  ({})",
                a.role.label(Lang::Zh),
                a.username,
                a.password,
                a.scope
            );
        }
        let path = accounts_file
            .unwrap_or_else(|| beside_database(&opened.database_url, "demo-accounts.json"));
        write_private(&path, &serde_json::to_string_pretty(&report.accounts)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("(the same list is in {})\n", path.display());
    }
    Ok(())
}

/// Writes a file only its owner can read (it holds passwords).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}

fn is_csv(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

async fn import_command(app: &App, cmd: ImportCommand) -> Result<()> {
    let en = |e: AppError| anyhow::anyhow!(e.localized(Lang::Zh));
    match cmd {
        ImportCommand::Template { out, kind } => {
            let kind = SheetKind::parse(&kind)
                .ok_or_else(|| anyhow::anyhow!("--kind is residents, businesses or buildings"))?;
            let bytes = app.sheet_template(kind, !is_csv(&out)).map_err(en)?;
            std::fs::write(&out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("template written to {}", out.display());
        }
        ImportCommand::Residents(args) => import_sheet(app, SheetKind::Residents, args).await?,
        ImportCommand::Businesses(args) => import_sheet(app, SheetKind::Businesses, args).await?,
        ImportCommand::Buildings(args) => import_sheet(app, SheetKind::Buildings, args).await?,
    }
    Ok(())
}

/// Imports one sheet with a progress bar; prints the report.
async fn import_sheet(app: &App, kind: SheetKind, args: SheetArgs) -> Result<()> {
    let en = |e: AppError| anyhow::anyhow!(e.localized(Lang::Zh));
    let SheetArgs {
        file,
        user,
        mode,
        rejected,
    } = args;
    let mode = ImportMode::parse(&mode)
        .ok_or_else(|| anyhow::anyhow!("--mode is dry-run, all-or-nothing or valid-only"))?;
    let actor = app.actor_by_username(&user).await.map_err(en)?;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let bar = indicatif::ProgressBar::new(1);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:4} [{bar:40}] {pos}/{len} {per_sec} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let progress = |phase: &str, done: usize, total: usize| {
        bar.set_message(phase.to_owned());
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let started = std::time::Instant::now();
    let report = app
        .import_sheet(&actor, kind, &bytes, mode, Some(&progress))
        .await
        .map_err(en)?;
    bar.finish_and_clear();
    let households = if report.households > 0 {
        format!(" into {} households", report.households)
    } else {
        String::new()
    };
    println!(
        "{} rows, {} valid, {} imported{households}, {} problems ({:.1} s)",
        report.rows,
        report.valid,
        report.imported,
        report.errors.len(),
        started.elapsed().as_secs_f64()
    );
    for e in report.errors.iter().take(50) {
        println!("  第 {} 行 {}：{}", e.row, e.column, e.message);
    }
    if report.errors.len() > 50 {
        println!("  … and {} more", report.errors.len() - 50);
    }
    if let (Some(path), Some(bytes)) = (rejected, report.rejected) {
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        println!("rejected rows written to {}", path.display());
    }
    if mode == ImportMode::AllOrNothing && !report.errors.is_empty() {
        bail!("nothing imported: fix the rows above (or use --mode valid-only)");
    }
    Ok(())
}

async fn export_command(app: &App, cmd: ExportCommand) -> Result<()> {
    let en = |e: AppError| anyhow::anyhow!(e.localized(Lang::Zh));
    let ExportCommand::Residents { user, out, full } = cmd;
    let actor = app.actor_by_username(&user).await.map_err(en)?;
    let bytes = app
        .export_residents(&actor, None, full, !is_csv(&out))
        .await
        .map_err(en)?;
    std::fs::write(&out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    println!("exported to {}", out.display());
    Ok(())
}

async fn apikey_command(app: &App, cmd: ApikeyCommand) -> Result<()> {
    let en = |e: AppError| anyhow::anyhow!(e.localized(Lang::En));
    match cmd {
        ApikeyCommand::Add { name } => {
            let (view, key) = app.add_api_key(None, &name).await.map_err(en)?;
            println!(
                "API key for {} (shown once, keep it safe):\n{key}",
                view.name
            );
        }
        ApikeyCommand::List => {
            for k in app.api_keys().await.map_err(en)? {
                println!(
                    "{:<24} {}…  created {}{}",
                    k.name,
                    k.prefix,
                    k.created_at,
                    k.revoked_at
                        .map(|r| format!("  REVOKED {r}"))
                        .unwrap_or_default()
                );
            }
        }
        ApikeyCommand::Revoke { name } => {
            app.revoke_api_key(None, &name).await.map_err(en)?;
            println!("revoked the API key of {name}");
        }
    }
    Ok(())
}

async fn user_command(app: &App, cmd: UserCommand) -> Result<()> {
    let en = |e: AppError| anyhow::anyhow!(e.localized(Lang::En));
    match cmd {
        UserCommand::Add {
            username,
            role,
            name,
            grids,
            communities,
            streets,
            departments,
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!(
                    "unknown role {role:?}; one of: {}",
                    Role::ALL
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let scopes = resolve_scopes(app, &grids, &communities, &streets, &departments).await?;
            let (id, password) = app
                .create_user(
                    None,
                    UserSpec {
                        display_name: name.unwrap_or_else(|| username.clone()),
                        username: username.clone(),
                        role,
                        scopes,
                    },
                )
                .await
                .map_err(en)?;
            println!("user {username} (id {id}, {}) created", role.as_str());
            println!("one-time password: {password}");
            println!("(shown once: pass it on privately; it must be changed after signing in)");
        }
        UserCommand::List => {
            for (u, disabled, locked) in app.list_users().await.map_err(en)? {
                let state = if disabled {
                    "disabled".to_owned()
                } else if let Some(t) = locked.filter(|t| *t > app.now()) {
                    format!("locked until {t}")
                } else {
                    "active".to_owned()
                };
                println!(
                    "{:<24} {:<20} {:<10} {}",
                    u.username,
                    u.role.as_str(),
                    state,
                    u.display_name
                );
            }
        }
        UserCommand::Passwd { username } => {
            let password = app.reset_password(None, &username).await.map_err(en)?;
            println!("new one-time password for {username}: {password}");
        }
        UserCommand::Disable { username, enable } => {
            app.set_user_disabled(None, &username, !enable)
                .await
                .map_err(en)?;
            println!("{username} {}", if enable { "enabled" } else { "disabled" });
        }
    }
    Ok(())
}

/// Turns codes given on the command line into assignments.
async fn resolve_scopes(
    app: &App,
    grids: &[String],
    communities: &[String],
    streets: &[String],
    departments: &[String],
) -> Result<Vec<(ScopeKind, i64)>> {
    let mut out = Vec::new();
    let all_grids = app
        .list_grids(None)
        .await
        .map_err(|e| anyhow::anyhow!(e.localized(Lang::En)))?;
    for code in grids {
        let g = all_grids
            .iter()
            .find(|g| g.grid.code.as_str() == code)
            .with_context(|| format!("no grid with code {code}"))?;
        out.push((ScopeKind::Grid, g.grid.id));
    }
    let all_communities = app
        .list_communities()
        .await
        .map_err(|e| anyhow::anyhow!(e.localized(Lang::En)))?;
    for code in communities {
        let c = all_communities
            .iter()
            .find(|c| c.community.code.as_str() == code)
            .with_context(|| format!("no community with code {code}"))?;
        out.push((ScopeKind::Community, c.community.id));
    }
    for code in streets {
        let c = all_communities
            .iter()
            .find(|c| c.street_code.as_str() == code)
            .with_context(|| format!("no street with code {code}"))?;
        out.push((ScopeKind::Street, c.community.street_id));
    }
    let all_departments = app.store().departments().await?;
    for code in departments {
        let d = all_departments
            .iter()
            .find(|d| d.code == *code)
            .with_context(|| format!("no department with code {code}"))?;
        out.push((ScopeKind::Department, d.id));
    }
    Ok(out)
}

async fn serve(app: Arc<App>, listen: &str, config: WebConfig) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let watcher = app.spawn_index_watcher(Duration::from_secs(15));
    // This node's name in job leases: host, process and a random tail.
    let node = format!(
        "{}-{}-{:08x}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "wangge".into()),
        std::process::id(),
        u32::from_le_bytes(wangge_app::privacy::random_bytes::<4>().unwrap_or_default())
    );
    let jobs = app.spawn_job_runner(node, Duration::from_secs(2));
    println!("wangge is running: open http://{addr}/ (Ctrl-C to stop)");
    tracing::info!(%addr, backend = app.backend().name(), "listening");
    // The client's address, for limits on anonymous reads.
    let service = wangge_web::router_with(app, config)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    watcher.abort();
    jobs.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
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
