//! Requesters (Q1): CURP validation at the edge, look-up by key data (A5), update with history
//! (A7), and personal data visible only to the roles that need it, every access logged.

use reqwest::StatusCode;
use serde_json::json;
use ventanilla::db::requesters::access_count;
use ventanilla_domain::ids::RequesterId;

use crate::helpers::{TestApp, assert_problem};

fn person(curp: &str, unit: i64) -> serde_json::Value {
    json!({
        "full_name": "José Ángel Núñez Peña",
        "curp": curp,
        "boleta": "2019630123",
        "email": "jose.nunez@example.org",
        "unit_id": unit,
    })
}

#[tokio::test]
async fn a_curp_with_a_wrong_check_digit_is_refused_naming_the_check_digit_q1() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("ESCOM").await;
    // BOXW310820HNERXN09 is valid; its check digit is 9.
    let got = app
        .post(
            "/api/v1/requesters",
            &app.agent,
            person("BOXW310820HNERXN08", unit),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "curp_check_digit",
        Some("curp"),
    );
    let ok = app
        .post(
            "/api/v1/requesters",
            &app.agent,
            person(" boxw310820hnerxn09 ", unit),
        )
        .await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    assert_eq!(
        ok.1["curp"], "BOXW310820HNERXN09",
        "stored upper-case and trimmed"
    );
}

#[tokio::test]
async fn each_bad_field_gets_its_own_code_and_field() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("ESCOM").await;
    let mut bad_email = person("SABC560626MDFLRN01", unit);
    bad_email["email"] = json!("jose@@example");
    assert_problem(
        &app.post("/api/v1/requesters", &app.agent, bad_email).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "email_format",
        Some("email"),
    );
    let mut bad_unit = person("SABC560626MDFLRN01", unit);
    bad_unit["unit_id"] = json!(999_999);
    assert_problem(
        &app.post("/api/v1/requesters", &app.agent, bad_unit).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_unit",
        Some("unit_id"),
    );
    let mut no_name = person("SABC560626MDFLRN01", unit);
    no_name.as_object_mut().unwrap().remove("full_name");
    assert_problem(
        &app.post("/api/v1/requesters", &app.agent, no_name).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
        Some("full_name"),
    );
}

#[tokio::test]
async fn a_curp_registered_twice_is_a_conflict_that_points_to_the_existing_record() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("ESCOM").await;
    let first = app
        .post(
            "/api/v1/requesters",
            &app.agent,
            person("PEGJ900512HJCRRS04", unit),
        )
        .await;
    assert_eq!(first.0, StatusCode::CREATED);
    let mut again = person("PEGJ900512HJCRRS04", unit);
    again["boleta"] = json!("2020630999");
    let got = app.post("/api/v1/requesters", &app.agent, again).await;
    assert_problem(&got, StatusCode::CONFLICT, "curp_taken", Some("curp"));
}

#[tokio::test]
async fn requesters_are_found_by_curp_boleta_email_or_accentless_name_a5() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("ESCOM").await;
    let (_, created) = app
        .post(
            "/api/v1/requesters",
            &app.agent,
            person("SABC560626MDFLRN01", unit),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    for query in [
        "curp=sabc560626mdflrn01",
        "boleta=2019630123",
        "email=JOSE.NUNEZ@example.org",
        "name=nunez%20jose",
        "name=%C3%81NGEL",
    ] {
        let (status, found) = app
            .get(&format!("/api/v1/requesters?{query}"), &app.agent)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found.as_array().unwrap().len(), 1, "{query}: {found}");
        assert_eq!(found[0]["id"], id);
    }
    let (_, none) = app.get("/api/v1/requesters?name=perez", &app.agent).await;
    assert!(none.as_array().unwrap().is_empty());
    assert_problem(
        &app.get("/api/v1/requesters", &app.agent).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "lookup_empty",
        None,
    );
}

#[tokio::test]
async fn an_update_keeps_before_and_after_of_each_changed_field_a7() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("ESCOM").await;
    let (_, created) = app
        .post(
            "/api/v1/requesters",
            &app.agent,
            person("SABC560626MDFLRN01", unit),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    let mut changed = person("SABC560626MDFLRN01", unit);
    changed["email"] = json!("jose.nuevo@example.org");
    changed["extension"] = json!("46001");
    let (status, updated) = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/requesters/{id}"),
            &app.agent,
            Some(changed),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["email"], "jose.nuevo@example.org");
    let (_, history) = app
        .get(&format!("/api/v1/requesters/{id}/history"), &app.agent)
        .await;
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    let email = history.iter().find(|c| c["field"] == "email").unwrap();
    assert_eq!(email["before_value"], "jose.nunez@example.org");
    assert_eq!(email["after_value"], "jose.nuevo@example.org");
}

#[tokio::test]
async fn only_cau_roles_see_personal_records_and_every_access_is_logged() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("ESCOM").await;
    let (_, created) = app
        .post(
            "/api/v1/requesters",
            &app.agent,
            person("SABC560626MDFLRN01", unit),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    let before = access_count(&app.db, RequesterId(id)).await.unwrap();
    for token in [&app.engineer_mail, &app.admin] {
        let got = app.get(&format!("/api/v1/requesters/{id}"), token).await;
        assert_problem(&got, StatusCode::FORBIDDEN, "forbidden", None);
    }
    assert_eq!(
        access_count(&app.db, RequesterId(id)).await.unwrap(),
        before,
        "refused reads are not reads"
    );
    let (status, _) = app
        .get(&format!("/api/v1/requesters/{id}"), &app.supervisor)
        .await;
    assert_eq!(status, StatusCode::OK);
    app.get("/api/v1/requesters?curp=SABC560626MDFLRN01", &app.agent)
        .await;
    assert_eq!(
        access_count(&app.db, RequesterId(id)).await.unwrap(),
        before + 2
    );
}
