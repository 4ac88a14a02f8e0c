//! The whole validation loop with real parts (L9, issue "closing the loop"): the invitation goes
//! out through the outbox to the real SMTP server, the requester finds it in the real IMAP
//! mailbox, opens its link in headless Chromium, answers "No", and the request is reopened with
//! the answer on its timeline; the same link then says it was already used.

use std::time::Duration;

use ventanilla::mail::{self, Security, ServerConfig};

use crate::browser::{click, css, start, type_into};
use crate::helpers::TestApp;
use crate::mail::{MAIL_SERVERS, Servers, mail_args, mailbox, set_email, wait_for};

#[tokio::test]
async fn browser_the_requester_answers_no_from_the_real_invitation_mail_and_the_request_reopens() {
    let Some(driver) = start().await else {
        return;
    };
    let _serial = MAIL_SERVERS.lock().await;
    let servers = Servers::start(4525);
    let app = TestApp::spawn().await;
    mail::save_settings(&app.db, &mail_args(&servers))
        .await
        .expect("mail settings");
    let ana = app.requester(8101, "none").await;
    set_email(&app, ana, "ana@ventanilla.test").await;
    let number = app.verified_request(ana).await;
    assert_eq!(app.run_survey_jobs().await.0, 1);

    let worker = mail::outbound::Worker::new(
        app.db.clone(),
        &ServerConfig {
            host: "127.0.0.1".into(),
            port: servers.submission,
            security: Security::Starttls,
            user: Some("crm@ventanilla.test".into()),
            password: Some("secreto".into()),
            ca_file: Some(servers.ca.clone()),
        },
    )
    .expect("SMTP transport");
    let worker_task = tokio::spawn(worker.run());

    let invitation = wait_for(
        "the survey invitation in ana's mailbox",
        Duration::from_secs(30),
        || async {
            mailbox(&servers, "ana").await.into_iter().find(|raw| {
                mail_parser::MessageParser::default()
                    .parse(raw)
                    .and_then(|m| {
                        m.subject()
                            .map(|s| s.contains("¿Se resolvió su solicitud?"))
                    })
                    .unwrap_or(false)
            })
        },
    )
    .await;
    let message = mail_parser::MessageParser::default()
        .parse(&invitation)
        .expect("a parsable mail");
    assert!(message.subject().unwrap_or_default().contains(&number));
    let text = message.body_text(0).expect("a text body").into_owned();
    let path = text
        .split_whitespace()
        .find_map(|word| word.find("/encuesta/").map(|at| word[at..].to_string()))
        .expect("the link in the invitation");

    let c = &driver.client;
    c.goto(&format!("{}{path}", app.base))
        .await
        .expect("open the link");
    assert!(
        css(c, "#survey-number")
            .await
            .text()
            .await
            .unwrap()
            .contains(&number)
    );
    crate::browser::accessible(c, "survey").await;
    click(c, "#solved-no").await;
    for item in [
        "timeliness",
        "courtesy",
        "competence",
        "solution_quality",
        "communication",
        "overall",
    ] {
        click(c, &format!("#{item}-2")).await;
    }
    type_into(c, "#comment", "Sigo sin poder entrar a mi correo").await;
    click(c, "#survey-submit").await;
    let result = css(c, "#survey-result").await.text().await.unwrap();
    assert!(result.contains("reabrimos"), "{result}");

    let request = app.request(&number).await;
    assert_eq!(request["status"], "reopened");
    let reopen = request["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reopen")
        .unwrap();
    assert!(
        reopen["reason"]
            .as_str()
            .unwrap()
            .contains("Sigo sin poder entrar")
    );
    let answered = request["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "survey_answered")
        .unwrap();
    assert_eq!(answered["payload"]["solved"], false);
    assert_eq!(answered["payload"]["ratings"]["overall"], 2);

    c.goto(&format!("{}{path}", app.base))
        .await
        .expect("open the link again");
    let again = css(c, "#survey-result").await.text().await.unwrap();
    assert!(again.contains("ya fue respondida"), "{again}");
    worker_task.abort();
}
