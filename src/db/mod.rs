//! Storage: one `Db` over SQLite (the embedded default) or PostgreSQL (several app nodes),
//! chosen from the URL.
//!
//! Queries are written once in SQL both engines accept (`$1` parameters, `RETURNING`,
//! `ON CONFLICT`) and run through sqlx's `Any` driver; a dialect arm appears only where the SQL
//! really differs. Instants are BIGINT milliseconds since the epoch (UTC), JSON is TEXT, and
//! booleans are 0/1 BIGINTs, so every value has the same type on both engines.
//!
//! SQLite allows one writer at a time, so its writes go through a pool of one connection and
//! never meet a "database is locked" upgrade race; reads use a separate pool (WAL lets them run
//! beside the writer). `synchronous=FULL` makes a commit durable before it returns.

pub mod catalogue;
pub mod complaints;
pub mod followup;
pub mod group_commit;
pub mod mail_templates;
pub mod migrations;
pub mod outbox;
pub mod registration;
pub mod reports;
pub mod requesters;
pub mod requests;
pub mod search;
pub mod service_levels;
pub mod settings;
pub mod staff;
pub mod staged;
pub mod surveys;
pub mod web;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub engine: Engine,
    write: AnyPool,
    read: AnyPool,
    /// SQLite only: registrations share commits (see `group_commit`).
    group_commit: Option<group_commit::GroupCommit>,
}

/// How many connections a `Db` may open.
#[derive(Debug, Clone, Copy)]
struct Limits {
    sqlite_readers: u32,
    postgres: u32,
}

impl Db {
    /// Connects to `sqlite://path` (created when missing) or `postgres://…`.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        Db::connect_with(
            url,
            Limits {
                sqlite_readers: 8,
                postgres: 32,
            },
        )
        .await
    }

    /// Connects for a command that does one thing at a time (`mailgate`, one process per
    /// message): one connection per pool. A connection costs a backend start on PostgreSQL (and a
    /// schema parse on SQLite); with more allowed, a pool opens a second one while the first is
    /// still being handed back.
    pub async fn connect_single(url: &str) -> anyhow::Result<Db> {
        Db::connect_with(
            url,
            Limits {
                sqlite_readers: 1,
                postgres: 1,
            },
        )
        .await
    }

    async fn connect_with(url: &str, limits: Limits) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            anyhow::bail!(
                "unsupported database URL (expected sqlite://FILE or postgres://…): {}",
                redact_url(url)
            );
        };
        let db = match engine {
            Engine::Sqlite => {
                let url = if url.contains('?') {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                };
                let options = AnyConnectOptions::from_str(&url)?;
                let write = sqlite_pool(1, WRITER_PRAGMAS)
                    .connect_with(options.clone())
                    .await?;
                let read = sqlite_pool(limits.sqlite_readers, "")
                    .connect_with(options)
                    .await?;
                let group_commit = Some(group_commit::GroupCommit::start(write.clone()));
                Db {
                    engine,
                    write,
                    read,
                    group_commit,
                }
            }
            Engine::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(limits.postgres)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // Starting parallel workers cost about 100 ms here, more than the
                            // interactive queries they were planned for (a search page took
                            // 150 ms instead of 30; docs/PERFORMANCE.md).
                            conn.execute("SET max_parallel_workers_per_gather = 0")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(&postgres_url(url))
                    .await
                    .with_context(|| format!("connecting to {}", redact_url(url)))?;
                // PostgreSQL already flushes concurrent commits together in its WAL writer.
                Db {
                    engine,
                    write: pool.clone(),
                    read: pool,
                    group_commit: None,
                }
            }
        };
        Ok(db)
    }

    /// The pool for transactions that write.
    pub fn write(&self) -> &AnyPool {
        &self.write
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`),
    /// so a transaction that reads before it writes can never fail to upgrade its lock when another
    /// process wrote in between.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.engine {
            Engine::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.write.begin().await,
        }
    }

    /// The committing task that groups registrations, on SQLite.
    pub fn group_commit(&self) -> Option<&group_commit::GroupCommit> {
        self.group_commit.as_ref()
    }

    /// The pool for reads.
    pub fn read(&self) -> &AnyPool {
        &self.read
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// `$first, …` for a list of `count` values (ids, addresses), rounded up to a power of two: each
/// length is its own statement text, and a connection keeps prepared statements by text
/// (`bind_list` repeats the last value to fill it).
pub(crate) fn id_list(first: usize, count: usize) -> String {
    (first..first + count.next_power_of_two())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn bind_list<'q, O, T>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    values: &[T],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>
where
    T: Copy + Default + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'q,
{
    let last = values.last().copied().unwrap_or_default();
    for value in values {
        query = query.bind(*value);
    }
    for _ in values.len()..values.len().next_power_of_two() {
        query = query.bind(last);
    }
    query
}

/// The directory of a `sqlite://FILE` URL's file (`.` for a bare file name); `None` for
/// another engine.
pub fn sqlite_directory(url: &str) -> Option<std::path::PathBuf> {
    let path = url.strip_prefix("sqlite://")?;
    let file = std::path::Path::new(path.split('?').next().unwrap_or(path));
    Some(match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    })
}

