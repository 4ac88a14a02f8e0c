//! Staff accounts, passwords (argon2id) and API bearer tokens.
//!
//! A token is shown once and stored only as its SHA-256, so a copy of the database does not
//! hold usable tokens; SHA-256 (not argon2) because tokens are long random strings checked on
//! every API call.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use ventanilla_domain::ids::{AreaId, StaffId};
use ventanilla_domain::permissions::Role;

use super::Db;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub id: StaffId,
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub area_id: Option<AreaId>,
    pub active: bool,
}

#[derive(FromRow)]
struct StaffRow {
    id: i64,
    username: String,
    full_name: String,
    email: Option<String>,
    role: String,
    area_id: Option<i64>,
    active: i64,
}

impl StaffRow {
    fn into_member(self) -> StaffMember {
        StaffMember {
            id: StaffId(self.id),
            username: self.username,
            full_name: self.full_name,
            email: self.email,
            // The column only ever receives `Role::code()` values.
            role: Role::from_code(&self.role).unwrap_or(Role::Agent),
            area_id: self.area_id.map(AreaId),
            active: self.active != 0,
        }
    }
}

const STAFF_COLUMNS: &str = "id, username, full_name, email, role, area_id, active";

pub struct NewStaff<'a> {
    pub username: &'a str,
    pub full_name: &'a str,
    pub email: Option<&'a str>,
    pub role: Role,
    pub area_id: Option<AreaId>,
    pub password: &'a str,
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| anyhow::anyhow!("encoding a password salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random secret of 32 bytes, URL-safe, with a prefix that tells what it is.
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn create(db: &Db, new: NewStaff<'_>, now_ms: i64) -> AppResult<StaffMember> {
    let username = new.username.trim().to_lowercase();
    if username.len() < 3
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
    {
        return Err(AppError::invalid(
            "username",
            "username_format",
            "El usuario debe tener al menos 3 caracteres: letras sin acento, números, punto, guion o guion bajo.",
        ));
    }
    check_password_rules(new.password)?;
    check_role_area(db, new.role, new.area_id, None).await?;
    let email = super::optional_email(new.email)?;
    let hash = hash_password(new.password)?;
    let row: Option<StaffRow> = sqlx::query_as(
        "INSERT INTO staff (username, full_name, email, role, area_id, password_hash, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7)
         ON CONFLICT (username) DO NOTHING
         RETURNING id, username, full_name, email, role, area_id, active",
    )
    .bind(&username)
    .bind(new.full_name.trim())
    .bind(email)
    .bind(new.role.code())
    .bind(new.area_id.map(|a| a.0))
    .bind(hash)
    .bind(now_ms)
    .fetch_optional(db.write())
    .await?;
    row.map(StaffRow::into_member).ok_or_else(|| {
        AppError::conflict(
            "username_taken",
            format!("Ya existe una cuenta con el usuario «{username}»; elija otro."),
        )
        .with_field("username")
    })
}

/// The one password rule, for a new account and a reset alike.
pub fn check_password_rules(password: &str) -> AppResult<()> {
    if password.chars().count() < 10 {
        return Err(AppError::invalid(
            "password",
            "password_too_short",
            "La contraseña debe tener al menos 10 caracteres.",
        ));
    }
    Ok(())
}

/// A role code as sent by a form or the API.
pub fn parse_role(code: &str) -> AppResult<Role> {
    Role::from_code(code.trim()).ok_or_else(|| {
        AppError::invalid(
            "role",
            "unknown_role",
            "El perfil debe ser agent, supervisor, coordinator, engineer o administrator.",
        )
    })
}

/// An engineer belongs to a resolver area; an area given must exist and be active, unless the
/// account is in it already (an area deactivated after its engineers joined keeps them).
async fn check_role_area(
    db: &Db,
    role: Role,
    area_id: Option<AreaId>,
    current_area: Option<AreaId>,
) -> AppResult<()> {
    if role == Role::Engineer && area_id.is_none() {
        return Err(AppError::invalid(
            "area_id",
            "engineer_without_area",
            "Un ingeniero pertenece a un área de atención: indique area_id.",
        ));
    }
    if let Some(area) = area_id {
        let Some(found) = super::catalogue::area(db, area).await? else {
            return Err(AppError::invalid(
                "area_id",
                "unknown_area",
                format!("No existe el área {area}."),
            ));
        };
        if !found.active && current_area != Some(area) {
            return Err(super::catalogue::inactive_area(&found.name));
        }
    }
    Ok(())
}

fn unknown_staff(id: StaffId) -> AppError {
    AppError::not_found("unknown_staff", format!("No existe la cuenta {id}."))
}

/// Changes an account's role and area (administrator). An administrator cannot take away
/// their own role, so the system always keeps someone who can manage accounts.
pub async fn change_role(
    db: &Db,
    actor: StaffId,
    id: StaffId,
    role: Role,
    area_id: Option<AreaId>,
) -> AppResult<StaffMember> {
    let current_area = by_id(db, id).await?.and_then(|member| member.area_id);
    check_role_area(db, role, area_id, current_area).await?;
    if actor == id && role != Role::Administrator {
        return Err(AppError::invalid(
            "role",
            "own_role",
            "No puede quitarse a sí mismo el perfil de administrador; pídalo a otro administrador.",
        ));
    }
    let sql =
        format!("UPDATE staff SET role = $1, area_id = $2 WHERE id = $3 RETURNING {STAFF_COLUMNS}");
    let row: Option<StaffRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(role.code())
        .bind(area_id.map(|a| a.0))
        .bind(id.0)
        .fetch_optional(db.write())
        .await?;
    row.map(StaffRow::into_member)
        .ok_or_else(|| unknown_staff(id))
}

/// Deactivates or reactivates an account. A deactivated account cannot sign in, its sessions
/// and API tokens stop working at once (both check `active`), and its history stays. An
/// administrator cannot deactivate themself.
pub async fn set_active(
    db: &Db,
    actor: StaffId,
    id: StaffId,
    active: bool,
) -> AppResult<StaffMember> {
    if actor == id && !active {
        return Err(AppError::invalid(
            "active",
            "deactivate_self",
            "No puede desactivar su propia cuenta; pídalo a otro administrador.",
        ));
    }
    let sql = format!("UPDATE staff SET active = $1 WHERE id = $2 RETURNING {STAFF_COLUMNS}");
    let row: Option<StaffRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(active))
        .bind(id.0)
        .fetch_optional(db.write())
        .await?;
    row.map(StaffRow::into_member)
        .ok_or_else(|| unknown_staff(id))
}

