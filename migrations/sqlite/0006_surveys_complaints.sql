-- Quality surveys that validate solutions (L9, L12) and the complaints and suggestions log (L10).
-- Kept in step with migrations/postgres/0006_surveys_complaints.sql.

-- One survey per verification round of a request (round = the request's reopen count then).
CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests(id),
    round BIGINT NOT NULL,
    requester_id BIGINT REFERENCES requesters(id),
    recipient TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    remind_at BIGINT NOT NULL,
    reminded_at BIGINT,
    auto_close_at BIGINT NOT NULL,
    answerable_until BIGINT NOT NULL,
    answered_at BIGINT,
    solved BIGINT,
    ratings TEXT,
    comment TEXT,
    area_id BIGINT,
    service_id BIGINT,
    channel TEXT NOT NULL,
    unit_id BIGINT,
    UNIQUE (request_id, round)
);
CREATE INDEX surveys_status_due ON surveys (status, auto_close_at);
CREATE INDEX surveys_sent ON surveys (sent_at);
CREATE INDEX surveys_answered ON surveys (answered_at);
CREATE INDEX surveys_requester ON surveys (requester_id, sent_at);

CREATE TABLE complaints (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT NOT NULL,
    requester_id BIGINT REFERENCES requesters(id),
    request_id BIGINT REFERENCES requests(id),
    survey_id BIGINT REFERENCES surveys(id),
    responsible_id BIGINT REFERENCES staff(id),
    due_at BIGINT,
    created_by BIGINT REFERENCES staff(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX complaints_status ON complaints (status, created_at);

CREATE TABLE complaint_events (
    id INTEGER PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    at BIGINT NOT NULL,
    staff_id BIGINT REFERENCES staff(id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, id);

-- Further requests an entry concerns, besides the one it was opened from.
CREATE TABLE complaint_links (
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    request_id BIGINT NOT NULL REFERENCES requests(id),
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (complaint_id, request_id)
);

-- Secrets the server generates once (the key that signs survey links).
CREATE TABLE app_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
