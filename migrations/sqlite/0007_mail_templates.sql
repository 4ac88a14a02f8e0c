-- Administrator-editable mail templates (subject, plain text and HTML) by kind, every earlier
-- version kept; the dead letters' reason kind for the metrics.
-- Kept in step with migrations/postgres/0007_mail_templates.sql.

-- The current template of a kind; no row means the built-in default (src/mail/templates.rs).
CREATE TABLE mail_templates (
    template_key TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    updated_by BIGINT REFERENCES staff(id),
    updated_at BIGINT NOT NULL
);

-- Every save and every reset, in order; a reset records the default it went back to.
CREATE TABLE mail_template_versions (
    id INTEGER PRIMARY KEY,
    template_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    changed_by BIGINT REFERENCES staff(id),
    changed_at BIGINT NOT NULL,
    UNIQUE (template_key, version)
);

-- too_large, unreadable, rejected (a rule refused it) or apply_error.
ALTER TABLE mail_dead_letters ADD COLUMN reason_kind TEXT NOT NULL DEFAULT 'apply_error';
