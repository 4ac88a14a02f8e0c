//! A small migrations runner: the SQL files are embedded, applied in order, each in its own
//! transaction, and recorded in `schema_migrations`. On PostgreSQL an advisory lock keeps two
//! nodes that start together from applying the same file twice.

use sqlx::{AssertSqlSafe, Connection, Executor};

use super::{Db, Engine};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Declares the embedded migrations of both engines from one list of (version, name, file).
macro_rules! migrations {
    ($($version:literal $name:literal $file:literal),* $(,)?) => {
        pub const SQLITE: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/sqlite/", $file)),
        }),*];
        pub const POSTGRES: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/postgres/", $file)),
        }),*];
    };
}

migrations! {
    1 "foundation" "0001_foundation.sql",
    2 "outbox" "0002_outbox.sql",
    3 "service_levels" "0003_service_levels.sql",
    4 "mail" "0004_mail.sql",
    5 "web_sessions" "0005_web_sessions.sql",
    6 "surveys_complaints" "0006_surveys_complaints.sql",
    7 "mail_templates" "0007_mail_templates.sql",
    // --- admin ---
    8 "settings" "0008_settings.sql",
    9 "search" "0009_search.sql",
    10 "mail_ingest" "0010_mail_ingest.sql",
    11 "forms" "0011_forms.sql",
}

/// An arbitrary constant that names our advisory lock.
const PG_MIGRATION_LOCK: i64 = 0x5645_4e54_414e;

pub async fn run(db: &Db) -> anyhow::Result<Vec<i64>> {
    let migrations = match db.engine {
        Engine::Sqlite => SQLITE,
        Engine::Postgres => POSTGRES,
    };
    let mut conn = db.write().acquire().await?;
    if db.engine == Engine::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply_pending(&mut conn, migrations).await;
    if db.engine == Engine::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply_pending(
    conn: &mut sqlx::AnyConnection,
    migrations: &[Migration],
) -> anyhow::Result<Vec<i64>> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?;
    let mut newly = Vec::new();
    for migration in migrations {
        if applied.contains(&migration.version) {
            continue;
        }
        let mut tx = conn.begin().await?;
        tx.execute(sqlx::raw_sql(AssertSqlSafe(migration.sql)))
            .await
            .map_err(|e| anyhow::anyhow!("migration {} failed: {e}", migration.name))?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(jiff::Timestamp::now().as_millisecond())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        newly.push(migration.version);
    }
    Ok(newly)
}
