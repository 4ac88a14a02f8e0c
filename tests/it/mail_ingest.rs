//! Ingest that shares commits: the messages of one IMAP fetch stored and applied in one
//! transaction (each in its own savepoint), and concurrent `inbound::ingest` calls of one process
//! (SQLite's group commit; concurrent transactions on PostgreSQL). Durability is the mail tests'
//! business; these check that sharing a commit changes nothing a message sees.

use serde_json::Value;
use ventanilla::db::Engine;
use ventanilla::mail::inbound::{self, Outcome};

use crate::helpers::TestApp;
use crate::mail::{policy, set_email};

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

/// Ingests one IMAP fetch's messages; every one must have been stored.
async fn ingest_stored(app: &TestApp, batch: Vec<Vec<u8>>) -> Vec<Outcome> {
    inbound::ingest_batch(&app.db, &policy(), batch, "imap:INBOX", now_ms())
        .await
        .expect("the batch is committed")
        .into_iter()
        .map(|o| o.expect("every message is stored"))
        .collect()
}

#[tokio::test]
async fn a_batch_applies_every_good_message_dead_letters_the_bad_one_and_a_duplicate_once() {
    let app = TestApp::spawn().await;
    let requester = app.requester(7401, "none").await;
    set_email(&app, requester, "Rocio.Leal@Example.org").await;
    let first = crlf(
        "From: =?UTF-8?Q?Roc=C3=ADo_Leal?= <rocio.leal@example.org>\nSubject: Sin acceso al SAES\nMessage-ID: <batch-1@example.org>\n\nNo puedo entrar desde ayer.\n",
    );
    let no_sender = crlf("Subject: sin remitente\nMessage-ID: <batch-bad@example.org>\n\nHola\n");
    let second = crlf(
        "From: pedro@otra.mx\nSubject: Impresora atascada\nMessage-ID: <batch-2@otra.mx>\n\nLa impresora del segundo piso se atasca.\n",
    );
    // Rocío adds something, replying to her own first message of the same fetch.
    let follow_up = crlf(
        "From: rocio.leal@example.org\nSubject: Re: Sin acceso al SAES\nMessage-ID: <batch-3@example.org>\nIn-Reply-To: <batch-1@example.org>\n\nOlvidé decir que uso Firefox.\n",
    );
    let batch = vec![
        first.clone(),
        no_sender.clone(),
        second.clone(),
        first.clone(),
        follow_up.clone(),
    ];
    let outcomes: Vec<Outcome> = ingest_stored(&app, batch.clone()).await;
    let kinds: Vec<&str> = outcomes.iter().map(|o| o.outcome.as_str()).collect();
    assert_eq!(kinds, ["request", "dead", "request", "request", "comment"]);
    let number = outcomes[0].request_number.clone().expect("a number");
    assert_eq!(
        (
            outcomes[3].inbound_id,
            outcomes[3].fresh,
            outcomes[3].request_number.as_deref()
        ),
        (outcomes[0].inbound_id, false, Some(number.as_str())),
        "the same message twice in one fetch is one request"
    );
    assert_eq!(outcomes[4].request_number.as_deref(), Some(number.as_str()));
    assert_ne!(outcomes[2].request_number.as_deref(), Some(number.as_str()));

    assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_inbound").await, 4);
    let dead: Vec<i64> =
        sqlx::query_scalar("SELECT inbound_id FROM mail_dead_letters WHERE resolved_at IS NULL")
            .fetch_all(app.db.read())
            .await
            .expect("dead letters");
    assert_eq!(dead, [outcomes[1].inbound_id]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE topic = 'acknowledgement'")
            .await,
        2,
        "one acknowledgement per request, none for the duplicate or the comment"
    );
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(detail["requester_id"], requester);
    let comments: Vec<&Value> = detail["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "comment")
        .collect();
    assert_eq!(comments.len(), 1, "{detail}");
    assert_eq!(
        comments[0]["payload"]["body"],
        "Olvidé decir que uso Firefox."
    );

    // The server never got the flags (a crash after the commit): the same fetch again changes
    // nothing but the dead letter's attempts.
    let again: Vec<Outcome> = ingest_stored(&app, batch).await;
    for (before, after) in outcomes.iter().zip(&again) {
        assert_eq!(
            (before.inbound_id, &before.request_number),
            (after.inbound_id, &after.request_number)
        );
    }
    assert!(
        again
            .iter()
            .filter(|o| o.outcome != "dead")
            .all(|o| !o.fresh)
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM request_events WHERE kind = 'comment'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT attempts FROM mail_dead_letters").await, 2);
}

#[tokio::test]
async fn concurrent_ingests_get_one_request_each_and_a_message_delivered_in_parallel_is_one() {
    let app = TestApp::spawn().await;
    let repeated = crlf(
        "From: lucia@otra.mx\nSubject: Proyector del aula 12\nMessage-ID: <many@otra.mx>\n\nNo enciende.\n",
    );
    let before = app.db.group_commit().map(|g| g.activity());
    let mut tasks = Vec::new();
    for i in 0..40 {
        let db = app.db.clone();
        // Every fourth delivery is the same message again, as an MTA retrying in parallel.
        let raw = if i % 4 == 0 {
            repeated.clone()
        } else {
            crlf(&format!(
                "From: persona{i}@otra.mx\nSubject: Solicitud {i}\nMessage-ID: <parallel-{i}@otra.mx>\n\nNo puedo entrar a mi cuenta {i}.\n"
            ))
        };
        tasks.push(tokio::spawn(async move {
            inbound::ingest(&db, &policy(), &raw, "mailgate", now_ms()).await
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task").expect("stored and applied"));
    }
    assert!(outcomes.iter().all(|o| o.outcome == "request"));
    let repeats: Vec<&Outcome> = outcomes.iter().step_by(4).collect();
    assert_eq!(repeats.iter().filter(|o| o.fresh).count(), 1);
    assert!(repeats.iter().all(|o| {
        (o.inbound_id, &o.request_number) == (repeats[0].inbound_id, &repeats[0].request_number)
    }));
    let mut numbers: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| o.request_number.as_deref())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(
        numbers.len(),
        31,
        "30 distinct messages and the repeated one"
    );
    // Numbers stay gap-free when registrations share commits.
    let sequences: Vec<i64> = sqlx::query_scalar("SELECT sequence FROM requests ORDER BY sequence")
        .fetch_all(app.db.read())
        .await
        .expect("sequences");
    assert_eq!(sequences, (1..=31).collect::<Vec<i64>>());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE topic = 'acknowledgement'")
            .await,
        31
    );
    // On SQLite they shared group commits, and the messages that started requests were written
    // together without a failed batch (one would fall back to one message at a time: still
    // correct, but counted here).
    if let (Some(group), Some(before)) = (app.db.group_commit(), before) {
        let activity = group.activity().since(before);
        assert_eq!(activity.other_work, 40, "{activity:?}");
        assert!(activity.groups < 40, "{activity:?}");
        assert_eq!(activity.batches_retried, 0, "{activity:?}");
    }
}

/// Requests already hold the idempotency keys the messages stored as rows `on_sqlite` (or
/// `on_postgres`) would register under (an API client chose `mail:N`, one phone request each):
/// registering such a message fails, and only that message must become a dead letter. Answers
/// the first request's number and how many requests were made.
async fn app_with_the_keys_of_messages_taken(
    on_sqlite: &[i64],
    on_postgres: &[i64],
) -> (TestApp, String, i64) {
    let app = TestApp::spawn().await;
    let inbound_ids = match app.db.engine {
        Engine::Sqlite => on_sqlite,
        Engine::Postgres => on_postgres,
    };
    let requester = app.requester(7402, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let mut numbers = Vec::new();
    for inbound_id in inbound_ids {
        let number = app.phone_request(requester, service).await;
        sqlx::query("UPDATE requests SET idempotency_key = $1 WHERE number = $2")
            .bind(format!("mail:{inbound_id}"))
            .bind(&number)
            .execute(app.db.write())
            .await
            .expect("update");
        numbers.push(number);
    }
    let made = i64::try_from(numbers.len()).expect("a few requests");
    (app, numbers.swap_remove(0), made)
}

#[tokio::test]
async fn a_message_that_fails_to_apply_is_a_dead_letter_and_the_rest_of_its_batch_is_applied() {
    // The batch of three fails on the first message's key (row 1) and is rolled back; each
    // message is then applied alone. SQLite gives the rolled-back rows' ids out again, so the
    // first message is row 1 once more; PostgreSQL's sequence does not, so there it is row 4.
    let (app, phone_number, phone_requests) =
        app_with_the_keys_of_messages_taken(&[1], &[1, 4]).await;
    let batch: Vec<Vec<u8>> = (1..=3)
        .map(|i| {
            crlf(&format!(
                "From: persona{i}@otra.mx\nSubject: Falla {i}\nMessage-ID: <fails-{i}@otra.mx>\n\nTexto {i}.\n"
            ))
        })
        .collect();
    let outcomes: Vec<Outcome> = ingest_stored(&app, batch).await;
    let kinds: Vec<&str> = outcomes.iter().map(|o| o.outcome.as_str()).collect();
    assert_eq!(kinds, ["dead", "request", "request"]);
    let (kind, reason): (String, String) =
        sqlx::query_as("SELECT reason_kind, reason FROM mail_dead_letters")
            .fetch_one(app.db.read())
            .await
            .expect("one dead letter");
    assert_eq!(kind, "rejected", "{reason}");
    // Nothing of the failed attempt is left: no request, event or acknowledgement of it, and the
    // phone request is untouched.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM requests").await,
        phone_requests + 2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM request_events WHERE kind = 'mail_received'")
            .await,
        2
    );
    let (_, phone) = app
        .get(&format!("/api/v1/requests/{phone_number}"), &app.agent)
        .await;
    assert_eq!(phone["channel"], "phone");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM mail_inbound WHERE status = 'dead'")
            .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM mail_inbound WHERE status = 'applied' AND request_id IS NOT NULL"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn a_single_message_that_fails_to_apply_is_stored_as_a_dead_letter() {
    let (app, _, _) = app_with_the_keys_of_messages_taken(&[1], &[1]).await;
    let raw = crlf(
        "From: persona@otra.mx\nSubject: Falla\nMessage-ID: <single-fails@otra.mx>\n\nTexto.\n",
    );
    let outcome = inbound::ingest(&app.db, &policy(), &raw, "mailgate", now_ms())
        .await
        .expect("stored");
    assert_eq!((outcome.outcome.as_str(), outcome.fresh), ("dead", true));
    let (status, kind): (String, String) = sqlx::query_as(
        "SELECT m.status, d.reason_kind FROM mail_inbound m
         JOIN mail_dead_letters d ON d.inbound_id = m.id WHERE m.id = $1",
    )
    .bind(outcome.inbound_id)
    .fetch_one(app.db.read())
    .await
    .expect("the message is stored, as a dead letter");
    assert_eq!((status.as_str(), kind.as_str()), ("dead", "rejected"));
    assert_eq!(app.count("SELECT COUNT(*) FROM mail_inbound").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM request_events WHERE kind = 'mail_received'")
            .await,
        0
    );
    let next = inbound::ingest(
        &app.db,
        &policy(),
        &crlf("From: otra@otra.mx\nSubject: Bien\nMessage-ID: <single-good@otra.mx>\n\nTexto.\n"),
        "mailgate",
        now_ms(),
    )
    .await
    .expect("stored");
    assert_eq!(next.outcome, "request");
}

/// The fresh messages of one fetch start their requests together (on SQLite, one statement per
/// table for all of them): the loop caps still count the answers given earlier in the same
/// fetch, nothing is answered to a machine, and an attachment lands on the event of its own
/// request. PostgreSQL applies the same fetch one message at a time, with the same result.
#[tokio::test]
async fn messages_that_start_requests_together_keep_the_caps_and_their_attachments_l6() {
    use base64::Engine as _;
    let app = TestApp::spawn().await;
    let mut strict = policy();
    strict.max_per_sender_per_day = 2;
    let fresh = |n: u32| {
        crlf(&format!(
            "From: insistente@otra.mx\nSubject: Sin red {n}\nMessage-ID: <cap-{n}@otra.mx>\n\nSigo sin red ({n}).\n"
        ))
    };
    // One answer already given today; one more is allowed.
    let earlier = inbound::ingest_batch(&app.db, &strict, vec![fresh(0)], "imap:INBOX", now_ms())
        .await
        .expect("committed");
    assert_eq!(earlier[0].as_ref().expect("stored").outcome, "request");
    let picture = base64::engine::general_purpose::STANDARD.encode([7_u8; 3000]);
    let with_attachment = crlf(&format!(
        "From: otra.persona@otra.mx\nSubject: Pantalla rota\nMessage-ID: <cap-pic@otra.mx>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain; charset=utf-8\n\nAdjunto la foto.\n--b\nContent-Type: image/png; name=\"foto.png\"\nContent-Disposition: attachment; filename=\"foto.png\"\nContent-Transfer-Encoding: base64\n\n{picture}\n--b--\n"
    ));
    let from_a_machine = crlf(
        "From: avisos@otra.mx\nSubject: Aviso de sistema\nMessage-ID: <cap-auto@otra.mx>\nAuto-Submitted: auto-generated\n\nRespaldo terminado.\n",
    );
    let outcomes = inbound::ingest_batch(
        &app.db,
        &strict,
        vec![
            fresh(1),
            with_attachment,
            fresh(2),
            from_a_machine,
            fresh(3),
        ],
        "imap:INBOX",
        now_ms(),
    )
    .await
    .expect("committed");
    let outcomes: Vec<Outcome> = outcomes.into_iter().map(|o| o.expect("stored")).collect();
    assert!(outcomes.iter().all(|o| o.outcome == "request" && o.fresh));
    let answered: Vec<(String, i64)> = sqlx::query_as(
        "SELECT message_id, auto_answered FROM mail_inbound WHERE id > $1 ORDER BY id",
    )
    .bind(
        earlier[0]
            .as_ref()
            .map(|o| o.inbound_id)
            .unwrap_or_default(),
    )
    .fetch_all(app.db.read())
    .await
    .expect("rows");
    let flags: Vec<(&str, i64)> = answered.iter().map(|(m, a)| (m.as_str(), *a)).collect();
    assert_eq!(
        flags,
        [
            ("cap-1@otra.mx", 1),
            ("cap-pic@otra.mx", 1),
            ("cap-2@otra.mx", 0),
            ("cap-auto@otra.mx", 0),
            ("cap-3@otra.mx", 0),
        ]
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox WHERE topic = 'acknowledgement' AND recipient = 'insistente@otra.mx'"
        )
        .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE recipient = 'avisos@otra.mx'")
            .await,
        0
    );
    // Every request has its own mail_received event, and the picture hangs from its request's.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM requests q JOIN request_events e ON e.request_id = q.id AND e.kind = 'mail_received'"
        )
        .await,
        6
    );
    let (filename, size, on_its_event): (String, i64, i64) = sqlx::query_as(
        "SELECT a.filename, a.size_bytes, COUNT(e.id) FROM attachments a
         JOIN requests q ON q.id = a.request_id
         LEFT JOIN request_events e ON e.id = a.event_id AND e.request_id = q.id AND e.kind = 'mail_received'
         WHERE q.subject = 'Pantalla rota' GROUP BY a.filename, a.size_bytes",
    )
    .fetch_one(app.db.read())
    .await
    .expect("the attachment");
    assert_eq!(
        (filename.as_str(), size, on_its_event),
        ("foto.png", 3000, 1)
    );
    let numbers: Vec<Option<String>> = outcomes.iter().map(|o| o.request_number.clone()).collect();
    let mut distinct = numbers.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "{numbers:?}");
}