/// Sets a new password chosen by the administrator; the person's open sessions end, so the old
/// password's sessions do not outlive the reset.
pub async fn reset_password(db: &Db, id: StaffId, password: &str) -> AppResult<()> {
    check_password_rules(password)?;
    let hash = hash_password(password)?;
    let mut tx = db.begin_write().await?;
    let changed = sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(unknown_staff(id));
    }
    sqlx::query("DELETE FROM web_sessions WHERE staff_id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn by_username(db: &Db, username: &str) -> AppResult<Option<StaffMember>> {
    let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE username = $1");
    let row: Option<StaffRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(username.trim().to_lowercase())
        .fetch_optional(db.read())
        .await?;
    Ok(row.map(StaffRow::into_member))
}

pub async fn by_id(db: &Db, id: StaffId) -> AppResult<Option<StaffMember>> {
    let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = $1");
    let row: Option<StaffRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(db.read())
        .await?;
    Ok(row.map(StaffRow::into_member))
}

pub async fn list(db: &Db) -> AppResult<Vec<StaffMember>> {
    let sql = format!("SELECT {STAFF_COLUMNS} FROM staff ORDER BY username");
    let rows: Vec<StaffRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(db.read())
        .await?;
    Ok(rows.into_iter().map(StaffRow::into_member).collect())
}

/// Checks a password; `None` for an unknown user, a wrong password or an inactive account alike.
pub async fn check_password(
    db: &Db,
    username: &str,
    password: &str,
) -> AppResult<Option<StaffMember>> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT id, password_hash FROM staff WHERE username = $1 AND active = 1")
            .bind(username.trim().to_lowercase())
            .fetch_optional(db.read())
            .await?;
    let Some((id, hash)) = row else {
        return Ok(None);
    };
    if !verify_password(password, &hash) {
        return Ok(None);
    }
    by_id(db, StaffId(id)).await
}

/// Issues a new API token for a staff member; the plain token is returned once.
pub async fn issue_token(db: &Db, staff: StaffId, label: &str, now_ms: i64) -> AppResult<String> {
    let token = random_secret("vt_");
    sqlx::query(
        "INSERT INTO api_tokens (staff_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(staff.0)
    .bind(token_digest(&token))
    .bind(label)
    .bind(now_ms)
    .execute(db.write())
    .await?;
    Ok(token)
}

pub async fn by_token(db: &Db, token: &str) -> AppResult<Option<StaffMember>> {
    let row: Option<StaffRow> = sqlx::query_as(
        "SELECT s.id, s.username, s.full_name, s.email, s.role, s.area_id, s.active
         FROM api_tokens t JOIN staff s ON s.id = t.staff_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND s.active = 1",
    )
    .bind(token_digest(token))
    .fetch_optional(db.read())
    .await?;
    Ok(row.map(StaffRow::into_member))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn secrets_are_random_and_prefixed() {
        let a = random_secret("vt_");
        assert!(a.starts_with("vt_") && a.len() > 40);
        assert_ne!(a, random_secret("vt_"));
    }
}
