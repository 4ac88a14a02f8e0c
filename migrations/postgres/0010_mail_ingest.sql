-- Inbound mail ties a message to the requester whose address sent it, compared without case
-- (`lower(email) = $1`): an index on the expression, or every message scans all requesters.
-- Kept in step with the other engine's 0010_mail_ingest.sql.
CREATE INDEX requesters_email_lower ON requesters (lower(email));
