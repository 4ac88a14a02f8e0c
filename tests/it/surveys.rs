//! Closing the loop: the survey invitation after verification (A18, L9), the requester's answer,
//! reminders and auto-close, withdrawn and used links, the complaints log (L10) and the monthly
//! indices by answer date (L12).

use reqwest::StatusCode;
use serde_json::{Value, json};
use ventanilla::db::service_levels::ipn_calendar_for;
use ventanilla::db::surveys::{self, SurveySettings};
use ventanilla::db::{complaints, outbox};

use crate::helpers::{TestApp, assert_problem};

impl TestApp {
    fn now_ms(&self) -> i64 {
        self.clock.lock().unwrap().as_millisecond()
    }

    /// Drives a new request of `requester` to `validating`; returns its number.
    pub(crate) async fn verified_request(&self, requester: i64) -> String {
        let service = self.service_id("Correo electrónico").await;
        let number = self.phone_request(requester, service).await;
        let path = |step: &str| format!("/api/v1/requests/{number}/actions/{step}");
        for (step, token, body) in [
            (
                "assign",
                &self.agent,
                json!({"assignee_id": self.engineer_mail_id}),
            ),
            ("start", &self.engineer_mail, json!({})),
            (
                "solve",
                &self.engineer_mail,
                json!({"reason": "Se restableció la contraseña"}),
            ),
            ("verify", &self.agent, json!({})),
        ] {
            let (status, body) = self.post(&path(step), token, body).await;
            assert_eq!(status, StatusCode::OK, "{step}: {body}");
        }
        number
    }

    pub(crate) async fn run_survey_jobs(&self) -> (usize, usize, usize) {
        let now = self.now_ms();
        let calendar = ipn_calendar_for(2026).unwrap();
        let settings = SurveySettings::default();
        (
            surveys::dispatch_once(&self.db, &calendar, &settings, now)
                .await
                .unwrap(),
            surveys::remind_once(&self.db, &settings, now)
                .await
                .unwrap(),
            surveys::auto_close_once(&self.db, now).await.unwrap(),
        )
    }

    pub(crate) async fn request(&self, number: &str) -> Value {
        self.get(&format!("/api/v1/requests/{number}"), &self.agent)
            .await
            .1
    }
}

fn all_ratings(value: u8) -> Value {
    json!({"timeliness": value, "courtesy": value, "competence": value,
           "solution_quality": value, "communication": value, "overall": value})
}

