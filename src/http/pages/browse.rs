//! Pages to look things up: home (the queues), search, the catalogue with its sheet versions,
//! and the requester page (every view logged through `db::requesters::get`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use ventanilla_domain::catalogue::Eligibility;
use ventanilla_domain::ids::{AreaId, RequesterId, ServiceId, StaffId};
use ventanilla_domain::lifecycle::Status;
use ventanilla_domain::permissions::{Action, Role, allows, sees_requester_name};

use super::i18n::{self, Lang};
use super::{Page, PageError, PageResult, local_time, render};
use crate::db::requests::{self, ListFilter, RequestSummary, TextFilter};
use crate::db::service_levels::{self as sl, QueueFilter};
use crate::db::{catalogue, requesters};
use crate::error::AppError;
use crate::state::AppState;

/// One line of a request table.
#[derive(Serialize)]
pub struct Row {
    number: String,
    status: String,
    status_code: &'static str,
    subject: String,
    requester: String,
    service: String,
    area: String,
    assignee: String,
    updated: String,
}

pub fn rows(lang: Lang, items: &[RequestSummary], show_names: bool) -> Vec<Row> {
    items
        .iter()
        .map(|s| Row {
            number: s.number.clone(),
            status: i18n::status_label(lang, s.status).into(),
            status_code: s.status.code(),
            subject: s.subject.clone(),
            requester: if show_names {
                s.requester_name.clone().unwrap_or_default()
            } else {
                String::new()
            },
            service: s.service_name.clone().unwrap_or_default(),
            area: s.area_name.clone().unwrap_or_default(),
            assignee: s.assignee_name.clone().unwrap_or_default(),
            updated: local_time(s.updated_at),
        })
        .collect()
}

#[derive(Serialize)]
struct Queue {
    id: &'static str,
    title: &'static str,
    count: String,
    rows: Vec<Row>,
    /// The service-level queues (A16) list deadlines instead of the usual columns.
    sla_rows: Option<Vec<SlaRow>>,
}

#[derive(Serialize)]
struct SlaRow {
    number: String,
    status: String,
    status_code: String,
    subject: String,
    due: String,
}

/// A16: open requests past 75 % of a target (`at_risk`) or overdue (`breached`), nearest
/// deadline first, from the service-level queue the API serves; engineers see their area's.
async fn sla_queue(
    state: &AppState,
    page: &Page,
    id: &'static str,
    breached: bool,
) -> Result<Queue, PageError> {
    let filter = QueueFilter {
        area_id: match page.staff.role {
            Role::Engineer => page.staff.area_id.map(|a| a.0),
            _ => None,
        },
        at_risk: !breached,
        breached,
        limit: 50,
        ..QueueFilter::default()
    };
    let (items, more) = sl::queue(&state.db, &filter, state.now_ms()).await?;
    let due_key = if breached {
        "sla_due_past"
    } else {
        "sla_due_next"
    };
    let sla_rows = items
        .iter()
        .map(|r| {
            let status = Status::from_code(&r.status);
            SlaRow {
                number: r.number.clone(),
                status: status
                    .map(|st| i18n::status_label(page.lang, st).to_string())
                    .unwrap_or_else(|| r.status.clone()),
                status_code: r.status.clone(),
                subject: r.subject.clone(),
                due: i18n::text(page.lang, due_key)
                    .replace("{at}", &local_time(crate::db::from_millis(r.sla_due_at))),
            }
        })
        .collect();
    Ok(Queue {
        id,
        title: i18n::text(page.lang, &format!("queue_{id}")),
        count: format!("{}{}", items.len(), if more { "+" } else { "" }),
        rows: Vec::new(),
        sla_rows: Some(sla_rows),
    })
}

async fn queue(
    state: &AppState,
    page: &Page,
    id: &'static str,
    filter: ListFilter,
) -> Result<Queue, PageError> {
    let (items, more) = requests::list(&state.db, &filter).await?;
    let count = if more.is_some() {
        format!("{}+", items.len())
    } else {
        items.len().to_string()
    };
    Ok(Queue {
        id,
        title: i18n::text(page.lang, &format!("queue_{id}")),
        count,
        rows: rows(page.lang, &items, sees_requester_name(page.staff.role)),
        sla_rows: None,
    })
}

