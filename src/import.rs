//! CSV import of units and the catalogue. Every row is checked first; one bad row means nothing
//! is written, and every bad row is reported with its line number.

use std::io::Read;

use ventanilla_domain::catalogue::Eligibility;

use crate::db::Db;
use crate::db::catalogue::{self, CatalogueRow, ImportCounts, UnitRow};

/// A problem on one line of the file (line 1 is the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "línea {}: {}", self.line, self.message)
    }
}

fn records<R: Read>(input: R, header: &[&str]) -> Result<Vec<(u64, Vec<String>)>, Vec<LineError>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let found: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            return Err(vec![LineError {
                line: 1,
                message: format!("no se pudo leer el encabezado: {e}"),
            }]);
        }
    };
    if found != header {
        return Err(vec![LineError {
            line: 1,
            message: format!(
                "el encabezado debe ser «{}»; se encontró «{}»",
                header.join(","),
                found.join(",")
            ),
        }]);
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map(|p| p.line()).unwrap_or(0);
                rows.push((line, r.iter().map(str::to_string).collect()));
            }
            Err(e) => errors.push(LineError {
                line: e.position().map(|p| p.line()).unwrap_or(0),
                message: format!("fila ilegible: {e}"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

fn is_level(value: &str) -> bool {
    !value.is_empty() && value.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// `acronym,name,level`.
pub fn parse_units<R: Read>(input: R) -> Result<Vec<UnitRow>, Vec<LineError>> {
    let rows = records(input, &["acronym", "name", "level"])?;
    let mut errors = Vec::new();
    let mut units: Vec<UnitRow> = Vec::new();
    for (line, fields) in rows {
        let [acronym, name, level] = [&fields[0], &fields[1], &fields[2]];
        let mut problem = |message: String| errors.push(LineError { line, message });
        if acronym.is_empty() {
            problem("faltan las siglas".into());
        } else if name.is_empty() {
            problem("falta el nombre".into());
        } else if !is_level(level) {
            problem(format!(
                "nivel «{level}» no válido: use minúsculas y guion bajo, p. ej. medio_superior"
            ));
        } else if units.iter().any(|u| u.acronym == *acronym) {
            problem(format!("las siglas «{acronym}» se repiten en el archivo"));
        } else {
            units.push(UnitRow {
                acronym: acronym.clone(),
                name: name.clone(),
                level: level.clone(),
            });
        }
    }
    if errors.is_empty() {
        Ok(units)
    } else {
        Err(errors)
    }
}

/// `area,service,eligibility`.
pub fn parse_catalogue<R: Read>(input: R) -> Result<Vec<CatalogueRow>, Vec<LineError>> {
    let rows = records(input, &["area", "service", "eligibility"])?;
    let mut errors = Vec::new();
    let mut services: Vec<CatalogueRow> = Vec::new();
    for (line, fields) in rows {
        let [area, service, eligibility] = [&fields[0], &fields[1], &fields[2]];
        let mut problem = |message: String| errors.push(LineError { line, message });
        if area.chars().count() < 2 {
            problem("falta el área".into());
            continue;
        }
        let name = match ventanilla_domain::catalogue::service_name(service) {
            Ok(name) => name,
            Err(e) => {
                problem(e.to_string());
                continue;
            }
        };
        let Some(eligibility) = Eligibility::from_code(eligibility) else {
            problem(format!(
                "elegibilidad «{eligibility}» no válida: use open, udi o udi_or_in_person"
            ));
            continue;
        };
        if services
            .iter()
            .any(|s| s.area == *area && s.service == name)
        {
            problem(format!(
                "el servicio «{name}» se repite en el área «{area}»"
            ));
            continue;
        }
        services.push(CatalogueRow {
            area: area.clone(),
            service: name,
            eligibility,
        });
    }
    if errors.is_empty() {
        Ok(services)
    } else {
        Err(errors)
    }
}

pub enum ImportError {
    Lines(Vec<LineError>),
    Other(anyhow::Error),
}

pub async fn import_units<R: Read>(db: &Db, input: R) -> Result<ImportCounts, ImportError> {
    let rows = parse_units(input).map_err(ImportError::Lines)?;
    catalogue::import_units(db, &rows)
        .await
        .map_err(ImportError::Other)
}

pub async fn import_catalogue<R: Read>(
    db: &Db,
    input: R,
    now_ms: i64,
) -> Result<ImportCounts, ImportError> {
    let rows = parse_catalogue(input).map_err(ImportError::Lines)?;
    catalogue::import_catalogue(db, &rows, now_ms)
        .await
        .map_err(ImportError::Other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_files_parse() {
        let units = parse_units(include_str!("../data/units.csv").as_bytes()).unwrap();
        assert!(units.len() > 80);
        let services = parse_catalogue(include_str!("../data/catalogue.csv").as_bytes()).unwrap();
        assert_eq!(services.len(), 52);
    }

    #[test]
    fn every_bad_row_is_reported_by_line() {
        let csv = "area,service,eligibility\nRedes,Wifi,open\nRedes,,udi\nRedes,VPN,todos\n";
        let errors = parse_catalogue(csv.as_bytes()).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert!(errors[1].message.contains("todos"));
    }

    #[test]
    fn a_wrong_header_is_refused() {
        let errors = parse_units("siglas,nombre\nA,B\n".as_bytes()).unwrap_err();
        assert_eq!(errors[0].line, 1);
    }
}
