-- Full-text search over a request's number, subject, description, comments and requester
-- (issue 4). The application writes `request_search` in the transaction of the change it
-- reflects, with text already folded (lower case, no accents); the FTS5 index follows it through
-- triggers (external content: the text is not stored twice).
CREATE TABLE request_search (
    request_id INTEGER PRIMARY KEY REFERENCES requests (id),
    document TEXT NOT NULL,
    requester TEXT NOT NULL
);

CREATE VIRTUAL TABLE request_search_fts USING fts5 (
    document, requester,
    content = 'request_search', content_rowid = 'request_id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER request_search_inserted AFTER INSERT ON request_search BEGIN
    INSERT INTO request_search_fts (rowid, document, requester)
    VALUES (new.request_id, new.document, new.requester);
END;

CREATE TRIGGER request_search_deleted AFTER DELETE ON request_search BEGIN
    INSERT INTO request_search_fts (request_search_fts, rowid, document, requester)
    VALUES ('delete', old.request_id, old.document, old.requester);
END;

CREATE TRIGGER request_search_updated AFTER UPDATE ON request_search BEGIN
    INSERT INTO request_search_fts (request_search_fts, rowid, document, requester)
    VALUES ('delete', old.request_id, old.document, old.requester);
    INSERT INTO request_search_fts (rowid, document, requester)
    VALUES (new.request_id, new.document, new.requester);
END;

-- Requests registered before this migration (the tokenizer folds case and accents).
INSERT INTO request_search (request_id, document, requester)
SELECT q.id,
    replace(q.number, '-', ' ') || ' ' || q.subject || ' ' || q.description || ' ' || COALESCE(
        (SELECT group_concat(json_extract(e.payload, '$.body'), ' ') FROM request_events e
         WHERE e.request_id = q.id AND e.kind = 'comment'), ''),
    COALESCE(r.full_name, '')
FROM requests q LEFT JOIN requesters r ON r.id = q.requester_id;
