//! The two migration folders stay in step, and a migrated database has the same tables and
//! columns on SQLite and PostgreSQL.

use std::collections::BTreeSet;

use ventanilla::db::Engine;
use ventanilla::db::migrations::{POSTGRES, SQLITE};

#[test]
fn both_engines_have_the_same_migrations_in_the_same_order() {
    let names = |list: &[ventanilla::db::migrations::Migration]| {
        list.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>()
    };
    assert_eq!(names(SQLITE), names(POSTGRES));
    let files = |dir: &str| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(files("migrations/sqlite"), files("migrations/postgres"));
    assert_eq!(
        files("migrations/sqlite").len(),
        SQLITE.len(),
        "every file is embedded"
    );
}

/// Tables and columns created by each engine's migrations; the same on both.
fn columns_from_sql(sql: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut table: Option<String> = None;
    for line in sql.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("ALTER TABLE ") {
            // `ALTER TABLE t ADD COLUMN c …` declares one column outside any CREATE TABLE.
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let [t, "ADD", "COLUMN", c, ..] = words.as_slice() {
                out.insert((t.to_string(), c.to_string()));
            }
        } else if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
            table = rest.split_whitespace().next().map(String::from);
        } else if line.starts_with(')') {
            table = None;
        } else if let Some(t) = &table {
            let first = line.split_whitespace().next().unwrap_or("");
            if !first.is_empty()
                && first
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && first != "unique"
            {
                out.insert((t.clone(), first.to_string()));
            }
        }
    }
    out
}

/// Columns one engine has and the application never names in SQL shared by both: PostgreSQL's
/// stored search vector (SQLite's FTS5 index lives in its own virtual table).
const ENGINE_ONLY: &[(&str, &str)] = &[("request_search", "vector")];

fn shared_columns(sql: &str) -> BTreeSet<(String, String)> {
    columns_from_sql(sql)
        .into_iter()
        .filter(|(t, c)| !ENGINE_ONLY.contains(&(t.as_str(), c.as_str())))
        .collect()
}

#[test]
fn both_migration_folders_define_the_same_tables_and_columns() {
    for (sqlite, postgres) in SQLITE.iter().zip(POSTGRES) {
        assert_eq!(
            shared_columns(sqlite.sql),
            shared_columns(postgres.sql),
            "{}",
            sqlite.name
        );
    }
}

#[tokio::test]
async fn the_migrated_schema_has_the_columns_the_migrations_declare() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_db(dir.path()).await;
    let sql = match db.engine {
        Engine::Sqlite => {
            // FTS5 virtual tables (the search index) and their shadow tables are SQLite's own.
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'schema_migrations'
             AND NOT EXISTS (SELECT 1 FROM sqlite_master v
                 WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%'
                 AND (m.name = v.name OR m.name LIKE v.name || '\\_%' ESCAPE '\\'))"
        }
        Engine::Postgres => {
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name <> 'schema_migrations'"
        }
    };
    let rows: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(db.read()).await.unwrap();
    let live: BTreeSet<(String, String)> = rows.into_iter().collect();
    let migrations = match db.engine {
        Engine::Sqlite => SQLITE,
        Engine::Postgres => POSTGRES,
    };
    let declared: BTreeSet<(String, String)> = migrations
        .iter()
        .flat_map(|m| columns_from_sql(m.sql))
        .collect();
    assert_eq!(live, declared);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_never_claim_the_same_outbox_message_and_a_dead_workers_lease_expires() {
    use ventanilla::db::outbox::{self, NewMessage};
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_db(dir.path()).await;
    let mut tx = db.begin_write().await.unwrap();
    for i in 0..40 {
        let id = format!("test-{i}@ventanilla.test");
        outbox::enqueue(
            &mut tx,
            NewMessage {
                topic: "test",
                request_id: None,
                recipient: "ana@ventanilla.test",
                subject: "Prueba",
                body_text: "Hola",
                body_html: None,
                headers: serde_json::json!({}),
                message_id: &id,
            },
            1_000,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let (a, b) = tokio::join!(
        outbox::claim(&db, "node-a", 25, 60_000, 2_000),
        outbox::claim(&db, "node-b", 25, 60_000, 2_000)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let ids: BTreeSet<i64> = a.iter().chain(&b).map(|m| m.id).collect();
    assert_eq!(ids.len(), 40, "every message claimed once");
    assert_eq!(a.len() + b.len(), 40);
    // node-b delivers its share; node-a dies, and once its lease runs out its share is claimed again.
    for m in &b {
        outbox::mark_sent(&db, m.id, "node-b", 3_000).await.unwrap();
    }
    let none_yet = outbox::claim(&db, "node-c", 100, 60_000, 30_000)
        .await
        .unwrap();
    assert!(none_yet.is_empty());
    let reclaimed = outbox::claim(&db, "node-c", 100, 60_000, 70_000)
        .await
        .unwrap();
    assert_eq!(reclaimed.len(), a.len());
    assert!(reclaimed.iter().all(|m| m.attempts == 2));
}

/// A multi-row insert is padded to a power of two with rows the statement leaves out: three
/// messages are written as a statement of four rows, and exactly three are stored, each once,
/// with their own values (the padding repeats the last row's values but for a NULL first column,
/// so on PostgreSQL every column keeps one type).
#[tokio::test]
async fn a_padded_multi_row_insert_writes_only_the_real_rows() {
    use ventanilla::db::outbox::{self, NewMessage};
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_db(dir.path()).await;
    let ids: Vec<String> = (0..3).map(|i| format!("pad-{i}@ventanilla.test")).collect();
    let subjects = ["Uno", "Dos", "Tres"];
    let messages: Vec<NewMessage<'_>> = ids
        .iter()
        .zip(subjects)
        .map(|(id, subject)| NewMessage {
            topic: "test",
            request_id: None,
            recipient: "ana@ventanilla.test",
            subject,
            body_text: "Hola",
            body_html: Some("<p>Hola</p>"),
            headers: serde_json::json!({"X-Prueba": subject}),
            message_id: id,
        })
        .collect();
    let mut tx = db.begin_write().await.unwrap();
    let written = outbox::enqueue_many(&mut tx, &messages, 1_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(written.iter().collect::<BTreeSet<_>>().len(), 3);
    let stored: Vec<(String, String, String)> =
        sqlx::query_as("SELECT message_id, subject, headers FROM outbox ORDER BY message_id")
            .fetch_all(db.read())
            .await
            .unwrap();
    let expected: Vec<(String, String, String)> = ids
        .iter()
        .zip(subjects)
        .map(|(id, subject)| {
            (
                id.clone(),
                subject.to_string(),
                serde_json::json!({"X-Prueba": subject}).to_string(),
            )
        })
        .collect();
    assert_eq!(stored, expected);
}

#[tokio::test]
async fn a_periodic_job_lease_is_held_by_one_node_until_it_expires() {
    use ventanilla::db::outbox::try_lease;
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_db(dir.path()).await;
    assert!(try_lease(&db, "digest", "node-a", 60_000, 0).await.unwrap());
    assert!(
        !try_lease(&db, "digest", "node-b", 60_000, 1_000)
            .await
            .unwrap()
    );
    assert!(
        try_lease(&db, "digest", "node-a", 60_000, 2_000)
            .await
            .unwrap(),
        "renewed"
    );
    assert!(
        try_lease(&db, "digest", "node-b", 60_000, 62_001)
            .await
            .unwrap(),
        "expired"
    );
}
