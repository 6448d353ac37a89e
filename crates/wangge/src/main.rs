//! `wangge`: the one binary. Serves the web UI and API, migrates, loads the
//! demo community, and imports or exports grid boundaries.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use wangge_app::{App, AppError, ImportOptions, SystemClock};
use wangge_core::{Lang, Localized};
use wangge_store::{StoreOptions, redact_url};

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
    /// A TOML file with `database_url`, `listen` and `log_format` keys.
    #[arg(long, global = true, env = "WANGGE_CONFIG")]
    config: Option<PathBuf>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    log_json: bool,
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
    },
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Load the synthetic demo community (one street, two communities,
    /// sixteen grids, their buildings and units). Does nothing if loaded.
    Demo,
    /// Grid boundaries as GeoJSON (WGS-84).
    #[command(subcommand)]
    Grids(GridsCommand),
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

async fn open_app(database_url: &str) -> Result<Arc<App>> {
    tracing::info!(database = %redact_url(database_url), "opening database");
    let store = wangge_store::connect(database_url, &StoreOptions::default())
        .await
        .with_context(|| format!("cannot open database {}", redact_url(database_url)))?;
    App::new(store, Arc::new(SystemClock))
        .await
        .map_err(|e| anyhow::anyhow!(e.localized(Lang::En)))
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

    match cli.command {
        Command::Migrate => {
            open_app(&database_url).await?;
            println!("database {} is up to date", redact_url(&database_url));
        }
        Command::Demo => {
            let app = open_app(&database_url).await?;
            load_demo(&app).await?;
            println!(
                "browse it: wangge --database-url {} serve, then open http://{DEFAULT_LISTEN}/",
                redact_url(&database_url)
            );
        }
        Command::Serve { listen, demo } => {
            let listen = listen
                .or(config.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
            let app = open_app(&database_url).await?;
            if demo {
                load_demo(&app).await?;
            }
            serve(app, &listen).await?;
        }
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
            let app = open_app(&database_url).await?;
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
            let app = open_app(&database_url).await?;
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

async fn load_demo(app: &App) -> Result<()> {
    let report = app
        .load_demo()
        .await
        .map_err(|e| anyhow::anyhow!(e.localized(Lang::En)))?;
    if report.already_loaded {
        println!("demo community already loaded");
    } else {
        println!(
            "demo loaded: {} communities, {} grids, {} buildings, {} units",
            report.communities, report.grids, report.buildings, report.units
        );
    }
    Ok(())
}

async fn serve(app: Arc<App>, listen: &str) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let watcher = app.spawn_index_watcher(Duration::from_secs(15));
    println!("wangge is running: open http://{addr}/ (Ctrl-C to stop)");
    tracing::info!(%addr, backend = app.backend().name(), "listening");
    axum::serve(listener, wangge_web::router(app))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    watcher.abort();
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
