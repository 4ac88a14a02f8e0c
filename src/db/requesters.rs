//! Requesters (Q1): create, look up by key data (A5), verify and update with history (A7).
//!
//! Every read of a person's record is written to `personal_data_access` (append-only), and
//! every change of a personal field keeps its before and after values in `requester_changes`.

use serde::Serialize;
use sqlx::{AssertSqlSafe, FromRow};
use ventanilla_domain::eligibility::UdiRole;
use ventanilla_domain::ids::{RequesterId, StaffId, UnitId};

use super::{Db, fold_for_search, like_escape};
use crate::error::{AppError, AppResult};

/// A requester's data, already parsed by the domain types at the API edge.
#[derive(Debug, Clone, PartialEq)]
pub struct RequesterData {
    pub full_name: String,
    pub curp: Option<String>,
    pub boleta: Option<String>,
    pub employee_number: Option<String>,
    pub extension: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit_id: Option<UnitId>,
    pub udi_role: UdiRole,
    pub technical_data: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Requester {
    pub id: i64,
    pub full_name: String,
    pub curp: Option<String>,
    pub boleta: Option<String>,
    pub employee_number: Option<String>,
    pub extension: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit_id: Option<i64>,
    pub unit_acronym: Option<String>,
    /// none, head (Jefe de UDI) or work_group.
    #[schema(value_type = String)]
    pub udi_role: UdiRole,
    #[schema(value_type = Object)]
    pub technical_data: serde_json::Map<String, serde_json::Value>,
    #[schema(value_type = String)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String)]
    pub updated_at: jiff::Timestamp,
}

#[derive(FromRow)]
struct RequesterRow {
    id: i64,
    full_name: String,
    curp: Option<String>,
    boleta: Option<String>,
    employee_number: Option<String>,
    extension: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    unit_id: Option<i64>,
    unit_acronym: Option<String>,
    udi_role: String,
    technical_data: String,
    created_at: i64,
    updated_at: i64,
}

impl RequesterRow {
    fn into_requester(self) -> Requester {
        Requester {
            id: self.id,
            full_name: self.full_name,
            curp: self.curp,
            boleta: self.boleta,
            employee_number: self.employee_number,
            extension: self.extension,
            email: self.email,
            phone: self.phone,
            unit_id: self.unit_id,
            unit_acronym: self.unit_acronym,
            udi_role: UdiRole::from_code(&self.udi_role).unwrap_or_default(),
            technical_data: serde_json::from_str(&self.technical_data).unwrap_or_default(),
            created_at: super::from_millis(self.created_at),
            updated_at: super::from_millis(self.updated_at),
        }
    }

    fn data(&self) -> RequesterData {
        RequesterData {
            full_name: self.full_name.clone(),
            curp: self.curp.clone(),
            boleta: self.boleta.clone(),
            employee_number: self.employee_number.clone(),
            extension: self.extension.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            unit_id: self.unit_id.map(UnitId),
            udi_role: UdiRole::from_code(&self.udi_role).unwrap_or_default(),
            technical_data: serde_json::from_str(&self.technical_data).unwrap_or_default(),
        }
    }
}

const SELECT: &str = "SELECT r.id, r.full_name, r.curp, r.boleta, r.employee_number, r.extension,
    r.email, r.phone, r.unit_id, u.acronym AS unit_acronym, r.udi_role, r.technical_data,
    r.created_at, r.updated_at
    FROM requesters r LEFT JOIN units u ON u.id = r.unit_id";

/// Which access to a personal record is being logged.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    View,
    Search,
    History,
    Create,
    Update,
}

impl Access {
    fn code(self) -> &'static str {
        match self {
            Access::View => "view",
            Access::Search => "search",
            Access::History => "history",
            Access::Create => "create",
            Access::Update => "update",
        }
    }
}

