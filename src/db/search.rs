//! Full-text search over requests: number, subject, description, comments and requester's name,
//! accent- and case-insensitive, in Spanish (whole words; singular and plural alike). `request_search` holds one folded document per
//! request, written in the transaction of every change it reflects; SQLite indexes it with FTS5
//! (`request_search_fts`), PostgreSQL with a GIN index over a Spanish `tsvector` (migration 9).

use serde_json::Value;
use sqlx::AnyConnection;

use super::{Engine, fold_for_search};
use crate::error::AppResult;

/// The most query words looked at; more narrow nothing down in practice.
const MAX_WORDS: usize = 8;

/// Rewrites the search document of one request from what is stored now.
pub(crate) async fn index_request(tx: &mut AnyConnection, request_id: i64) -> AppResult<()> {
    index_requests(tx, &[request_id]).await
}

/// Rewrites the index rows of `request_ids` (distinct) from what they hold now.
pub(crate) async fn index_requests(tx: &mut AnyConnection, request_ids: &[i64]) -> AppResult<()> {
    let mut documents = Vec::with_capacity(request_ids.len());
    for chunk in request_ids.chunks(super::ROWS_PER_STATEMENT) {
        let list = super::id_list(1, chunk.len());
        let sql = format!(
            "SELECT q.id, q.number, q.subject, q.description, r.full_name FROM requests q
             LEFT JOIN requesters r ON r.id = q.requester_id WHERE q.id IN ({list})"
        );
        let query = sqlx::query_as::<_, (i64, String, String, String, Option<String>)>(
            sqlx::AssertSqlSafe(sql),
        );
        let requests = super::bind_list(query, chunk).fetch_all(&mut *tx).await?;
        if requests.len() != chunk.len() {
            return Err(anyhow::anyhow!("a request to index was not found").into());
        }
        let sql = format!(
            "SELECT request_id, payload FROM request_events
             WHERE request_id IN ({list}) AND kind = 'comment' ORDER BY id"
        );
        let query = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
        let mut comments: std::collections::HashMap<i64, Vec<String>> =
            std::collections::HashMap::new();
        for (request_id, payload) in super::bind_list(query, chunk).fetch_all(&mut *tx).await? {
            if let Some(body) = comment_body(&payload) {
                comments.entry(request_id).or_default().push(body);
            }
        }
        for (request_id, number, subject, description, requester) in requests {
            documents.push(SearchDocument::new(
                request_id,
                &number,
                &subject,
                &description,
                comments.get(&request_id).map(Vec::as_slice).unwrap_or(&[]),
                requester.as_deref(),
            ));
        }
    }
    insert_documents(tx, &documents).await
}

/// One row of the index: the request's folded text and its requester's folded name.
pub struct SearchDocument {
    request_id: i64,
    document: String,
    requester: String,
}

impl SearchDocument {
    pub fn new(
        request_id: i64,
        number: &str,
        subject: &str,
        description: &str,
        comments: &[String],
        requester: Option<&str>,
    ) -> SearchDocument {
        SearchDocument {
            request_id,
            document: document(number, subject, description, comments),
            requester: fold_for_search(requester.unwrap_or("")),
        }
    }
}

