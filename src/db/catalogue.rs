//! Units, resolver areas, services and their versioned service sheets (Q4, V7).

use serde::Serialize;
use sqlx::{AnyConnection, AssertSqlSafe, FromRow};
use ventanilla_domain::catalogue::{Eligibility, SheetContent};
use ventanilla_domain::ids::{AreaId, ServiceId, StaffId, UnitId};

use super::{Db, fold_for_search, like_escape};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Unit {
    pub id: i64,
    pub acronym: String,
    pub name: String,
    /// medio_superior, superior, posgrado, investigacion, administrativa…
    pub level: String,
    /// An inactive unit is not offered for new or changed requesters; those who have it keep it.
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Area {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    /// An inactive area receives no new assignments and no services; requests keep it.
    pub active: bool,
}

#[derive(FromRow)]
struct StoredUnit {
    id: i64,
    acronym: String,
    name: String,
    level: String,
    active: i64,
}

impl From<StoredUnit> for Unit {
    fn from(row: StoredUnit) -> Unit {
        Unit {
            id: row.id,
            acronym: row.acronym,
            name: row.name,
            level: row.level,
            active: row.active != 0,
        }
    }
}

#[derive(FromRow)]
struct StoredArea {
    id: i64,
    name: String,
    email: Option<String>,
    active: i64,
}

impl From<StoredArea> for Area {
    fn from(row: StoredArea) -> Area {
        Area {
            id: row.id,
            name: row.name,
            email: row.email,
            active: row.active != 0,
        }
    }
}

const UNIT_COLUMNS: &str = "id, acronym, name, level, active";
const AREA_COLUMNS: &str = "id, name, email, active";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceSummary {
    pub id: i64,
    pub name: String,
    pub area_id: i64,
    pub area_name: String,
    pub current_version: i64,
    #[schema(value_type = String, example = "udi")]
    pub eligibility: Eligibility,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SheetVersion {
    pub service_id: i64,
    pub version: i64,
    #[schema(value_type = Object)]
    pub content: SheetContent,
    pub change_note: String,
    pub created_by: Option<i64>,
    #[schema(value_type = String)]
    pub created_at: jiff::Timestamp,
}

#[derive(FromRow)]
struct ServiceRow {
    id: i64,
    name: String,
    area_id: i64,
    area_name: String,
    current_version: i64,
    active: i64,
    content: String,
}

#[derive(FromRow)]
struct SheetRow {
    service_id: i64,
    version: i64,
    content: String,
    change_note: String,
    created_by: Option<i64>,
    created_at: i64,
}

fn parse_content(json: &str) -> AppResult<SheetContent> {
    serde_json::from_str(json)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored service sheet is unreadable: {e}")))
}

impl ServiceRow {
    fn into_summary(self) -> AppResult<(ServiceSummary, SheetContent)> {
        let content = parse_content(&self.content)?;
        Ok((
            ServiceSummary {
                id: self.id,
                name: self.name,
                area_id: self.area_id,
                area_name: self.area_name,
                current_version: self.current_version,
                eligibility: content.eligibility,
                active: self.active != 0,
            },
            content,
        ))
    }
}

impl SheetRow {
    fn into_version(self) -> AppResult<SheetVersion> {
        Ok(SheetVersion {
            service_id: self.service_id,
            version: self.version,
            content: parse_content(&self.content)?,
            change_note: self.change_note,
            created_by: self.created_by,
            created_at: super::from_millis(self.created_at),
        })
    }
}

/// Every unit, inactive ones too (each says whether it is active).
pub async fn list_units(db: &Db) -> AppResult<Vec<Unit>> {
    let rows: Vec<StoredUnit> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM units ORDER BY acronym"
    )))
    .fetch_all(db.read())
    .await?;
    Ok(rows.into_iter().map(Unit::from).collect())
}

pub async fn unit(db: &Db, id: UnitId) -> AppResult<Option<Unit>> {
    let row: Option<StoredUnit> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM units WHERE id = $1"
    )))
    .bind(id.0)
    .fetch_optional(db.read())
    .await?;
    Ok(row.map(Unit::from))
}