pub async fn log_access(
    db: &Db,
    staff: Option<StaffId>,
    requesters: &[i64],
    access: Access,
    now_ms: i64,
) -> AppResult<()> {
    if requesters.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    for id in requesters {
        sqlx::query(
            "INSERT INTO personal_data_access (at, staff_id, requester_id, access) VALUES ($1, $2, $3, $4)",
        )
        .bind(now_ms)
        .bind(staff.map(|s| s.0))
        .bind(*id)
        .bind(access.code())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn unique_violation(e: &sqlx::Error) -> Option<&'static str> {
    let message = e.as_database_error()?.message().to_lowercase();
    ["curp", "boleta", "employee_number"]
        .into_iter()
        .find(|col| message.contains(col))
}

fn taken(field: &'static str) -> AppError {
    let what = match field {
        "curp" => "CURP",
        "boleta" => "boleta",
        _ => "número de empleado",
    };
    AppError::conflict(
        &format!("{field}_taken"),
        format!("Ya hay un solicitante registrado con esa {what}; búsquelo y actualice sus datos en lugar de crear otro (A5, A7)."),
    )
    .with_field(field)
}

pub async fn create(
    db: &Db,
    data: &RequesterData,
    actor: Option<StaffId>,
    now_ms: i64,
) -> AppResult<Requester> {
    let technical = serde_json::to_string(&data.technical_data).map_err(anyhow::Error::from)?;
    let mut tx = db.begin_write().await?;
    if let Some(unit) = data.unit_id {
        super::catalogue::check_requester_unit(&mut tx, unit, None).await?;
    }
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO requesters (full_name, search_name, curp, boleta, employee_number, extension,
            email, phone, unit_id, udi_role, technical_data, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(&data.full_name)
    .bind(fold_for_search(&data.full_name))
    .bind(&data.curp)
    .bind(&data.boleta)
    .bind(&data.employee_number)
    .bind(&data.extension)
    .bind(&data.email)
    .bind(&data.phone)
    .bind(data.unit_id.map(|u| u.0))
    .bind(data.udi_role.code())
    .bind(technical)
    .bind(now_ms)
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) => return Err(unique_violation(&e).map(taken).unwrap_or_else(|| e.into())),
    };
    sqlx::query(
        "INSERT INTO personal_data_access (at, staff_id, requester_id, access) VALUES ($1, $2, $3, 'create')",
    )
    .bind(now_ms)
    .bind(actor.map(|s| s.0))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    get_unlogged(db, RequesterId(id))
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("requester vanished after insert")))
}

/// Reads a record without logging: only for code paths that log the access themselves.
pub async fn get_unlogged(db: &Db, id: RequesterId) -> AppResult<Option<Requester>> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    let row: Option<RequesterRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(db.read())
        .await?;
    Ok(row.map(RequesterRow::into_requester))
}

/// Reads a record for a person and logs that they saw it.
pub async fn get(
    db: &Db,
    id: RequesterId,
    viewer: StaffId,
    now_ms: i64,
) -> AppResult<Option<Requester>> {
    let found = get_unlogged(db, id).await?;
    if let Some(r) = &found {
        log_access(db, Some(viewer), &[r.id], Access::View, now_ms).await?;
    }
    Ok(found)
}

/// What to look a requester up by (A5). Exact keys win over the name.
#[derive(Debug, Default, Clone)]
pub struct Lookup {
    pub curp: Option<String>,
    pub boleta: Option<String>,
    pub employee_number: Option<String>,
    pub email: Option<String>,
    /// Words of the name, matched accent-insensitively in any order.
    pub name: Option<String>,
}

pub async fn search(
    db: &Db,
    lookup: &Lookup,
    viewer: StaffId,
    limit: i64,
    now_ms: i64,
) -> AppResult<Vec<Requester>> {
    let mut conditions = Vec::new();
    let mut values: Vec<String> = Vec::new();
    let exact = [
        (
            "r.curp",
            lookup.curp.as_ref().map(|v| v.trim().to_uppercase()),
        ),
        (
            "r.boleta",
            lookup.boleta.as_ref().map(|v| v.trim().to_uppercase()),
        ),
        (
            "r.employee_number",
            lookup
                .employee_number
                .as_ref()
                .map(|v| v.trim().to_string()),
        ),
        (
            "lower(r.email)",
            lookup.email.as_ref().map(|v| v.trim().to_lowercase()),
        ),
    ];
    for (column, value) in exact {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            values.push(value);
            conditions.push(format!("{column} = ${}", values.len()));
        }
    }
    if let Some(name) = &lookup.name {
        for word in fold_for_search(name).split_whitespace() {
            values.push(format!("%{}%", like_escape(word)));
            conditions.push(format!("r.search_name LIKE ${} ESCAPE '\\'", values.len()));
        }
    }
    if conditions.is_empty() {
        return Err(AppError::invalid(
            "curp",
            "lookup_empty",
            "Indique al menos un dato para buscar: curp, boleta, employee_number, email o name.",
        ));
    }
    let sql = format!(
        "{SELECT} WHERE {} ORDER BY r.full_name, r.id LIMIT {}",
        conditions.join(" AND "),
        limit.clamp(1, 100)
    );
    let mut query = sqlx::query_as::<_, RequesterRow>(AssertSqlSafe(sql));
    for value in values {
        query = query.bind(value);
    }
    let rows = query.fetch_all(db.read()).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    log_access(db, Some(viewer), &ids, Access::Search, now_ms).await?;
    Ok(rows.into_iter().map(RequesterRow::into_requester).collect())
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub before_value: Option<String>,
    pub after_value: Option<String>,
    pub staff_id: Option<i64>,
    pub at: i64,
}

