-- Service levels (L3, L4, A16, A17, A19): the business-hours calendar, deadline columns on
-- requests (a copy of what the event log and the calendar give, kept only to sort and filter),
-- alerts fired (each once per request, target and level) and escalation levels per service.
-- Kept in step with migrations/postgres/0003_service_levels.sql.

-- One row per calendar: the CalendarSpec JSON (zone, weekly hours, dated exceptions).
CREATE TABLE calendars (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    spec TEXT NOT NULL,
    updated_by BIGINT REFERENCES staff(id),
    updated_at BIGINT NOT NULL
);

ALTER TABLE requests ADD COLUMN response_due_at BIGINT;
ALTER TABLE requests ADD COLUMN resolution_due_at BIGINT;
-- none, running, paused, met or breached, as of the last recomputation.
ALTER TABLE requests ADD COLUMN sla_state TEXT NOT NULL DEFAULT 'none';
-- Queue sort key: the nearest running deadline; 9223372036854775807 for an open request with
-- no running clock; NULL once closed or cancelled (out of every queue).
ALTER TABLE requests ADD COLUMN sla_due_at BIGINT;
-- When the nearest running clock reaches the warning share (the "at risk" filter).
ALTER TABLE requests ADD COLUMN sla_warn_at BIGINT;
-- When the monitor must look at the request next (the next alert not yet fired).
ALTER TABLE requests ADD COLUMN sla_next_check_at BIGINT;
CREATE INDEX requests_queue ON requests (sla_due_at, id);
CREATE INDEX requests_queue_area ON requests (area_id, sla_due_at, id);
CREATE INDEX requests_queue_assignee ON requests (assignee_id, sla_due_at, id);
CREATE INDEX requests_queue_service ON requests (service_id, sla_due_at, id);
CREATE INDEX requests_sla_check ON requests (sla_next_check_at);

CREATE TABLE sla_alerts (
    id INTEGER PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests(id),
    target TEXT NOT NULL,
    level_percent BIGINT NOT NULL,
    fired_at BIGINT NOT NULL,
    UNIQUE (request_id, target, level_percent)
);

-- Who is told at which share of a service's targets; a service without rows uses the
-- defaults (75 %: assignee and area; 100 %: CAU supervisor). notify is a JSON list of
-- assignee, area, supervisor, coordinator.
CREATE TABLE sla_escalation_levels (
    id INTEGER PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services(id),
    level_percent BIGINT NOT NULL,
    notify TEXT NOT NULL,
    UNIQUE (service_id, level_percent)
);
