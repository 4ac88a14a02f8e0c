-- The e-mail channel: every inbound message is stored raw before it is parsed or acknowledged to
-- the server; a message that cannot be parsed or applied goes to the dead-letter list.
-- Kept in step with migrations/postgres/0004_mail.sql.

CREATE TABLE mail_inbound (
    id INTEGER PRIMARY KEY,
    message_key TEXT NOT NULL UNIQUE,
    message_id TEXT,
    source TEXT NOT NULL,
    sender TEXT,
    raw BLOB NOT NULL,
    size_bytes BIGINT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    request_id BIGINT REFERENCES requests(id),
    auto_answered BIGINT NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL,
    applied_at BIGINT
);
CREATE INDEX mail_inbound_message_id ON mail_inbound (message_id);
CREATE INDEX mail_inbound_sender ON mail_inbound (sender, received_at);
CREATE INDEX mail_inbound_status ON mail_inbound (status, id);

CREATE TABLE mail_dead_letters (
    id INTEGER PRIMARY KEY,
    inbound_id BIGINT NOT NULL UNIQUE REFERENCES mail_inbound(id),
    reason TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    last_attempt_at BIGINT NOT NULL,
    resolved_at BIGINT
);

CREATE TABLE mail_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
