//! Areas and units can be deactivated (issue 4): an inactive area is not offered when
//! assigning and receives no assignment, registration or service; an inactive unit is not
//! offered for new or changed requesters. Requests and people that already have them keep
//! them, and both can be reactivated.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use ventanilla_domain::permissions::Role;

use crate::helpers::{TestApp, assert_problem};
use crate::pages::Browser;
use crate::pages_flow::{person, signed_in};

/// A new area with one open service; returns (area id, service id).
async fn area_with_service(app: &TestApp) -> (i64, i64) {
    let (status, area) = app
        .post(
            "/api/v1/areas",
            &app.admin,
            json!({"name": "Soporte temporal", "email": null}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{area}");
    assert_eq!(area["active"], true, "{area}");
    let area = area["id"].as_i64().expect("area id");
    let (status, service) = app
        .post(
            "/api/v1/services",
            &app.admin,
            json!({"name": "Apoyo en evento", "sheet": {
                "area_id": area, "eligibility": "open",
                "response_target_minutes": 60, "resolution_target_minutes": 600}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{service}");
    (area, service["id"].as_i64().expect("service id"))
}

async fn set_area(app: &TestApp, area: i64, active: bool) -> (StatusCode, Value) {
    app.call(
        Method::PUT,
        &format!("/api/v1/areas/{area}"),
        &app.admin,
        Some(json!({"name": "Soporte temporal", "email": null, "active": active})),
    )
    .await
}

fn listed(list: &Value, id: i64) -> &Value {
    list.as_array()
        .and_then(|items| items.iter().find(|i| i["id"] == id))
        .expect("listed")
}

#[tokio::test]
async fn an_inactive_area_gets_no_assignment_registration_or_service_and_requests_keep_it() {
    let app = TestApp::spawn().await;
    let (area, service) = area_with_service(&app).await;
    let requester = app.requester(71, "none").await;
    let kept = app.phone_request(requester, service).await;

    // Still handling an offered service: not deactivated.
    let refused = set_area(&app, area, false).await;
    assert_problem(
        &refused,
        StatusCode::CONFLICT,
        "area_has_services",
        Some("active"),
    );
    assert!(
        refused.1["detail"]
            .as_str()
            .is_some_and(|d| d.contains("«Apoyo en evento»")),
        "{}",
        refused.1
    );
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/services/{service}"),
            &app.admin,
            Some(json!({"name": "Apoyo en evento", "active": false, "reason": "Se cierra"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = set_area(&app, area, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["active"], false);
    let (_, areas) = app.get("/api/v1/areas", &app.agent).await;
    assert_eq!(listed(&areas, area)["active"], false, "{areas}");

    // The request registered before keeps its area.
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{kept}"), &app.agent)
        .await;
    assert_eq!(detail["area_id"], area, "{detail}");
    assert_eq!(detail["area_name"], "Soporte temporal", "{detail}");

    // No assignment to it.
    let other = app
        .phone_request(requester, app.service_id("Correo electrónico").await)
        .await;
    let assign_path = format!("/api/v1/requests/{other}/actions/assign");
    let got = app
        .post(&assign_path, &app.coordinator, json!({"area_id": area}))
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "inactive_area",
        Some("area_id"),
    );
    assert_eq!(
        got.1["detail"],
        "El área «Soporte temporal» está inactiva; elija otra."
    );

    // No registration into it.
    let got = app
        .post(
            "/api/v1/requests",
            &app.agent,
            json!({"channel": "phone", "requester_id": requester,
                   "service_id": app.service_id("Correo electrónico").await,
                   "area_id": area, "subject": "Correo", "description": "No entra."}),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "inactive_area",
        Some("area_id"),
    );

    // No service created in it, moved to it, or reactivated while it is inactive.
    let got = app
        .post(
            "/api/v1/services",
            &app.admin,
            json!({"name": "Otro apoyo", "sheet": {
                "area_id": area, "eligibility": "open",
                "response_target_minutes": 60, "resolution_target_minutes": 600}}),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "inactive_area",
        Some("area_id"),
    );
    let mail = app.service_id("Correo electrónico").await;
    let (_, current) = app
        .get(&format!("/api/v1/services/{mail}"), &app.admin)
        .await;
    let mut moved = current["sheet"].clone();
    moved["area_id"] = json!(area);
    let got = app
        .post(
            &format!("/api/v1/services/{mail}/sheets"),
            &app.admin,
            json!({"sheet": moved, "change_note": "Cambio de área"}),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "inactive_area",
        Some("area_id"),
    );
    let got = app
        .call(
            Method::PATCH,
            &format!("/api/v1/services/{service}"),
            &app.admin,
            Some(json!({"name": "Apoyo en evento", "active": true, "reason": "Vuelve"})),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "inactive_area",
        Some("active"),
    );

    // Reactivated: assignments reach it again.
    let (status, body) = set_area(&app, area, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["active"], true);
    let got = app
        .post(&assign_path, &app.coordinator, json!({"area_id": area}))
        .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    assert_eq!(got.1["status"], "assigned");
}

#[tokio::test]
async fn an_inactive_unit_is_refused_to_new_or_changed_requesters_and_kept_by_those_who_have_it() {
    let app = TestApp::spawn().await;
    let escom = app.unit_id("ESCOM").await;
    let units = app.get("/api/v1/units", &app.agent).await.1;
    let other_unit = units
        .as_array()
        .and_then(|u| u.iter().find(|u| u["id"] != escom))
        .map(|u| u["id"].as_i64().unwrap_or(0))
        .expect("another unit");
    let holder = app.requester(81, "none").await; // ESCOM
    let (_, before) = app
        .get(&format!("/api/v1/requesters/{holder}"), &app.agent)
        .await;
    let mover_curp =
        ventanilla_domain::curp::synthesize(82, jiff::civil::date(1991, 2, 3), 'H', "DF");
    let person = |curp: &str, unit: i64, phone: &str| {
        json!({"full_name": "Persona de Unidad", "curp": curp, "unit_id": unit,
               "phone": phone, "email": "unidad@example.org"})
    };
    let (status, mover) = app
        .post(
            "/api/v1/requesters",
            &app.agent,
            person(mover_curp.as_str(), other_unit, "5555"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mover}");
    let mover = mover["id"].as_i64().expect("id");

    let unit_change = |active: bool| {
        json!({"acronym": "ESCOM", "name": "Escuela Superior de Cómputo", "level": "superior",
               "active": active})
    };
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/v1/units/{escom}"),
            &app.admin,
            Some(unit_change(false)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["active"], false);
    let (_, units) = app.get("/api/v1/units", &app.agent).await;
    assert_eq!(listed(&units, escom)["active"], false, "{units}");

    // A new person in it: refused with the reason beside the unit.
    let new_curp =
        ventanilla_domain::curp::synthesize(83, jiff::civil::date(1992, 4, 5), 'M', "DF");
    let got = app
        .post(
            "/api/v1/requesters",
            &app.agent,
            person(new_curp.as_str(), escom, "5556"),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "inactive_unit",
        Some("unit_id"),
    );
    assert_eq!(
        got.1["detail"],
        "La unidad «ESCOM» está inactiva; elija otra."
    );
    // Someone moved into it: refused too.
    let got = app
        .call(
            Method::PUT,
            &format!("/api/v1/requesters/{mover}"),
            &app.agent,
            Some(person(mover_curp.as_str(), escom, "5555")),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "inactive_unit",
        Some("unit_id"),
    );
    // Who already has it keeps it while other data change.
    let mut changed = before.clone();
    changed["phone"] = json!("55 1234 5678");
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/v1/requesters/{holder}"),
            &app.agent,
            Some(changed),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["unit_id"], escom);
    assert_eq!(body["phone"], "55 1234 5678");

    // Reactivated: new people may be registered in it again.
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/v1/units/{escom}"),
            &app.admin,
            Some(unit_change(true)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["active"], true);
    let (status, body) = app
        .post(
            "/api/v1/requesters",
            &app.agent,
            person(new_curp.as_str(), escom, "5556"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn the_administrator_deactivates_and_reactivates_areas_and_units_on_the_pages() {
    let app = TestApp::spawn().await;
    let (area, service) = area_with_service(&app).await;
    let requester = app.requester(91, "none").await;
    let number = app.phone_request(requester, service).await;
    let mut admin = signed_in(&app, "admin.web", Role::Administrator, None).await;
    let page = admin.get("/admin/areas").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("id=\"toggle-area-{area}\"")));
    assert!(page.body.contains("Desactivar área"), "{}", page.body);
    let csrf = Browser::token(&page);
    let toggle = format!("/admin/areas/{area}/active");

    // Its service is still offered: refused beside the button, the area's data kept.
    let refused = admin
        .post(&toggle, &[("csrf", &csrf), ("active", "0")])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let beside = refused
        .body
        .split(&format!("id=\"err-area-{area}-active\""))
        .nth(1)
        .expect("the reason beside the button");
    assert!(beside.contains("«Apoyo en evento»"), "{}", refused.body);
    assert!(refused.body.contains("value=\"Soporte temporal\""));

    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/services/{service}"),
            &app.admin,
            Some(json!({"name": "Apoyo en evento", "active": false, "reason": "Se cierra"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let done = admin
        .post(&toggle, &[("csrf", &csrf), ("active", "0")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = admin.get(done.location.as_deref().unwrap_or("")).await;
    assert!(page.body.contains("Área desactivada"), "{}", page.body);
    assert!(page.body.contains(&format!("id=\"area-{area}-inactive\"")));
    assert!(page.body.contains("Reactivar área"));

    // The agent is not offered it when assigning, neither on the script nor on a request page;
    // the request that has it still shows it.
    let mut coordinator = signed_in(&app, "coord.web", Role::Coordinator, None).await;
    let mail = app.service_id("Correo electrónico").await;
    let panel = coordinator
        .get(&format!("/ui/service-panel?service_id={mail}"))
        .await;
    assert!(panel.body.contains("id=\"f-area_id\""), "{}", panel.body);
    assert!(!panel.body.contains("Soporte temporal"), "{}", panel.body);
    let other = app.phone_request(requester, mail).await;
    let page = coordinator.get(&format!("/requests/{other}")).await;
    let select = page
        .body
        .split("id=\"assign-area\"")
        .nth(1)
        .and_then(|rest| rest.split("</select>").next())
        .expect("the assign form");
    assert!(select.contains("Electrónica") && !select.contains("Soporte temporal"));
    let page = coordinator.get(&format!("/requests/{number}")).await;
    let shown = page
        .body
        .split("id=\"area\"")
        .nth(1)
        .unwrap_or("")
        .split("</dd>")
        .next()
        .unwrap_or("");
    assert!(shown.contains("Soporte temporal"), "{}", page.body);
    // A posted choice of it is refused beside the field.
    let token = Browser::token(&page);
    let refused = coordinator
        .post(
            &format!("/requests/{other}/step/assign"),
            &[("csrf", &token), ("area_id", &area.to_string())],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("está inactiva; elija otra"));

    let again = admin
        .post(&toggle, &[("csrf", &csrf), ("active", "1")])
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let page = admin.get(again.location.as_deref().unwrap_or("")).await;
    assert!(page.body.contains("Área reactivada"));
    assert!(!page.body.contains(&format!("id=\"area-{area}-inactive\"")));

    // Units: deactivated on the page, the script hides it and refuses it for a new person.
    let escom = app.unit_id("ESCOM").await;
    let unit_toggle = format!("/admin/units/{escom}/active");
    let done = admin
        .post(&unit_toggle, &[("csrf", &csrf), ("active", "0")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = admin.get(done.location.as_deref().unwrap_or("")).await;
    assert!(page.body.contains("Unidad desactivada"), "{}", page.body);
    assert!(page.body.contains(&format!("id=\"unit-{escom}-inactive\"")));
    let mut agent = signed_in(&app, "agente.web", Role::Agent, None).await;
    let form = agent.get("/requests/new").await;
    assert!(
        form.body
            .contains(&format!("<option value=\"{escom}\" hidden>")),
        "{}",
        form.body
    );
    let token = Browser::token(&form);
    let escom_text = escom.to_string();
    let mail_text = mail.to_string();
    let mut fields = person(&token, &escom_text, "none");
    fields.extend([
        ("channel", "phone"),
        ("subject", "Cuenta de correo"),
        ("description", "Necesita una cuenta."),
        ("service_id", &mail_text),
    ]);
    let refused = agent.post("/requests/new", &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let beside = refused
        .body
        .split("id=\"err-unit_id\"")
        .nth(1)
        .expect("beside the unit");
    assert!(
        beside.contains("La unidad «ESCOM» está inactiva; elija otra."),
        "{}",
        refused.body
    );
    let done = admin
        .post(&unit_toggle, &[("csrf", &csrf), ("active", "1")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let done = agent.post("/requests/new", &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
}

#[tokio::test]
async fn no_account_is_put_in_an_inactive_area_and_its_engineers_keep_it() {
    let app = TestApp::spawn().await;
    let (status, area) = app
        .post(
            "/api/v1/areas",
            &app.admin,
            json!({"name": "Soporte temporal", "email": null}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{area}");
    let area = area["id"].as_i64().expect("area id");
    let engineer = |username: &str| {
        json!({"username": username, "full_name": "Ingeniera de Apoyo", "email": null,
               "role": "engineer", "area_id": area, "password": "una-contraseña-larga"})
    };
    let (status, kept) = app
        .post("/api/v1/staff", &app.admin, engineer("ing.apoyo"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{kept}");
    let kept = kept["id"].as_i64().expect("staff id");
    let (status, body) = set_area(&app, area, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let refused = app
        .post("/api/v1/staff", &app.admin, engineer("ing.nueva"))
        .await;
    assert_problem(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "inactive_area",
        Some("area_id"),
    );
    let agent = ventanilla::db::staff::by_username(&app.db, "agente")
        .await
        .expect("db")
        .expect("demo agent");
    let moved = app
        .call(
            Method::PATCH,
            &format!("/api/v1/staff/{}", agent.id),
            &app.admin,
            Some(json!({"role": "engineer", "area_id": area})),
        )
        .await;
    assert_problem(
        &moved,
        StatusCode::UNPROCESSABLE_ENTITY,
        "inactive_area",
        Some("area_id"),
    );
    // The engineer who was in it before it was deactivated stays there through a change.
    let (status, changed) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/staff/{kept}"),
            &app.admin,
            Some(json!({"role": "engineer", "area_id": area})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["area_id"], area);

    // The pages offer the area only to the account that is in it.
    let option = format!("<option value=\"{area}\"");
    let mut browser = signed_in(&app, "admin.web", Role::Administrator, None).await;
    let list = browser.get("/admin/staff").await;
    assert!(!list.body.contains(&option), "new account form offers it");
    let own = browser.get(&format!("/admin/staff/{kept}")).await;
    assert!(own.body.contains(&option), "its engineer's form keeps it");
    let other = browser.get(&format!("/admin/staff/{}", agent.id)).await;
    assert!(
        !other.body.contains(&option),
        "another account's form offers it"
    );
}