/// Writes (or rewrites) index rows, a few hundred per statement.
pub(crate) async fn insert_documents(
    tx: &mut AnyConnection,
    documents: &[SearchDocument],
) -> AppResult<()> {
    for block in super::row_blocks(documents.len()) {
        let chunk = &documents[block.rows.clone()];
        let sql = format!(
            "INSERT INTO request_search (request_id, document, requester) {}
             ON CONFLICT (request_id) DO UPDATE SET document = excluded.document,
                requester = excluded.requester",
            super::padded_values(tx, block.padded(), 3, "")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for d in chunk {
            query = query
                .bind(Some(d.request_id))
                .bind(&d.document)
                .bind(&d.requester);
        }
        if let Some(last) = chunk.last() {
            for _ in 0..block.padding() {
                query = query
                    .bind(None::<i64>)
                    .bind(&last.document)
                    .bind(&last.requester);
            }
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

/// After a requester's name changes (A7): every request of theirs is found by the new name.
pub(crate) async fn index_requests_of(
    tx: &mut AnyConnection,
    requester_id: i64,
    full_name: &str,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE request_search SET requester = $1
         WHERE request_id IN (SELECT id FROM requests WHERE requester_id = $2)",
    )
    .bind(fold_for_search(full_name))
    .bind(requester_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The folded text one request is found by (the requester's name is kept apart).
pub fn document(number: &str, subject: &str, description: &str, comments: &[String]) -> String {
    let mut text = format!("{number} {subject} {description}");
    for comment in comments {
        text.push(' ');
        text.push_str(comment);
    }
    fold_for_search(&text)
}

fn comment_body(payload: &str) -> Option<String> {
    let value: Value = serde_json::from_str(payload).ok()?;
    value.get("body")?.as_str().map(String::from)
}

/// The words of a query as the index stores them: each whitespace-separated word folded into
/// its tokens (`SS-2026-000123` gives three, to be matched as a phrase). Empty when nothing
/// searchable was typed.
pub fn query_words(text: &str) -> Vec<Vec<String>> {
    text.split_whitespace()
        .map(|word| {
            fold_for_search(word)
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|tokens| !tokens.is_empty())
        .take(MAX_WORDS)
        .collect()
}

/// A word and its Spanish singular and plural forms (`red`, `redes`; `equipos`, `equipo`), for
/// SQLite, which does not stem. Whole words, not prefixes: a prefix must merge the postings of
/// every word it begins, which at a million requests costs tens of milliseconds per word.
fn number_forms(word: &str) -> Vec<String> {
    let mut forms = vec![word.to_string(), format!("{word}s"), format!("{word}es")];
    if word.chars().count() > 3 {
        if let Some(stem) = word.strip_suffix("es") {
            forms.push(stem.to_string());
        }
        if let Some(stem) = word.strip_suffix('s') {
            forms.push(stem.to_string());
        }
    }
    forms.dedup();
    forms
}

/// The engine's match expression for `text`: every word must appear, in the request's text and,
/// when `with_requester`, also in the requester's name. `None` when the text has nothing
/// searchable.
pub fn match_expression(engine: Engine, text: &str, with_requester: bool) -> Option<String> {
    let words = query_words(text);
    if words.is_empty() {
        return None;
    }
    // Tokens are letters and digits only (folded), so nothing in them is query syntax.
    Some(match engine {
        Engine::Sqlite => {
            let terms: Vec<String> = words
                .iter()
                .map(|tokens| match tokens.as_slice() {
                    [word] => {
                        let forms: Vec<String> = number_forms(word)
                            .iter()
                            .map(|f| format!("\"{f}\""))
                            .collect();
                        format!("({})", forms.join(" OR "))
                    }
                    phrase => format!("\"{}\"", phrase.join(" ")),
                })
                .collect();
            let all = terms.join(" AND ");
            if with_requester {
                all
            } else {
                format!("{{document}} : ({all})")
            }
        }
        // The Spanish stemmer already brings singular and plural together.
        Engine::Postgres => {
            let weight = if with_requester { "" } else { ":B" };
            let terms: Vec<String> = words
                .iter()
                .map(|tokens| {
                    let phrase: Vec<String> =
                        tokens.iter().map(|t| format!("{t}{weight}")).collect();
                    format!("({})", phrase.join(" <-> "))
                })
                .collect();
            terms.join(" & ")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_number_is_one_phrase() {
        assert_eq!(
            query_words("SS-2026-000123 Impresoras"),
            vec![vec!["ss", "2026", "000123"], vec!["impresoras"]]
        );
        assert_eq!(
            match_expression(Engine::Sqlite, "SS-2026-000123", true).unwrap(),
            "\"ss 2026 000123\""
        );
    }

    #[test]
    fn singular_and_plural_find_each_other_on_sqlite() {
        assert_eq!(
            number_forms("impresoras"),
            vec!["impresoras", "impresorass", "impresorases", "impresora"]
        );
        assert!(number_forms("redes").contains(&"red".to_string()));
        assert!(number_forms("red").contains(&"redes".to_string()));
        assert!(number_forms("equipo").contains(&"equipos".to_string()));
        assert_eq!(number_forms("gas"), vec!["gas", "gass", "gases"]);
    }

    #[test]
    fn punctuation_alone_searches_nothing() {
        assert!(query_words(" -- ¿? ").is_empty());
        assert_eq!(match_expression(Engine::Sqlite, "¡!", true), None);
    }

    #[test]
    fn query_syntax_typed_by_a_person_is_only_text() {
        let sqlite = match_expression(Engine::Sqlite, "vpn\" OR * NEAR(", true).unwrap();
        assert_eq!(
            sqlite,
            "(\"vpn\" OR \"vpns\" OR \"vpnes\") AND (\"or\" OR \"ors\" OR \"ores\") \
             AND (\"near\" OR \"nears\" OR \"neares\")"
        );
        let pg = match_expression(Engine::Postgres, "a&b | !c:*", true).unwrap();
        assert_eq!(pg, "(a <-> b) & (c)");
    }

    #[test]
    fn without_personal_data_the_requester_name_is_not_searched() {
        assert_eq!(
            match_expression(Engine::Sqlite, "Núñez", false).unwrap(),
            "{document} : ((\"nunez\" OR \"nunezs\" OR \"nunezes\"))"
        );
        assert_eq!(
            match_expression(Engine::Postgres, "Núñez", false).unwrap(),
            "(nunez:B)"
        );
    }

    #[test]
    fn the_document_is_folded_and_holds_comments() {
        assert_eq!(
            document(
                "SS-2026-000001",
                "Impresión",
                "No imprime",
                &["Ya revisé el tóner".into()]
            ),
            "ss 2026 000001 impresion no imprime ya revise el toner"
        );
    }
}
