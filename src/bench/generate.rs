//! The bulk data set: requesters with valid CURPs and requests with their timelines, written
//! straight into the tables with multi-row INSERTs in large transactions.
//!
//! The API path registers one request per durable commit; loading a million that way would take
//! hours, so the generator writes the same rows the API would (the request projection, its events
//! and the per-year counter) in batches. Requests are generated in time order, so their numbers are
//! gap-free per year and `request_counters` ends at the last number given.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sqlx::{AnyConnection, AssertSqlSafe};
use ventanilla_domain::catalogue::{Eligibility, SheetContent};
use ventanilla_domain::channel::Channel;
use ventanilla_domain::curp::{self, STATE_CODES};
use ventanilla_domain::eligibility::{UdiRole, check_eligibility};
use ventanilla_domain::identifiers::RequestNumber;
use ventanilla_domain::lifecycle::Status;

use crate::db::requests::registration_year;
use crate::db::{Db, Engine, fold_for_search, search};

/// How much to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub requests: u64,
    /// The random seed: the same seed over an empty database gives the same data set.
    pub seed: u64,
    /// The end of the generated history; requests are spread over the time before it.
    pub now_ms: i64,
    /// Print a progress line on standard error.
    pub progress: bool,
}

/// What was written.
#[derive(Debug, Clone, Copy)]
pub struct Generated {
    pub requesters: u64,
    pub requests: u64,
    pub events: u64,
    pub seconds: f64,
}

/// Requests per transaction: large enough that commits are not the cost, small enough that
/// SQLite's WAL stays modest between checkpoints.
const REQUESTS_PER_TRANSACTION: usize = 5_000;
/// Rows per INSERT statement. PostgreSQL takes up to 65,535 parameters cheaply; sqlx binds each
/// SQLite parameter after looking up its name (`sqlite3_bind_parameter_name`, a linear walk), so a
/// statement's binding cost grows with the square of its parameters: 82% of the generator's time
/// at 500 rows in a profile. Short statements keep SQLite linear.
fn rows_per_statement(engine: Engine) -> usize {
    match engine {
        Engine::Sqlite => 40,
        Engine::Postgres => 500,
    }
}
const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;

struct ServiceRef {
    id: i64,
    version: i64,
    area_id: i64,
    eligibility: Eligibility,
}

struct Reference {
    units: Vec<(i64, String)>,
    services: Vec<ServiceRef>,
    agents: Vec<i64>,
    /// Engineers by area.
    engineers: HashMap<i64, Vec<i64>>,
}

async fn reference(db: &Db) -> anyhow::Result<Reference> {
    let units: Vec<(i64, String)> = sqlx::query_as("SELECT id, acronym FROM units ORDER BY id")
        .fetch_all(db.read())
        .await?;
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "SELECT s.id, s.current_version, s.area_id, sh.content FROM services s
         JOIN service_sheets sh ON sh.service_id = s.id AND sh.version = s.current_version
         WHERE s.active = 1 ORDER BY s.id",
    )
    .fetch_all(db.read())
    .await?;
    let mut services = Vec::new();
    for (id, version, area_id, content) in rows {
        let sheet: SheetContent = serde_json::from_str(&content)?;
        services.push(ServiceRef {
            id,
            version,
            area_id,
            eligibility: sheet.eligibility,
        });
    }
    let agents: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM staff WHERE role = 'agent' AND active = 1 ORDER BY id")
            .fetch_all(db.read())
            .await?;
    let engineer_rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, area_id FROM staff WHERE role = 'engineer' AND active = 1 AND area_id IS NOT NULL",
    )
    .fetch_all(db.read())
    .await?;
    let mut engineers: HashMap<i64, Vec<i64>> = HashMap::new();
    for (id, area) in engineer_rows {
        engineers.entry(area).or_default().push(id);
    }
    anyhow::ensure!(
        !units.is_empty() && !services.is_empty() && !agents.is_empty(),
        "the database needs units, a catalogue and an agent account (the demo seed) before generating"
    );
    Ok(Reference {
        units,
        services,
        agents,
        engineers,
    })
}