pub async fn create_unit(db: &Db, acronym: &str, name: &str, level: &str) -> AppResult<Unit> {
    let acronym = acronym.trim();
    let name = name.trim();
    check_unit(acronym, name)?;
    let unit: Option<StoredUnit> = sqlx::query_as(AssertSqlSafe(format!(
        "INSERT INTO units (acronym, name, level) VALUES ($1, $2, $3)
         ON CONFLICT (acronym) DO NOTHING RETURNING {UNIT_COLUMNS}"
    )))
    .bind(acronym)
    .bind(name)
    .bind(level.trim())
    .fetch_optional(db.write())
    .await?;
    unit.map(Unit::from).ok_or_else(|| acronym_taken(acronym))
}

fn check_unit(acronym: &str, name: &str) -> AppResult<()> {
    if acronym.is_empty() || name.is_empty() {
        return Err(AppError::invalid(
            if acronym.is_empty() {
                "acronym"
            } else {
                "name"
            },
            "unit_incomplete",
            "La unidad necesita siglas y nombre.",
        ));
    }
    Ok(())
}

fn acronym_taken(acronym: &str) -> AppError {
    AppError::conflict(
        "unit_exists",
        format!("Ya existe una unidad con las siglas «{acronym}»."),
    )
    .with_field("acronym")
}

/// Whether a requester may be given unit `id`: it must exist, and be active unless the
/// requester already has it (`current`), since people keep the unit of their record.
pub(crate) async fn check_requester_unit(
    tx: &mut AnyConnection,
    id: UnitId,
    current: Option<UnitId>,
) -> AppResult<()> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT acronym, active FROM units WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
    match row {
        None => Err(AppError::invalid(
            "unit_id",
            "unknown_unit",
            format!("No existe la unidad {id}; consulte GET /api/v1/units."),
        )),
        Some((acronym, 0)) if current != Some(id) => Err(AppError::invalid(
            "unit_id",
            "inactive_unit",
            format!("La unidad «{acronym}» está inactiva; elija otra."),
        )),
        Some(_) => Ok(()),
    }
}

/// Every area, inactive ones too (each says whether it is active).
pub async fn list_areas(db: &Db) -> AppResult<Vec<Area>> {
    let rows: Vec<StoredArea> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {AREA_COLUMNS} FROM areas ORDER BY name"
    )))
    .fetch_all(db.read())
    .await?;
    Ok(rows.into_iter().map(Area::from).collect())
}

pub async fn area(db: &Db, id: AreaId) -> AppResult<Option<Area>> {
    let row: Option<StoredArea> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {AREA_COLUMNS} FROM areas WHERE id = $1"
    )))
    .bind(id.0)
    .fetch_optional(db.read())
    .await?;
    Ok(row.map(Area::from))
}

pub async fn create_area(db: &Db, name: &str, email: Option<&str>) -> AppResult<Area> {
    let name = name.trim();
    check_area_name(name)?;
    let area: Option<StoredArea> = sqlx::query_as(AssertSqlSafe(format!(
        "INSERT INTO areas (name, email) VALUES ($1, $2)
         ON CONFLICT (name) DO NOTHING RETURNING {AREA_COLUMNS}"
    )))
    .bind(name)
    .bind(email)
    .fetch_optional(db.write())
    .await?;
    area.map(Area::from).ok_or_else(|| area_exists(name))
}

fn check_area_name(name: &str) -> AppResult<()> {
    if name.chars().count() < 2 {
        return Err(AppError::invalid(
            "name",
            "area_name",
            "El área necesita un nombre de al menos 2 caracteres.",
        ));
    }
    Ok(())
}

fn area_exists(name: &str) -> AppError {
    AppError::conflict("area_exists", format!("Ya existe el área «{name}».")).with_field("name")
}

/// The refusal to send work to an inactive area (assignment, registration, a service moved).
pub(crate) fn inactive_area(name: &str) -> AppError {
    AppError::invalid(
        "area_id",
        "inactive_area",
        format!("El área «{name}» está inactiva; elija otra."),
    )
}

