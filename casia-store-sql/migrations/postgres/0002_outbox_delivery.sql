-- Delivery of notifications (DOMAIN.md §9): a message is pending, delivered
-- or dead (given up after the relay's last attempt, until an operator
-- retries it). Relays claim due messages for a lease (`held_until`) and back
-- off after a failure (`next_attempt_at`; NULL: due now). Instants are
-- integer microseconds since the Unix epoch (UTC), as everywhere.
ALTER TABLE outbox
    ADD COLUMN dead BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN next_attempt_at BIGINT,
    ADD COLUMN held_until BIGINT,
    ADD COLUMN last_error TEXT,
    ADD COLUMN recipient TEXT,
    ADD COLUMN delivered_at BIGINT;

-- What the relay claims and the backlog counts: pending messages in
-- emission order. Partial, so delivered history does not weigh on it.
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered = FALSE AND dead = FALSE;
-- `casia outbox list --dead` and the dead gauge.
CREATE INDEX outbox_dead ON outbox (id) WHERE dead = TRUE;
