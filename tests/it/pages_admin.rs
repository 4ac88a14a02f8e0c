//! The administrator's pages over plain HTTP (issue 4): catalogue (V7, Q4, A11, A19), areas and
//! units, the calendar (L3, L4), staff accounts, the script's greeting (A1); each form's
//! success, a Spanish error beside the field with what was typed kept, and 403 for an agent.
//! Also the API endpoints added with them, so pages and API stay one way of doing each thing.

use reqwest::{Method, StatusCode};
use serde_json::json;
use ventanilla::db;
use ventanilla_domain::permissions::Role;

use crate::helpers::{TestApp, assert_problem};
use crate::pages::{Browser, PASSWORD, Page, account};

async fn admin(app: &TestApp) -> (Browser, String) {
    account(app, "admin.web", Role::Administrator, None).await;
    let mut browser = Browser::new(app);
    let signed = browser.sign_in("admin.web", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let home = browser.get("/admin").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let token = Browser::token(&home);
    (browser, token)
}

fn area_id(areas: &[db::catalogue::Area], name: &str) -> String {
    areas
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.id.to_string())
        .unwrap_or_else(|| panic!("area {name}"))
}

/// The field's error paragraph says `needle`.
fn error_beside(page: &Page, id: &str, needle: &str) {
    let marker = format!("id=\"err-{id}\">");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no error beside {id}: {}", page.body));
    let text = &page.body[start + marker.len()..];
    let text = &text[..text.find('<').unwrap_or(text.len())];
    assert!(text.contains(needle), "error beside {id} is «{text}»");
}

fn sheet_form<'a>(csrf: &'a str, area: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("area_id", area),
        ("eligibility", "udi"),
        ("response_target_minutes", "240"),
        ("resolution_target_minutes", "1440"),
        (
            "requirements",
            "Oficio firmado por el Jefe de UDI\nNúmero de inventario",
        ),
        ("first_level_tests", "Verificar que el equipo enciende"),
        ("required_attachments", ""),
        ("capacity", "Diez equipos por semana"),
        (
            "attention_policy",
            "Se atiende en un día hábil; le avisaremos por correo.",
        ),
        ("procedure_refs", "CGSI-PO-01"),
    ]
}

