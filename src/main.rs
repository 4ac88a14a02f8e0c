//! The `ventanilla` command: serve, migrate, user, import, bench.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ventanilla::config::Config;
use ventanilla::db::{self, Db};
use ventanilla::import::{self, ImportError};
use ventanilla::state::AppState;
use ventanilla_domain::ids::AreaId;
use ventanilla_domain::permissions::Role;

#[derive(Parser)]
#[command(
    name = "ventanilla",
    version,
    about = "Mesa de servicios del CAU (CGSI-PO-01)"
)]
struct Cli {
    /// sqlite://FILE or postgres://USER@HOST/DB. Default: SQLite under ./ventanilla-data.
    #[arg(long, global = true, env = "VENTANILLA_DATABASE_URL")]
    database: Option<String>,
    /// Log as JSON lines (for log collectors).
    #[arg(long, global = true, env = "VENTANILLA_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default command).
    Serve {
        #[arg(long, env = "VENTANILLA_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Do not load the demo units, catalogue and accounts into an empty database.
        #[arg(long)]
        no_demo: bool,
        #[command(flatten)]
        mail: Box<ventanilla::mail::MailArgs>,
    },
    /// Read one e-mail message on standard input (for an MTA pipe) and apply it.
    Mailgate {
        #[command(flatten)]
        mail: Box<ventanilla::mail::MailArgs>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Staff accounts and API tokens.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Service levels: recompute every open request's deadlines (after a calendar change).
    SlaRecompute,
    /// Import units or the catalogue from CSV; nothing is written if any row is wrong.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Generate a data set, load a server in this process over HTTP and report the figures.
    Bench(ventanilla::bench::BenchArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account; the password is read from VENTANILLA_PASSWORD or generated.
    Add {
        username: String,
        #[arg(long)]
        name: String,
        /// agent, supervisor, coordinator, engineer, administrator
        #[arg(long)]
        role: String,
        /// The resolver area of an engineer (id).
        #[arg(long)]
        area: Option<i64>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Issue an API token for an account; it is printed once.
    Token {
        username: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// acronym,name,level
    Units { file: PathBuf },
    /// area,service,eligibility
    Catalogue { file: PathBuf },
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VENTANILLA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open_database(url: &str) -> anyhow::Result<Db> {
    create_data_directory(url)?;
    let db = Db::connect(url).await?;
    db::migrations::run(&db).await?;
    Ok(db)
}

/// `mailgate` handles one message: one connection is enough, and each costs.
async fn open_database_single(url: &str) -> anyhow::Result<Db> {
    create_data_directory(url)?;
    let db = Db::connect_single(url).await?;
    db::migrations::run(&db).await?;
    Ok(db)
}

fn create_data_directory(url: &str) -> anyhow::Result<()> {
    if let Some(directory) = db::sqlite_directory(url) {
        std::fs::create_dir_all(&directory)
            .with_context(|| format!("creating the data directory {}", directory.display()))?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    let url = cli
        .database
        .clone()
        .unwrap_or_else(Config::default_database_url);
    let command = match cli.command {
        Some(command) => command,
        None => Cli::parse_from(["ventanilla", "serve"])
            .command
            .context("the default command")?,
    };
    let now_ms = jiff::Timestamp::now().as_millisecond();
    match command {
        Command::Mailgate { mail } => {
            let db = open_database_single(&url).await?;
            let code =
                ventanilla::mail::mailgate(&db, &mail, Config::default().max_attachment_bytes)
                    .await;
            db.close().await;
            std::process::exit(code);
        }
        Command::Serve {
            listen,
            no_demo,
            mail,
        } => {
            let db = open_database(&url).await?;
            if !no_demo && let Some(seed) = ventanilla::demo::seed_if_empty(&db, now_ms).await? {
                println!(
                    "Base de datos nueva: se cargaron las unidades, el catálogo y estas cuentas de demostración."
                );
                println!("Guarde las contraseñas ahora; no se vuelven a mostrar.");
                for account in &seed.accounts {
                    println!(
                        "  {:<12} {:<22} contraseña: {}",
                        account.username,
                        account.role.label_es(),
                        account.password
                    );
                }
                println!("Token de la API del administrador: {}", seed.admin_token);
                println!("Token de la API del agente:        {}", seed.agent_token);
            }
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            let address = listener.local_addr()?;
            println!(
                "Ventanilla escucha en http://{address}/  (API: http://{address}/api/v1/openapi.json; base de datos: {})",
                db::redact_url(&url)
            );
            let mut config = Config {
                database_url: url,
                listen: address,
                ..Config::default()
            };
            config.survey.public_base_url = format!("http://{address}");
            config.survey.message_id_domain = mail.message_id_domain();
            config.mail = mail.inbound_policy(config.max_attachment_bytes);
            config.metrics_token = mail.metrics_token.clone();
            let _mail_workers =
                ventanilla::mail::start_workers(&db, &mail, config.max_attachment_bytes).await?;
            let state = AppState::new(db, config);
            ventanilla::db::service_levels::ensure_calendar(&state.db, now_ms)
                .await
                .map_err(ventanilla::error::AppError::into_anyhow)?;
            ventanilla::jobs::spawn_all(state.clone());
            ventanilla::serve(state, listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
        }
        Command::SlaRecompute => {
            let db = open_database(&url).await?;
            let started = std::time::Instant::now();
            let count = db::service_levels::recompute_all(&db, now_ms)
                .await
                .map_err(ventanilla::error::AppError::into_anyhow)?;
            println!(
                "Plazos recalculados: {count} solicitudes en {} ms.",
                started.elapsed().as_millis()
            );
            Ok(())
        }
        Command::Bench(args) => ventanilla::bench::run(args, cli.database).await,
        Command::Migrate => {
            let db = Db::connect(&url).await?;
            let applied = db::migrations::run(&db).await?;
            println!("Migraciones aplicadas: {applied:?}");
            Ok(())
        }
        Command::User { command } => {
            let db = open_database(&url).await?;
            match command {
                UserCommand::Add {
                    username,
                    name,
                    role,
                    area,
                    email,
                } => {
                    let role = Role::from_code(&role).context(
                        "role must be agent, supervisor, coordinator, engineer or administrator",
                    )?;
                    let password = std::env::var("VENTANILLA_PASSWORD").unwrap_or_else(|_| {
                        db::staff::random_secret("").chars().take(16).collect()
                    });
                    let member = db::staff::create(
                        &db,
                        db::staff::NewStaff {
                            username: &username,
                            full_name: &name,
                            email: email.as_deref(),
                            role,
                            area_id: area.map(AreaId),
                            password: &password,
                        },
                        now_ms,
                    )
                    .await
                    .map_err(ventanilla::error::AppError::into_anyhow)?;
                    println!(
                        "Cuenta {} creada ({}). Contraseña: {password}",
                        member.username,
                        role.label_es()
                    );
                    Ok(())
                }
                UserCommand::Token { username, label } => {
                    let member = db::staff::by_username(&db, &username)
                        .await
                        .map_err(ventanilla::error::AppError::into_anyhow)?
                        .with_context(|| format!("no account named {username}"))?;
                    let token = db::staff::issue_token(&db, member.id, &label, now_ms)
                        .await
                        .map_err(ventanilla::error::AppError::into_anyhow)?;
                    println!("{token}");
                    Ok(())
                }
            }
        }
        Command::Import { what } => {
            let db = open_database(&url).await?;
            let (file, result) = match what {
                ImportWhat::Units { file } => {
                    let input = std::fs::File::open(&file)
                        .with_context(|| format!("opening {}", file.display()))?;
                    (file, import::import_units(&db, input).await)
                }
                ImportWhat::Catalogue { file } => {
                    let input = std::fs::File::open(&file)
                        .with_context(|| format!("opening {}", file.display()))?;
                    (file, import::import_catalogue(&db, input, now_ms).await)
                }
            };
            match result {
                Ok(counts) => {
                    println!(
                        "{}: {} nuevos, {} actualizados, {} sin cambios.",
                        file.display(),
                        counts.created,
                        counts.updated,
                        counts.unchanged
                    );
                    Ok(())
                }
                Err(ImportError::Lines(errors)) => {
                    eprintln!(
                        "{}: no se importó nada; corrija estas filas:",
                        file.display()
                    );
                    for e in &errors {
                        eprintln!("  {e}");
                    }
                    std::process::exit(2);
                }
                Err(ImportError::Other(e)) => Err(e),
            }
        }
    }
}
