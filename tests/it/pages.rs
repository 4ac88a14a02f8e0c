//! The web pages over plain HTTP (no browser): sign-in, lock-out, CSRF refusal, form errors in
//! Spanish beside the field with the typed values kept, the referral path (A2, A3), language.

use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Client, StatusCode, redirect};
use ventanilla::db;
use ventanilla::db::staff::NewStaff;
use ventanilla_domain::permissions::Role;

use crate::helpers::TestApp;

pub const PASSWORD: &str = "contraseña-de-prueba";

/// Creates a staff account with a known password; engineers join the area named.
pub async fn account(app: &TestApp, username: &str, role: Role, area: Option<&str>) {
    let area_id = match area {
        Some(name) => db::catalogue::list_areas(&app.db)
            .await
            .ok()
            .and_then(|areas| areas.into_iter().find(|a| a.name == name))
            .map(|a| ventanilla_domain::ids::AreaId(a.id)),
        None => None,
    };
    let created = db::staff::create(
        &app.db,
        NewStaff {
            username,
            full_name: &format!("Persona {username}"),
            email: None,
            role,
            area_id,
            password: PASSWORD,
        },
        0,
    )
    .await;
    assert!(created.is_ok(), "account {username}");
}

/// A browser without JavaScript: keeps cookies by hand and never follows redirects.
pub struct Browser {
    pub(crate) client: Client,
    pub(crate) base: String,
    cookies: Vec<(String, String)>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            client: Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .expect("client"),
            base: app.base.clone(),
            cookies: Vec::new(),
        }
    }

    pub(crate) fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.iter().any(|(k, v)| k == name && !v.is_empty())
    }

    pub(crate) async fn keep(&mut self, response: reqwest::Response) -> Page {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap_or("");
            assert!(
                text.contains("HttpOnly") && text.contains("SameSite=Lax"),
                "{text}"
            );
            let pair = text.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.retain(|(name, _)| name != k);
                if !v.is_empty() {
                    self.cookies.push((k.to_string(), v.to_string()));
                }
            }
        }
        Page {
            status: response.status(),
            location: response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(String::from),
            body: response.text().await.expect("body"),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("get");
        self.keep(response).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(path, form, &[]).await
    }

    pub async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(form);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("post");
        self.keep(response).await
    }

    /// The CSRF token of the last page's forms.
    pub fn token(page: &Page) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = page.body.find(marker).expect("a csrf field") + marker.len();
        page.body[start..]
            .split('"')
            .next()
            .unwrap_or("")
            .to_string()
    }

    pub async fn sign_in(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        let token = Browser::token(&form);
        self.post(
            "/login",
            &[
                ("csrf", &token),
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }
}

#[tokio::test]
async fn pages_need_a_session_and_sign_in_sets_a_safe_cookie() {
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    let mut browser = Browser::new(&app);
    let home = browser.get("/requests/new").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location.as_deref(), Some("/login?next=/requests/new"));
    let signed = browser.sign_in("agente.web", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert!(browser.has_cookie("vt_session"));
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("<html lang=\"es\">"));
    assert!(
        home.body.contains("Nueva solicitud"),
        "agents see the script"
    );
    // The session id is stored hashed only.
    let stored: Vec<String> = sqlx::query_scalar("SELECT session_hash FROM web_sessions")
        .fetch_all(app.db.read())
        .await
        .expect("sessions");
    let secret = browser
        .cookies
        .iter()
        .find(|(k, _)| k == "vt_session")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], secret);
    // Sign-out ends the session on the server too.
    let token = Browser::token(&home);
    let out = browser.post("/logout", &[("csrf", &token)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions")
        .fetch_one(app.db.read())
        .await
        .expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn five_failed_sign_ins_lock_the_username_for_fifteen_minutes() {
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    let mut browser = Browser::new(&app);
    for _ in 0..5 {
        let page = browser.sign_in("agente.web", "equivocada-123").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("Usuario o contraseña incorrectos."));
    }
    let locked = browser.sign_in("agente.web", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("bloqueada"), "{}", locked.body);
    assert!(!browser.has_cookie("vt_session"));
    app.set_now("2026-03-10T10:16:00-06:00[America/Mexico_City]");
    let after = browser.sign_in("agente.web", PASSWORD).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "{}", after.body);
    assert!(browser.has_cookie("vt_session"));
}