/// Generates `options.requests` requests (and a quarter as many requesters) into `db`, which must
/// already hold the catalogue, units and staff (the demo seed; it is loaded here when missing).
pub async fn generate(db: &Db, options: &GenerateOptions) -> anyhow::Result<Generated> {
    let started = Instant::now();
    crate::demo::seed_if_empty(db, options.now_ms).await?;
    let reference = reference(db).await?;
    let mut rng = StdRng::seed_from_u64(options.seed);
    let requester_count = (options.requests / 4).max(10);
    let requesters = insert_requesters(db, &reference, requester_count, options, &mut rng).await?;
    // Folded names for the search index (db::search).
    let names: HashMap<i64, String> =
        sqlx::query_as::<_, (i64, String)>("SELECT id, search_name FROM requesters")
            .fetch_all(db.read())
            .await?
            .into_iter()
            .collect();

    // About 700 requests a day: a year of a busy university help desk is ~250,000, so a million
    // spans four years and every yearly sequence fits the six digits of SS-YYYY-NNNNNN.
    let span_ms = (i64::try_from(options.requests).unwrap_or(i64::MAX) / 700).max(30) * DAY_MS;
    let start_ms = options.now_ms - span_ms;
    let step_ms = span_ms as f64 / options.requests.max(1) as f64;
    let mut counters: HashMap<i64, i64> =
        sqlx::query_as::<_, (i64, i64)>("SELECT year, last_sequence FROM request_counters")
            .fetch_all(db.read())
            .await?
            .into_iter()
            .collect();

    let mut written = 0_u64;
    let mut events_written = 0_u64;
    let mut index = 0_u64;
    while index < options.requests {
        let batch_len = (options.requests - index).min(REQUESTS_PER_TRANSACTION as u64);
        let mut batch = Vec::with_capacity(batch_len as usize);
        for i in index..index + batch_len {
            let received_ms = start_ms + (i as f64 * step_ms) as i64;
            let year = i64::from(registration_year(received_ms));
            let sequence = counters.entry(year).or_insert(0);
            *sequence += 1;
            let recency = i as f64 / options.requests.max(1) as f64;
            batch.push(plan_request(
                &mut rng,
                &reference,
                &requesters,
                year,
                *sequence,
                received_ms,
                recency,
                options.now_ms,
            ));
        }
        events_written += write_batch(db, &batch, &counters, &names).await?;
        index += batch_len;
        written += batch_len;
        if options.progress {
            let elapsed = started.elapsed().as_secs_f64();
            eprint!(
                "\r  generando: {written} / {} solicitudes, {events_written} eventos ({:.0} solicitudes/s)   ",
                options.requests,
                written as f64 / elapsed.max(0.001)
            );
            let _ = std::io::stderr().flush();
        }
    }
    if options.progress {
        eprintln!();
    }
    if db.engine == Engine::Postgres {
        // Autovacuum would gather statistics within minutes in production; do it now so the
        // measurements do not depend on when it last ran.
        sqlx::query("ANALYZE").execute(db.write()).await?;
    }
    Ok(Generated {
        requesters: requester_count,
        requests: written,
        events: events_written,
        seconds: started.elapsed().as_secs_f64(),
    })
}

pub(crate) const GIVEN_NAMES: &[&str] = &[
    "María",
    "José",
    "Guadalupe",
    "Juan",
    "Ana",
    "Luis",
    "Fernanda",
    "Carlos",
    "Sofía",
    "Jorge",
    "Ximena",
    "Miguel Ángel",
    "Valeria",
    "Alejandro",
    "Daniela",
    "Ricardo",
    "Itzel",
    "Óscar",
    "Citlali",
    "Héctor",
    "Mariana",
    "Raúl",
    "Andrea",
    "Iñaki",
];
pub(crate) const SURNAMES: &[&str] = &[
    "Hernández",
    "García",
    "Martínez",
    "López",
    "González",
    "Pérez",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Cruz",
    "Flores",
    "Gómez",
    "Morales",
    "Vázquez",
    "Reyes",
    "Jiménez",
    "Torres",
    "Díaz",
    "Gutiérrez",
    "Ruiz",
    "Mendoza",
    "Aguilar",
    "Ortiz",
    "Castillo",
    "Núñez",
    "Xolalpa",
];

/// Requester ids with their UDI role, in id order.
type RequesterRefs = Vec<(i64, UdiRole)>;

