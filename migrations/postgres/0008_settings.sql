-- Settings the administrator edits on the pages, one row per key (e.g. the greeting of the
-- attention script CGSI-PO-01/01, per language). A missing row means the built-in default.
-- Kept in step with migrations/sqlite/0008_settings.sql.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by BIGINT REFERENCES staff(id),
    updated_at BIGINT NOT NULL
);
