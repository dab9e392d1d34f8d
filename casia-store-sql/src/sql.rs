//! The statements both backends run. SQLite and PostgreSQL share them
//! word for word: `$N` parameters, `ON CONFLICT … DO UPDATE`, `RETURNING`,
//! `TRUE`/`FALSE`; only how a transaction begins differs (see each
//! backend's `BEGIN_WRITE`).

/// Takes the next `$2` case numbers of year `$1` in the creating
/// transaction and returns the last of them: the counter row's lock
/// serialises creators and a rollback gives the numbers back, so numbers
/// are gap-free (DOMAIN.md §4).
pub(crate) const TAKE_SEQUENCES: &str = "INSERT INTO counters (year, last_sequence) \
     VALUES ($1, $2) \
     ON CONFLICT (year) DO UPDATE SET last_sequence = counters.last_sequence + $2 \
     RETURNING last_sequence";

/// The head of a multi-row insert of case rows (`VALUES` follow).
pub(crate) const INSERT_CASES_HEAD: &str = "INSERT INTO cases (number, case_type, materia, \
     category, subcategory, substatus, office, assignee, authorization_id, submitted_by, \
     province, affects_current_period, title, description, complementary_data, deadline, \
     reminder_sent, submitted_at, closed_at, resolution, receipt, verification_code, version) ";

/// The names the version-checked multi-row update gives its input rows:
/// a case row in `CASE_COLUMNS` order with the number named `target` (so
/// that `RETURNING number` is not ambiguous), then the expected version.
macro_rules! update_input_columns {
    () => {
        "target, case_type, materia, category, subcategory, substatus, office, assignee, \
         authorization_id, submitted_by, province, affects_current_period, title, description, \
         complementary_data, deadline, reminder_sent, submitted_at, closed_at, resolution, \
         receipt, verification_code, version, expected"
    };
}

/// The version-checked multi-row update (DOMAIN.md §10) over input rows
/// named `v`: each case whose stored version is still `expected` is
/// rewritten and its number returned. `$from` says where `v` comes from.
macro_rules! update_cases {
    ($with:expr, $from:expr) => {
        concat!(
            $with,
            "UPDATE cases SET case_type = v.case_type, materia = v.materia, ",
            "category = v.category, subcategory = v.subcategory, substatus = v.substatus, ",
            "office = v.office, assignee = v.assignee, authorization_id = v.authorization_id, ",
            "submitted_by = v.submitted_by, province = v.province, ",
            "affects_current_period = v.affects_current_period, title = v.title, ",
            "description = v.description, complementary_data = v.complementary_data, ",
            "deadline = v.deadline, reminder_sent = v.reminder_sent, ",
            "submitted_at = v.submitted_at, closed_at = v.closed_at, ",
            "resolution = v.resolution, receipt = v.receipt, ",
            "verification_code = v.verification_code, version = v.version FROM ",
            $from,
            " WHERE cases.number = v.target AND cases.version = v.expected RETURNING number"
        )
    };
}

/// SQLite: the input rows are a `VALUES` list in a CTE, pushed between
/// [`UPDATE_CASES_SQLITE_HEAD`] and [`UPDATE_CASES_SQLITE_TAIL`].
#[cfg(feature = "sqlite")]
pub(crate) const UPDATE_CASES_SQLITE_HEAD: &str =
    concat!("WITH v (", update_input_columns!(), ") AS (");

#[cfg(feature = "sqlite")]
pub(crate) const UPDATE_CASES_SQLITE_TAIL: &str = update_cases!(") ", "v");

/// PostgreSQL: the input rows are 24 arrays, one per column (`UNNEST`), so
/// the statement has 24 parameters whatever the number of rows and is
/// parsed and planned once.
#[cfg(feature = "postgres")]
pub(crate) const UPDATE_CASES_POSTGRES: &str = update_cases!(
    "",
    concat!(
        "UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], ",
        "$7::TEXT[], $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::BOOLEAN[], ",
        "$13::TEXT[], $14::TEXT[], $15::TEXT[], $16::TEXT[], $17::BOOLEAN[], $18::BIGINT[], ",
        "$19::BIGINT[], $20::TEXT[], $21::TEXT[], $22::TEXT[], $23::BIGINT[], $24::BIGINT[]) ",
        "AS v (",
        update_input_columns!(),
        ")"
    )
);

/// The head of a multi-row insert of history rows.
pub(crate) const INSERT_HISTORIES_HEAD: &str = "INSERT INTO history (case_number, seq, at, \
     event, substatus, actor_role, actor_id, observation, visibility) ";

/// The head of a multi-row insert of outbox rows (pending, no attempt yet).
pub(crate) const INSERT_OUTBOXES_HEAD: &str = "INSERT INTO outbox (kind, case_number, \
     authorization_id, at, deadline, message_text, delivered, attempts) ";

/// The version-checked write (DOMAIN.md §10): binds a case row in
/// `CASE_COLUMNS` order, then the expected version as `$24`.
pub(crate) const UPDATE_CASE: &str = "UPDATE cases SET case_type = $2, materia = $3, \
     category = $4, subcategory = $5, substatus = $6, office = $7, assignee = $8, \
     authorization_id = $9, submitted_by = $10, province = $11, affects_current_period = $12, \
     title = $13, description = $14, complementary_data = $15, deadline = $16, \
     reminder_sent = $17, submitted_at = $18, closed_at = $19, resolution = $20, receipt = $21, \
     verification_code = $22, version = $23 \
     WHERE number = $1 AND version = $24";