async fn queues(state: &AppState, page: &Page) -> Result<Vec<Queue>, PageError> {
    let role = page.staff.role;
    let open = |limit| ListFilter {
        open_only: true,
        limit,
        ..ListFilter::default()
    };
    let mut queues = Vec::new();
    queues.push(
        queue(
            state,
            page,
            "mine",
            ListFilter {
                assignee_id: Some(StaffId(page.staff.id.0)),
                ..open(50)
            },
        )
        .await?,
    );
    if let (Role::Engineer, Some(area)) = (role, page.staff.area_id) {
        queues.push(
            queue(
                state,
                page,
                "area",
                ListFilter {
                    area_id: Some(area),
                    ..open(50)
                },
            )
            .await?,
        );
    }
    if allows(role, Action::CreateRequest) {
        for (id, status) in [
            ("intake", Status::Received),
            ("to_confirm", Status::ToConfirm),
            ("solved", Status::Solved),
        ] {
            queues.push(
                queue(
                    state,
                    page,
                    id,
                    ListFilter {
                        statuses: vec![status],
                        ..open(50)
                    },
                )
                .await?,
            );
        }
        queues.push(queue(state, page, "open", open(20)).await?);
    }
    if allows(role, Action::CreateRequest) || role == Role::Engineer {
        queues.push(sla_queue(state, page, "at_risk", false).await?);
        queues.push(sla_queue(state, page, "breached", true).await?);
    }
    Ok(queues)
}

pub async fn home(State(state): State<AppState>, page: Page) -> PageResult {
    let queues = queues(&state, &page).await?;
    let mut ctx = page.context("title_home");
    ctx.insert("queues", minijinja::Value::from_serialize(&queues));
    Ok(render(StatusCode::OK, "home.html", ctx.into()))
}

/// The queues alone, which the home page fetches again every 30 seconds (live counts).
pub async fn home_queues(State(state): State<AppState>, page: Page) -> PageResult {
    let queues = queues(&state, &page).await?;
    let mut ctx = super::base_context(page.lang, "", "");
    ctx.insert("queues", minijinja::Value::from_serialize(&queues));
    Ok(render(StatusCode::OK, "home_queues.html", ctx.into()))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    status: Option<String>,
    area_id: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

pub async fn search(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<SearchQuery>,
) -> PageResult {
    page.require(Action::ViewRequests)?;
    let text = query.q.clone().unwrap_or_default();
    let status = query.status.as_deref().and_then(Status::from_code);
    let area = query
        .area_id
        .as_deref()
        .and_then(|a| a.parse::<i64>().ok())
        .map(AreaId);
    let searched = !text.trim().is_empty() || status.is_some() || area.is_some();
    let found = if searched {
        let text_filter = (!text.trim().is_empty()).then(|| TextFilter {
            text: text.clone(),
            with_requester: sees_requester_name(page.staff.role),
        });
        requests::list(
            &state.db,
            &ListFilter {
                statuses: status.into_iter().collect(),
                area_id: area,
                text: text_filter,
                limit: 100,
                ..ListFilter::default()
            },
        )
        .await?
        .0
    } else {
        Vec::new()
    };
    let statuses: Vec<Choice> = Status::ALL
        .iter()
        .map(|s| Choice {
            value: s.code().into(),
            label: i18n::status_label(page.lang, *s).into(),
            selected: Some(*s) == status,
        })
        .collect();
    // Searching by area lists inactive ones too: their requests keep them.
    let areas: Vec<Choice> = catalogue::list_areas(&state.db)
        .await?
        .into_iter()
        .map(|a| Choice {
            value: a.id.to_string(),
            selected: Some(AreaId(a.id)) == area,
            label: if a.active {
                a.name
            } else {
                format!("{} {}", a.name, i18n::text(page.lang, "inactive_suffix"))
            },
        })
        .collect();
    let mut ctx = page.context("title_search");
    ctx.insert("q", text.into());
    ctx.insert("searched", searched.into());
    ctx.insert("statuses", minijinja::Value::from_serialize(&statuses));
    ctx.insert("areas", minijinja::Value::from_serialize(&areas));
    ctx.insert(
        "rows",
        minijinja::Value::from_serialize(rows(
            page.lang,
            &found,
            sees_requester_name(page.staff.role),
        )),
    );
    Ok(render(StatusCode::OK, "search.html", ctx.into()))
}

pub fn eligibility_label(lang: Lang, e: Eligibility) -> &'static str {
    i18n::text(lang, &format!("elig_{}", e.code()))
}

#[derive(Deserialize)]
pub struct CatalogueQuery {
    q: Option<String>,
}

#[derive(Serialize)]
struct ServiceLine {
    id: i64,
    name: String,
    area: String,
    eligibility: &'static str,
    version: i64,
}