fn kinds(request: &Value) -> Vec<String> {
    request["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn not_solved_reopens_the_request_with_the_requesters_words_and_the_link_is_then_used_l9() {
    let app = TestApp::spawn().await;
    let requester = app.requester(40, "none").await;
    let number = app.verified_request(requester).await;
    assert_eq!(app.run_survey_jobs().await, (1, 0, 0));
    assert_eq!(
        app.run_survey_jobs().await,
        (0, 0, 0),
        "one survey per verification"
    );

    let token = surveys::link_token(&app.db, &number)
        .await
        .unwrap()
        .unwrap();
    let invitations = outbox::list(&app.db, None, Some("survey_invitation"), 10)
        .await
        .unwrap();
    assert_eq!(invitations.len(), 1);
    assert_eq!(invitations[0].recipient, "persona40@example.org");
    assert!(invitations[0].subject.contains(&number));
    assert!(
        invitations[0]
            .body_text
            .contains(&format!("/encuesta/{token}"))
    );

    let (status, page) = app.get(&format!("/api/v1/surveys/{token}"), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["state"], "open");
    assert_eq!(page["items"].as_array().unwrap().len(), 6);

    let answer = json!({"solved": false, "ratings": all_ratings(3), "comment": "Sigue sin entrar"});
    let (status, answered) = app
        .post(&format!("/api/v1/surveys/{token}"), "", answer.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(answered["status"], "reopened");
    let request = app.request(&number).await;
    assert_eq!(request["status"], "reopened");
    assert_eq!(request["reopen_count"], 1);
    let reopen = request["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reopen")
        .unwrap();
    assert_eq!(reopen["actor_kind"], "requester");
    assert!(
        reopen["reason"]
            .as_str()
            .unwrap()
            .contains("Sigue sin entrar")
    );
    assert!(kinds(&request).contains(&"survey_answered".to_string()));
    let told = outbox::list(&app.db, None, Some("reopened_by_requester"), 5)
        .await
        .unwrap();
    assert_eq!(told.len(), 1, "the area is told");
    assert!(told[0].body_text.contains("Sigue sin entrar"));

    let again = app
        .post(&format!("/api/v1/surveys/{token}"), "", answer)
        .await;
    assert_problem(
        &again,
        StatusCode::CONFLICT,
        "survey_already_answered",
        None,
    );
    assert_eq!(
        app.get(&format!("/api/v1/surveys/{token}"), "").await.1["state"],
        "answered"
    );
}

#[tokio::test]
async fn solved_closes_the_request_and_an_altered_link_matches_nothing() {
    let app = TestApp::spawn().await;
    let requester = app.requester(41, "none").await;
    let number = app.verified_request(requester).await;
    app.run_survey_jobs().await;
    let token = surveys::link_token(&app.db, &number)
        .await
        .unwrap()
        .unwrap();
    let mut altered = token.clone();
    altered.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });
    let bad = app.get(&format!("/api/v1/surveys/{altered}"), "").await;
    assert_problem(&bad, StatusCode::NOT_FOUND, "survey_link_invalid", None);
    let incomplete = app
        .post(
            &format!("/api/v1/surveys/{token}"),
            "",
            json!({"solved": true, "ratings": {"overall": 5}}),
        )
        .await;
    assert_problem(
        &incomplete,
        StatusCode::UNPROCESSABLE_ENTITY,
        "survey_rating",
        Some("timeliness"),
    );
    let (_, answered) = app
        .post(
            &format!("/api/v1/surveys/{token}"),
            "",
            json!({"solved": true, "ratings": all_ratings(5)}),
        )
        .await;
    assert_eq!(answered["status"], "closed");
    assert_eq!(app.request(&number).await["status"], "closed");
}

