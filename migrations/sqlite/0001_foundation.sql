-- Foundation: catalogue, requesters, staff, requests and their timeline.
-- Instants are BIGINT milliseconds since the Unix epoch (UTC); JSON is TEXT.
-- Kept in step with migrations/postgres/0001_foundation.sql (a test compares the two).

CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    acronym TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    level TEXT NOT NULL
);

CREATE TABLE areas (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    email TEXT
);

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    area_id BIGINT NOT NULL REFERENCES areas(id),
    current_version BIGINT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    search_text TEXT NOT NULL,
    UNIQUE (area_id, name)
);

CREATE TABLE service_sheets (
    id INTEGER PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services(id),
    version BIGINT NOT NULL,
    content TEXT NOT NULL,
    change_note TEXT NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (service_id, version)
);

CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    email TEXT,
    role TEXT NOT NULL,
    area_id BIGINT REFERENCES areas(id),
    password_hash TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    staff_id BIGINT NOT NULL REFERENCES staff(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE requesters (
    id INTEGER PRIMARY KEY,
    full_name TEXT NOT NULL,
    search_name TEXT NOT NULL,
    curp TEXT UNIQUE,
    boleta TEXT UNIQUE,
    employee_number TEXT UNIQUE,
    extension TEXT,
    email TEXT,
    phone TEXT,
    unit_id BIGINT REFERENCES units(id),
    udi_role TEXT NOT NULL,
    technical_data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX requesters_email ON requesters (email);
CREATE INDEX requesters_search_name ON requesters (search_name);

-- Before/after history of personal fields (A7).
CREATE TABLE requester_changes (
    id INTEGER PRIMARY KEY,
    requester_id BIGINT NOT NULL REFERENCES requesters(id),
    staff_id BIGINT REFERENCES staff(id),
    at BIGINT NOT NULL,
    field TEXT NOT NULL,
    before_value TEXT,
    after_value TEXT
);
CREATE INDEX requester_changes_requester ON requester_changes (requester_id, at);

-- Append-only log of every read or export of a person's record.
CREATE TABLE personal_data_access (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    staff_id BIGINT REFERENCES staff(id),
    requester_id BIGINT NOT NULL REFERENCES requesters(id),
    access TEXT NOT NULL
);
CREATE INDEX personal_data_access_requester ON personal_data_access (requester_id, at);

-- One row per year: the last number given. Gap-free because it is bumped in the request's own
-- transaction.
CREATE TABLE request_counters (
    year BIGINT PRIMARY KEY,
    last_sequence BIGINT NOT NULL
);

CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    year BIGINT NOT NULL,
    sequence BIGINT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    requester_id BIGINT REFERENCES requesters(id),
    service_id BIGINT REFERENCES services(id),
    sheet_version BIGINT,
    area_id BIGINT REFERENCES areas(id),
    assignee_id BIGINT REFERENCES staff(id),
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    registered_at BIGINT,
    created_by BIGINT REFERENCES staff(id),
    updated_at BIGINT NOT NULL,
    reopen_count BIGINT NOT NULL DEFAULT 0,
    idempotency_key TEXT UNIQUE,
    UNIQUE (year, sequence)
);
CREATE INDEX requests_requester_service ON requests (requester_id, service_id, status);
CREATE INDEX requests_status ON requests (status, updated_at);
CREATE INDEX requests_area_status ON requests (area_id, status, updated_at);
CREATE INDEX requests_assignee_status ON requests (assignee_id, status, updated_at);

-- The timeline is the record: every change is an event written with the request's projection.
CREATE TABLE request_events (
    id INTEGER PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests(id),
    at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id BIGINT,
    kind TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    payload TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX request_events_request ON request_events (request_id, id);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests(id),
    event_id BIGINT REFERENCES request_events(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    created_by BIGINT REFERENCES staff(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_request ON attachments (request_id);