async fn insert_requesters(
    db: &Db,
    reference: &Reference,
    count: u64,
    options: &GenerateOptions,
    rng: &mut StdRng,
) -> anyhow::Result<RequesterRefs> {
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM requesters")
        .fetch_one(db.read())
        .await?;
    let existing_curps: Vec<String> =
        sqlx::query_scalar("SELECT curp FROM requesters WHERE curp IS NOT NULL")
            .fetch_all(db.read())
            .await?;
    let mut curps: HashSet<String> = existing_curps.into_iter().collect();
    let base = u64::try_from(existing).unwrap_or(0) + 1;
    let mut rows: Vec<Vec<Value>> = Vec::with_capacity(rows_per_statement(db.engine));
    let mut tx = db.begin_write().await?;
    for i in 0..count {
        let n = base + i;
        let given = GIVEN_NAMES[rng.random_range(0..GIVEN_NAMES.len())];
        let first = SURNAMES[rng.random_range(0..SURNAMES.len())];
        let second = SURNAMES[rng.random_range(0..SURNAMES.len())];
        let full_name = format!("{given} {first} {second}");
        let birth = jiff::civil::date(
            rng.random_range(1960..2007),
            rng.random_range(1..=12),
            rng.random_range(1..=28),
        );
        let sex = if rng.random_bool(0.5) { 'M' } else { 'H' };
        let state = STATE_CODES[rng.random_range(0..STATE_CODES.len())];
        let mut attempt = 0_u64;
        let curp = loop {
            let candidate = curp::synthesize(
                options.seed ^ (n + attempt * 1_000_000_007),
                birth,
                sex,
                state,
            );
            if curps.insert(candidate.as_str().to_string()) {
                break candidate.as_str().to_string();
            }
            attempt += 1;
        };
        let student = rng.random_bool(0.55);
        let (boleta, employee) = if student {
            (
                Some(format!("{}{:06}", rng.random_range(2015..2026), n)),
                None,
            )
        } else {
            (None, Some(format!("{:08}", 10_000_000 + n)))
        };
        let udi_role = match rng.random_range(0..100) {
            0..8 => UdiRole::Head,
            8..20 => UdiRole::WorkGroup,
            _ => UdiRole::None,
        };
        let (unit_id, acronym) = &reference.units[rng.random_range(0..reference.units.len())];
        let email_user = fold_for_search(&format!("{given} {first}")).replace(' ', ".");
        let created = options.now_ms - rng.random_range(30..2_000) * DAY_MS;
        rows.push(vec![
            Value::Text(full_name.clone()),
            Value::Text(fold_for_search(&full_name)),
            Value::Text(curp),
            Value::OptText(boleta),
            Value::OptText(employee),
            Value::OptText(
                (!student).then(|| format!("{}", rng.random_range(46_000..58_000))),
            ),
            // Unit acronyms have spaces and accents ("ESIME Ticomán"): folded into a valid domain.
            Value::Text(format!(
                "{email_user}{n}@{}.example.edu.mx",
                fold_for_search(acronym).replace(' ', "-")
            )),
            Value::OptText(rng.random_bool(0.3).then(|| {
                format!(
                    "55{:04}{:04}",
                    rng.random_range(0..10_000),
                    rng.random_range(0..10_000)
                )
            })),
            Value::Int(*unit_id),
            Value::Text(udi_role.code().to_string()),
            Value::Text(if student {
                "{}".to_string()
            } else {
                json!({ "equipo": format!("PC-{acronym}-{:04}", n % 10_000), "sistema_operativo": "Windows 11" })
                    .to_string()
            }),
            Value::Int(created),
            Value::Int(created),
        ]);
        if rows.len() == rows_per_statement(db.engine) {
            insert_rows(&mut tx, REQUESTER_COLUMNS, &rows).await?;
            rows.clear();
        }
        if (i + 1) % 50_000 == 0 {
            tx.commit().await?;
            tx = db.begin_write().await?;
        }
    }
    insert_rows(&mut tx, REQUESTER_COLUMNS, &rows).await?;
    tx.commit().await?;
    let refs: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, udi_role FROM requesters ORDER BY id")
            .fetch_all(db.read())
            .await?;
    Ok(refs
        .into_iter()
        .map(|(id, role)| (id, UdiRole::from_code(&role).unwrap_or_default()))
        .collect())
}

