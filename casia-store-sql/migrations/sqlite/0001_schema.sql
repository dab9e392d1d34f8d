-- CASIA schema, SQLite. Instants are integer microseconds since the Unix
-- epoch (UTC); dates are ISO `YYYY-MM-DD` text; case numbers are
-- `YYYY-NNNNNNNN` text, whose text order is the case-number order.

-- The last case number handed out per year: taken in the creating
-- transaction, so numbering is gap-free (DOMAIN.md §4).
CREATE TABLE counters (
    year INTEGER PRIMARY KEY,
    last_sequence INTEGER NOT NULL
);

CREATE TABLE cases (
    number TEXT PRIMARY KEY,
    case_type TEXT NOT NULL,
    materia TEXT NOT NULL,
    category TEXT NOT NULL,
    subcategory TEXT NOT NULL,
    substatus TEXT NOT NULL,
    office TEXT NOT NULL,
    assignee TEXT,
    authorization_id TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    province TEXT NOT NULL,
    affects_current_period BOOLEAN NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    complementary_data TEXT NOT NULL,
    deadline TEXT,
    reminder_sent BOOLEAN NOT NULL,
    submitted_at INTEGER NOT NULL,
    closed_at INTEGER,
    resolution TEXT,
    receipt TEXT NOT NULL,
    verification_code TEXT NOT NULL,
    version INTEGER NOT NULL
);

-- Search option 2 by a user (authorization + submission date + status) and
-- by a processor (office + ...); the system searches by date alone.
CREATE INDEX cases_search_authorization
    ON cases (authorization_id, submitted_at, number, substatus);
CREATE INDEX cases_search_office
    ON cases (office, submitted_at, number, substatus);
CREATE INDEX cases_search_all ON cases (submitted_at, number);
-- The work queue: office + substatus + priority + submission.
CREATE INDEX cases_queue
    ON cases (office, substatus, affects_current_period, submitted_at, number);
-- The sweep: substatus + deadline.
CREATE INDEX cases_sweep ON cases (substatus, deadline);
-- Receipt verification by code.
CREATE INDEX cases_verification_code ON cases (verification_code);

CREATE TABLE history (
    case_number TEXT NOT NULL REFERENCES cases (number),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    substatus TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_id TEXT,
    observation TEXT,
    visibility TEXT NOT NULL,
    PRIMARY KEY (case_number, seq)
);

CREATE TABLE attachments (
    case_number TEXT NOT NULL REFERENCES cases (number),
    id INTEGER NOT NULL,
    document_type TEXT NOT NULL,
    title TEXT NOT NULL,
    file_name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    added_by_role TEXT NOT NULL,
    added_by_id TEXT,
    PRIMARY KEY (case_number, id)
);

-- The bytes behind the attachment-content port; kept in the database by
-- default. No foreign key: the port may be fed on its own.
CREATE TABLE attachment_contents (
    case_number TEXT NOT NULL,
    attachment_id INTEGER NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (case_number, attachment_id)
);

CREATE TABLE surveys (
    case_number TEXT PRIMARY KEY REFERENCES cases (number),
    rating INTEGER NOT NULL,
    comment TEXT,
    at INTEGER NOT NULL,
    by_user TEXT NOT NULL
);

-- Notifications written with the change that caused them (DOMAIN.md §9).
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    case_number TEXT NOT NULL REFERENCES cases (number),
    authorization_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    deadline TEXT,
    message_text TEXT,
    delivered BOOLEAN NOT NULL DEFAULT FALSE,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (delivered, id);
CREATE INDEX outbox_case ON outbox (case_number);

CREATE TABLE contacts (
    authorization_id TEXT PRIMARY KEY,
    email TEXT NOT NULL
);