#[tokio::test]
async fn a_post_without_the_sessions_token_or_from_another_site_is_refused() {
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    let requester = app.requester(31, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let number = app.phone_request(requester, service).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("agente.web", PASSWORD).await;
    let page = browser.get(&format!("/requests/{number}")).await;
    let token = Browser::token(&page);
    let path = format!("/requests/{number}/comment");

    let missing = browser.post(&path, &[("body", "Hola")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.body.contains("CSRF"));
    let wrong = browser
        .post(&path, &[("csrf", "not-the-token"), ("body", "Hola")])
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let cross_origin = browser
        .post_with(
            &path,
            &[("csrf", &token), ("body", "Hola")],
            &[(ORIGIN.as_str(), "https://evil.example")],
        )
        .await;
    assert_eq!(cross_origin.status, StatusCode::FORBIDDEN);
    let cross_site = browser
        .post_with(
            &path,
            &[("csrf", &token), ("body", "Hola")],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert!(
        !detail["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .any(|e| e["kind"] == "comment"),
        "no refused comment was written"
    );
    let ok = browser
        .post_with(
            &path,
            &[("csrf", &token), ("body", "Hola")],
            &[(ORIGIN.as_str(), app.base.as_str())],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    // Sign-in itself needs the sign-in token.
    let mut stranger = Browser::new(&app);
    let forged = stranger
        .post(
            "/login",
            &[("username", "agente.web"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

fn script_form<'a>(token: &'a str, curp: &'a str, unit: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", token),
        ("channel", "phone"),
        ("full_name", "Wilfrido Boxo"),
        ("curp", curp),
        ("unit_id", unit),
        ("udi_role", "none"),
        ("email", "wboxo@example.org"),
        ("subject", ""),
        ("description", "No puede entrar a su correo."),
    ]
}

#[tokio::test]
async fn the_script_keeps_what_was_typed_and_says_in_spanish_what_is_wrong() {
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    let unit = app.unit_id("ESCOM").await.to_string();
    let mut browser = Browser::new(&app);
    browser.sign_in("agente.web", PASSWORD).await;
    let form = browser.get("/requests/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let token = Browser::token(&form);
    // A CURP with a wrong check digit, no subject, no service.
    let page = browser
        .post(
            "/requests/new",
            &script_form(&token, "BOXW310820HNERXN08", &unit),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("value=\"Wilfrido Boxo\""),
        "typed name kept"
    );
    assert!(
        page.body.contains("No puede entrar a su correo."),
        "typed text kept"
    );
    assert!(
        page.body.contains("id=\"err-curp\""),
        "error beside the CURP"
    );
    assert!(
        page.body.contains("id=\"err-subject\""),
        "error beside the subject"
    );
    assert!(
        page.body
            .contains("El asunto debe tener entre 3 y 200 caracteres")
    );
    assert!(page.body.contains("id=\"err-service_id\""));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM requesters")
        .fetch_one(app.db.read())
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing is written while the form has errors");

    // The CURP endpoint answers the domain's Spanish message as it is typed.
    let check = browser.get("/ui/curp?curp=BOXW310820HNERXN08").await;
    assert!(check.body.contains("field-error"), "{}", check.body);
    let good = browser.get("/ui/curp?curp=BOXW310820HNERXN09").await;
    assert!(good.body.contains("CURP válida."), "{}", good.body);
}

#[tokio::test]
async fn the_script_registers_a_request_and_an_ineligible_person_is_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    let unit = app.unit_id("ESCOM").await.to_string();
    let open_service = app.service_id("Correo electrónico").await.to_string();
    let udi_service = app.service_id("Web hosting").await.to_string();
    let mut browser = Browser::new(&app);
    browser.sign_in("agente.web", PASSWORD).await;
    let token = Browser::token(&browser.get("/requests/new").await);
    let mut form = script_form(&token, "BOXW310820HNERXN09", &unit);
    form.retain(|(k, _)| *k != "subject");
    form.push(("subject", "Sin acceso al correo"));

    // L1: an ordinary requester may not ask for a udi service.
    let mut refused = form.clone();
    refused.push(("service_id", &udi_service));
    let page = browser.post("/requests/new", &refused).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("Jefe de la Unidad de Informática"),
        "the reason is shown"
    );

    let mut accepted = form.clone();
    accepted.push(("service_id", &open_service));
    let created = browser.post("/requests/new", &accepted).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location.expect("location");
    assert!(location.starts_with("/requests/SS-2026-"), "{location}");
    let page = browser.get(&location).await;
    assert!(page.body.contains("id=\"created-number\""));
    assert!(
        page.body.contains("Asignada"),
        "assigned to the sheet's area (A11)"
    );

    // The home queue shows it, and the search finds it without accents.
    let home = browser.get("/").await;
    let number = location
        .trim_start_matches("/requests/")
        .split('?')
        .next()
        .unwrap_or("");
    assert!(home.body.contains(number));
    // The counts the home page fetches again every 30 seconds.
    let live = browser.get("/ui/home").await;
    assert!(live.body.contains("id=\"count-open\">1<"), "{}", live.body);
    assert!(live.body.contains(number));
    let found = browser.get("/search?q=boxo+CORREO").await;
    assert!(found.body.contains(number), "{}", found.body);
    let requester: i64 = sqlx::query_scalar("SELECT id FROM requesters")
        .fetch_one(app.db.read())
        .await
        .expect("requester");
    let before =
        db::requesters::access_count(&app.db, ventanilla_domain::ids::RequesterId(requester))
            .await
            .expect("count");
    let person = browser.get(&format!("/requesters/{requester}")).await;
    assert_eq!(person.status, StatusCode::OK);
    assert!(person.body.contains(number));
    let after =
        db::requesters::access_count(&app.db, ventanilla_domain::ids::RequesterId(requester))
            .await
            .expect("count");
    assert!(after > before, "the view is logged");
}

#[tokio::test]
async fn a_need_outside_the_catalogue_records_where_the_person_was_referred_a2_a3() {
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("agente.web", PASSWORD).await;
    let token = Browser::token(&browser.get("/requests/new").await);
    let missing = browser
        .post(
            "/requests/new",
            &[
                ("csrf", &token),
                ("channel", "phone"),
                ("not_in_catalogue", "1"),
                (
                    "description",
                    "Quiere que le reparen su impresora personal.",
                ),
            ],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("id=\"err-referred_to\""));
    let done = browser
        .post(
            "/requests/new",
            &[
                ("csrf", &token),
                ("channel", "phone"),
                ("not_in_catalogue", "1"),
                (
                    "description",
                    "Quiere que le reparen su impresora personal.",
                ),
                ("referred_to", "Taller de mantenimiento de su unidad"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    assert_eq!(db::web::referral_count(&app.db).await.ok(), Some(1));
    let requests: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM requests")
        .fetch_one(app.db.read())
        .await
        .expect("count");
    assert_eq!(requests, 0, "no number is issued for a referral");
}

#[tokio::test]
async fn the_english_switch_changes_the_texts_and_the_lang_attribute() {
    let app = TestApp::spawn().await;
    account(
        &app,
        "ing.web",
        Role::Engineer,
        Some("Monitoreo y Servicios Computacionales"),
    )
    .await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ing.web", PASSWORD).await;
    let home = browser.get("/").await;
    assert!(
        !home.body.contains("Nueva solicitud"),
        "engineers do not register"
    );
    let token = Browser::token(&home);
    let switched = browser
        .post("/lang", &[("csrf", &token), ("to", "en"), ("back", "/")])
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    let home = browser.get("/").await;
    assert!(home.body.contains("<html lang=\"en\">"));
    assert!(home.body.contains("Assigned to me"));
}

#[tokio::test]
async fn the_request_page_offers_only_the_steps_the_role_may_take_from_the_status() {
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    account(&app, "coord.web", Role::Coordinator, None).await;
    account(
        &app,
        "ing.web",
        Role::Engineer,
        Some("Monitoreo y Servicios Computacionales"),
    )
    .await;
    account(
        &app,
        "ing.otra",
        Role::Engineer,
        Some("Conectividad y Transmisiones"),
    )
    .await;
    let requester = app.requester(51, "none").await;
    let number = app
        .phone_request(requester, app.service_id("Correo electrónico").await)
        .await;
    let path = format!("/requests/{number}");
    let offered = |body: &str| -> Vec<String> {
        body.match_indices("id=\"do-")
            .map(|(i, _)| body[i + 7..].split('"').next().unwrap_or("").to_string())
            .collect()
    };
    let mut agent = Browser::new(&app);
    agent.sign_in("agente.web", PASSWORD).await;
    let page = agent.get(&path).await;
    assert_eq!(
        offered(&page.body),
        ["assign", "comment", "upload", "escalate", "conditions"],
        "an agent assigns, comments, attaches (Q3), escalates (A19) and changes conditions; no start, no cancel"
    );
    let mut coordinator = Browser::new(&app);
    coordinator.sign_in("coord.web", PASSWORD).await;
    let page = coordinator.get(&path).await;
    assert!(offered(&page.body).contains(&"cancel".to_string()), "A15");
    let mut engineer = Browser::new(&app);
    engineer.sign_in("ing.web", PASSWORD).await;
    let page = engineer.get(&path).await;
    assert_eq!(offered(&page.body), ["start", "comment", "upload"]);
    assert!(!page.body.contains("id=\"form-conditions\""));

    // An engineer of another area is offered nothing, and a forged step is refused in Spanish.
    let mut other = Browser::new(&app);
    other.sign_in("ing.otra", PASSWORD).await;
    let page = other.get(&path).await;
    assert_eq!(offered(&page.body), ["comment", "upload"]);
    let token = Browser::token(&page);
    let refused = other
        .post(&format!("{path}/step/start"), &[("csrf", &token)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("Sólo un ingeniero del área asignada"),
        "{}",
        refused.body
    );
    let (_, detail) = app.get(&format!("/api/v1{path}"), &app.agent).await;
    assert_eq!(detail["status"], "assigned");
}

#[tokio::test]
async fn an_unticked_requirement_leaves_the_request_to_confirm_until_the_agent_confirms_it_v5() {
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    let area = db::catalogue::list_areas(&app.db)
        .await
        .ok()
        .and_then(|areas| {
            areas
                .into_iter()
                .find(|a| a.name == "Monitoreo y Servicios Computacionales")
        })
        .map(|a| ventanilla_domain::ids::AreaId(a.id))
        .expect("area");
    let sheet = ventanilla_domain::catalogue::SheetContent {
        area_id: area,
        eligibility: ventanilla_domain::catalogue::Eligibility::Open,
        requirements: vec!["Oficio firmado".into(), "Número de extensión".into()],
        first_level_tests: vec!["Verificar que la cuenta existe".into()],
        required_attachments: vec![],
        capacity: String::new(),
        response_target_minutes: 60,
        resolution_target_minutes: 240,
        attention_policy: String::new(),
        procedure_refs: vec![],
    };
    let service = db::catalogue::create_service(&app.db, "Respaldo de buzón", sheet, None, 0)
        .await
        .expect("service")
        .0
        .to_string();
    let unit = app.unit_id("ESCOM").await.to_string();
    let mut browser = Browser::new(&app);
    browser.sign_in("agente.web", PASSWORD).await;
    let panel = browser
        .get(&format!(
            "/ui/service-panel?service_id={service}&udi_role=none&channel=phone"
        ))
        .await;
    assert!(
        panel.body.contains("Oficio firmado")
            && panel.body.contains("Verificar que la cuenta existe")
    );
    let token = Browser::token(&browser.get("/requests/new").await);
    let mut form = script_form(&token, "BOXW310820HNERXN09", &unit);
    form.retain(|(k, _)| *k != "subject");
    form.extend([
        ("subject", "Respaldo del buzón"),
        ("service_id", service.as_str()),
        ("req", "Número de extensión"),
        ("test", "Verificar que la cuenta existe"),
    ]);
    let created = browser.post("/requests/new", &form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location.expect("location");
    let page = browser.get(&location).await;
    assert!(page.body.contains("Requisitos por confirmar"), "V5");
    assert!(page.body.contains("id=\"do-confirm_requirements\""));
    let number = location
        .trim_start_matches("/requests/")
        .split('?')
        .next()
        .unwrap_or("")
        .to_string();
    let token = Browser::token(&page);
    let confirmed = browser
        .post(
            &format!("/requests/{number}/step/confirm_requirements"),
            &[
                ("csrf", token.as_str()),
                ("req", "Oficio firmado"),
                ("req", "Número de extensión"),
            ],
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.body
    );
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(detail["status"], "assigned", "{detail}");
    assert_eq!(
        detail["timeline"][0]["payload"]["first_level_tests"][0]["test"],
        "Verificar que la cuenta existe",
        "A4: the tests run are kept"
    );
}

#[tokio::test]
async fn the_monthly_satisfaction_page_draws_six_months_and_offers_the_downloads_l12() {
    let app = TestApp::spawn().await;
    account(&app, "sup.web", Role::Supervisor, None).await;
    account(&app, "agente.web", Role::Agent, None).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("sup.web", PASSWORD).await;
    let page = browser.get("/reports?month=2026-03").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<svg id=\"trend\" role=\"img\""));
    assert_eq!(page.body.matches("<rect ").count(), 6, "one bar per month");
    assert!(page.body.contains("2025-10") && page.body.contains("2026-03"));
    assert!(
        page.body
            .contains("href=\"/reports/export.xlsx?month=2026-03\"")
    );
    let csv = browser.get("/reports/export.csv?month=2026-03").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with("agrupación,grupo"));
    let bad = browser.get("/reports?month=marzo").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let mut agent = Browser::new(&app);
    agent.sign_in("agente.web", PASSWORD).await;
    assert_eq!(agent.get("/reports").await.status, StatusCode::FORBIDDEN);
    assert!(!agent.get("/").await.body.contains("href=\"/reports\""));
}
