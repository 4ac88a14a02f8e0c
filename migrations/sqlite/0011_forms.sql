-- Issue 4, forms that keep what was chosen: areas and units can be deactivated (existing rows
-- keep pointing at them), and the files of a script form sent back with errors are kept as
-- staged uploads until the form is sent again (or for 24 hours).
-- Kept in step with the other engine's 0011_forms.sql.
ALTER TABLE areas ADD COLUMN active BIGINT NOT NULL DEFAULT 1;
ALTER TABLE units ADD COLUMN active BIGINT NOT NULL DEFAULT 1;

-- A file chosen on the attention script, kept by the staff member who chose it. `token` is
-- random and travels in the form; `document` is the sheet's required document it was chosen
-- for (Q3). Stored like `attachments`; it becomes one when the request is registered.
CREATE TABLE staged_uploads (
    id INTEGER PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    staff_id BIGINT NOT NULL REFERENCES staff(id),
    document TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX staged_uploads_created ON staged_uploads (created_at);
