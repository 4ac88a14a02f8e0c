-- Full-text search over a request's number, subject, description, comments and requester
-- (issue 4). The application writes `request_search` in the transaction of the change it
-- reflects, with text already folded (lower case, no accents). Spanish stemming; the requester's
-- name weighs 'A' so that roles without access to personal data can search without it.
CREATE TABLE request_search (
    request_id BIGINT PRIMARY KEY REFERENCES requests (id),
    document TEXT NOT NULL,
    requester TEXT NOT NULL,
    -- PostgreSQL only (SQLite's FTS5 keeps its own index): stored, so that a plan that filters
    -- rows newest first computes no vector (an index over the expression recomputed it for every
    -- row looked at: 0.6 s for a common word).
    vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('spanish'::regconfig, document), 'B')
        || setweight(to_tsvector('spanish'::regconfig, requester), 'A')
    ) STORED
);

CREATE INDEX request_search_vector ON request_search USING gin (vector);

-- Requests registered before this migration, folded as the application folds.
INSERT INTO request_search (request_id, document, requester)
SELECT q.id,
    lower(translate(
        replace(q.number, '-', ' ') || ' ' || q.subject || ' ' || q.description || ' ' || COALESCE(
            (SELECT string_agg(e.payload::json ->> 'body', ' ') FROM request_events e
             WHERE e.request_id = q.id AND e.kind = 'comment'), ''),
        'ÁÉÍÓÚÜÑáéíóúüñ', 'AEIOUUNaeiouun')),
    lower(translate(COALESCE(r.full_name, ''), 'ÁÉÍÓÚÜÑáéíóúüñ', 'AEIOUUNaeiouun'))
FROM requests q LEFT JOIN requesters r ON r.id = q.requester_id;
