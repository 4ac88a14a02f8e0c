//! The monthly report (L11, L12): satisfaction by month, area, service, channel and unit, the
//! reopen rate, and its CSV, XLSX and plain-text (mail) forms.

use serde::Serialize;

use super::Db;
use super::surveys::{self, GroupBy, GroupIndices};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthlyReport {
    /// AAAA-MM.
    pub month: String,
    pub overall: GroupIndices,
    pub by_area: Vec<GroupIndices>,
    pub by_service: Vec<GroupIndices>,
    pub by_channel: Vec<GroupIndices>,
    pub by_unit: Vec<GroupIndices>,
    /// Requests registered in the month.
    pub registered: i64,
    /// Requests closed in the month, and how many of them had been reopened.
    pub closed: i64,
    pub closed_after_reopen: i64,
    pub reopen_rate_percent: Option<f64>,
    /// Of the requests closed in the month, how many met every service-level target, how many
    /// breached one, and the share that met them (A16).
    pub sla_met: i64,
    pub sla_breached: i64,
    pub sla_compliance_percent: Option<f64>,
}

pub async fn monthly(
    db: &Db,
    zone: &jiff::tz::TimeZone,
    year: i16,
    month: i8,
) -> AppResult<MonthlyReport> {
    let (start, end) = ventanilla_domain::survey::month_bounds(year, month, zone)
        .ok_or_else(|| AppError::invalid("month", "month_format", "Mes fuera de rango."))?;
    let (start, end) = (start.as_millisecond(), end.as_millisecond());
    let overall = surveys::monthly(db, zone, year, month, GroupBy::Month)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the month group is always present")))?;
    let registered: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests WHERE received_at >= $1 AND received_at < $2",
    )
    .bind(start)
    .bind(end)
    .fetch_one(db.read())
    .await?;
    let (closed, closed_after_reopen, sla_met, sla_breached): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN q.reopen_count > 0 THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN q.sla_state = 'met' THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN q.sla_state = 'breached' THEN 1 ELSE 0 END), 0)
         FROM requests q
         WHERE EXISTS (SELECT 1 FROM request_events e WHERE e.request_id = q.id AND e.kind = 'close' AND e.at >= $1 AND e.at < $2)",
    )
    .bind(start)
    .bind(end)
    .fetch_one(db.read())
    .await?;
    Ok(MonthlyReport {
        month: format!("{year:04}-{month:02}"),
        overall,
        by_area: surveys::monthly(db, zone, year, month, GroupBy::Area).await?,
        by_service: surveys::monthly(db, zone, year, month, GroupBy::Service).await?,
        by_channel: surveys::monthly(db, zone, year, month, GroupBy::Channel).await?,
        by_unit: surveys::monthly(db, zone, year, month, GroupBy::Unit).await?,
        registered,
        closed,
        closed_after_reopen,
        reopen_rate_percent: (closed > 0)
            .then(|| closed_after_reopen as f64 * 100.0 / closed as f64),
        sla_met,
        sla_breached,
        sla_compliance_percent: (sla_met + sla_breached > 0)
            .then(|| sla_met as f64 * 100.0 / (sla_met + sla_breached) as f64),
    })
}

/// The rows of the report's table: (grouping, group, indices).
fn rows(report: &MonthlyReport) -> Vec<(&'static str, &GroupIndices)> {
    let mut rows = vec![("mes", &report.overall)];
    for (label, groups) in [
        ("área", &report.by_area),
        ("servicio", &report.by_service),
        ("medio", &report.by_channel),
        ("unidad", &report.by_unit),
    ] {
        rows.extend(groups.iter().map(|g| (label, g)));
    }
    rows
}

const HEADER: [&str; 13] = [
    "agrupación",
    "grupo",
    "respuestas",
    "enviadas",
    "CSAT %",
    "oportunidad",
    "trato",
    "conocimiento",
    "calidad de la solución",
    "comunicación",
    "satisfacción general",
    "tasa de respuesta %",
    "muestra menor a 30",
];

fn cells(grouping: &str, g: &GroupIndices) -> Vec<String> {
    let number = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_default();
    let i = &g.indices;
    let mut row = vec![
        grouping.to_string(),
        g.group.clone(),
        i.answers.to_string(),
        i.sent.to_string(),
        number(i.csat_percent),
    ];
    row.extend(
        i.item_means
            .iter()
            .map(|m| m.map(|x| format!("{x:.2}")).unwrap_or_default()),
    );
    row.push(number(i.response_rate_percent));
    row.push(if i.low_sample { "sí" } else { "no" }.to_string());
    row
}

pub fn to_csv(report: &MonthlyReport) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER)?;
    for (grouping, group) in rows(report) {
        writer.write_record(cells(grouping, group))?;
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn to_xlsx(report: &MonthlyReport) -> anyhow::Result<Vec<u8>> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(format!("Satisfacción {}", report.month))?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, title) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, u16::try_from(col)?, *title, &bold)?;
    }
    for (row, (grouping, group)) in rows(report).into_iter().enumerate() {
        let row = u32::try_from(row + 1)?;
        for (col, value) in cells(grouping, group).into_iter().enumerate() {
            let col = u16::try_from(col)?;
            match value.parse::<f64>() {
                Ok(number) if col >= 2 => sheet.write_number(row, col, number)?,
                _ => sheet.write_string(row, col, value)?,
            };
        }
    }
    Ok(workbook.save_to_buffer()?)
}

/// The plain-text report mailed to the coordinator on the first business day of the next month.
pub fn to_text(report: &MonthlyReport) -> String {
    let percent = |v: Option<f64>| {
        v.map(|x| format!("{x:.1} %"))
            .unwrap_or_else(|| "sin datos".into())
    };
    let mut text = format!(
        "Informe mensual de satisfacción — {}\n\n\
         Solicitudes registradas: {}\n\
         Solicitudes cerradas: {} (reabiertas antes de cerrar: {}; tasa de reapertura {})\n\
         Cumplimiento de los tiempos comprometidos: {} ({} en tiempo, {} excedidas)\n\
         Encuestas enviadas: {}; respondidas: {}; tasa de respuesta {}\n\
         CSAT (satisfacción general 4 o 5): {}{}\n\nPor área:\n",
        report.month,
        report.registered,
        report.closed,
        report.closed_after_reopen,
        percent(report.reopen_rate_percent),
        percent(report.sla_compliance_percent),
        report.sla_met,
        report.sla_breached,
        report.overall.indices.sent,
        report.overall.indices.answers,
        percent(report.overall.indices.response_rate_percent),
        percent(report.overall.indices.csat_percent),
        if report.overall.indices.low_sample {
            " (menos de 30 respuestas: poco confiable)"
        } else {
            ""
        },
    );
    for g in &report.by_area {
        text.push_str(&format!(
            "  - {}: {} respuestas, CSAT {}{}\n",
            g.group,
            g.indices.answers,
            percent(g.indices.csat_percent),
            if g.indices.low_sample {
                " (muestra menor a 30)"
            } else {
                ""
            }
        ));
    }
    text.push_str("\nCentro de Atención a Usuarios (CAU)\n");
    text
}