/// Changes a unit's acronym, name and level, and with `active` deactivates or reactivates it
/// (administrator). A unit keeps its row either way: requesters and their history point at it.
pub async fn update_unit(
    db: &Db,
    id: UnitId,
    acronym: &str,
    name: &str,
    level: &str,
    active: Option<bool>,
) -> AppResult<Unit> {
    let acronym = acronym.trim();
    let name = name.trim();
    check_unit(acronym, name)?;
    let taken: Option<i64> =
        sqlx::query_scalar("SELECT id FROM units WHERE acronym = $1 AND id <> $2")
            .bind(acronym)
            .bind(id.0)
            .fetch_optional(db.read())
            .await?;
    if taken.is_some() {
        return Err(acronym_taken(acronym));
    }
    let unit: Option<StoredUnit> = sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE units SET acronym = $1, name = $2, level = $3, active = COALESCE($4, active)
         WHERE id = $5 RETURNING {UNIT_COLUMNS}"
    )))
    .bind(acronym)
    .bind(name)
    .bind(level.trim())
    .bind(active.map(i64::from))
    .bind(id.0)
    .fetch_optional(db.write())
    .await?;
    unit.map(Unit::from)
        .ok_or_else(|| AppError::not_found("unknown_unit", format!("No existe la unidad {id}.")))
}