#[tokio::test]
async fn without_an_answer_a_reminder_goes_halfway_and_the_request_closes_after_five_business_days()
{
    let app = TestApp::spawn().await;
    let requester = app.requester(42, "none").await;
    // Verified on Tuesday 10 March 2026 at 10:00; the fifth business day (Wed 11, Thu 12, Fri 13,
    // Tue 17 — Monday 16 March is a law day — and Wed 18) ends Wednesday 18 March at 20:00, and
    // the reminder is due halfway, on Saturday 14 March at 15:00.
    let number = app.verified_request(requester).await;
    app.run_survey_jobs().await;
    app.set_now("2026-03-12T10:00:00-06:00[America/Mexico_City]");
    assert_eq!(
        app.run_survey_jobs().await,
        (0, 0, 0),
        "too early for a reminder"
    );
    app.set_now("2026-03-14T14:59:00-06:00[America/Mexico_City]");
    assert_eq!(app.run_survey_jobs().await, (0, 0, 0));
    app.set_now("2026-03-14T15:00:00-06:00[America/Mexico_City]");
    assert_eq!(app.run_survey_jobs().await, (0, 1, 0));
    assert_eq!(app.run_survey_jobs().await, (0, 0, 0), "one reminder");
    app.set_now("2026-03-18T19:59:00-06:00[America/Mexico_City]");
    assert_eq!(app.run_survey_jobs().await.2, 0);
    app.set_now("2026-03-18T20:00:00-06:00[America/Mexico_City]");
    assert_eq!(app.run_survey_jobs().await.2, 1);
    let request = app.request(&number).await;
    assert_eq!(request["status"], "closed");
    let close = request["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "close")
        .unwrap();
    assert_eq!(close["actor_kind"], "system");
    assert_eq!(close["reason"], "Cerrada por falta de respuesta");

    // Still answerable for a while after closing: a late "no" reopens it.
    let token = surveys::link_token(&app.db, &number)
        .await
        .unwrap()
        .unwrap();
    app.set_now("2026-03-20T10:00:00-06:00[America/Mexico_City]");
    let (_, answered) = app
        .post(
            &format!("/api/v1/surveys/{token}"),
            "",
            json!({"solved": false, "ratings": all_ratings(4)}),
        )
        .await;
    assert_eq!(answered["status"], "reopened");
}

#[tokio::test]
async fn a_survey_for_a_request_reopened_meanwhile_is_withdrawn_and_an_old_one_expires() {
    let app = TestApp::spawn().await;
    let requester = app.requester(43, "none").await;
    let number = app.verified_request(requester).await;
    app.run_survey_jobs().await;
    let token = surveys::link_token(&app.db, &number)
        .await
        .unwrap()
        .unwrap();
    let (status, _) = app
        .post(
            &format!("/api/v1/requests/{number}/actions/reopen"),
            &app.supervisor,
            json!({"reason": "El usuario llamó: sigue igual"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let late = app
        .post(
            &format!("/api/v1/surveys/{token}"),
            "",
            json!({"solved": true, "ratings": all_ratings(5)}),
        )
        .await;
    assert_problem(&late, StatusCode::CONFLICT, "survey_withdrawn", None);

    let other = app.requester(44, "none").await;
    let number = app.verified_request(other).await;
    app.run_survey_jobs().await;
    let token = surveys::link_token(&app.db, &number)
        .await
        .unwrap()
        .unwrap();
    app.set_now("2026-05-30T10:00:00-06:00[America/Mexico_City]");
    app.run_survey_jobs().await;
    let expired = app
        .post(
            &format!("/api/v1/surveys/{token}"),
            "",
            json!({"solved": true, "ratings": all_ratings(5)}),
        )
        .await;
    assert_problem(&expired, StatusCode::CONFLICT, "survey_expired", None);
}

#[tokio::test]
async fn a_requester_without_email_or_surveyed_recently_gets_no_invitation() {
    let app = TestApp::spawn().await;
    let requester = app.requester(45, "none").await;
    let first = app.verified_request(requester).await;
    let second = app.verified_request(requester).await;
    app.run_survey_jobs().await;
    let invitations = outbox::list(&app.db, None, Some("survey_invitation"), 10)
        .await
        .unwrap();
    assert_eq!(
        invitations.len(),
        1,
        "not surveyed twice within the interval"
    );
    let skipped = app.request(&second).await;
    let event = skipped["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "survey_not_sent")
        .unwrap();
    assert!(
        event["reason"]
            .as_str()
            .unwrap()
            .contains("ya recibió una encuesta")
    );
    assert!(kinds(&app.request(&first).await).contains(&"survey_sent".to_string()));
}

#[tokio::test]
async fn a_low_rating_opens_a_complaint_that_is_treated_step_by_step_l10() {
    let app = TestApp::spawn().await;
    let requester = app.requester(46, "none").await;
    let number = app.verified_request(requester).await;
    app.run_survey_jobs().await;
    let token = surveys::link_token(&app.db, &number)
        .await
        .unwrap()
        .unwrap();
    let mut ratings = all_ratings(4);
    ratings["courtesy"] = json!(1);
    app.post(
        &format!("/api/v1/surveys/{token}"),
        "",
        json!({"solved": true, "ratings": ratings, "comment": "Me colgaron el teléfono"}),
    )
    .await;
    let (status, log) = app.get("/api/v1/complaints", &app.supervisor).await;
    assert_eq!(status, StatusCode::OK);
    let entry = &log.as_array().unwrap()[0];
    assert_eq!(entry["source"], "survey");
    assert_eq!(entry["request_number"], number.as_str());
    assert!(
        entry["description"]
            .as_str()
            .unwrap()
            .contains("Me colgaron")
    );
    let id = entry["id"].as_i64().unwrap();

    let skip = app
        .post(
            &format!("/api/v1/complaints/{id}/advance"),
            &app.supervisor,
            json!({"status": "closed", "note": "Listo"}),
        )
        .await;
    assert_problem(
        &skip,
        StatusCode::CONFLICT,
        "complaint_transition",
        Some("status"),
    );
    for (to, note) in [
        ("analysed", "El agente colgó por error"),
        ("action_taken", "Plática con el agente"),
        ("closed", "Sin recurrencia"),
    ] {
        let (status, body) = app
            .post(
                &format!("/api/v1/complaints/{id}/advance"),
                &app.supervisor,
                json!({"status": to, "note": note}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let (_, detail) = app
        .get(&format!("/api/v1/complaints/{id}"), &app.supervisor)
        .await;
    assert_eq!(detail["status"], "closed");
    assert_eq!(detail["events"].as_array().unwrap().len(), 4);
    assert_problem(
        &app.get("/api/v1/complaints", &app.agent).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );

    let phone = app
        .post("/api/v1/complaints", &app.agent, json!({"kind": "suggestion", "source": "phone", "description": "Ampliar el horario del CAU", "request_number": number}))
        .await;
    assert_eq!(phone.0, StatusCode::CREATED, "{}", phone.1);
    // The same suggestion concerns a second request too.
    let other = app.requester(47, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let second = app.phone_request(other, service).await;
    let suggestion = phone.1["id"].as_i64().unwrap();
    for _ in 0..2 {
        let (status, body) = app
            .post(
                &format!("/api/v1/complaints/{suggestion}/links"),
                &app.supervisor,
                json!({"request_number": second}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let (_, linked) = app
        .get(&format!("/api/v1/complaints/{suggestion}"), &app.supervisor)
        .await;
    assert_eq!(linked["request_number"], number.as_str());
    assert_eq!(linked["linked_requests"], json!([second]), "linked once");
    let unknown = app
        .post(
            &format!("/api/v1/complaints/{suggestion}/links"),
            &app.supervisor,
            json!({"request_number": "SS-2026-999999"}),
        )
        .await;
    assert_problem(
        &unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_request",
        Some("request_number"),
    );
    let csv = app
        .client
        .get(format!("{}/api/v1/complaints/export.csv", app.base))
        .bearer_auth(&app.coordinator)
        .send()
        .await
        .unwrap();
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("id,tipo,origen"));
    assert!(text.contains(&second), "linked requests exported");
    assert!(text.contains("Ampliar el horario del CAU"));
    assert_eq!(
        complaints::list(&app.db, Some("received"), Some("suggestion"))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn monthly_satisfaction_counts_answers_by_local_answer_date_l12() {
    let app = TestApp::spawn().await;
    app.set_now("2026-03-31T10:00:00-06:00[America/Mexico_City]");
    let mut tokens = Vec::new();
    for seed in 50..53 {
        let requester = app.requester(seed, "none").await;
        let number = app.verified_request(requester).await;
        app.run_survey_jobs().await;
        tokens.push(
            surveys::link_token(&app.db, &number)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    // 23:59 on 31 March in Mexico City (05:59 UTC on 1 April) still counts in March.
    app.set_now("2026-03-31T23:59:00-06:00[America/Mexico_City]");
    app.post(
        &format!("/api/v1/surveys/{}", tokens[0]),
        "",
        json!({"solved": true, "ratings": all_ratings(5)}),
    )
    .await;
    app.post(
        &format!("/api/v1/surveys/{}", tokens[1]),
        "",
        json!({"solved": true, "ratings": all_ratings(3)}),
    )
    .await;
    app.set_now("2026-04-01T00:00:00-06:00[America/Mexico_City]");
    app.post(
        &format!("/api/v1/surveys/{}", tokens[2]),
        "",
        json!({"solved": true, "ratings": all_ratings(4)}),
    )
    .await;

    let (status, march) = app
        .get(
            "/api/v1/reports/satisfaction?month=2026-03",
            &app.supervisor,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{march}");
    let m = &march[0]["indices"];
    assert_eq!(m["answers"], 2);
    assert_eq!(m["sent"], 3);
    assert_eq!(m["csat_percent"], 50.0);
    assert_eq!(m["item_means"][5], 4.0);
    assert_eq!(m["low_sample"], true);
    let (_, april) = app
        .get(
            "/api/v1/reports/satisfaction?month=2026-04",
            &app.supervisor,
        )
        .await;
    assert_eq!(april[0]["indices"]["answers"], 1);
    assert_eq!(april[0]["indices"]["csat_percent"], 100.0);
    let (_, by_area) = app
        .get(
            "/api/v1/reports/satisfaction?month=2026-03&group=area",
            &app.supervisor,
        )
        .await;
    assert_eq!(by_area[0]["group"], "Monitoreo y Servicios Computacionales");
    assert_problem(
        &app.get("/api/v1/reports/satisfaction?month=marzo", &app.supervisor)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "month_format",
        Some("month"),
    );
    assert_problem(
        &app.get("/api/v1/reports/satisfaction?month=2026-03", &app.agent)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
}

#[tokio::test]
async fn the_monthly_anomaly_queue_lists_what_needs_follow_up_and_escalation_tells_the_officials_l13()
 {
    let app = TestApp::spawn().await;
    // Auto-closed for lack of answer.
    let silent = app.requester(60, "none").await;
    let auto_closed = app.verified_request(silent).await;
    app.run_survey_jobs().await;
    // Validated with good ratings: no anomaly.
    let happy = app.requester(61, "none").await;
    let fine = app.verified_request(happy).await;
    app.run_survey_jobs().await;
    let token = surveys::link_token(&app.db, &fine).await.unwrap().unwrap();
    app.post(
        &format!("/api/v1/surveys/{token}"),
        "",
        json!({"solved": true, "ratings": all_ratings(5)}),
    )
    .await;
    // Cancelled after it was assigned.
    let other = app.requester(62, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let cancelled = app.phone_request(other, service).await;
    app.post(
        &format!("/api/v1/requests/{cancelled}/actions/cancel"),
        &app.coordinator,
        json!({"reason": "Lo pidió el usuario"}),
    )
    .await;
    app.set_now("2026-03-25T10:00:00-06:00[America/Mexico_City]");
    app.run_survey_jobs().await;

    let (status, queue) = app
        .get("/api/v1/anomalies?month=2026-03", &app.supervisor)
        .await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let found: Vec<(&str, &Value)> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["number"].as_str().unwrap(), &a["anomalies"]))
        .collect();
    assert_eq!(found.len(), 2, "{queue}");
    assert!(found.contains(&(cancelled.as_str(), &json!(["cancelled_after_assignment"]))));
    assert!(found.contains(&(auto_closed.as_str(), &json!(["closed_without_validation"]))));

    // A supervisor with an e-mail receives the escalation.
    let (status, _) = app
        .post("/api/v1/staff", &app.admin, json!({"username": "sup.correo", "full_name": "Supervisora", "email": "supervisor@ventanilla.test", "role": "supervisor", "password": "una-contraseña-larga"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, escalated) = app
        .post(&format!("/api/v1/requests/{auto_closed}/escalate"), &app.agent, json!({"circumstances": "Se cerró sin respuesta y el usuario reporta que sigue sin correo"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{escalated}");
    assert_eq!(escalated["notified"], 1);
    let mails = outbox::list(&app.db, None, Some("escalation"), 10)
        .await
        .unwrap();
    assert_eq!(mails[0].recipient, "supervisor@ventanilla.test");
    assert!(mails[0].body_text.contains("sigue sin correo"));
    let request = app.request(&auto_closed).await;
    assert!(kinds(&request).contains(&"escalated".to_string()));
    let short = app
        .post(
            &format!("/api/v1/requests/{auto_closed}/escalate"),
            &app.agent,
            json!({"circumstances": "mal"}),
        )
        .await;
    assert_problem(
        &short,
        StatusCode::UNPROCESSABLE_ENTITY,
        "circumstances_required",
        Some("circumstances"),
    );
}

#[tokio::test]
async fn the_monthly_report_exports_and_is_mailed_once_on_the_first_business_day_l11_l12() {
    let app = TestApp::spawn().await;
    let requester = app.requester(70, "none").await;
    let number = app.verified_request(requester).await;
    app.run_survey_jobs().await;
    let token = surveys::link_token(&app.db, &number)
        .await
        .unwrap()
        .unwrap();
    app.post(
        &format!("/api/v1/surveys/{token}"),
        "",
        json!({"solved": false, "ratings": all_ratings(2)}),
    )
    .await;

    // A second one is solved within its targets and validated: closed, targets met.
    let other = app.requester(71, "none").await;
    let closed = app.verified_request(other).await;
    app.run_survey_jobs().await;
    let token = surveys::link_token(&app.db, &closed)
        .await
        .unwrap()
        .unwrap();
    app.post(
        &format!("/api/v1/surveys/{token}"),
        "",
        json!({"solved": true, "ratings": all_ratings(5)}),
    )
    .await;

    let (status, report) = app
        .get("/api/v1/reports/monthly?month=2026-03", &app.coordinator)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["registered"], 2);
    assert_eq!(report["closed"], 1, "the first was reopened by its answer");
    assert_eq!(report["sla_met"], 1);
    assert_eq!(report["sla_compliance_percent"], 100.0);
    assert_eq!(report["overall"]["indices"]["answers"], 2);
    assert_eq!(report["by_channel"][0]["group"], "phone");
    let csv = app
        .client
        .get(format!(
            "{}/api/v1/reports/monthly.csv?month=2026-03",
            app.base
        ))
        .bearer_auth(&app.coordinator)
        .send()
        .await
        .unwrap();
    let text = csv.text().await.unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .starts_with("agrupación,grupo,respuestas")
    );
    assert!(
        text.contains("área,Monitoreo y Servicios Computacionales,2,2,50.0"),
        "{text}"
    );
    let xlsx = app
        .client
        .get(format!(
            "{}/api/v1/reports/monthly.xlsx?month=2026-03",
            app.base
        ))
        .bearer_auth(&app.coordinator)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(
        xlsx.bytes().await.unwrap().starts_with(b"PK"),
        "an XLSX file is a zip"
    );

    let (status, _) = app
        .post("/api/v1/staff", &app.admin, json!({"username": "coord.correo", "full_name": "Coordinación", "email": "coordinacion@ventanilla.test", "role": "coordinator", "password": "una-contraseña-larga"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let at = |s: &str| s.parse::<jiff::Zoned>().unwrap().timestamp();
    let calendar = ipn_calendar_for(2026).unwrap();
    let send = |when: &'static str| {
        let calendar = calendar.clone();
        let db = app.db.clone();
        async move {
            ventanilla::jobs::reports::send_monthly_report_once(
                &db,
                &calendar,
                "ventanilla.test",
                at(when),
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(
        send("2026-04-01T08:59:00-06:00[America/Mexico_City]").await,
        0,
        "before 09:00"
    );
    assert_eq!(
        send("2026-04-01T09:00:00-06:00[America/Mexico_City]").await,
        1
    );
    assert_eq!(
        send("2026-04-02T10:00:00-06:00[America/Mexico_City]").await,
        0,
        "once a month"
    );
    let mails = outbox::list(&app.db, None, Some("monthly_report"), 5)
        .await
        .unwrap();
    assert_eq!(mails[0].recipient, "coordinacion@ventanilla.test");
    assert!(
        mails[0]
            .body_text
            .contains("Informe mensual de satisfacción — 2026-03")
    );
    // February 2026 starts on a Sunday and Monday 2 February is a law day: Tuesday 3 is the first.
    assert_eq!(
        send("2026-02-02T12:00:00-06:00[America/Mexico_City]").await,
        0
    );
    assert_eq!(
        send("2026-02-03T09:30:00-06:00[America/Mexico_City]").await,
        1
    );
}