pub(crate) const CASE_EXISTS: &str = "SELECT COUNT(*) FROM cases WHERE number = $1";

pub(crate) const INSERT_ATTACHMENT: &str = "INSERT INTO attachments (case_number, id, \
     document_type, title, file_name, media_type, size, sha256, added_at, added_by_role, \
     added_by_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// Content written with its case: a row already there is an inconsistency
/// and fails the whole write.
pub(crate) const INSERT_CONTENT: &str =
    "INSERT INTO attachment_contents (case_number, attachment_id, content) VALUES ($1, $2, $3)";

/// Content written through the port on its own: last write wins.
pub(crate) const PUT_CONTENT: &str = "INSERT INTO attachment_contents \
     (case_number, attachment_id, content) VALUES ($1, $2, $3) \
     ON CONFLICT (case_number, attachment_id) DO UPDATE SET content = excluded.content";

pub(crate) const GET_CONTENT: &str =
    "SELECT content FROM attachment_contents WHERE case_number = $1 AND attachment_id = $2";

pub(crate) const UPSERT_SURVEY: &str = "INSERT INTO surveys (case_number, rating, comment, at, \
     by_user) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (case_number) DO UPDATE SET rating = excluded.rating, \
     comment = excluded.comment, at = excluded.at, by_user = excluded.by_user";

/// The columns of [`crate::rows::OutboxRow`], as a literal for `concat!`.
macro_rules! outbox_columns {
    () => {
        "id, kind, case_number, authorization_id, at, deadline, message_text, delivered, \
         attempts, dead, next_attempt_at, held_until, last_error, recipient, delivered_at"
    };
}

/// The messages a relay may take at `$1`: pending, due, held by no relay;
/// oldest first, at most `$3`. Each is held until `$2` and one attempt is
/// counted. `$lock` is `FOR UPDATE SKIP LOCKED` on PostgreSQL.
macro_rules! outbox_claim {
    ($lock:literal) => {
        concat!(
            "UPDATE outbox SET held_until = $2, attempts = attempts + 1 WHERE id IN (",
            "SELECT id FROM outbox WHERE delivered = FALSE AND dead = FALSE ",
            "AND (next_attempt_at IS NULL OR next_attempt_at <= $1) ",
            "AND (held_until IS NULL OR held_until <= $1) ",
            "ORDER BY id LIMIT $3",
            $lock,
            ") RETURNING ",
            outbox_columns!()
        )
    };
}

#[cfg(feature = "sqlite")]
pub(crate) const OUTBOX_CLAIM_SQLITE: &str = outbox_claim!("");

#[cfg(feature = "postgres")]
pub(crate) const OUTBOX_CLAIM_POSTGRES: &str = outbox_claim!(" FOR UPDATE SKIP LOCKED");

pub(crate) const OUTBOX_PENDING: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE delivered = FALSE AND dead = FALSE ORDER BY id LIMIT $1"
);

pub(crate) const OUTBOX_DEAD: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE dead = TRUE ORDER BY id LIMIT $1"
);

pub(crate) const OUTBOX_ALL: &str =
    concat!("SELECT ", outbox_columns!(), " FROM outbox ORDER BY id");

/// A delivery is final; it also settles a dead message whose uncertain
/// send did arrive.
pub(crate) const OUTBOX_DELIVERED: &str = "UPDATE outbox SET delivered = TRUE, dead = FALSE, \
     recipient = $2, delivered_at = $3, held_until = NULL, next_attempt_at = NULL \
     WHERE id = $1 AND delivered = FALSE";

/// A failed attempt on a pending message: released, due again at `$4`, or
/// dead (`$5`). A late report on a delivered or dead message changes nothing.
pub(crate) const OUTBOX_FAILED: &str = "UPDATE outbox SET recipient = $2, last_error = $3, \
     next_attempt_at = $4, dead = $5, held_until = NULL \
     WHERE id = $1 AND delivered = FALSE AND dead = FALSE";

pub(crate) const OUTBOX_RETRY: &str = "UPDATE outbox SET dead = FALSE, attempts = 0, \
     next_attempt_at = $2, held_until = NULL WHERE id = $1 AND dead = TRUE";

pub(crate) const OUTBOX_BACKLOG: &str =
    "SELECT COUNT(*) FROM outbox WHERE delivered = FALSE AND dead = FALSE";

pub(crate) const OUTBOX_DEAD_COUNT: &str = "SELECT COUNT(*) FROM outbox WHERE dead = TRUE";

pub(crate) const GET_CONTACT: &str = "SELECT email FROM contacts WHERE authorization_id = $1";

pub(crate) const SET_CONTACT: &str = "INSERT INTO contacts (authorization_id, email) \
     VALUES ($1, $2) ON CONFLICT (authorization_id) DO UPDATE SET email = excluded.email";

pub(crate) const COUNT_BY_SUBSTATUS: &str =
    "SELECT substatus, COUNT(*) FROM cases GROUP BY substatus";

pub(crate) const ANY_CASE_WITH_SUBSTATUS: &str =
    "SELECT number FROM cases WHERE substatus = $1 ORDER BY number LIMIT 1";

pub(crate) const PING: &str = "SELECT 1";