/// Renames an area or changes its mailbox, and with `active` deactivates or reactivates it
/// (administrator). An area keeps its row either way: staff and requests point at it. An area
/// whose services are still offered is not deactivated: they would default to it.
pub async fn update_area(
    db: &Db,
    id: AreaId,
    name: &str,
    email: Option<&str>,
    active: Option<bool>,
) -> AppResult<Area> {
    let name = name.trim();
    check_area_name(name)?;
    let taken: Option<i64> =
        sqlx::query_scalar("SELECT id FROM areas WHERE name = $1 AND id <> $2")
            .bind(name)
            .bind(id.0)
            .fetch_optional(db.read())
            .await?;
    if taken.is_some() {
        return Err(area_exists(name));
    }
    let mut tx = db.begin_write().await?;
    if active == Some(false) {
        let offered: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM services WHERE area_id = $1 AND active = 1 ORDER BY name",
        )
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await?;
        if !offered.is_empty() {
            let shown: Vec<String> = offered.iter().take(5).map(|s| format!("«{s}»")).collect();
            return Err(AppError::conflict(
                "area_has_services",
                format!(
                    "El área todavía atiende {} servicio(s) activo(s): {}{}. Cámbielos de área (nueva versión de la cédula) o desactívelos antes.",
                    offered.len(),
                    shown.join(", "),
                    if offered.len() > shown.len() { "…" } else { "" }
                ),
            )
            .with_field("active"));
        }
    }
    let area: Option<StoredArea> = sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE areas SET name = $1, email = $2, active = COALESCE($3, active) WHERE id = $4
         RETURNING {AREA_COLUMNS}"
    )))
    .bind(name)
    .bind(email)
    .bind(active.map(i64::from))
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(area) = area.map(Area::from) else {
        return Err(AppError::not_found(
            "unknown_area",
            format!("No existe el área {id}."),
        ));
    };
    // The services' search text holds the area's name (accent-free search by area).
    let services: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM services WHERE area_id = $1")
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await?;
    for (service_id, service_name) in services {
        sqlx::query("UPDATE services SET search_text = $1 WHERE id = $2")
            .bind(fold_for_search(&format!("{service_name} {name}")))
            .bind(service_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(area)
}

const SERVICE_SELECT: &str =
    "SELECT s.id, s.name, s.area_id, a.name AS area_name, s.current_version, s.active, sh.content
    FROM services s
    JOIN areas a ON a.id = s.area_id
    JOIN service_sheets sh ON sh.service_id = s.id AND sh.version = s.current_version";

/// Services, optionally filtered by words matched accent- and case-insensitively against the
/// service and area names.
pub async fn list_services(
    db: &Db,
    query: Option<&str>,
    area: Option<AreaId>,
) -> AppResult<Vec<ServiceSummary>> {
    let words: Vec<String> = query
        .map(fold_for_search)
        .unwrap_or_default()
        .split_whitespace()
        .map(|w| format!("%{}%", like_escape(w)))
        .collect();
    let mut sql = format!("{SERVICE_SELECT} WHERE s.active = 1");
    let mut next = 1;
    if area.is_some() {
        sql.push_str(&format!(" AND s.area_id = ${next}"));
        next += 1;
    }
    for _ in &words {
        sql.push_str(&format!(" AND s.search_text LIKE ${next} ESCAPE '\\'"));
        next += 1;
    }
    sql.push_str(" ORDER BY a.name, s.name");
    let mut q = sqlx::query_as::<_, ServiceRow>(AssertSqlSafe(sql));
    if let Some(area) = area {
        q = q.bind(area.0);
    }
    for w in words {
        q = q.bind(w);
    }
    q.fetch_all(db.read())
        .await?
        .into_iter()
        .map(|row| row.into_summary().map(|(summary, _)| summary))
        .collect()
}

/// Every service, inactive ones too, for the administrator's list.
pub async fn list_all_services(db: &Db) -> AppResult<Vec<ServiceSummary>> {
    let sql = format!("{SERVICE_SELECT} ORDER BY a.name, s.name");
    let rows: Vec<ServiceRow> = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_all(db.read())
        .await?;
    rows.into_iter()
        .map(|row| row.into_summary().map(|(summary, _)| summary))
        .collect()
}

/// V7: renaming, deactivating or reactivating a service is a change to the service, so it is
/// recorded as the next version of its sheet (same content, a note saying what changed).
/// Returns the current version: unchanged when nothing changed.
pub async fn update_service(
    db: &Db,
    id: ServiceId,
    name: &str,
    active: bool,
    reason: &str,
    actor: Option<StaffId>,
    now_ms: i64,
) -> AppResult<i64> {
    let name = ventanilla_domain::catalogue::service_name(name)
        .map_err(|e| AppError::invalid(e.field(), e.code(), e.to_string()))?;
    let mut tx = db.begin_write().await?;
    let sql = format!("{SERVICE_SELECT} WHERE s.id = $1");
    let row: Option<ServiceRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Err(AppError::not_found(
            "unknown_service",
            format!("No existe el servicio {id}."),
        ));
    };
    let mut changes = Vec::new();
    if row.name != name {
        changes.push(format!("Nombre: «{}» → «{name}»", row.name));
    }
    if (row.active != 0) != active {
        changes.push(if active {
            "Servicio reactivado".to_string()
        } else {
            "Servicio desactivado: ya no se ofrece al registrar".to_string()
        });
    }
    if changes.is_empty() {
        return Ok(row.current_version);
    }
    if active && row.active == 0 {
        let area_active: i64 = sqlx::query_scalar("SELECT active FROM areas WHERE id = $1")
            .bind(row.area_id)
            .fetch_one(&mut *tx)
            .await?;
        if area_active == 0 {
            return Err(AppError::invalid(
                "active",
                "inactive_area",
                format!(
                    "El área «{}» está inactiva: cambie el área del servicio (nueva versión de la cédula) o reactive el área antes de reactivar el servicio.",
                    row.area_name
                ),
            ));
        }
    }
    let taken: Option<i64> =
        sqlx::query_scalar("SELECT id FROM services WHERE area_id = $1 AND name = $2 AND id <> $3")
            .bind(row.area_id)
            .bind(&name)
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
    if taken.is_some() {
        return Err(AppError::conflict(
            "service_exists",
            format!("El área «{}» ya tiene un servicio «{name}».", row.area_name),
        )
        .with_field("name"));
    }
    let mut note = changes.join("; ");
    if !reason.trim().is_empty() {
        note.push_str(&format!(". {}", reason.trim()));
    }
    let content = parse_content(&row.content)?;
    let version = row.current_version + 1;
    insert_sheet(&mut tx, id.0, version, &content, &note, actor, now_ms).await?;
    sqlx::query(
        "UPDATE services SET name = $1, active = $2, current_version = $3, search_text = $4
         WHERE id = $5",
    )
    .bind(&name)
    .bind(i64::from(active))
    .bind(version)
    .bind(fold_for_search(&format!("{name} {}", row.area_name)))
    .bind(id.0)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// A service with its current sheet.
pub async fn service(db: &Db, id: ServiceId) -> AppResult<Option<(ServiceSummary, SheetContent)>> {
    let sql = format!("{SERVICE_SELECT} WHERE s.id = $1");
    let row: Option<ServiceRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(db.read())
        .await?;
    row.map(ServiceRow::into_summary).transpose()
}

pub async fn sheet_versions(db: &Db, id: ServiceId) -> AppResult<Vec<SheetVersion>> {
    let rows: Vec<SheetRow> = sqlx::query_as(
        "SELECT service_id, version, content, change_note, created_by, created_at
         FROM service_sheets WHERE service_id = $1 ORDER BY version DESC",
    )
    .bind(id.0)
    .fetch_all(db.read())
    .await?;
    rows.into_iter().map(SheetRow::into_version).collect()
}

pub async fn sheet_version(
    db: &Db,
    id: ServiceId,
    version: i64,
) -> AppResult<Option<SheetVersion>> {
    let row: Option<SheetRow> = sqlx::query_as(
        "SELECT service_id, version, content, change_note, created_by, created_at
         FROM service_sheets WHERE service_id = $1 AND version = $2",
    )
    .bind(id.0)
    .bind(version)
    .fetch_optional(db.read())
    .await?;
    row.map(SheetRow::into_version).transpose()
}

/// The area a service is put in: it must exist, and be active unless the service is already
/// there (`current`): services are not moved to an inactive area.
async fn require_area(db: &Db, id: AreaId, current: Option<AreaId>) -> AppResult<Area> {
    let area = area(db, id).await?.ok_or_else(|| {
        AppError::invalid(
            "area_id",
            "unknown_area",
            format!("No existe el área {id}; consulte GET /api/v1/areas."),
        )
    })?;
    if !area.active && current != Some(id) {
        return Err(inactive_area(&area.name));
    }
    Ok(area)
}

/// Creates a service with version 1 of its sheet.
pub async fn create_service(
    db: &Db,
    name: &str,
    content: SheetContent,
    actor: Option<StaffId>,
    now_ms: i64,
) -> AppResult<ServiceId> {
    let name = ventanilla_domain::catalogue::service_name(name)
        .map_err(|e| AppError::invalid(e.field(), e.code(), e.to_string()))?;
    let content = content
        .validated()
        .map_err(|e| AppError::invalid(e.field(), e.code(), e.to_string()))?;
    let area = require_area(db, content.area_id, None).await?;
    let mut tx = db.begin_write().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO services (name, area_id, current_version, active, search_text)
         VALUES ($1, $2, 1, 1, $3) ON CONFLICT (area_id, name) DO NOTHING RETURNING id",
    )
    .bind(&name)
    .bind(area.id)
    .bind(fold_for_search(&format!("{name} {}", area.name)))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Err(AppError::conflict(
            "service_exists",
            format!("El área «{}» ya tiene un servicio «{name}».", area.name),
        )
        .with_field("name"));
    };
    insert_sheet(&mut tx, id, 1, &content, "Versión inicial", actor, now_ms).await?;
    tx.commit().await?;
    Ok(ServiceId(id))
}

