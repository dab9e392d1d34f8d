-- Issue 15: the work queue and the sweep read only open cases of a few
-- substatuses. Partial indexes hold just those rows: they stay small, and a
-- case that closes leaves them instead of being indexed again (two index
-- insertions fewer per closure in the sweep). The queries that use them
-- name the substatuses as literals (`cases.rs`), which is how both
-- databases match a query to a partial index.
DROP INDEX cases_queue;
CREATE INDEX cases_queue
    ON cases (office, affects_current_period DESC, submitted_at, number)
    WHERE substatus IN ('submitted', 'assigned', 'escalated', 'transferred');
DROP INDEX cases_sweep;
CREATE INDEX cases_sweep ON cases (deadline) WHERE substatus = 'information_requested';