/// The replies of one fetch are added together: threaded by In-Reply-To to our acknowledgement,
/// by References to the requester's first message, or by the number in the subject; a reply to
/// another message of the same fetch still finds its thread, one that threads to nothing starts a
/// request, and every comment is found by search at once (A14).
#[tokio::test]
async fn replies_of_one_fetch_are_added_together_each_to_its_own_thread_a14() {
    let app = TestApp::spawn().await;
    let first = ingest_stored(
        &app,
        vec![
            crlf(
                "From: ana@otra.mx\nSubject: Correo lleno\nMessage-ID: <hilo-a@otra.mx>\n\nMi buzón está lleno.\n",
            ),
            crlf(
                "From: beto@otra.mx\nSubject: Sin impresora\nMessage-ID: <hilo-b@otra.mx>\n\nNo imprime.\n",
            ),
        ],
    )
    .await;
    let (number_a, number_b) = (
        first[0].request_number.clone().expect("a"),
        first[1].request_number.clone().expect("b"),
    );
    let acknowledgement_a: String = sqlx::query_scalar(
        "SELECT o.message_id FROM outbox o JOIN requests q ON q.id = o.request_id WHERE q.number = $1",
    )
    .bind(&number_a)
    .fetch_one(app.db.read())
    .await
    .expect("the acknowledgement");
    let replies = vec![
        crlf(&format!(
            "From: ana@otra.mx\nSubject: Re: Correo lleno\nMessage-ID: <r1@otra.mx>\nIn-Reply-To: <{acknowledgement_a}>\n\nSigue lleno, palabra zafiro.\n"
        )),
        crlf(&format!(
            "From: beto@otra.mx\nSubject: Re: [{number_b}] Sin impresora\nMessage-ID: <r2@otra.mx>\n\nYa imprime, palabra rubi.\n"
        )),
        crlf(
            "From: ana@otra.mx\nSubject: Re: Re: Correo lleno\nMessage-ID: <r3@otra.mx>\nIn-Reply-To: <r1@otra.mx>\n\nOlvidé algo, palabra topacio.\n",
        ),
        crlf(
            "From: carla@otra.mx\nSubject: Re: Algo viejo\nMessage-ID: <r4@otra.mx>\nIn-Reply-To: <desconocido@ninguna.mx>\n\nNueva duda.\n",
        ),
        crlf(
            "From: ana@otra.mx\nSubject: Otra cosa\nMessage-ID: <r5@otra.mx>\nReferences: <hilo-a@otra.mx>\n\nTambién, palabra jade.\n",
        ),
    ];
    let outcomes = ingest_stored(&app, replies).await;
    let seen: Vec<(&str, Option<&str>)> = outcomes
        .iter()
        .map(|o| (o.outcome.as_str(), o.request_number.as_deref()))
        .collect();
    assert_eq!(seen[0], ("comment", Some(number_a.as_str())));
    assert_eq!(seen[1], ("comment", Some(number_b.as_str())));
    assert_eq!(seen[2], ("comment", Some(number_a.as_str())));
    assert_eq!(seen[3].0, "request");
    assert!(![Some(number_a.as_str()), Some(number_b.as_str())].contains(&seen[3].1));
    assert_eq!(seen[4], ("comment", Some(number_a.as_str())));
    let comments_of = |number: &str| {
        format!(
            "SELECT COUNT(*) FROM request_events e JOIN requests q ON q.id = e.request_id
             WHERE e.kind = 'comment' AND q.number = '{number}'"
        )
    };
    assert_eq!(app.count(&comments_of(&number_a)).await, 3);
    assert_eq!(app.count(&comments_of(&number_b)).await, 1);
    for (word, number) in [
        ("zafiro", &number_a),
        ("rubi", &number_b),
        ("topacio", &number_a),
        ("jade", &number_a),
    ] {
        let (_, page) = app
            .get(&format!("/api/v1/requests?q={word}"), &app.agent)
            .await;
        let found: Vec<&str> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|item| item["number"].as_str())
            .collect();
        assert_eq!(found, [number.as_str()], "{word}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM mail_inbound WHERE status = 'applied'")
            .await,
        7
    );

    // A reply to a message of the same fetch threads to the request that message starts, even
    // when its subject names another request.
    let mixed = ingest_stored(
        &app,
        vec![
            crlf(
                "From: dora@otra.mx
Subject: Proyector
Message-ID: <padre@otra.mx>

No enciende.
",
            ),
            crlf(&format!(
                "From: dora@otra.mx
Subject: Re: [{number_b}] Proyector
Message-ID: <hija@otra.mx>
In-Reply-To: <padre@otra.mx>

Ya revisé el cable.
"
            )),
            crlf(&format!(
                "From: beto@otra.mx
Subject: Re: [{number_b}] Sin impresora
Message-ID: <r6@otra.mx>

Otra vez.
"
            )),
        ],
    )
    .await;
    assert_eq!(mixed[0].outcome, "request");
    assert_eq!(
        (mixed[1].outcome.as_str(), &mixed[1].request_number),
        ("comment", &mixed[0].request_number)
    );
    assert_eq!(
        (
            mixed[2].outcome.as_str(),
            mixed[2].request_number.as_deref()
        ),
        ("comment", Some(number_b.as_str()))
    );

    // Replies delivered at once (one process, concurrent ingests): on SQLite they share group
    // commits, and a batch of replies that failed would be counted.
    let before = app.db.group_commit().map(|g| g.activity());
    let mut tasks = Vec::new();
    for i in 0..8 {
        let db = app.db.clone();
        let raw = crlf(&format!(
            "From: beto@otra.mx
Subject: Re: [{number_b}] Sin impresora
Message-ID: <junta-{i}@otra.mx>

Detalle {i}.
"
        ));
        tasks.push(tokio::spawn(async move {
            inbound::ingest(&db, &policy(), &raw, "mailgate", now_ms()).await
        }));
    }
    for task in tasks {
        let outcome = task.await.expect("task").expect("stored and applied");
        assert_eq!(
            (outcome.outcome.as_str(), outcome.request_number.as_deref()),
            ("comment", Some(number_b.as_str()))
        );
    }
    assert_eq!(app.count(&comments_of(&number_b)).await, 10);
    if let (Some(group), Some(before)) = (app.db.group_commit(), before) {
        let activity = group.activity().since(before);
        assert_eq!(activity.batches_retried, 0, "{activity:?}");
    }
}