/// The writer keeps the journals of its savepoints in memory. Group commit runs every
/// registration and inbound mail in a savepoint, and SQLite copies each page a savepoint changes
/// to a sub-journal; past 64 KiB (a mail touches about 30 pages) that journal spills to a
/// temporary file, and every later page costs a `pwrite`. The sub-journal only serves to roll a
/// savepoint back: durability is the WAL's, unchanged. Readers keep the default, so that a large
/// sort can still spill to disk rather than grow in memory.
const WRITER_PRAGMAS: &str = "PRAGMA temp_store = MEMORY;";

/// A pooled SQLite connection is a file handle in this process: no server or network can drop
/// it, so it is not pinged before each use (sqlx's default), which costs one more round trip to
/// the connection's thread for every statement run on the pool. sqlx still pings it when it is
/// given back, which finishes the rollback of a dropped transaction before the next user.
fn sqlite_pool(max: u32, extra_pragmas: &'static str) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; {extra_pragmas}"
                )))
                .await?;
                Ok(())
            })
        })
}

/// Rows a multi-row statement writes at most: the statement stays far below both engines'
/// parameter limits (32,766 on SQLite, 65,535 on PostgreSQL) with up to 30 columns.
pub(crate) const ROWS_PER_STATEMENT: usize = 256;

/// The rows of one multi-row statement: `rows` of the caller's slice, written as a statement of
/// `padded` rows (the next power of two). Each size is its own statement text, and a connection
/// keeps prepared statements by text: with sizes from a short list they stay prepared (preparing
/// one with hundreds of parameters costs as much as running it). Padding instead of splitting
/// into 16 + 8 + 4 + … rows keeps a group commit's batch at one statement per table: on SQLite
/// every statement is a round trip to the connection's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowBlock {
    pub rows: std::ops::Range<usize>,
}

impl RowBlock {
    /// The rows the statement is written for: the next power of two.
    pub fn padded(&self) -> usize {
        self.rows.len().next_power_of_two()
    }

    /// Rows bound only to fill the statement; `padded_values` leaves them out.
    pub fn padding(&self) -> usize {
        self.padded() - self.rows.len()
    }
}

/// Splits `len` rows into blocks of at most 256, each padded to a power of two.
pub(crate) fn row_blocks(len: usize) -> impl Iterator<Item = RowBlock> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = len - start;
        if left == 0 {
            return None;
        }
        let size = left.min(ROWS_PER_STATEMENT);
        let block = RowBlock {
            rows: start..start + size,
        };
        start += size;
        Some(block)
    })
}

/// `SELECT * FROM (VALUES …) AS v WHERE v.column1 IS NOT NULL`: the source of a padded
/// multi-row `INSERT … SELECT`. A padding row binds NULL as its first value (a column every real
/// row fills) and the values of a real row for the rest, so that each column keeps one type on
/// PostgreSQL; the filter leaves it out.
pub(crate) fn padded_values(
    conn: &sqlx::AnyConnection,
    rows: usize,
    columns: usize,
    tail: &str,
) -> String {
    format!(
        "SELECT * FROM (VALUES {}) AS v WHERE v.column1 IS NOT NULL",
        value_rows(conn, rows, columns, tail)
    )
}

/// `($1, $2, …, $c<tail>), ($c+1, …)`: the VALUES list of a multi-row statement of `rows` rows
/// of `columns` parameters each; `tail` is constant SQL appended inside every row. SQLite gets
/// anonymous `?` parameters: it looks a numbered one up by a linear search, once when preparing
/// and once when binding, which is quadratic in a statement with thousands of them.
pub(crate) fn value_rows(
    conn: &sqlx::AnyConnection,
    rows: usize,
    columns: usize,
    tail: &str,
) -> String {
    let anonymous = conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME;
    let mut sql = String::with_capacity(rows * (columns * 5 + tail.len() + 4));
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            if anonymous {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&(row * columns + column + 1).to_string());
            }
        }
        sql.push_str(tail);
        sql.push(')');
    }
    sql
}

/// A database URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}://{}:***{}",
                    &url[..scheme_end],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The PostgreSQL URL the pool connects with: on loopback, without TLS unless `sslmode` says
