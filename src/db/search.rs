//! Full-text search over requests: number, subject, description, comments and requester's name,
//! accent- and case-insensitive, in Spanish. `request_search` holds one folded document per
//! request, written in the transaction of every change it reflects; SQLite indexes it with FTS5
//! (`request_search_fts`), PostgreSQL with a GIN index over a Spanish `tsvector` (migration 9).

use serde_json::Value;
use sqlx::AnyConnection;

use super::{Engine, fold_for_search};
use crate::error::AppResult;

/// The most query words looked at; more narrow nothing down in practice.
const MAX_WORDS: usize = 8;

/// The PostgreSQL expression the GIN index of migration 9 is built on; queries must repeat it
/// exactly for the index to be used.
pub const PG_VECTOR: &str = "(setweight(to_tsvector('spanish'::regconfig, f.document), 'B') \
     || setweight(to_tsvector('spanish'::regconfig, f.requester), 'A'))";

/// Rewrites the search document of one request from what is stored now.
pub(crate) async fn index_request(tx: &mut AnyConnection, request_id: i64) -> AppResult<()> {
    let (number, subject, description, requester): (String, String, String, Option<String>) =
        sqlx::query_as(
            "SELECT q.number, q.subject, q.description, r.full_name FROM requests q
             LEFT JOIN requesters r ON r.id = q.requester_id WHERE q.id = $1",
        )
        .bind(request_id)
        .fetch_one(&mut *tx)
        .await?;
    let payloads: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM request_events WHERE request_id = $1 AND kind = 'comment' ORDER BY id",
    )
    .bind(request_id)
    .fetch_all(&mut *tx)
    .await?;
    let comments: Vec<String> = payloads.iter().filter_map(|p| comment_body(p)).collect();
    let document = document(&number, &subject, &description, &comments);
    sqlx::query(
        "INSERT INTO request_search (request_id, document, requester) VALUES ($1, $2, $3)
         ON CONFLICT (request_id) DO UPDATE SET document = excluded.document,
            requester = excluded.requester",
    )
    .bind(request_id)
    .bind(document)
    .bind(fold_for_search(requester.as_deref().unwrap_or("")))
    .execute(&mut *tx)
    .await?;
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
/// its tokens (`SS-2026-000123` gives three, to be matched as a phrase), a plural `s` dropped
/// from the last token because every word is matched as a prefix ("impresoras" finds
/// "impresora"). Empty when nothing searchable was typed.
pub fn query_words(text: &str) -> Vec<Vec<String>> {
    text.split_whitespace()
        .map(|word| {
            let mut tokens: Vec<String> = fold_for_search(word)
                .split_whitespace()
                .map(String::from)
                .collect();
            if let Some(last) = tokens.last_mut()
                && last.chars().count() > 3
                && last.ends_with('s')
            {
                last.pop();
            }
            tokens
        })
        .filter(|tokens| !tokens.is_empty())
        .take(MAX_WORDS)
        .collect()
}

/// The engine's match expression for `text`: every word must appear (as a prefix), in the
/// request's text and, when `with_requester`, also in the requester's name. `None` when the
/// text has nothing searchable.
pub fn match_expression(engine: Engine, text: &str, with_requester: bool) -> Option<String> {
    let words = query_words(text);
    if words.is_empty() {
        return None;
    }
    // Tokens are letters and digits only (folded), so nothing in them is query syntax.
    Some(match engine {
        Engine::Sqlite => {
            let phrases: Vec<String> = words
                .iter()
                .map(|tokens| format!("\"{}\"*", tokens.join(" ")))
                .collect();
            let all = phrases.join(" AND ");
            if with_requester {
                all
            } else {
                format!("{{document}} : ({all})")
            }
        }
        Engine::Postgres => {
            let weight = if with_requester { "" } else { "B" };
            let phrases: Vec<String> = words
                .iter()
                .map(|tokens| format!("({}:*{weight})", tokens.join(" <-> ")))
                .collect();
            phrases.join(" & ")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_number_is_one_phrase_and_plurals_match_the_singular() {
        assert_eq!(
            query_words("SS-2026-000123 Impresoras"),
            vec![vec!["ss", "2026", "000123"], vec!["impresora"]]
        );
    }

    #[test]
    fn punctuation_alone_searches_nothing() {
        assert!(query_words(" -- ¿? ").is_empty());
        assert_eq!(match_expression(Engine::Sqlite, "¡!", true), None);
    }

    #[test]
    fn query_syntax_typed_by_a_person_is_only_text() {
        let sqlite = match_expression(Engine::Sqlite, "correo\" OR * NEAR(", true).unwrap();
        assert_eq!(sqlite, "\"correo\"* AND \"or\"* AND \"near\"*");
        let pg = match_expression(Engine::Postgres, "a&b | !c:*", true).unwrap();
        assert_eq!(pg, "(a <-> b:*) & (c:*)");
    }

    #[test]
    fn without_personal_data_the_requester_name_is_not_searched() {
        assert_eq!(
            match_expression(Engine::Sqlite, "Núñez", false).unwrap(),
            "{document} : (\"nunez\"*)"
        );
        assert_eq!(
            match_expression(Engine::Postgres, "Núñez", false).unwrap(),
            "(nunez:*B)"
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