#[tokio::test]
async fn admin_pages_and_forms_are_refused_to_an_agent_who_sees_no_admin_link() {
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    let mut agent = Browser::new(&app);
    agent.sign_in("agente.web", PASSWORD).await;
    let home = agent.get("/").await;
    assert!(!home.body.contains(">Administración</a>"), "no admin link");
    let token = Browser::token(&home);
    for path in [
        "/admin",
        "/admin/services",
        "/admin/services/new",
        "/admin/services/1",
        "/admin/areas",
        "/admin/calendar",
        "/admin/staff",
        "/admin/staff/1",
        "/admin/greeting",
    ] {
        let page = agent.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "GET {path}");
        assert!(page.body.contains("no permite"), "{path}: {}", page.body);
    }
    for path in [
        "/admin/services/new",
        "/admin/services/1/settings",
        "/admin/services/1/sheet",
        "/admin/services/1/escalation",
        "/admin/areas",
        "/admin/areas/1",
        "/admin/units",
        "/admin/units/1",
        "/admin/calendar/weekly",
        "/admin/calendar/exceptions",
        "/admin/calendar/exceptions/delete",
        "/admin/calendar/ics",
        "/admin/staff",
        "/admin/staff/1/role",
        "/admin/staff/1/active",
        "/admin/staff/1/password",
        "/admin/greeting",
    ] {
        let page = agent
            .post(path, &[("csrf", &token), ("name", "Intento")])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "POST {path}");
    }
    // The administrator sees the entry, and a form without the session's token is refused.
    let (mut browser, _) = admin(&app).await;
    let home = browser.get("/").await;
    assert!(home.body.contains(">Administración</a>"), "admin link");
    let refused = browser
        .post("/admin/areas", &[("csrf", "otro"), ("name", "Área X")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn v7_q4_an_administrator_creates_a_service_revises_its_sheet_and_renames_it_keeping_every_version()
 {
    let app = TestApp::spawn().await;
    let (mut browser, csrf) = admin(&app).await;
    let areas = db::catalogue::list_areas(&app.db).await.expect("areas");
    let area = area_id(&areas, "Monitoreo y Servicios Computacionales");

    // A name too short: the error is beside the name, and what was typed stays.
    let mut form = sheet_form(&csrf, &area);
    form.push(("name", "X"));
    let refused = browser.post("/admin/services/new", &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    error_beside(&refused, "f-name", "2 a 200 caracteres");
    assert!(refused.body.contains("Diez equipos por semana"));
    assert!(refused.body.contains("Número de inventario"));
    // Response after resolution (Q4): beside the response time.
    let mut form = sheet_form(&csrf, &area);
    form.retain(|(k, _)| *k != "response_target_minutes");
    form.push(("response_target_minutes", "5000"));
    form.push(("name", "Reparación de impresoras"));
    let refused = browser.post("/admin/services/new", &form).await;
    error_beside(&refused, "f-response_target_minutes", "no puede ser mayor");

    let mut form = sheet_form(&csrf, &area);
    form.push(("name", "Reparación de impresoras"));
    let created = browser.post("/admin/services/new", &form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location.expect("location");
    let id: i64 = location
        .trim_start_matches("/admin/services/")
        .split('?')
        .next()
        .and_then(|i| i.parse().ok())
        .expect("service id");
    let page = browser.get(&location).await;
    assert!(
        page.body.contains("versión 1 de su cédula"),
        "{}",
        page.body
    );
    assert_eq!(
        app.service_id("Reparación de impresoras").await,
        id,
        "offered at once"
    );

    // V7: the next version needs a change note; the old one stays.
    let sheet_path = format!("/admin/services/{id}/sheet");
    let mut form = sheet_form(&csrf, &area);
    form.retain(|(k, _)| *k != "resolution_target_minutes");
    form.push(("resolution_target_minutes", "2880"));
    form.push(("change_note", ""));
    let refused = browser.post(&sheet_path, &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    error_beside(&refused, "f-change_note", "Describa el cambio");
    assert!(refused.body.contains("value=\"2880\""), "typed value kept");
    form.retain(|(k, _)| *k != "change_note");
    form.push(("change_note", "Se amplía el tiempo de solución a dos días"));
    let revised = browser.post(&sheet_path, &form).await;
    assert_eq!(revised.status, StatusCode::SEE_OTHER, "{}", revised.body);
    let versions = db::catalogue::sheet_versions(&app.db, ventanilla_domain::ids::ServiceId(id))
        .await
        .expect("versions");
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].content.resolution_target_minutes, 2880);
    assert_eq!(versions[1].content.resolution_target_minutes, 1440);

    // Renaming and deactivating are versions too, with the note saying what changed.
    let settings_path = format!("/admin/services/{id}/settings");
    let refused = browser
        .post(
            &settings_path,
            &[("csrf", &csrf), ("name", " "), ("active", "1")],
        )
        .await;
    error_beside(&refused, "set-name", "2 a 200 caracteres");
    let saved = browser
        .post(
            &settings_path,
            &[
                ("csrf", &csrf),
                ("name", "Reparación de impresoras y escáneres"),
                ("reason", "Se atienden también escáneres"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let history = browser.get(&format!("/catalogue/{id}")).await;
    for text in [
        "Versión inicial",
        "Se amplía el tiempo de solución a dos días",
        "Nombre: «Reparación de impresoras» → «Reparación de impresoras y escáneres»",
        "Servicio desactivado",
    ] {
        assert!(history.body.contains(text), "history shows «{text}»");
    }
    let (_, offered) = app.get("/api/v1/services", &app.agent).await;
    assert!(
        !offered.to_string().contains("impresoras"),
        "an inactive service is no longer offered"
    );
    let list = browser.get("/admin/services").await;
    assert!(list.body.contains("Reparación de impresoras y escáneres"));
    assert!(list.body.contains("Inactivo"));
}

#[tokio::test]
async fn a19_escalation_levels_per_service_are_edited_with_errors_beside_the_row() {
    let app = TestApp::spawn().await;
    let (mut browser, csrf) = admin(&app).await;
    let service = app.service_id("Correo electrónico").await;
    let path = format!("/admin/services/{service}/escalation");
    let page = browser.get(&format!("/admin/services/{service}")).await;
    assert!(
        page.body
            .contains("name=\"pct_0\" type=\"number\" value=\"75\"")
    );
    let refused = browser
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("rows", "3"),
                ("pct_0", "50"),
                ("n_0_assignee", "1"),
                ("pct_2", "90"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    error_beside(&refused, "esc-notify-2", "Indique a quién avisar");
    assert!(refused.body.contains("value=\"90\""), "typed value kept");
    let saved = browser
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("rows", "3"),
                ("pct_0", "50"),
                ("n_0_assignee", "1"),
                ("pct_2", "90"),
                ("n_2_coordinator", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, body) = app
        .get(
            &format!("/api/v1/services/{service}/escalation"),
            &app.agent,
        )
        .await;
    let percents: Vec<i64> = body["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .map(|l| l["level_percent"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(percents, vec![50, 90, 100]);
}

#[tokio::test]
async fn areas_and_units_are_created_and_edited_with_errors_beside_the_field() {
    let app = TestApp::spawn().await;
    let (mut browser, csrf) = admin(&app).await;
    let refused = browser
        .post(
            "/admin/areas",
            &[
                ("csrf", &csrf),
                ("name", "Redes nuevas"),
                ("email", "no-es-correo"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"err-na-email\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"Redes nuevas\""),
        "typed name kept"
    );
    let created = browser
        .post(
            "/admin/areas",
            &[
                ("csrf", &csrf),
                ("name", "Redes nuevas"),
                ("email", "redes@example.org"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let areas = db::catalogue::list_areas(&app.db).await.expect("areas");
    let new_id = area_id(&areas, "Redes nuevas");
    // Renaming to a name another area has: beside that area's name, its box open.
    let taken = &areas
        .iter()
        .find(|a| a.name != "Redes nuevas")
        .expect("another area")
        .name;
    let refused = browser
        .post(
            &format!("/admin/areas/{new_id}"),
            &[("csrf", &csrf), ("name", taken), ("email", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    error_beside(
        &refused,
        &format!("area-{new_id}-name"),
        "Ya existe el área",
    );
    let renamed = browser
        .post(
            &format!("/admin/areas/{new_id}"),
            &[
                ("csrf", &csrf),
                ("name", "Redes y telefonía"),
                ("email", ""),
            ],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    let area = db::catalogue::area(
        &app.db,
        ventanilla_domain::ids::AreaId(new_id.parse().expect("id")),
    )
    .await
    .expect("area")
    .expect("exists");
    assert_eq!(
        (area.name.as_str(), area.email),
        ("Redes y telefonía", None)
    );

    let refused = browser
        .post(
            "/admin/units",
            &[
                ("csrf", &csrf),
                ("acronym", "ESCOM"),
                ("name", "Otra"),
                ("level", ""),
            ],
        )
        .await;
    error_beside(&refused, "nu-acronym", "Ya existe una unidad");
    let created = browser
        .post(
            "/admin/units",
            &[
                ("csrf", &csrf),
                ("acronym", "UPX"),
                ("name", "Unidad de prueba"),
                ("level", "superior"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let unit = app.unit_id("UPX").await;
    let edited = browser
        .post(
            &format!("/admin/units/{unit}"),
            &[
                ("csrf", &csrf),
                ("acronym", "UPX"),
                ("name", "Unidad Politécnica X"),
                ("level", "superior"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER);
    let page = browser.get("/admin/areas").await;
    assert!(page.body.contains("Unidad Politécnica X"));
}

async fn due_at(app: &TestApp, number: &str) -> i64 {
    sqlx::query_scalar::<_, Option<i64>>("SELECT sla_due_at FROM requests WHERE number = $1")
        .bind(number)
        .fetch_one(app.db.read())
        .await
        .expect("due")
        .expect("a running clock")
}

#[tokio::test]
async fn l3_l4_the_calendar_page_edits_hours_and_exceptions_and_recomputes_deadlines() {
    let app = TestApp::spawn().await;
    let requester = app.requester(7, "none").await;
    let number = app
        .phone_request(requester, app.service_id("Correo electrónico").await)
        .await;
    let before = due_at(&app, &number).await;
    let (mut browser, csrf) = admin(&app).await;

    // Overlapping intervals: beside Monday, named in Spanish, what was typed kept.
    let mut weekly = vec![("csrf", csrf.as_str()), ("zone", "America/Mexico_City")];
    for day in ["tuesday", "wednesday", "thursday", "friday"] {
        weekly.push((day, "08:00-20:00"));
    }
    weekly.push(("monday", "08:00-14:00, 13:00-20:00"));
    let refused = browser.post("/admin/calendar/weekly", &weekly).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    error_beside(&refused, "wk-monday", "lunes se traslapan");
    assert!(refused.body.contains("value=\"08:00-14:00, 13:00-20:00\""));
    weekly.pop();
    weekly.push(("monday", "8 a 14"));
    let refused = browser.post("/admin/calendar/weekly", &weekly).await;
    error_beside(&refused, "wk-monday", "08:00-20:00");

    // An exception that ends before it starts: beside «Hasta».
    let refused = browser
        .post(
            "/admin/calendar/exceptions",
            &[
                ("csrf", &csrf),
                ("start", "2026-03-12"),
                ("end", "2026-03-01"),
                ("kind", "vacation"),
                ("name", "Puente"),
                ("hours", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    error_beside(&refused, "exc-end", "«Puente»");
    assert!(refused.body.contains("value=\"Puente\""));

    // A law day on the deadline's date moves the deadline (recomputed at once).
    let due_date = jiff::Timestamp::from_millisecond(before)
        .expect("due")
        .in_tz("America/Mexico_City")
        .expect("zone")
        .date()
        .to_string();
    let added = browser
        .post(
            "/admin/calendar/exceptions",
            &[
                ("csrf", &csrf),
                ("start", &due_date),
                ("end", ""),
                ("kind", "law_holiday"),
                ("name", "Día de asueto decretado"),
                ("hours", ""),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let after = due_at(&app, &number).await;
    assert!(after > before, "the deadline moved past the new rest day");
    let page = browser
        .get(added.location.as_deref().expect("back to the page"))
        .await;
    assert!(page.body.contains("se recalcularon los plazos de"));
    assert!(page.body.contains("Día de asueto decretado"));
    let (_, calendar) = app.get("/api/v1/calendar", &app.agent).await;
    let exceptions = calendar["exceptions"].as_array().expect("exceptions");
    let index = exceptions
        .iter()
        .position(|e| e["name"] == "Día de asueto decretado")
        .expect("stored");

    // Removing it brings the deadline back.
    let index_text = index.to_string();
    let removed = browser
        .post(
            "/admin/calendar/exceptions/delete",
            &[
                ("csrf", &csrf),
                ("index", &index_text),
                ("start", &due_date),
                ("name", "Día de asueto decretado"),
            ],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert_eq!(due_at(&app, &number).await, before);
    let stale = browser
        .post(
            "/admin/calendar/exceptions/delete",
            &[
                ("csrf", &csrf),
                ("index", &index_text),
                ("start", &due_date),
                ("name", "Día de asueto decretado"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);

    // Weekly hours: Monday until 14:00 only.
    weekly.pop();
    weekly.push(("monday", "08:00-14:00"));
    let saved = browser.post("/admin/calendar/weekly", &weekly).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, calendar) = app.get("/api/v1/calendar", &app.agent).await;
    assert_eq!(calendar["weekly"]["monday"][0]["end"], "14:00");
    assert_eq!(calendar["weekly"]["saturday"], json!([]));

    // iCalendar: a bad text is refused beside the box; a good one adds its events; export.
    let refused = browser
        .post(
            "/admin/calendar/ics",
            &[("csrf", &csrf), ("ics", "no es ics")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"err-ics-ics\""),
        "{}",
        refused.body
    );
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//prueba//ES\r\nBEGIN:VEVENT\r\nUID:1@prueba\r\nDTSTART;VALUE=DATE:20260720\r\nDTEND;VALUE=DATE:20260801\r\nSUMMARY:Vacaciones de verano\r\nCATEGORIES:vacation\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let imported = browser
        .post("/admin/calendar/ics", &[("csrf", &csrf), ("ics", ics)])
        .await;
    assert_eq!(imported.status, StatusCode::SEE_OTHER, "{}", imported.body);
    let export = browser.get("/admin/calendar.ics").await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.body.contains("Vacaciones de verano"),
        "{}",
        export.body
    );
}

#[tokio::test]
async fn staff_accounts_are_created_changed_deactivated_and_given_a_new_password() {
    let app = TestApp::spawn().await;
    let (mut browser, csrf) = admin(&app).await;
    let me = db::staff::by_username(&app.db, "admin.web")
        .await
        .expect("db")
        .expect("admin");
    let new = |password: &'static str, role: &'static str| {
        vec![
            ("full_name", "Laura Méndez"),
            ("username", "laura.mendez"),
            ("email", "laura@example.org"),
            ("role", role),
            ("area_id", ""),
            ("password", password),
        ]
    };
    let mut form = new("clave9", "agent");
    form.push(("csrf", &csrf));
    let refused = browser.post("/admin/staff", &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    error_beside(&refused, "st-password", "al menos 10 caracteres");
    assert!(
        refused.body.contains("value=\"laura.mendez\""),
        "typed kept"
    );
    assert!(
        !refused.body.contains("clave9"),
        "a password is not sent back"
    );
    let mut form = new("una-clave-larga", "engineer");
    form.push(("csrf", &csrf));
    let refused = browser.post("/admin/staff", &form).await;
    error_beside(&refused, "st-area_id", "área de atención");
    let mut form = new("una-clave-larga", "agent");
    form.push(("csrf", &csrf));
    let created = browser.post("/admin/staff", &form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let laura = db::staff::by_username(&app.db, "laura.mendez")
        .await
        .expect("db")
        .expect("created");
    let mut other = Browser::new(&app);
    let signed = other.sign_in("laura.mendez", "una-clave-larga").await;
    assert_eq!(
        signed.status,
        StatusCode::SEE_OTHER,
        "the new account signs in"
    );

    // Role and area: an engineer needs an area.
    let areas = db::catalogue::list_areas(&app.db).await.expect("areas");
    let area = area_id(&areas, "Conectividad y Transmisiones");
    let role_path = format!("/admin/staff/{}/role", laura.id);
    let refused = browser
        .post(
            &role_path,
            &[("csrf", &csrf), ("role", "engineer"), ("area_id", "")],
        )
        .await;
    error_beside(&refused, "ro-area_id", "área de atención");
    let changed = browser
        .post(
            &role_path,
            &[("csrf", &csrf), ("role", "engineer"), ("area_id", &area)],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    let laura_now = db::staff::by_id(&app.db, laura.id)
        .await
        .expect("db")
        .expect("x");
    assert_eq!(laura_now.role, Role::Engineer);

    // An administrator cannot deactivate themself, nor drop their own role.
    let refused = browser
        .post(
            &format!("/admin/staff/{}/active", me.id),
            &[("csrf", &csrf), ("active", "0")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("No puede desactivar su propia cuenta")
    );
    let refused = browser
        .post(
            &format!("/admin/staff/{}/role", me.id),
            &[("csrf", &csrf), ("role", "agent"), ("area_id", "")],
        )
        .await;
    error_beside(&refused, "ro-role", "No puede quitarse");

    // Deactivated: the session ends and signing in fails; reactivated: it works again.
    let active_path = format!("/admin/staff/{}/active", laura.id);
    let off = browser
        .post(&active_path, &[("csrf", &csrf), ("active", "0")])
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert_eq!(
        other.get("/").await.status,
        StatusCode::SEE_OTHER,
        "session ended"
    );
    let mut again = Browser::new(&app);
    assert_eq!(
        again
            .sign_in("laura.mendez", "una-clave-larga")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let on = browser
        .post(&active_path, &[("csrf", &csrf), ("active", "1")])
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);

    // A new password: too short beside the field; then the new one works, the old one not.
    let password_path = format!("/admin/staff/{}/password", laura.id);
    let refused = browser
        .post(&password_path, &[("csrf", &csrf), ("password", "corta")])
        .await;
    error_beside(&refused, "pw-password", "al menos 10 caracteres");
    let reset = browser
        .post(
            &password_path,
            &[("csrf", &csrf), ("password", "otra-clave-larga")],
        )
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    let mut fresh = Browser::new(&app);
    assert_eq!(
        fresh
            .sign_in("laura.mendez", "una-clave-larga")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        fresh
            .sign_in("laura.mendez", "otra-clave-larga")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let list = browser.get("/admin/staff").await;
    assert!(list.body.contains("laura.mendez") && list.body.contains("Ingeniero de área"));
}

#[tokio::test]
async fn a1_the_script_greeting_is_edited_by_the_administrator_and_shown_to_the_agent() {
    let app = TestApp::spawn().await;
    let (mut browser, csrf) = admin(&app).await;
    account(&app, "agente.web", Role::Agent, None).await;
    let mut agent = Browser::new(&app);
    agent.sign_in("agente.web", PASSWORD).await;
    let script = agent.get("/requests/new").await;
    assert!(
        script
            .body
            .contains("Centro de Atención a Usuarios, le atiende Persona agente.web"),
        "today's text by default"
    );
    let page = browser.get("/admin/greeting").await;
    assert!(
        page.body
            .contains("Centro de Atención a Usuarios, le atiende {name}")
    );
    let long = "a".repeat(501);
    let refused = browser
        .post(
            "/admin/greeting",
            &[
                ("csrf", &csrf),
                ("greeting_es", &long),
                ("greeting_en", "Hello"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    error_beside(&refused, "gr-greeting_es", "501 caracteres");
    assert!(refused.body.contains(&long), "typed text kept");
    let saved = browser
        .post(
            "/admin/greeting",
            &[
                ("csrf", &csrf),
                (
                    "greeting_es",
                    "CAU del IPN, buenos días; le atiende {name}.",
                ),
                ("greeting_en", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let script = agent.get("/requests/new").await;
    assert!(
        script
            .body
            .contains("CAU del IPN, buenos días; le atiende Persona agente.web."),
        "{}",
        script.body
    );
    let reset = browser
        .post(
            "/admin/greeting",
            &[
                ("csrf", &csrf),
                ("greeting_es", "x"),
                ("greeting_en", ""),
                ("reset", "1"),
            ],
        )
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    let script = agent.get("/requests/new").await;
    assert!(
        script
            .body
            .contains("Centro de Atención a Usuarios, le atiende")
    );
}

/// The API endpoints added with the pages (one way to do each thing): the same rules answer
/// as problems.
#[tokio::test]
async fn v7_the_api_renames_services_edits_areas_and_units_and_manages_accounts() {
    let app = TestApp::spawn().await;
    let service = app.service_id("Correo electrónico").await;
    let path = format!("/api/v1/services/{service}");
    let body = json!({"name": "Correo institucional", "active": true, "reason": "Nombre oficial"});
    let forbidden = app
        .call(Method::PATCH, &path, &app.agent, Some(body.clone()))
        .await;
    assert_eq!(forbidden.0, StatusCode::FORBIDDEN);
    let (status, renamed) = app.call(Method::PATCH, &path, &app.admin, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "Correo institucional");
    assert_eq!(renamed["current_version"], 2);

    let areas = db::catalogue::list_areas(&app.db).await.expect("areas");
    let got = app
        .call(
            Method::PUT,
            &format!("/api/v1/areas/{}", areas[0].id),
            &app.admin,
            Some(json!({"name": areas[1].name, "email": null})),
        )
        .await;
    assert_problem(&got, StatusCode::CONFLICT, "area_exists", Some("name"));
    let unit = app.unit_id("ESCOM").await;
    let got = app
        .call(
            Method::PUT,
            &format!("/api/v1/units/{unit}"),
            &app.admin,
            Some(json!({"acronym": "", "name": "Escuela"})),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unit_incomplete",
        Some("acronym"),
    );

    let agent = db::staff::by_username(&app.db, "agente")
        .await
        .expect("db")
        .expect("demo agent");
    let admin = db::staff::by_username(&app.db, "admin")
        .await
        .expect("db")
        .expect("demo admin");
    let got = app
        .call(
            Method::PATCH,
            &format!("/api/v1/staff/{}", admin.id),
            &app.admin,
            Some(json!({"active": false})),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "deactivate_self",
        Some("active"),
    );
    let (status, changed) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/staff/{}", agent.id),
            &app.admin,
            Some(json!({"role": "supervisor", "active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["role"], "supervisor");
    assert_eq!(changed["active"], false);
    let (status, _) = app.get("/api/v1/me", &app.agent).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a deactivated account's token stops"
    );
    let got = app
        .call(
            Method::PUT,
            &format!("/api/v1/staff/{}/password", agent.id),
            &app.admin,
            Some(json!({"password": "corta"})),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_too_short",
        Some("password"),
    );
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/staff/{}/password", agent.id),
            &app.admin,
            Some(json!({"password": "una-clave-muy-larga"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn l10_the_complaints_log_lists_with_filters_and_advances_one_step_at_a_time() {
    let app = TestApp::spawn().await;
    let (status, created) = app
        .post(
            "/api/v1/complaints",
            &app.agent,
            json!({"kind": "complaint", "source": "phone",
                   "description": "Nadie respondió mi solicitud en tres días."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().expect("id");
    account(&app, "super.web", Role::Supervisor, None).await;
    account(&app, "agente.web", Role::Agent, None).await;
    let mut agent = Browser::new(&app);
    agent.sign_in("agente.web", PASSWORD).await;
    assert!(!agent.get("/").await.body.contains(">Quejas</a>"));
    assert_eq!(agent.get("/complaints").await.status, StatusCode::FORBIDDEN);

    let mut supervisor = Browser::new(&app);
    supervisor.sign_in("super.web", PASSWORD).await;
    let log = supervisor.get("/complaints").await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.body.contains(">Quejas</a>"), "nav entry");
    assert!(log.body.contains("Nadie respondió mi solicitud"));
    let filtered = supervisor.get("/complaints?kind=suggestion").await;
    assert!(!filtered.body.contains("Nadie respondió mi solicitud"));
    let filtered = supervisor
        .get("/complaints?status=received&kind=complaint")
        .await;
    assert!(filtered.body.contains("Nadie respondió mi solicitud"));

    let path = format!("/complaints/{id}");
    let entry = supervisor.get(&path).await;
    assert!(
        entry.body.contains("Siguiente paso: Analizada"),
        "{}",
        entry.body
    );
    let csrf = Browser::token(&entry);
    let advance = format!("{path}/advance");
    let refused = supervisor
        .post(
            &advance,
            &[
                ("csrf", &csrf),
                ("status", "analysed"),
                ("note", ""),
                ("due_date", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    error_beside(&refused, "adv-note", "Escriba la evaluación");
    let refused = supervisor
        .post(
            &advance,
            &[
                ("csrf", &csrf),
                ("status", "analysed"),
                ("note", "Se revisó con el área"),
                ("due_date", "mañana"),
            ],
        )
        .await;
    error_beside(&refused, "adv-due_date", "AAAA-MM-DD");
    assert!(
        refused.body.contains("Se revisó con el área"),
        "typed note kept"
    );
    let done = supervisor
        .post(
            &advance,
            &[
                ("csrf", &csrf),
                ("status", "analysed"),
                ("note", "Se revisó con el área"),
                ("due_date", "2026-03-20"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let entry = supervisor.get(&path).await;
    assert!(entry.body.contains("Siguiente paso: Acción tomada"));
    assert!(entry.body.contains("2026-03-20 20:00"));
    // Skipping a step is refused (the same rule as the API).
    let skipped = supervisor
        .post(
            &advance,
            &[
                ("csrf", &csrf),
                ("status", "closed"),
                ("note", "Cierre"),
                ("due_date", ""),
            ],
        )
        .await;
    assert_eq!(skipped.status, StatusCode::CONFLICT);
}

/// L3, L4: the calendar page imports a chosen .ics file like pasted text; a file that is not
/// iCalendar (or both a file and pasted text) is refused beside the file field.
#[tokio::test]
async fn the_calendar_imports_a_chosen_ics_file_and_refuses_other_files_beside_the_field() {
    let app = TestApp::spawn().await;
    let (mut browser, csrf) = admin(&app).await;
    let page = browser.get("/admin/calendar").await;
    assert!(
        page.body.contains("enctype=\"multipart/form-data\"")
            && page.body.contains("name=\"ics_file\" type=\"file\""),
        "{}",
        page.body
    );

    let not_ics = browser
        .post_multipart(
            "/admin/calendar/ics",
            &[("csrf", &csrf), ("ics", "")],
            &[(
                "ics_file",
                "vacaciones.pdf",
                b"%PDF-1.4 no es un calendario".to_vec(),
            )],
        )
        .await;
    assert_eq!(not_ics.status, StatusCode::UNPROCESSABLE_ENTITY);
    let beside = not_ics
        .body
        .split("id=\"err-ics-ics_file\"")
        .nth(1)
        .expect("the reason beside the file field");
    assert!(
        beside.contains("no es un archivo iCalendar"),
        "{}",
        not_ics.body
    );
    let binary = browser
        .post_multipart(
            "/admin/calendar/ics",
            &[("csrf", &csrf)],
            &[("ics_file", "foto.ics", vec![0xff, 0xfe, 0x00, 0x42])],
        )
        .await;
    assert_eq!(binary.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(binary.body.contains("id=\"err-ics-ics_file\""));
    assert!(
        binary
            .body
            .contains("«foto.ics» no es un archivo iCalendar")
    );

    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//prueba//ES\r\nBEGIN:VEVENT\r\nUID:2@prueba\r\nDTSTART;VALUE=DATE:20261102\r\nSUMMARY:Día de Muertos\r\nCATEGORIES:institutional\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let both = browser
        .post_multipart(
            "/admin/calendar/ics",
            &[("csrf", &csrf), ("ics", ics)],
            &[("ics_file", "muertos.ics", ics.as_bytes().to_vec())],
        )
        .await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(both.body.contains("no los dos"), "{}", both.body);
    assert!(
        both.body.contains("Día de Muertos"),
        "the pasted text is kept"
    );

    let imported = browser
        .post_multipart(
            "/admin/calendar/ics",
            &[("csrf", &csrf), ("ics", "")],
            &[("ics_file", "muertos.ics", ics.as_bytes().to_vec())],
        )
        .await;
    assert_eq!(imported.status, StatusCode::SEE_OTHER, "{}", imported.body);
    let (_, calendar) = app.get("/api/v1/calendar", &app.agent).await;
    let names: Vec<&str> = calendar["exceptions"]
        .as_array()
        .expect("exceptions")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(names.contains(&"Día de Muertos"), "{calendar}");
    let export = browser.get("/admin/calendar.ics").await;
    assert!(export.body.contains("Día de Muertos"), "{}", export.body);
}
