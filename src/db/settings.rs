//! Settings the administrator edits (table `settings`, one row per key). A key without a row
//! has its built-in default, which the caller supplies, so removing a row restores it.

use super::Db;
use crate::error::AppResult;

/// The stored value of a setting, if the administrator set one.
pub async fn get(db: &Db, key: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(db.read())
            .await?,
    )
}

/// Stores a value; `None` removes it, so the default applies again.
pub async fn set(
    db: &Db,
    key: &str,
    value: Option<&str>,
    staff_id: i64,
    now_ms: i64,
) -> AppResult<()> {
    match value {
        Some(value) => {
            sqlx::query(
                "INSERT INTO settings (key, value, updated_by, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                    updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(value)
            .bind(staff_id)
            .bind(now_ms)
            .execute(db.write())
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM settings WHERE key = $1")
                .bind(key)
                .execute(db.write())
                .await?;
        }
    }
    Ok(())
}