/// V7: a change to a service is a new version of its sheet; earlier versions stay as they were.
pub async fn revise_sheet(
    db: &Db,
    id: ServiceId,
    content: SheetContent,
    change_note: &str,
    actor: Option<StaffId>,
    now_ms: i64,
) -> AppResult<i64> {
    let content = content
        .validated()
        .map_err(|e| AppError::invalid(e.field(), e.code(), e.to_string()))?;
    if change_note.trim().is_empty() {
        return Err(AppError::invalid(
            "change_note",
            "change_note_missing",
            "Describa el cambio de la cédula (por ejemplo, «se amplía el tiempo de solución»).",
        ));
    }
    let current_area: Option<i64> =
        sqlx::query_scalar("SELECT area_id FROM services WHERE id = $1")
            .bind(id.0)
            .fetch_optional(db.read())
            .await?;
    let area = require_area(db, content.area_id, current_area.map(AreaId)).await?;
    let mut tx = db.begin_write().await?;
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT current_version, name FROM services WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((current, name)) = row else {
        return Err(AppError::not_found(
            "unknown_service",
            format!("No existe el servicio {id}."),
        ));
    };
    let version = current + 1;
    insert_sheet(
        &mut tx,
        id.0,
        version,
        &content,
        change_note.trim(),
        actor,
        now_ms,
    )
    .await?;
    sqlx::query(
        "UPDATE services SET current_version = $1, area_id = $2, search_text = $3 WHERE id = $4",
    )
    .bind(version)
    .bind(area.id)
    .bind(fold_for_search(&format!("{name} {}", area.name)))
    .bind(id.0)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(version)
}

