//! The benchmark's bulk generator writes data the application itself accepts: gap-free numbers
//! that agree with `request_counters`, a registration event for every request, and requests the
//! API reads back with their timeline.

use std::collections::HashMap;

use reqwest::StatusCode;
use ventanilla::bench::generate::{GenerateOptions, generate};
use ventanilla_domain::curp::Curp;
use ventanilla_domain::identifiers::Email;

use ventanilla::db::requests::registration_year;

use crate::helpers::{DEFAULT_NOW, TestApp};

#[tokio::test]
async fn generated_data_is_consistent_and_readable_through_the_api() {
    // The demo seed (catalogue, units, accounts) comes from the test app; the generator adds the rest.
    let app = TestApp::spawn().await;
    let db = app.db.clone();
    let now: jiff::Timestamp = DEFAULT_NOW.parse::<jiff::Zoned>().expect("now").timestamp();
    let generated = generate(
        &db,
        &GenerateOptions {
            requests: 1_200,
            seed: 7,
            now_ms: now.as_millisecond(),
            progress: false,
        },
    )
    .await
    .expect("generate");
    assert_eq!(generated.requests, 1_200);
    assert!(generated.events >= generated.requests);

    // Numbers: per year, sequences run 1..=n without gaps and the counter holds n.
    let rows: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT year, sequence, number FROM requests ORDER BY year, sequence")
            .fetch_all(db.read())
            .await
            .expect("requests");
    assert_eq!(rows.len(), 1_200);
    let mut last: HashMap<i64, i64> = HashMap::new();
    for (year, sequence, number) in &rows {
        let previous = last.insert(*year, *sequence).unwrap_or(0);
        assert_eq!(*sequence, previous + 1, "gap before {number}");
        assert_eq!(*number, format!("SS-{year:04}-{sequence:06}"));
    }
    let counters: Vec<(i64, i64)> =
        sqlx::query_as("SELECT year, last_sequence FROM request_counters ORDER BY year")
            .fetch_all(db.read())
            .await
            .expect("counters");
    let mut expected: Vec<(i64, i64)> = last.into_iter().collect();
    expected.sort_unstable();
    assert_eq!(counters, expected);

    // Every request opens its timeline with a received or registered event.
    let without_first_event: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests q WHERE NOT EXISTS (
            SELECT 1 FROM request_events e WHERE e.request_id = q.id
            AND e.kind IN ('received', 'registered') AND e.from_status IS NULL)",
    )
    .fetch_one(db.read())
    .await
    .expect("count");
    assert_eq!(without_first_event, 0);
    // The projection agrees with the timeline: a request's status is its last event's target.
    let disagreeing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests q WHERE q.status <> (
            SELECT e.to_status FROM request_events e
            WHERE e.request_id = q.id AND e.to_status IS NOT NULL ORDER BY e.id DESC LIMIT 1)",
    )
    .fetch_one(db.read())
    .await
    .expect("count");
    assert_eq!(disagreeing, 0);
    let future: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_events WHERE at > $1")
        .bind(now.as_millisecond())
        .fetch_one(db.read())
        .await
        .expect("count");
    assert_eq!(future, 0, "no event is dated after now");

    // Requesters carry valid CURPs and e-mail addresses (the mail benchmark writes from them).
    let people: Vec<(String, String)> = sqlx::query_as("SELECT curp, email FROM requesters")
        .fetch_all(db.read())
        .await
        .expect("curps");
    assert_eq!(people.len() as u64, generated.requesters);
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    for (curp, email) in &people {
        assert!(Curp::parse(curp, today).is_ok(), "invalid CURP {curp}");
        assert!(Email::parse(email).is_ok(), "invalid e-mail {email}");
    }

    // The API reads them, and a request registered through it continues the numbering.
    for (_, _, number) in rows.iter().step_by(97) {
        let (status, body) = app
            .get(&format!("/api/v1/requests/{number}"), &app.agent)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(!body["timeline"].as_array().expect("timeline").is_empty());
    }
    let (status, page) = app.get("/api/v1/requests?open=true", &app.agent).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page["items"].as_array().expect("items").is_empty());
    // Every generated request is in the full-text index, found by its number and its words.
    let indexed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests q JOIN request_search s ON s.request_id = q.id",
    )
    .fetch_one(db.read())
    .await
    .expect("count");
    assert_eq!(indexed, 1_200);
    let (_, _, sample) = &rows[600];
    let (status, found) = app
        .get(&format!("/api/v1/requests?q={sample}"), &app.agent)
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["items"][0]["number"], sample.as_str());
    let (_, found) = app
        .get("/api/v1/requests?q=contrase%C3%B1a", &app.agent)
        .await;
    assert!(!found["items"].as_array().expect("items").is_empty());
    let (requester, _) = *rows_requesters(&db).await.first().expect("a requester");
    let service = app.service_id("Atención de primer nivel").await;
    let number = app.phone_request(requester, service).await;
    let year = registration_year(now.as_millisecond());
    let last = expected
        .iter()
        .find(|(y, _)| *y == i64::from(year))
        .map(|(_, n)| *n)
        .unwrap_or(0);
    assert_eq!(number, format!("SS-{year:04}-{:06}", last + 1));
}

async fn rows_requesters(db: &ventanilla::db::Db) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT id, udi_role FROM requesters ORDER BY id LIMIT 1")
        .fetch_all(db.read())
        .await
        .expect("requesters")
}