const REQUESTER_COLUMNS: &str = "requesters (full_name, search_name, curp, boleta, employee_number, \
     extension, email, phone, unit_id, udi_role, technical_data, created_at, updated_at)";
const REQUEST_COLUMNS: &str = "requests (number, year, sequence, channel, status, requester_id, \
     service_id, sheet_version, area_id, assignee_id, subject, description, received_at, \
     registered_at, created_by, updated_at, reopen_count, idempotency_key)";
const SEARCH_COLUMNS: &str = "request_search (request_id, document, requester)";
const EVENT_COLUMNS: &str = "request_events (request_id, at, actor_kind, actor_id, kind, \
     from_status, to_status, payload, reason)";

/// One bound value of a multi-row INSERT.
enum Value {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
}

async fn insert_rows(
    tx: &mut AnyConnection,
    table_and_columns: &str,
    rows: &[Vec<Value>],
) -> anyhow::Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let width = first.len();
    let mut sql = String::with_capacity(32 + rows.len() * width * 5);
    sql.push_str("INSERT INTO ");
    sql.push_str(table_and_columns);
    sql.push_str(" VALUES ");
    let mut n = 0;
    for (r, _) in rows.iter().enumerate() {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..width {
            n += 1;
            if c > 0 {
                sql.push(',');
            }
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for row in rows {
        for value in row {
            query = match value {
                Value::Int(v) => query.bind(*v),
                Value::OptInt(v) => query.bind(*v),
                Value::Text(v) => query.bind(v.clone()),
                Value::OptText(v) => query.bind(v.clone()),
            };
        }
    }
    query.execute(&mut *tx).await?;
    Ok(())
}

/// A generated event, before its request has an id.
struct PlannedEvent {
    at: i64,
    actor_kind: &'static str,
    actor_id: Option<i64>,
    kind: &'static str,
    from: Option<Status>,
    to: Option<Status>,
    payload: serde_json::Value,
    reason: Option<&'static str>,
}

struct PlannedRequest {
    number: String,
    year: i64,
    sequence: i64,
    channel: Channel,
    status: Status,
    requester_id: Option<i64>,
    service: Option<(i64, i64)>,
    area_id: Option<i64>,
    assignee_id: Option<i64>,
    subject: String,
    description: String,
    received_at: i64,
    registered_at: Option<i64>,
    created_by: i64,
    updated_at: i64,
    reopen_count: i64,
    events: Vec<PlannedEvent>,
}

pub(crate) const SUBJECTS: &[&str] = &[
    "No puedo entrar a mi correo institucional",
    "Solicitud de cuenta de correo para personal de nuevo ingreso",
    "Falla en la red inalámbrica del edificio",
    "Sin acceso a internet en la oficina de la dirección",
    "Actualización de contenido en el portal de la escuela",
    "Restablecimiento de contraseña del sistema escolar",
    "Instalación de software con licencia institucional",
    "El equipo se reinicia solo al abrir el navegador",
    "Alta de nodo de red para un equipo nuevo",
    "Cambio de extensión telefónica",
    "La videoconferencia del aula no tiene audio",
    "Certificado del sitio web vencido",
    "Respaldo de información antes de formatear el equipo",
    "Acceso a la VPN para trabajo a distancia",
];
pub(crate) const DETAILS: &[&str] = &[
    "Desde ayer por la mañana aparece un mensaje de error al iniciar sesión.",
    "El problema afecta a todo el personal del área administrativa.",
    "Ya reinicié el equipo y revisé el cable de red, sin resultado.",
    "Se necesita antes del inicio del semestre para el control escolar.",
    "Adjunto el oficio firmado por el Jefe de la Unidad de Informática.",
    "La falla ocurre de forma intermitente, sobre todo por la tarde.",
    "Solicito que se revise a la brevedad porque hay trámites pendientes.",
    "El usuario se comunicó por teléfono y proporcionó su número de empleado.",
    "En el laboratorio hay treinta equipos con el mismo síntoma.",
    "La contraseña se cambió hace una semana y desde entonces no funciona.",
];
const COMMENTS: &[&str] = &[
    "Se llamó a la persona solicitante; confirma que la falla continúa.",
    "Se revisó la configuración del conmutador del edificio.",
    "Pendiente de la visita del ingeniero en sitio.",
    "La persona envió capturas de pantalla del error por correo.",
];

fn weighted_channel(rng: &mut StdRng) -> Channel {
    match rng.random_range(0..100) {
        0..40 => Channel::Email,
        40..70 => Channel::Phone,
        70..80 => Channel::InPerson,
        80..88 => Channel::OfficialLetter,
        88..95 => Channel::ServiceOrder,
        95..98 => Channel::Facebook,
        _ => Channel::X,
    }
}

/// The final status: old requests are almost all closed; the most recent 3% are the open queue.
fn final_status(rng: &mut StdRng, recency: f64) -> Status {
    let roll = rng.random_range(0..100);
    if recency < 0.97 {
        match roll {
            0..88 => Status::Closed,
            88..96 => Status::Cancelled,
            96..98 => Status::Waiting,
            _ => Status::InProgress,
        }
    } else {
        match roll {
            0..6 => Status::Received,
            6..10 => Status::ToConfirm,
            10..40 => Status::Assigned,
            40..70 => Status::InProgress,
            70..80 => Status::Waiting,
            80..88 => Status::Solved,
            88..94 => Status::Validating,
            _ => Status::Reopened,
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the coordinates of one generated request"
)]
fn plan_request(
    rng: &mut StdRng,
    reference: &Reference,
    requesters: &RequesterRefs,
    year: i64,
    sequence: i64,
    received_ms: i64,
    recency: f64,
    now_ms: i64,
) -> PlannedRequest {
    let mut status = final_status(rng, recency);
    let mut channel = weighted_channel(rng);
    let agent = reference.agents[rng.random_range(0..reference.agents.len())];
    let (requester_id, service) = if status == Status::Received {
        (None, None)
    } else {
        let (requester, role) = requesters[rng.random_range(0..requesters.len())];
        // Pick an eligible service (L1): open services always qualify.
        let mut pick = &reference.services[rng.random_range(0..reference.services.len())];
        for _ in 0..8 {
            if check_eligibility(pick.eligibility, role, channel).is_ok() {
                break;
            }
            pick = &reference.services[rng.random_range(0..reference.services.len())];
        }
        if check_eligibility(pick.eligibility, role, channel).is_err() {
            channel = Channel::InPerson;
            if let Some(open) = reference
                .services
                .iter()
                .find(|s| s.eligibility == Eligibility::Open)
            {
                pick = open;
            }
        }
        (Some(requester), Some(pick))
    };
    if status != Status::Received && status != Status::ToConfirm && service.is_none() {
        status = Status::Received;
    }
    let subject = SUBJECTS[rng.random_range(0..SUBJECTS.len())].to_string();
    let description = format!(
        "{} {} Folio interno {}.",
        DETAILS[rng.random_range(0..DETAILS.len())],
        DETAILS[rng.random_range(0..DETAILS.len())],
        rng.random_range(1_000..99_999)
    );
    let area_id = service.map(|s| s.area_id);
    let assignee_id = area_id.and_then(|area| {
        reference
            .engineers
            .get(&area)
            .filter(|_| rng.random_bool(0.5))
            .map(|list| list[rng.random_range(0..list.len())])
    });
    let first = match status {
        Status::Received => Status::Received,
        Status::ToConfirm => Status::ToConfirm,
        _ => Status::Registered,
    };
    let mut timeline = Timeline {
        at: received_ms + rng.random_range(0..30) * MINUTE_MS,
        now_ms,
        current: first,
        events: Vec::new(),
    };
    let t = timeline.advance(rng, 20);
    timeline.events.push(PlannedEvent {
        at: t,
        actor_kind: "staff",
        actor_id: Some(agent),
        kind: if first == Status::Received {
            "received"
        } else {
            "registered"
        },
        from: None,
        to: Some(first),
        payload: json!({
            "channel": channel.code(),
            "service_id": service.map(|s| s.id),
            "sheet_version": service.map(|s| s.version),
            "confirmed_requirements": [],
            "missing_requirements": if first == Status::ToConfirm {
                json!(["Oficio firmado por el Jefe de UDI"])
            } else {
                json!([])
            },
            "first_level_tests": [],
            "received_at": received_ms,
        }),
        reason: None,
    });
    let registered_at = (first == Status::Registered).then_some(t);
    let mut reopen_count = 0;
    let engineer = assignee_id.unwrap_or(agent);
    if first == Status::Registered {
        let assign_payload = json!({ "area_id": area_id, "assignee_id": assignee_id });
        timeline.step(
            rng,
            "assign",
            Status::Assigned,
            agent,
            1,
            None,
            assign_payload,
        );
        let path: &[(&'static str, Status, Option<&'static str>)] = match status {
            Status::InProgress => &[("start", Status::InProgress, None)],
            Status::Waiting => &[
                ("start", Status::InProgress, None),
                (
                    "wait",
                    Status::Waiting,
                    Some("Se espera la respuesta de la persona solicitante."),
                ),
            ],
            Status::Solved => &[
                ("start", Status::InProgress, None),
                (
                    "solve",
                    Status::Solved,
                    Some("Se restableció la configuración."),
                ),
            ],
            Status::Validating => &[
                ("start", Status::InProgress, None),
                (
                    "solve",
                    Status::Solved,
                    Some("Se restableció la configuración."),
                ),
                ("verify", Status::Validating, None),
            ],
            Status::Closed | Status::Reopened => &[
                ("start", Status::InProgress, None),
                (
                    "solve",
                    Status::Solved,
                    Some("Se atendió en sitio y quedó funcionando."),
                ),
                ("verify", Status::Validating, None),
                ("close", Status::Closed, None),
            ],
            Status::Cancelled => &[(
                "cancel",
                Status::Cancelled,
                Some("La persona solicitante ya no requiere el servicio."),
            )],
            Status::Received | Status::ToConfirm | Status::Registered | Status::Assigned => &[],
        };
        for (kind, to, reason) in path {
            let actor = if matches!(*kind, "start" | "solve" | "wait") {
                engineer
            } else {
                agent
            };
            timeline.step(rng, kind, *to, actor, 600, *reason, json!({}));
            if rng.random_bool(0.15) {
                let at = timeline.advance(rng, 60);
                timeline.events.push(PlannedEvent {
                    at,
                    actor_kind: "staff",
                    actor_id: Some(engineer),
                    kind: "comment",
                    from: None,
                    to: None,
                    payload: json!({
                        "body": COMMENTS[rng.random_range(0..COMMENTS.len())],
                        "internal": true,
                    }),
                    reason: None,
                });
            }
        }
        if status == Status::Reopened {
            timeline.step(
                rng,
                "reopen",
                Status::Reopened,
                agent,
                2_000,
                Some("La falla volvió a presentarse."),
                json!({}),
            );
            reopen_count = 1;
        }
    }
    let events = timeline.events;
    let current = timeline.current;
    let updated_at = events.last().map(|e| e.at).unwrap_or(received_ms);
    let number = RequestNumber::new(
        i16::try_from(year).unwrap_or(i16::MAX),
        u32::try_from(sequence).unwrap_or(u32::MAX),
    )
    .to_string();
    // Every registered request was assigned at once (A11), cancelled ones included.
    let assigned = first == Status::Registered;
    PlannedRequest {
        number,
        year,
        sequence,
        channel,
        status: current,
        requester_id,
        service: service.map(|s| (s.id, s.version)),
        area_id: if assigned { area_id } else { None },
        assignee_id: if assigned { assignee_id } else { None },
        subject,
        description,
        received_at: received_ms,
        registered_at,
        created_by: agent,
        updated_at,
        reopen_count,
        events,
    }
}

/// The timeline of one generated request as it grows.
struct Timeline {
    at: i64,
    now_ms: i64,
    current: Status,
    events: Vec<PlannedEvent>,
}

impl Timeline {
    /// Moves time on by up to `typical_minutes`, but never past now.
    fn advance(&mut self, rng: &mut StdRng, typical_minutes: i64) -> i64 {
        let room = ((self.now_ms - self.at) / 4).max(0);
        self.at += (rng.random_range(1..=typical_minutes) * MINUTE_MS).min(room);
        self.at
    }

    #[expect(clippy::too_many_arguments, reason = "one event's worth of facts")]
    fn step(
        &mut self,
        rng: &mut StdRng,
        kind: &'static str,
        to: Status,
        actor: i64,
        typical_minutes: i64,
        reason: Option<&'static str>,
        payload: serde_json::Value,
    ) {
        let at = self.advance(rng, typical_minutes);
        self.events.push(PlannedEvent {
            at,
            actor_kind: "staff",
            actor_id: Some(actor),
            kind,
            from: Some(self.current),
            to: Some(to),
            payload,
            reason,
        });
        self.current = to;
    }
}

/// Writes one batch of requests, their events and the counters in one transaction; returns the
/// number of events written.
async fn write_batch(
    db: &Db,
    batch: &[PlannedRequest],
    counters: &HashMap<i64, i64>,
    names: &HashMap<i64, String>,
) -> anyhow::Result<u64> {
    let mut tx = db.begin_write().await?;
    let max_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM requests")
        .fetch_one(&mut *tx)
        .await?;
    for chunk in batch.chunks(rows_per_statement(db.engine)) {
        let rows: Vec<Vec<Value>> = chunk
            .iter()
            .map(|r| {
                vec![
                    Value::Text(r.number.clone()),
                    Value::Int(r.year),
                    Value::Int(r.sequence),
                    Value::Text(r.channel.code().to_string()),
                    Value::Text(r.status.code().to_string()),
                    Value::OptInt(r.requester_id),
                    Value::OptInt(r.service.map(|s| s.0)),
                    Value::OptInt(r.service.map(|s| s.1)),
                    Value::OptInt(r.area_id),
                    Value::OptInt(r.assignee_id),
                    Value::Text(r.subject.clone()),
                    Value::Text(r.description.clone()),
                    Value::Int(r.received_at),
                    Value::OptInt(r.registered_at),
                    Value::Int(r.created_by),
                    Value::Int(r.updated_at),
                    Value::Int(r.reopen_count),
                    Value::OptText(None),
                ]
            })
            .collect();
        insert_rows(&mut tx, REQUEST_COLUMNS, &rows).await?;
    }
    let ids: HashMap<String, i64> =
        sqlx::query_as::<_, (i64, String)>("SELECT id, number FROM requests WHERE id > $1")
            .bind(max_id)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|(id, number)| (number, id))
            .collect();
    let mut rows: Vec<Vec<Value>> = Vec::with_capacity(rows_per_statement(db.engine));
    let mut events = 0_u64;
    for request in batch {
        let id = *ids
            .get(&request.number)
            .ok_or_else(|| anyhow::anyhow!("request {} was not written", request.number))?;
        for e in &request.events {
            rows.push(vec![
                Value::Int(id),
                Value::Int(e.at),
                Value::Text(e.actor_kind.to_string()),
                Value::OptInt(e.actor_id),
                Value::Text(e.kind.to_string()),
                Value::OptText(e.from.map(|s| s.code().to_string())),
                Value::OptText(e.to.map(|s| s.code().to_string())),
                Value::Text(e.payload.to_string()),
                Value::OptText(e.reason.map(str::to_string)),
            ]);
            events += 1;
            if rows.len() == rows_per_statement(db.engine) {
                insert_rows(&mut tx, EVENT_COLUMNS, &rows).await?;
                rows.clear();
            }
        }
    }
    insert_rows(&mut tx, EVENT_COLUMNS, &rows).await?;
    let mut rows: Vec<Vec<Value>> = Vec::with_capacity(rows_per_statement(db.engine));
    for request in batch {
        let comments: Vec<String> = request
            .events
            .iter()
            .filter(|e| e.kind == "comment")
            .filter_map(|e| e.payload["body"].as_str().map(String::from))
            .collect();
        rows.push(vec![
            Value::Int(ids[&request.number]),
            Value::Text(search::document(
                &request.number,
                &request.subject,
                &request.description,
                &comments,
            )),
            Value::Text(
                request
                    .requester_id
                    .and_then(|id| names.get(&id).cloned())
                    .unwrap_or_default(),
            ),
        ]);
        if rows.len() == rows_per_statement(db.engine) {
            insert_rows(&mut tx, SEARCH_COLUMNS, &rows).await?;
            rows.clear();
        }
    }
    insert_rows(&mut tx, SEARCH_COLUMNS, &rows).await?;
    let years: HashSet<i64> = batch.iter().map(|r| r.year).collect();
    for year in years {
        sqlx::query(
            "INSERT INTO request_counters (year, last_sequence) VALUES ($1, $2)
             ON CONFLICT (year) DO UPDATE SET last_sequence = excluded.last_sequence",
        )
        .bind(year)
        .bind(counters.get(&year).copied().unwrap_or(0))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(events)
}