async fn insert_sheet(
    tx: &mut sqlx::AnyConnection,
    service_id: i64,
    version: i64,
    content: &SheetContent,
    change_note: &str,
    actor: Option<StaffId>,
    now_ms: i64,
) -> AppResult<()> {
    let json = serde_json::to_string(content).map_err(anyhow::Error::from)?;
    sqlx::query(
        "INSERT INTO service_sheets (service_id, version, content, change_note, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(service_id)
    .bind(version)
    .bind(json)
    .bind(change_note)
    .bind(actor.map(|a| a.0))
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[derive(Debug)]
pub struct UnitRow {
    pub acronym: String,
    pub name: String,
    pub level: String,
}

#[derive(Debug)]
pub struct CatalogueRow {
    pub area: String,
    pub service: String,
    pub eligibility: Eligibility,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Units by acronym: new ones are added, known ones get the file's name and level.
pub async fn import_units(db: &Db, rows: &[UnitRow]) -> anyhow::Result<ImportCounts> {
    let mut counts = ImportCounts::default();
    let mut tx = db.begin_write().await?;
    for row in rows {
        let existing: Option<(String, String)> =
            sqlx::query_as("SELECT name, level FROM units WHERE acronym = $1")
                .bind(&row.acronym)
                .fetch_optional(&mut *tx)
                .await?;
        match existing {
            None => {
                sqlx::query("INSERT INTO units (acronym, name, level) VALUES ($1, $2, $3)")
                    .bind(&row.acronym)
                    .bind(&row.name)
                    .bind(&row.level)
                    .execute(&mut *tx)
                    .await?;
                counts.created += 1;
            }
            Some((name, level)) if name == row.name && level == row.level => counts.unchanged += 1,
            Some(_) => {
                sqlx::query("UPDATE units SET name = $1, level = $2 WHERE acronym = $3")
                    .bind(&row.name)
                    .bind(&row.level)
                    .bind(&row.acronym)
                    .execute(&mut *tx)
                    .await?;
                counts.updated += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(counts)
}

/// The published catalogue lists area, service and eligibility only; new services get a first
/// sheet with the default targets, which the areas then replace (Q4). Known services are left
/// as they are: their sheets change only through a new version.
pub async fn import_catalogue(
    db: &Db,
    rows: &[CatalogueRow],
    now_ms: i64,
) -> anyhow::Result<ImportCounts> {
    let mut counts = ImportCounts::default();
    let mut tx = db.begin_write().await?;
    for row in rows {
        let area_id: i64 = sqlx::query_scalar(
            "INSERT INTO areas (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .bind(&row.area)
        .fetch_one(&mut *tx)
        .await?;
        let service_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO services (name, area_id, current_version, active, search_text)
             VALUES ($1, $2, 1, 1, $3) ON CONFLICT (area_id, name) DO NOTHING RETURNING id",
        )
        .bind(&row.service)
        .bind(area_id)
        .bind(fold_for_search(&format!("{} {}", row.service, row.area)))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(service_id) = service_id else {
            counts.unchanged += 1;
            continue;
        };
        let content = SheetContent {
            area_id: AreaId(area_id),
            eligibility: row.eligibility,
            requirements: Vec::new(),
            first_level_tests: Vec::new(),
            required_attachments: Vec::new(),
            capacity: String::new(),
            response_target_minutes: ventanilla_domain::catalogue::DEFAULT_RESPONSE_MINUTES,
            resolution_target_minutes: ventanilla_domain::catalogue::DEFAULT_RESOLUTION_MINUTES,
            attention_policy: format!(
                "Su solicitud del servicio «{}» la atiende el área {}. Le informaremos de cada avance por correo electrónico.",
                row.service, row.area
            ),
            procedure_refs: vec!["CGSI-PO-01".into()],
        };
        insert_sheet(
            &mut tx,
            service_id,
            1,
            &content,
            "Importado del catálogo publicado",
            None,
            now_ms,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        counts.created += 1;
    }
    tx.commit().await?;
    Ok(counts)
}