/// otherwise. TLS protects nothing that stays inside the machine, and through it sqlx's socket
/// (no `TCP_NODELAY`, sqlx issue 4335) waits for the peer's delayed acknowledgement: 40 ms stalls
/// that halved mail ingest (docs/PERFORMANCE.md). A Unix socket (`?host=/run/postgresql`) is
/// already without TLS.
pub fn postgres_url(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let loopback = match parsed.host() {
        // `postgres:` is not a scheme the URL standard knows, so an IPv4 address stays a name.
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let chosen = parsed.query_pairs().any(|(key, _)| key == "sslmode");
    if !loopback || chosen {
        return url.to_string();
    }
    let separator = if parsed.query().is_some() { '&' } else { '?' };
    match url.split_once('#') {
        Some((before, fragment)) => format!("{before}{separator}sslmode=disable#{fragment}"),
        None => format!("{url}{separator}sslmode=disable"),
    }
}

/// Milliseconds since the epoch, the storage form of an instant.
pub fn to_millis(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

pub fn from_millis(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Lower-cased, accents removed, spaces folded: the form names and service titles are searched in.
pub fn fold_for_search(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        };
        out.push(plain);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An optional e-mail address as typed (an area's mailbox, a staff account's): empty means
/// none; otherwise it must be a valid address (problem on the field `email`).
pub fn optional_email(raw: Option<&str>) -> crate::error::AppResult<Option<String>> {
    match raw.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => Ok(Some(
            ventanilla_domain::identifiers::Email::parse(e)
                .map_err(|err| {
                    crate::error::AppError::invalid("email", err.code(), err.to_string())
                })?
                .as_str()
                .to_string(),
        )),
        None => Ok(None),
    }
}

/// Escapes `%`, `_` and `\` so user text matches literally inside a LIKE pattern.
pub fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_of_a_sqlite_url_is_where_its_file_is() {
        let directory = |url| sqlite_directory(url).map(|d| d.display().to_string());
        assert_eq!(
            directory("sqlite:///work/bench/s1m.db").as_deref(),
            Some("/work/bench")
        );
        assert_eq!(
            directory("sqlite://data/v.db?mode=rwc").as_deref(),
            Some("data")
        );
        assert_eq!(directory("sqlite://v.db").as_deref(), Some("."));
        assert_eq!(directory("postgres://postgres@127.0.0.1/v"), None);
    }

    #[test]
    fn passwords_never_appear_in_a_redacted_url() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/v"),
            "postgres://app:***@db:5432/v"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn postgres_on_loopback_goes_without_tls_unless_asked() {
        assert_eq!(
            postgres_url("postgres://postgres@127.0.0.1:5432/v"),
            "postgres://postgres@127.0.0.1:5432/v?sslmode=disable"
        );
        assert_eq!(
            postgres_url("postgres://a:b@localhost/v?application_name=x"),
            "postgres://a:b@localhost/v?application_name=x&sslmode=disable"
        );
        assert_eq!(
            postgres_url("postgresql://[::1]:5433/v"),
            "postgresql://[::1]:5433/v?sslmode=disable"
        );
        for kept in [
            "postgres://postgres@127.0.0.1/v?sslmode=require",
            "postgres://app@db.example.mx/v",
            "postgres://app@10.0.0.7/v",
            "postgres:///v?host=/run/postgresql",
        ] {
            assert_eq!(postgres_url(kept), kept);
        }
    }

    #[test]
    fn rows_are_written_in_padded_blocks_of_few_sizes() {
        let blocks = |len| {
            row_blocks(len)
                .map(|b| (b.rows.len(), b.padded()))
                .collect::<Vec<_>>()
        };
        assert_eq!(blocks(0), Vec::<(usize, usize)>::new());
        assert_eq!(blocks(1), vec![(1, 1)]);
        assert_eq!(blocks(7), vec![(7, 8)]);
        assert_eq!(blocks(31), vec![(31, 32)]);
        assert_eq!(blocks(600), vec![(256, 256), (256, 256), (88, 128)]);
        let covered: Vec<usize> = row_blocks(600).flat_map(|b| b.rows).collect();
        assert_eq!(covered, (0..600).collect::<Vec<_>>());
        assert!(row_blocks(600).all(|b| b.padded().is_power_of_two() && b.padding() < b.padded()));
    }

    #[test]
    fn folding_removes_accents_and_case() {
        assert_eq!(
            fold_for_search("  Creación de CUENTA   de correo"),
            "creacion de cuenta de correo"
        );
        assert_eq!(fold_for_search("Peña-Núñez"), "pena nunez");
    }
}
