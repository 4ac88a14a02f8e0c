//! Service levels through the API: exact deadlines with law days (L3), weekend mail (L4),
//! pauses, the monitor's warnings and breaches (A16, A19), the queue, calendar administration
//! and digests (A17).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use ventanilla::db::service_levels::{
    default_levels, levels_for_services, recompute_request, run_monitor_once,
};

use crate::helpers::{TestApp, assert_problem};

/// Mexico City wall-clock time as the API writes instants (UTC, RFC 3339).
fn utc(local: &str) -> String {
    format!("{local}[America/Mexico_City]")
        .parse::<jiff::Zoned>()
        .expect("zoned")
        .timestamp()
        .to_string()
}

fn ts(local: &str) -> jiff::Timestamp {
    format!("{local}[America/Mexico_City]")
        .parse::<jiff::Zoned>()
        .expect("zoned")
        .timestamp()
}

/// Gives the e-mail service new targets (a new sheet version) and returns its id.
async fn service_with_targets(app: &TestApp, response: i64, resolution: i64) -> i64 {
    new_sheet_version(app, "Correo electrónico", |sheet| {
        sheet["response_target_minutes"] = json!(response);
        sheet["resolution_target_minutes"] = json!(resolution);
    })
    .await
}

/// The administrator sets a service's escalation levels (A19).
async fn put_levels(app: &TestApp, service: i64, levels: Value) -> (StatusCode, Value) {
    app.call(
        Method::PUT,
        &format!("/api/v1/services/{service}/escalation"),
        &app.admin,
        Some(json!({ "levels": levels })),
    )
    .await
}

