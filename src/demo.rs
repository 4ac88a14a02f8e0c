//! First start: units and catalogue from the seed files, and one staff account of each role,
//! so a fresh install can be tried at once. Passwords and the administrator's token are printed
//! once and stored only as hashes.

use ventanilla_domain::ids::AreaId;
use ventanilla_domain::permissions::Role;

use crate::db::staff::{self, NewStaff, random_secret};
use crate::db::{Db, catalogue};
use crate::error::AppError;

pub struct DemoAccount {
    pub username: &'static str,
    pub role: Role,
    pub password: String,
}

pub struct DemoSeed {
    pub accounts: Vec<DemoAccount>,
    pub admin_token: String,
    /// The agent registers requests and requesters: the token to try the API with.
    pub agent_token: String,
}

/// Seeds an empty database; does nothing (returns `None`) once any staff account exists.
pub async fn seed_if_empty(db: &Db, now_ms: i64) -> anyhow::Result<Option<DemoSeed>> {
    let staff_count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff")
        .fetch_one(db.read())
        .await?;
    if staff_count > 0 {
        return Ok(None);
    }
    crate::db::service_levels::ensure_calendar(db, now_ms)
        .await
        .map_err(AppError::into_anyhow)?;
    let units = crate::import::parse_units(include_str!("../data/units.csv").as_bytes())
        .map_err(|e| anyhow::anyhow!("seed units: {:?}", e))?;
    catalogue::import_units(db, &units).await?;
    let services = crate::import::parse_catalogue(include_str!("../data/catalogue.csv").as_bytes())
        .map_err(|e| anyhow::anyhow!("seed catalogue: {:?}", e))?;
    catalogue::import_catalogue(db, &services, now_ms).await?;

    let areas = catalogue::list_areas(db)
        .await
        .map_err(AppError::into_anyhow)?;
    let area_named = |name: &str| areas.iter().find(|a| a.name == name).map(|a| AreaId(a.id));
    let plan: [(&str, &str, Role, Option<AreaId>); 6] = [
        (
            "admin",
            "Administración del sistema",
            Role::Administrator,
            None,
        ),
        ("agente", "Agente de soporte", Role::Agent, None),
        ("supervisor", "Supervisión del CAU", Role::Supervisor, None),
        (
            "coordinador",
            "Coordinación del CAU",
            Role::Coordinator,
            None,
        ),
        (
            "ing.correo",
            "Ingeniería de correo",
            Role::Engineer,
            area_named("Monitoreo y Servicios Computacionales"),
        ),
        (
            "ing.redes",
            "Ingeniería de redes",
            Role::Engineer,
            area_named("Conectividad y Transmisiones"),
        ),
    ];
    let mut accounts = Vec::new();
    let mut admin = None;
    let mut agent = None;
    for (username, full_name, role, area_id) in plan {
        let password = random_secret("").chars().take(16).collect::<String>();
        let member = staff::create(
            db,
            NewStaff {
                username,
                full_name,
                email: None,
                role,
                area_id,
                password: &password,
            },
            now_ms,
        )
        .await
        .map_err(AppError::into_anyhow)?;
        match role {
            Role::Administrator => admin = Some(member.id),
            Role::Agent => agent = Some(member.id),
            _ => {}
        }
        accounts.push(DemoAccount {
            username,
            role,
            password,
        });
    }
    let admin = admin.ok_or_else(|| anyhow::anyhow!("no administrator was created"))?;
    let admin_token = staff::issue_token(db, admin, "demo", now_ms)
        .await
        .map_err(AppError::into_anyhow)?;
    let agent = agent.ok_or_else(|| anyhow::anyhow!("no agent was created"))?;
    let agent_token = staff::issue_token(db, agent, "demo", now_ms)
        .await
        .map_err(AppError::into_anyhow)?;
    Ok(Some(DemoSeed {
        accounts,
        admin_token,
        agent_token,
    }))
}