pub async fn catalogue(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<CatalogueQuery>,
) -> PageResult {
    page.require(Action::ViewCatalogue)?;
    let services = catalogue::list_services(&state.db, query.q.as_deref(), None).await?;
    let lines: Vec<ServiceLine> = services
        .into_iter()
        .map(|s| ServiceLine {
            id: s.id,
            eligibility: eligibility_label(page.lang, s.eligibility),
            name: s.name,
            area: s.area_name,
            version: s.current_version,
        })
        .collect();
    let mut ctx = page.context("title_catalogue");
    ctx.insert("q", query.q.unwrap_or_default().into());
    ctx.insert("services", minijinja::Value::from_serialize(&lines));
    Ok(render(StatusCode::OK, "catalogue.html", ctx.into()))
}

#[derive(Serialize)]
struct VersionView {
    version: i64,
    change_note: String,
    created_at: String,
    requirements: Vec<String>,
    first_level_tests: Vec<String>,
    required_attachments: Vec<String>,
    response: i64,
    resolution: i64,
    attention_policy: String,
    eligibility: &'static str,
}

pub async fn service(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> PageResult {
    page.require(Action::ViewCatalogue)?;
    let unknown = || {
        PageError(AppError::not_found(
            "unknown_service",
            format!("No existe el servicio «{id}»."),
        ))
    };
    let service_id = id.parse::<i64>().map_err(|_| unknown())?;
    let (summary, _) = catalogue::service(&state.db, ServiceId(service_id))
        .await?
        .ok_or_else(unknown)?;
    let versions: Vec<VersionView> = catalogue::sheet_versions(&state.db, ServiceId(service_id))
        .await?
        .into_iter()
        .map(|v| VersionView {
            version: v.version,
            change_note: v.change_note,
            created_at: local_time(v.created_at),
            eligibility: eligibility_label(page.lang, v.content.eligibility),
            requirements: v.content.requirements,
            first_level_tests: v.content.first_level_tests,
            required_attachments: v.content.required_attachments,
            response: v.content.response_target_minutes,
            resolution: v.content.resolution_target_minutes,
            attention_policy: v.content.attention_policy,
        })
        .collect();
    let mut ctx = page.context("title_catalogue");
    ctx.insert("title", summary.name.clone().into());
    ctx.insert("name", summary.name.into());
    ctx.insert("area", summary.area_name.into());
    ctx.insert("versions", minijinja::Value::from_serialize(&versions));
    Ok(render(StatusCode::OK, "service.html", ctx.into()))
}

#[derive(Serialize)]
struct ChangeView {
    field: String,
    before: String,
    after: String,
    at: String,
}

pub async fn requester(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> PageResult {
    page.require(Action::ViewPersonalData)?;
    let unknown = || {
        PageError(AppError::not_found(
            "unknown_requester",
            format!("No existe el solicitante «{id}»."),
        ))
    };
    let rid = RequesterId(id.parse::<i64>().map_err(|_| unknown())?);
    let now = state.now_ms();
    let person = requesters::get(&state.db, rid, page.staff.id, now)
        .await?
        .ok_or_else(unknown)?;
    let changes: Vec<ChangeView> = requesters::history(&state.db, rid, page.staff.id, now)
        .await?
        .into_iter()
        .map(|c| ChangeView {
            field: match i18n::text(page.lang, &c.field) {
                "" => c.field.clone(),
                label => label.to_string(),
            },
            before: c.before_value.unwrap_or_default(),
            after: c.after_value.unwrap_or_default(),
            at: local_time(crate::db::from_millis(c.at)),
        })
        .collect();
    let (items, _) = requests::list(
        &state.db,
        &ListFilter {
            requester_id: Some(rid),
            limit: 100,
            ..ListFilter::default()
        },
    )
    .await?;
    let udi = match person.udi_role.code() {
        "head" => "udi_head",
        "work_group" => "udi_work_group",
        _ => "udi_none",
    };
    let mut ctx = page.context("title_requester");
    ctx.insert("title", person.full_name.clone().into());
    ctx.insert("udi", i18n::text(page.lang, udi).into());
    ctx.insert("person", minijinja::Value::from_serialize(&person));
    ctx.insert("changes", minijinja::Value::from_serialize(&changes));
    ctx.insert(
        "rows",
        minijinja::Value::from_serialize(rows(page.lang, &items, true)),
    );
    Ok(render(StatusCode::OK, "requester.html", ctx.into()))
}