/// A7: verify and update. Writes one history row per changed field, in the same transaction.
pub async fn update(
    db: &Db,
    id: RequesterId,
    data: &RequesterData,
    actor: Option<StaffId>,
    now_ms: i64,
) -> AppResult<Requester> {
    let mut tx = db.begin_write().await?;
    let sql = format!("{SELECT} WHERE r.id = $1");
    let current: Option<RequesterRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(current) = current else {
        return Err(AppError::not_found(
            "unknown_requester",
            format!("No existe el solicitante {id}."),
        ));
    };
    let before = current.data();
    if let Some(unit) = data.unit_id {
        super::catalogue::check_requester_unit(&mut tx, unit, before.unit_id).await?;
    }
    let text = |v: &Option<String>| v.clone();
    let changes: Vec<(&str, Option<String>, Option<String>)> = [
        (
            "full_name",
            Some(before.full_name.clone()),
            Some(data.full_name.clone()),
        ),
        ("curp", text(&before.curp), text(&data.curp)),
        ("boleta", text(&before.boleta), text(&data.boleta)),
        (
            "employee_number",
            text(&before.employee_number),
            text(&data.employee_number),
        ),
        ("extension", text(&before.extension), text(&data.extension)),
        ("email", text(&before.email), text(&data.email)),
        ("phone", text(&before.phone), text(&data.phone)),
        (
            "unit_id",
            before.unit_id.map(|u| u.to_string()),
            data.unit_id.map(|u| u.to_string()),
        ),
        (
            "udi_role",
            Some(before.udi_role.code().into()),
            Some(data.udi_role.code().into()),
        ),
        (
            "technical_data",
            Some(serde_json::Value::Object(before.technical_data.clone()).to_string()),
            Some(serde_json::Value::Object(data.technical_data.clone()).to_string()),
        ),
    ]
    .into_iter()
    .filter(|(_, b, a)| b != a)
    .collect();
    if changes.is_empty() {
        tx.commit().await?;
        return Ok(current.into_requester());
    }
    let technical = serde_json::to_string(&data.technical_data).map_err(anyhow::Error::from)?;
    let updated = sqlx::query(
        "UPDATE requesters SET full_name = $1, search_name = $2, curp = $3, boleta = $4,
            employee_number = $5, extension = $6, email = $7, phone = $8, unit_id = $9,
            udi_role = $10, technical_data = $11, updated_at = $12
         WHERE id = $13",
    )
    .bind(&data.full_name)
    .bind(fold_for_search(&data.full_name))
    .bind(&data.curp)
    .bind(&data.boleta)
    .bind(&data.employee_number)
    .bind(&data.extension)
    .bind(&data.email)
    .bind(&data.phone)
    .bind(data.unit_id.map(|u| u.0))
    .bind(data.udi_role.code())
    .bind(technical)
    .bind(now_ms)
    .bind(id.0)
    .execute(&mut *tx)
    .await;
    if let Err(e) = updated {
        return Err(unique_violation(&e).map(taken).unwrap_or_else(|| e.into()));
    }
    if before.full_name != data.full_name {
        super::search::index_requests_of(&mut tx, id.0, &data.full_name).await?;
    }
    for (field, before_value, after_value) in changes {
        sqlx::query(
            "INSERT INTO requester_changes (requester_id, staff_id, at, field, before_value, after_value)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.0)
        .bind(actor.map(|a| a.0))
        .bind(now_ms)
        .bind(field)
        .bind(before_value)
        .bind(after_value)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO personal_data_access (at, staff_id, requester_id, access) VALUES ($1, $2, $3, 'update')",
    )
    .bind(now_ms)
    .bind(actor.map(|s| s.0))
    .bind(id.0)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    get_unlogged(db, id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("requester vanished after update")))
}

pub async fn history(
    db: &Db,
    id: RequesterId,
    viewer: StaffId,
    now_ms: i64,
) -> AppResult<Vec<FieldChange>> {
    let rows: Vec<FieldChange> = sqlx::query_as(
        "SELECT field, before_value, after_value, staff_id, at FROM requester_changes
         WHERE requester_id = $1 ORDER BY id",
    )
    .bind(id.0)
    .fetch_all(db.read())
    .await?;
    log_access(db, Some(viewer), &[id.0], Access::History, now_ms).await?;
    Ok(rows)
}

/// How many times a person's record was accessed, for tests and the privacy officer.
pub async fn access_count(db: &Db, id: RequesterId) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM personal_data_access WHERE requester_id = $1")
            .bind(id.0)
            .fetch_one(db.read())
            .await?,
    )
}