/// A new version of the named service's sheet, changed by `edit`; returns the service's id.
pub(crate) async fn new_sheet_version(
    app: &TestApp,
    name: &str,
    edit: impl FnOnce(&mut Value),
) -> i64 {
    let service = app.service_id(name).await;
    let (_, current) = app
        .get(&format!("/api/v1/services/{service}"), &app.admin)
        .await;
    let mut sheet = current["sheet"].clone();
    edit(&mut sheet);
    let (status, body) = app
        .post(
            &format!("/api/v1/services/{service}/sheets"),
            &app.admin,
            json!({"sheet": sheet, "change_note": "Tiempos de prueba"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    service
}

async fn levels(app: &TestApp, number: &str) -> Value {
    let (status, body) = app
        .get(
            &format!("/api/v1/requests/{number}/service-level"),
            &app.agent,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn target<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["target"] == name)
        .expect("target")
}

async fn step(app: &TestApp, number: &str, step: &str, token: &str, body: Value) {
    let (status, answer) = app
        .post(
            &format!("/api/v1/requests/{number}/actions/{step}"),
            token,
            body,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{step}: {answer}");
}

#[tokio::test]
async fn friday_evening_before_a_law_monday_is_due_tuesday_at_nine_and_says_why_l3() {
    let app = TestApp::spawn().await;
    let service = service_with_targets(&app, 60, 120).await;
    let requester = app.requester(301, "none").await;
    app.set_now("2026-03-13T19:00:00-06:00[America/Mexico_City]");
    let number = app.phone_request(requester, service).await;
    let body = levels(&app, &number).await;
    let resolution = target(&body, "resolution");
    assert_eq!(resolution["deadline"], utc("2026-03-17T09:00:00"));
    assert_eq!(resolution["deadline_local"], "mar 17/03/2026 09:00");
    assert_eq!(resolution["state"], "running");
    assert_eq!(resolution["target_minutes"], 120);
    let text = resolution["explanation_es"].as_str().unwrap();
    assert!(text.contains("Se contaron 2 h hábiles"), "{text}");
    assert!(text.contains("2026-03-16"), "{text}");
    assert!(text.contains("día de descanso obligatorio"), "{text}");
    let closed: Vec<&Value> = resolution["explanation"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["segment"] == "closed")
        .collect();
    assert_eq!(closed.len(), 3, "Saturday, Sunday and the law Monday");
    assert_eq!(closed[2]["reason"]["kind"], "law_holiday");
    // The stored copy used for queues agrees with the computed one.
    let due: Option<i64> =
        sqlx::query_scalar("SELECT resolution_due_at FROM requests WHERE number = $1")
            .bind(&number)
            .fetch_one(app.db.read())
            .await
            .unwrap();
    assert_eq!(due, Some(ts("2026-03-17T09:00:00").as_millisecond()));
}

#[tokio::test]
async fn three_business_hours_of_waiting_move_the_deadline_three_business_hours() {
    let app = TestApp::spawn().await;
    let service = service_with_targets(&app, 60, 12 * 60).await;
    let requester = app.requester(302, "none").await;
    let number = app.phone_request(requester, service).await; // Tuesday 10:00
    let before = levels(&app, &number).await;
    assert_eq!(
        target(&before, "resolution")["deadline"],
        utc("2026-03-11T10:00:00")
    );
    app.set_now("2026-03-10T10:30:00-06:00[America/Mexico_City]");
    step(&app, &number, "start", &app.engineer_mail, json!({})).await;
    app.set_now("2026-03-10T19:00:00-06:00[America/Mexico_City]");
    step(
        &app,
        &number,
        "wait",
        &app.engineer_mail,
        json!({"reason": "Esperamos la captura de pantalla del usuario."}),
    )
    .await;
    // Waiting from Tuesday 19:00 to Wednesday 10:00: 3 business hours (19–20 and 8–10).
    app.set_now("2026-03-11T10:00:00-06:00[America/Mexico_City]");
    let paused = levels(&app, &number).await;
    assert_eq!(target(&paused, "resolution")["state"], "paused");
    assert!(target(&paused, "resolution")["deadline"].is_null());
    step(&app, &number, "resume", &app.engineer_mail, json!({})).await;
    let after = levels(&app, &number).await;
    let resolution = target(&after, "resolution");
    assert_eq!(resolution["deadline"], utc("2026-03-11T13:00:00"));
    assert_eq!(resolution["explanation"]["paused_seconds"], 3 * 3600);
    assert!(
        resolution["explanation_es"]
            .as_str()
            .unwrap()
            .contains("3 h hábiles en espera")
    );
    let response = target(&after, "response");
    assert_eq!(response["state"], "met");
    assert_eq!(response["stopped_at"], utc("2026-03-10T10:30:00"));
}

#[tokio::test]
async fn weekend_mail_starts_its_clock_on_monday_at_eight_l4() {
    let app = TestApp::spawn().await;
    let service = service_with_targets(&app, 60, 120).await;
    let requester = app.requester(303, "none").await;
    app.set_now("2026-03-09T09:00:00-06:00[America/Mexico_City]");
    let (status, body) = app
        .post(
            "/api/v1/requests",
            &app.agent,
            json!({"channel": "email", "requester_id": requester, "service_id": service,
                   "subject": "Correo del sábado", "description": "Llegó el sábado por correo.",
                   "received_at": "2026-03-07T11:00:00-06:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let number = body["number"].as_str().unwrap();
    let got = levels(&app, number).await;
    let response = target(&got, "response");
    assert_eq!(response["start"], utc("2026-03-09T08:00:00"));
    assert_eq!(response["deadline"], utc("2026-03-09T09:00:00"));
    assert_eq!(response["elapsed_seconds"], 3600);
    assert_eq!(
        target(&got, "resolution")["deadline"],
        utc("2026-03-09T10:00:00")
    );
}

async fn events_of(app: &TestApp, number: &str, kind: &str) -> Vec<Value> {
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_monitor_warns_and_escalates_once_per_target_and_level_a16_a19() {
    let app = TestApp::spawn().await;
    let service = service_with_targets(&app, 60, 120).await;
    let requester = app.requester(304, "none").await;
    let number = app.phone_request(requester, service).await; // Tuesday 10:00

    // 10:46: 46 of 60 response minutes (77 %), 38 % of the resolution target.
    let first = run_monitor_once(&app.db, ts("2026-03-10T10:46:00"))
        .await
        .unwrap();
    assert_eq!((first.warnings, first.breaches), (1, 0), "{first:?}");
    let again = run_monitor_once(&app.db, ts("2026-03-10T10:47:00"))
        .await
        .unwrap();
    assert_eq!((again.warnings, again.breaches), (0, 0));
    let warnings = events_of(&app, &number, "sla_warning").await;
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0]["payload"]["target"], "response");
    assert_eq!(warnings[0]["actor_kind"], "system");

    // 12:01: response breached; resolution past 75 % and 100 %.
    let later = run_monitor_once(&app.db, ts("2026-03-10T12:01:00"))
        .await
        .unwrap();
    assert_eq!((later.warnings, later.breaches), (1, 2), "{later:?}");
    run_monitor_once(&app.db, ts("2026-03-10T12:02:00"))
        .await
        .unwrap();
    assert_eq!(events_of(&app, &number, "sla_warning").await.len(), 2);
    assert_eq!(events_of(&app, &number, "sla_breached").await.len(), 2);

    let (status, outbox) = app
        .get(&format!("/api/v1/outbox?number={number}"), &app.supervisor)
        .await;
    assert_eq!(status, StatusCode::OK, "{outbox}");
    let messages = outbox.as_array().unwrap();
    let warned: Vec<&str> = messages
        .iter()
        .filter(|m| m["topic"] == "sla_warning")
        .map(|m| m["recipient"].as_str().unwrap())
        .collect();
    assert!(
        warned.iter().all(|r| r.starts_with("area:")),
        "no engineer assigned yet: the area is warned: {warned:?}"
    );
    let breached: Vec<&Value> = messages
        .iter()
        .filter(|m| m["topic"] == "sla_breached")
        .collect();
    assert_eq!(breached.len(), 2, "one supervisor, two targets");
    assert!(breached.iter().all(|m| {
        m["recipient"].as_str().unwrap().starts_with("staff:")
            && m["subject"].as_str().unwrap().contains(&number)
    }));
    app.set_now("2026-03-10T12:05:00-06:00[America/Mexico_City]");
    let (_, summary) = app.get("/api/v1/queue?breached=true", &app.agent).await;
    assert_eq!(summary["items"][0]["number"], number.as_str());
    assert_eq!(summary["items"][0]["sla_state"], "breached");
    let forbidden = app.get("/api/v1/outbox", &app.agent).await;
    assert_eq!(forbidden.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn escalation_levels_per_service_tell_the_coordinator_a19() {
    let app = TestApp::spawn().await;
    let service = service_with_targets(&app, 60, 120).await;
    let (status, body) = put_levels(
        &app,
        service,
        json!([{"level_percent": 50, "notify": ["coordinator"]}]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["levels"][1]["level_percent"], 100,
        "breach always watched"
    );
    let requester = app.requester(305, "none").await;
    let number = app.phone_request(requester, service).await;
    let report = run_monitor_once(&app.db, ts("2026-03-10T10:31:00"))
        .await
        .unwrap();
    assert_eq!(report.warnings, 1);
    let (_, outbox) = app
        .get(
            &format!("/api/v1/outbox?number={number}&topic=sla_warning"),
            &app.coordinator,
        )
        .await;
    assert_eq!(outbox.as_array().unwrap().len(), 1, "{outbox}");
    let bad = put_levels(
        &app,
        service,
        json!([{"level_percent": 0, "notify": ["area"]}]),
    )
    .await;
    assert_problem(
        &bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "escalation_percent_range",
        Some("levels[0].level_percent"),
    );
}

#[tokio::test]
async fn calendar_bad_input_is_refused_naming_the_field_l3() {
    let app = TestApp::spawn().await;
    let (status, calendar) = app.get("/api/v1/calendar", &app.agent).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(calendar["zone"], "America/Mexico_City");
    assert!(
        calendar["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["start"] == "2026-03-16" && e["kind"] == "law_holiday"),
        "law days of the current year are seeded"
    );
    assert!(
        calendar["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["start"] == "2027-03-15"),
        "and of the next one"
    );
    let put = |body: Value| app.call(Method::PUT, "/api/v1/calendar", &app.admin, Some(body));
    let week = |monday: Value| json!({"zone": "America/Mexico_City", "weekly": {"monday": monday}});
    assert_problem(
        &put(week(
            json!([{"start": "08:00", "end": "14:00"}, {"start": "13:00", "end": "20:00"}]),
        ))
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "overlapping_intervals",
        Some("weekly.monday"),
    );
    assert_problem(
        &put(week(json!([{"start": "20:00", "end": "08:00"}]))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "interval_not_increasing",
        Some("weekly.monday[0]"),
    );
    assert_problem(
        &put(json!({"zone": "America/Atlantida", "weekly": {"monday": [{"start": "08:00", "end": "20:00"}]}}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_zone",
        Some("zone"),
    );
    assert_problem(
        &put(json!({"zone": "America/Mexico_City", "weekly": {}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no_open_time",
        Some("weekly"),
    );
    let exceptions = app
        .post(
            "/api/v1/calendar/exceptions",
            &app.admin,
            json!({"exceptions": [{"start": "2026-07-20", "end": "2026-07-01", "kind": "vacation", "name": "Verano"}]}),
        )
        .await;
    assert_problem(
        &exceptions,
        StatusCode::UNPROCESSABLE_ENTITY,
        "exception_range_invalid",
        Some("exceptions[0]"),
    );
    let service = app.service_id("Correo electrónico").await;
    let (_, current) = app
        .get(&format!("/api/v1/services/{service}"), &app.admin)
        .await;
    let mut sheet = current["sheet"].clone();
    sheet["resolution_target_minutes"] = json!(0);
    assert_problem(
        &app.post(
            &format!("/api/v1/services/{service}/sheets"),
            &app.admin,
            json!({"sheet": sheet, "change_note": "Cero"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sheet_target",
        Some("resolution_target_minutes"),
    );
    let by_agent = app
        .call(
            Method::PUT,
            "/api/v1/calendar",
            &app.agent,
            Some(calendar.clone()),
        )
        .await;
    assert_eq!(by_agent.0, StatusCode::FORBIDDEN);
    let unchanged = app.get("/api/v1/calendar", &app.agent).await.1;
    assert_eq!(unchanged, calendar, "nothing half-written");
}

#[tokio::test]
async fn a_new_holiday_moves_open_deadlines_and_ics_round_trips_l4() {
    let app = TestApp::spawn().await;
    let service = service_with_targets(&app, 60, 14 * 60).await;
    let requester = app.requester(306, "none").await;
    let number = app.phone_request(requester, service).await; // Tue 10:00, due Wed 12:00
    assert_eq!(
        target(&levels(&app, &number).await, "resolution")["deadline"],
        utc("2026-03-11T12:00:00")
    );
    let (status, saved) = app
        .post(
            "/api/v1/calendar/exceptions",
            &app.admin,
            json!({"exceptions": [{"start": "2026-03-11", "kind": "institutional", "name": "Suspensión de labores"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert!(saved["recomputed"].as_u64().unwrap() >= 1);
    assert_eq!(
        target(&levels(&app, &number).await, "resolution")["deadline"],
        utc("2026-03-12T12:00:00")
    );
    let due: Option<i64> =
        sqlx::query_scalar("SELECT resolution_due_at FROM requests WHERE number = $1")
            .bind(&number)
            .fetch_one(app.db.read())
            .await
            .unwrap();
    assert_eq!(due, Some(ts("2026-03-12T12:00:00").as_millisecond()));

    let response = app
        .client
        .get(format!("{}/api/v1/calendar/ics", app.base))
        .bearer_auth(&app.agent)
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = response.text().await.unwrap();
    assert!(ics.contains("BEGIN:VCALENDAR") && ics.contains("Suspensión de labores"));
    let bad = app
        .client
        .post(format!("{}/api/v1/calendar/ics", app.base))
        .bearer_auth(&app.admin)
        .header(reqwest::header::CONTENT_TYPE, "text/calendar")
        .body("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\n")
        .send()
        .await
        .unwrap();
    let bad = crate::helpers::read(bad).await;
    assert_problem(
        &bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ics_invalid",
        Some("ics"),
    );
}

#[tokio::test]
async fn the_queue_sorts_by_time_to_breach_and_filters_a16() {
    let app = TestApp::spawn().await;
    let service = service_with_targets(&app, 60, 120).await;
    let requester = app.requester(307, "none").await;
    let first = app.phone_request(requester, service).await; // response due 11:00
    app.set_now("2026-03-10T10:15:00-06:00[America/Mexico_City]");
    let waiting = app.phone_request(requester, service).await;
    step(&app, &waiting, "start", &app.engineer_mail, json!({})).await;
    step(
        &app,
        &waiting,
        "wait",
        &app.engineer_mail,
        json!({"reason": "Esperamos datos del usuario."}),
    )
    .await;
    app.set_now("2026-03-10T10:30:00-06:00[America/Mexico_City]");
    let second = app.phone_request(requester, service).await; // response due 11:30

    let numbers = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["number"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, page) = app.get("/api/v1/queue", &app.agent).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        numbers(&page),
        [first.as_str(), second.as_str(), waiting.as_str()]
    );

    let (_, one) = app.get("/api/v1/queue?limit=1", &app.agent).await;
    assert_eq!(numbers(&one), [first.as_str()]);
    let cursor = one["next_cursor"].as_str().unwrap();
    let (_, next) = app
        .get(
            &format!("/api/v1/queue?limit=1&cursor={cursor}"),
            &app.agent,
        )
        .await;
    assert_eq!(numbers(&next), [second.as_str()]);

    app.set_now("2026-03-10T10:50:00-06:00[America/Mexico_City]");
    let (_, risk) = app.get("/api/v1/queue?at_risk=true", &app.agent).await;
    assert_eq!(numbers(&risk), [first.as_str()]);
    app.set_now("2026-03-10T11:10:00-06:00[America/Mexico_City]");
    let (_, late) = app.get("/api/v1/queue?breached=true", &app.agent).await;
    assert_eq!(numbers(&late), [first.as_str()]);
    let (_, by_status) = app.get("/api/v1/queue?status=waiting", &app.agent).await;
    assert_eq!(numbers(&by_status), [waiting.as_str()]);
    let (_, by_assignee) = app
        .get(
            &format!("/api/v1/queue?assignee_id={}", app.engineer_mail_id),
            &app.agent,
        )
        .await;
    assert!(
        numbers(&by_assignee).is_empty(),
        "nobody was assigned by name"
    );
    let area = page["items"][0]["area_id"].as_i64().unwrap();
    let (_, by_area) = app
        .get(
            &format!("/api/v1/queue?area_id={area}&service_id={service}"),
            &app.agent,
        )
        .await;
    assert_eq!(numbers(&by_area).len(), 3);
    let (_, other_area) = app
        .get(
            &format!("/api/v1/queue?area_id={}", area + 1000),
            &app.agent,
        )
        .await;
    assert!(numbers(&other_area).is_empty());
    assert_problem(
        &app.get("/api/v1/queue?cursor=abc", &app.agent).await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
        Some("cursor"),
    );
}

#[tokio::test]
async fn a_digest_on_demand_is_for_the_coordinator_and_lists_time_left_a17() {
    let app = TestApp::spawn().await;
    let service = service_with_targets(&app, 60, 120).await;
    let requester = app.requester(308, "none").await;
    let number = app.phone_request(requester, service).await;
    app.set_now("2026-03-10T11:30:00-06:00[America/Mexico_City]");
    for token in [&app.agent, &app.supervisor, &app.engineer_mail, &app.admin] {
        let got = app.post("/api/v1/digests", token, json!({})).await;
        assert_eq!(got.0, StatusCode::FORBIDDEN, "{}", got.1);
    }
    let (status, sent) = app
        .post("/api/v1/digests", &app.coordinator, json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let digests = sent["digests"].as_array().unwrap();
    assert_eq!(digests.len(), 1, "only the area with pending requests");
    assert_eq!(digests[0]["pending"], 1);
    assert_eq!(digests[0]["overdue"], 1);
    let (_, outbox) = app
        .get("/api/v1/outbox?topic=digest", &app.coordinator)
        .await;
    let body = outbox[0]["body_text"].as_str().unwrap();
    assert!(body.contains(&number), "{body}");
    assert!(body.contains("VENCIDA hace 30 min"), "{body}");
}

/// The deadline columns of a request as stored: id, warning, due and next check.
type StoredDeadlines = (i64, Option<i64>, Option<i64>, Option<i64>);

async fn stored_deadlines(app: &TestApp, number: &str) -> StoredDeadlines {
    sqlx::query_as(
        "SELECT id, sla_warn_at, sla_due_at, sla_next_check_at FROM requests WHERE number = $1",
    )
    .bind(number)
    .fetch_one(app.db.read())
    .await
    .expect("stored request")
}

#[tokio::test]
async fn a_batch_of_registrations_warns_at_each_services_own_levels_a19() {
    let app = TestApp::spawn().await;
    app.set_now("2026-03-10T10:00:00-06:00[America/Mexico_City]");
    let early = service_with_targets(&app, 60, 120).await;
    let (status, body) = put_levels(
        &app,
        early,
        json!([{"level_percent": 30, "notify": ["coordinator"]}]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let usual = new_sheet_version(&app, "Atención de primer nivel", |sheet| {
        sheet["response_target_minutes"] = json!(60);
        sheet["resolution_target_minutes"] = json!(120);
    })
    .await;

    // The batch read itself: every service asked for has its levels, the defaults when it has
    // none of its own (also an id no service has), the breach level always.
    let mut conn = app.db.write().acquire().await.expect("writer");
    let levels = levels_for_services(&mut conn, &[usual, early, 999_999])
        .await
        .expect("levels");
    assert!(
        levels_for_services(&mut conn, &[])
            .await
            .expect("none")
            .is_empty()
    );
    drop(conn);
    let percents =
        |service: i64| -> Vec<i64> { levels[&service].iter().map(|l| l.level_percent).collect() };
    let defaults: Vec<i64> = default_levels().iter().map(|l| l.level_percent).collect();
    assert_eq!(percents(early), vec![30, 100]);
    assert_eq!(percents(usual), defaults);
    assert_eq!(percents(999_999), defaults);

    let requester = app.requester(306, "none").await;
    // Sent together, so that on SQLite they may share group commits (one batch, two services);
    // on PostgreSQL each registers alone, through the same code.
    let services = [early, usual, early, usual, early, usual];
    let numbers = futures_util::future::join_all(
        services
            .iter()
            .map(|service| app.phone_request(requester, *service)),
    )
    .await;
    let minutes_after_ten = |at: Option<i64>| {
        (at.expect("a running clock") - ts("2026-03-10T10:00:00").as_millisecond()) / 60_000
    };
    for (service, number) in services.iter().zip(&numbers) {
        let stored = stored_deadlines(&app, number).await;
        let (id, warn_at, due_at, _) = stored;
        let expected_warning = if *service == early { 18 } else { 45 };
        assert_eq!(minutes_after_ten(warn_at), expected_warning, "{number}");
        assert_eq!(minutes_after_ten(due_at), 60, "{number}");
        // The one-request path (steps, the monitor) computes the same columns.
        let mut conn = app.db.write().acquire().await.expect("writer");
        recompute_request(&mut conn, id, ts("2026-03-10T10:00:00").as_millisecond())
            .await
            .expect("recompute");
        drop(conn);
        assert_eq!(stored_deadlines(&app, number).await, stored, "{number}");
    }
}
