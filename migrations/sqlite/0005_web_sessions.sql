-- The agents' web pages: sign-in sessions, failed sign-ins (lock-out) and referrals of people
-- whose need is not in the catalogue (A2, A3).
-- Kept in step with migrations/postgres/0005_web_sessions.sql.

-- A session id is random and only its SHA-256 is stored; the CSRF token is per session.
CREATE TABLE web_sessions (
    id INTEGER PRIMARY KEY,
    session_hash TEXT NOT NULL UNIQUE,
    staff_id BIGINT NOT NULL REFERENCES staff(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_staff ON web_sessions (staff_id);

-- One row per failed sign-in; five within fifteen minutes lock the username for a while.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_username ON login_failures (username, at);

-- A2, A3: someone asked for a service CAU does not give; where they were sent is recorded.
CREATE TABLE referrals (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    staff_id BIGINT REFERENCES staff(id),
    requester_id BIGINT REFERENCES requesters(id),
    channel TEXT NOT NULL,
    need TEXT NOT NULL,
    referred_to TEXT NOT NULL
);
