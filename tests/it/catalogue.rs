//! The catalogue: seed data, accent-insensitive search (A10) and versioned sheets (Q4, V7).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, assert_problem};

#[tokio::test]
async fn the_demo_catalogue_is_loaded_and_searchable_without_accents_a10() {
    let app = TestApp::spawn().await;
    let (status, all) = app.get("/api/v1/services", &app.agent).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all.as_array().unwrap().len(), 52);
    let (_, found) = app
        .get("/api/v1/services?q=CREACION%20correo", &app.agent)
        .await;
    let names: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Creación de cuenta de correo electrónico"]);
    assert_eq!(found[0]["eligibility"], "udi_or_in_person");
    let (_, by_area) = app.get("/api/v1/services?q=telefonia", &app.agent).await;
    assert_eq!(
        by_area.as_array().unwrap().len(),
        8,
        "matches the area name too"
    );
    let (_, nothing) = app.get("/api/v1/services?q=impresora", &app.agent).await;
    assert!(
        nothing.as_array().unwrap().is_empty(),
        "A3: not in the catalogue"
    );
}

fn sheet(area: i64, resolution: i64) -> serde_json::Value {
    json!({
        "area_id": area,
        "eligibility": "udi",
        "requirements": ["Oficio firmado por el Jefe de UDI", "Número de inventario del equipo"],
        "first_level_tests": ["Verificar que el equipo enciende"],
        "required_attachments": ["Oficio"],
        "capacity": "10 equipos por semana",
        "response_target_minutes": 120,
        "resolution_target_minutes": resolution,
        "attention_policy": "Se atiende en el laboratorio de Electrónica.",
        "procedure_refs": ["CGSI-PO-01"],
    })
}

#[tokio::test]
async fn editing_a_sheet_creates_a_version_and_requests_keep_theirs_v7() {
    let app = TestApp::spawn().await;
    let (_, areas) = app.get("/api/v1/areas", &app.agent).await;
    let area = areas
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Electrónica")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, created) = app
        .post(
            "/api/v1/services",
            &app.admin,
            json!({ "name": "Diagnóstico de equipo", "sheet": sheet(area, 600) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let service = created["id"].as_i64().unwrap();
    assert_eq!(created["current_version"], 1);

    let requester = app.requester(10, "head").await;
    let (_, request) = app
        .post(
            "/api/v1/requests",
            &app.agent,
            json!({
                "channel": "official_letter", "requester_id": requester, "service_id": service,
                "subject": "Equipo no enciende", "description": "El equipo del laboratorio 3 no enciende.",
                "confirmed_requirements": ["Oficio firmado por el Jefe de UDI", "Número de inventario del equipo"],
            }),
        )
        .await;
    assert_eq!(request["request"]["sheet_version"], 1);

    let (status, v2) = app
        .post(
            &format!("/api/v1/services/{service}/sheets"),
            &app.admin,
            json!({ "sheet": sheet(area, 1200), "change_note": "Se amplía el tiempo de solución" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v2}");
    assert_eq!(v2["version"], 2);
    let (_, versions) = app
        .get(&format!("/api/v1/services/{service}/sheets"), &app.agent)
        .await;
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        versions[1]["content"]["resolution_target_minutes"], 600,
        "version 1 unchanged"
    );
    let number = request["number"].as_str().unwrap();
    let (_, again) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(
        again["sheet_version"], 1,
        "the request keeps the version it was registered under"
    );
}

#[tokio::test]
async fn a_sheet_with_a_zero_target_or_by_a_non_administrator_is_refused() {
    let app = TestApp::spawn().await;
    let got = app
        .post(
            "/api/v1/services",
            &app.admin,
            json!({ "name": "Servicio X", "sheet": sheet(1, 0) }),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sheet_target",
        Some("resolution_target_minutes"),
    );
    let got = app
        .post(
            "/api/v1/services",
            &app.agent,
            json!({ "name": "Servicio X", "sheet": sheet(1, 60) }),
        )
        .await;
    assert_problem(&got, StatusCode::FORBIDDEN, "forbidden", None);
    let got = app
        .post(
            "/api/v1/services",
            &app.admin,
            json!({ "name": "Servicio X", "sheet": sheet(99_999, 600) }),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_area",
        Some("area_id"),
    );
}

#[tokio::test]
async fn importing_a_catalogue_with_bad_rows_writes_nothing() {
    let app = TestApp::spawn().await;
    let csv = "area,service,eligibility\nNueva Área,Servicio bueno,open\nNueva Área,Servicio malo,nadie\n";
    let result = ventanilla::import::import_catalogue(&app.db, csv.as_bytes(), 0).await;
    match result {
        Err(ventanilla::import::ImportError::Lines(errors)) => assert_eq!(errors[0].line, 3),
        _ => panic!("expected line errors"),
    }
    let (_, areas) = app.get("/api/v1/areas", &app.agent).await;
    assert!(
        !areas
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "Nueva Área")
    );
    let good = "area,service,eligibility\nNueva Área,Servicio bueno,open\n";
    let counts = match ventanilla::import::import_catalogue(&app.db, good.as_bytes(), 0).await {
        Ok(counts) => counts,
        Err(_) => panic!("a good file imports"),
    };
    assert_eq!(counts.created, 1);
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.get("/api/v1/openapi.json", "").await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/requests",
        "/requests/{number}",
        "/requests/{number}/actions/{step}",
        "/requesters",
        "/services/{id}/sheets",
    ] {
        assert!(paths.contains_key(path), "{path} documented");
    }
}
