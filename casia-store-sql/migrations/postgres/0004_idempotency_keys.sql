-- Issue 16: retry-safe submission (`Idempotency-Key`). One row per key of
-- an authorization's user: the fingerprint of the submission that reserved
-- it, the case that completed it (NULL while in flight), when it was
-- reserved and until when the reservation holds without a case. Instants
-- are integer microseconds since the Unix epoch (UTC), as everywhere. The
-- sweep forgets rows after 24 hours.
CREATE TABLE idempotency_keys (
    authorization_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    case_number TEXT,
    created_at BIGINT NOT NULL,
    reserved_until BIGINT NOT NULL,
    PRIMARY KEY (authorization_id, user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
