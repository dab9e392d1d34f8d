//! The statements, written once for both backends: `$N` parameters,
//! `ON CONFLICT … DO UPDATE`, `RETURNING`, `TRUE`/`FALSE`. Column lists
//! come from the row types (`rows.rs`); where the two databases differ —
//! JSON aggregation, the multi-row update's input, row locks — the
//! [`Backend`] says how.

use std::sync::LazyLock;

use crate::Backend;
use crate::columns::{Kind, RowType, Statement, Value, column_list};
use crate::rows::{AttachmentRow, CaseRow, HistoryRow, OutboxRow, SurveyRow};

/// Takes the next `$2` case numbers of year `$1` in the creating
/// transaction and returns the last of them: the counter row's lock
/// serialises creators and a rollback gives the numbers back, so numbers
/// are gap-free (DOMAIN.md §4).
pub(crate) const TAKE_SEQUENCES: &str = "INSERT INTO counters (year, last_sequence) \
     VALUES ($1, $2) \
     ON CONFLICT (year) DO UPDATE SET last_sequence = counters.last_sequence + $2 \
     RETURNING last_sequence";

/// `T`'s rows of case `c` as a JSON array of rows (each an array of `T`'s
/// columns in order); `[]` for none. In no particular order: the reader
/// sorts them (an ordered aggregate costs SQLite a sorter per case).
fn json_rows<T: RowType>(backend: Backend) -> String {
    let columns = column_list::<T>("t.");
    let table = T::TABLE;
    match backend {
        // Text, not a JSON value: SQLite re-parses a JSON value that
        // crosses a subquery, so the record is assembled as text.
        Backend::Sqlite => format!(
            "COALESCE((SELECT '[' || group_concat(json_array({columns}), ',') || ']' \
             FROM {table} t WHERE t.case_number = c.number), '[]')"
        ),
        // `cases.number` is `COLLATE "C"` and the other tables' case
        // numbers have the default collation: compared as they are, the
        // collations conflict and PostgreSQL cannot use the other table's
        // index (a scan of the whole table per case).
        Backend::Postgres => format!(
            "(SELECT COALESCE(json_agg(json_build_array({columns})), '[]'::json) \
             FROM {table} t WHERE t.case_number = c.number COLLATE \"default\")"
        ),
    }
}

/// One case as one JSON array — the `cases` columns in order, then its
/// history, attachments and survey as arrays of rows — so that a read
/// returns one value per case, or one for a whole page.
fn case_record(backend: Backend) -> String {
    let rows = [
        json_rows::<HistoryRow>(backend),
        json_rows::<AttachmentRow>(backend),
        json_rows::<SurveyRow>(backend),
    ];
    match backend {
        // Text: `json_quote` gives each column as JSON (strings quoted,
        // numbers as they are, NULL as null), one `concat_ws` joins them
        // (a chain of `||` would copy the growing text at every step).
        // Text: `json_quote` gives each column as JSON (strings quoted,
        // numbers as they are, NULL as null), one `concat_ws` joins them
        // (a chain of `||` would copy the growing text at every step).
        Backend::Sqlite => {
            let columns: Vec<String> = CaseRow::COLUMNS
                .iter()
                .map(|c| format!("json_quote(c.{c})"))
                .chain(rows)
                .collect();
            format!("concat('[', concat_ws(',', {}), ']')", columns.join(", "))
        }
        Backend::Postgres => format!(
            "json_build_array({}, {})",
            column_list::<CaseRow>("c."),
            rows.join(", ")
        ),
    }
}

static RECORDS_SQLITE: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM cases c", case_record(Backend::Sqlite)));
static RECORDS_POSTGRES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT ({})::TEXT FROM cases c",
        case_record(Backend::Postgres)
    )
});
static DOCUMENT_SQLITE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT COALESCE('[' || group_concat(r, ',') || ']', '[]') FROM (SELECT {} AS r \
         FROM cases c",
        case_record(Backend::Sqlite)
    )
});
static DOCUMENT_POSTGRES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT COALESCE(json_agg(r), '[]')::TEXT FROM (SELECT {} AS r FROM cases c",
        case_record(Backend::Postgres)
    )
});

/// Cases as one JSON text each (see `case_record`) `FROM cases c`, to
/// which a `WHERE` and an `ORDER BY` are appended; columns of `cases` may
/// be named without the alias. For reads of many rows (the queue, the
/// sweep), which stream.
pub(crate) fn case_records(backend: Backend) -> Statement {
    Statement::new(match backend {
        Backend::Sqlite => RECORDS_SQLITE.as_str(),
        Backend::Postgres => RECORDS_POSTGRES.as_str(),
    })
}

/// A page of cases as one JSON array of records, in no particular order:
/// a `WHERE`, `ORDER BY` and `LIMIT` are appended, then
/// [`END_CASE_DOCUMENT`]. One value crosses from the database for the whole
/// page — with SQLite every row is otherwise handed from the driver's
/// worker thread to the async side on its own.
pub(crate) fn case_document(backend: Backend) -> Statement {
    Statement::new(match backend {
        Backend::Sqlite => DOCUMENT_SQLITE.as_str(),
        Backend::Postgres => DOCUMENT_POSTGRES.as_str(),
    })
}

/// Closes [`case_document`]'s subquery.
pub(crate) const END_CASE_DOCUMENT: &str = ") s";

/// The version-checked multi-row update (DOMAIN.md §10): each case whose
/// stored version is still the expected one is rewritten and its number
/// returned. SQLite reads the input rows from a `VALUES` list in a CTE;
/// PostgreSQL from one array per column (`UNNEST`), so its statement has
/// the same 24 parameters for 1 or 500 rows and is planned once.
pub(crate) fn update_cases(backend: Backend, rows: Vec<(CaseRow, i64)>) -> Statement {
    let mut input: Vec<&str> = CaseRow::COLUMNS.to_vec();
    // The number is named `target` so that `RETURNING number` is not ambiguous.
    input[0] = "target";
    input.push("expected");
    let input = input.join(", ");
    let set = CaseRow::COLUMNS[1..]
        .iter()
        .map(|c| format!("{c} = v.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let tail = format!(
        "UPDATE cases SET {set} FROM v WHERE cases.number = v.target \
         AND cases.version = v.expected RETURNING number"
    );
    match backend {
        Backend::Sqlite => {
            let mut s = Statement::new(format!("WITH v ({input}) AS (VALUES "));
            let mut values = Vec::with_capacity(CaseRow::COLUMNS.len() + 1);
            for (i, (row, expected)) in rows.into_iter().enumerate() {
                s.push(if i == 0 { "(" } else { ", (" });
                values.clear();
                row.push_values(&mut values);
                values.push(Value::Int(Some(expected)));
                for (j, v) in values.drain(..).enumerate() {
                    if j > 0 {
                        s.push(", ");
                    }
                    s.push_value(v);
                }
                s.push(")");
            }
            s.push(") ");
            s.push(&tail);
            s
        }
        Backend::Postgres => {
            let mut kinds = CaseRow::KINDS.to_vec();
            kinds.push(Kind::Int);
            let arrays = kinds
                .iter()
                .enumerate()
                .map(|(i, k)| format!("${}::{}", i + 1, k.postgres_array()))
                .collect::<Vec<_>>()
                .join(", ");
            let mut s = Statement::new(format!(
                "WITH v AS (SELECT * FROM UNNEST({arrays}) AS u ({input})) {tail}"
            ));
            let mut columns: Vec<Value> = kinds
                .iter()
                .map(|k| match k {
                    Kind::Bool => Value::Bools(Vec::with_capacity(rows.len())),
                    Kind::Int | Kind::OptInt => Value::Ints(Vec::with_capacity(rows.len())),
                    _ => Value::Texts(Vec::with_capacity(rows.len())),
                })
                .collect();
            let mut values = Vec::with_capacity(kinds.len());
            for (row, expected) in rows {
                values.clear();
                row.push_values(&mut values);
                values.push(Value::Int(Some(expected)));
                for (column, v) in columns.iter_mut().zip(values.drain(..)) {
                    match (column, v) {
                        (Value::Texts(c), Value::Text(t)) => c.push(t),
                        (Value::Ints(c), Value::Int(i)) => c.push(i),
                        (Value::Bools(c), Value::Bool(b)) => c.push(b),
                        _ => {}
                    }
                }
            }
            s.values = columns;
            s
        }
    }
}

pub(crate) const CASE_EXISTS: &str = "SELECT number FROM cases WHERE number = $1";

/// Content written through the port on its own: last write wins.
pub(crate) const PUT_CONTENT: &str = "INSERT INTO attachment_contents \
     (case_number, attachment_id, content) VALUES ($1, $2, $3) \
     ON CONFLICT (case_number, attachment_id) DO UPDATE SET content = excluded.content";

/// Every attachment's hash, once (the blobs the database references).
pub(crate) const ATTACHMENT_HASHES: &str = "SELECT DISTINCT sha256 FROM attachments";

/// Attachments whose bytes are still in the database, in key order after
/// `($1, $2)`, with the hash their metadata records.
pub(crate) const STORED_CONTENTS: &str = "SELECT c.case_number, c.attachment_id, a.sha256, c.content \
     FROM attachment_contents c \
     JOIN attachments a ON a.case_number = c.case_number AND a.id = c.attachment_id \
     WHERE c.case_number > $1 OR (c.case_number = $1 AND c.attachment_id > $2) \
     ORDER BY c.case_number, c.attachment_id LIMIT $3";

/// The hashes of the attachments whose bytes are still in the database.
pub(crate) const STORED_CONTENT_HASHES: &str = "SELECT a.sha256 FROM attachment_contents c \
     JOIN attachments a ON a.case_number = c.case_number AND a.id = c.attachment_id";

pub(crate) const DROP_CONTENT: &str =
    "DELETE FROM attachment_contents WHERE case_number = $1 AND attachment_id = $2";

pub(crate) const GET_CONTENT: &str =
    "SELECT content FROM attachment_contents WHERE case_number = $1 AND attachment_id = $2";

/// The survey of a case (DOMAIN.md §5: once, on a resolved case); a second
/// write of the same case's survey replaces it.
pub(crate) const UPSERT_SURVEY_TAIL: &str = " ON CONFLICT (case_number) DO UPDATE SET \
     rating = excluded.rating, comment = excluded.comment, at = excluded.at, \
     by_user = excluded.by_user";

static OUTBOX_COLUMNS: LazyLock<String> = LazyLock::new(|| column_list::<OutboxRow>(""));

/// The messages a relay may take at `$1`: pending, due, held by no relay;
/// oldest first, at most `$3`. Each is held until `$2` and one attempt is
/// counted. PostgreSQL skips rows another relay is claiming right now
/// (`FOR UPDATE SKIP LOCKED`); SQLite's one writer serialises claims.
pub(crate) fn outbox_claim(backend: Backend) -> String {
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    format!(
        "UPDATE outbox SET held_until = $2, attempts = attempts + 1 WHERE id IN (\
         SELECT id FROM outbox WHERE delivered = FALSE AND dead = FALSE \
         AND (next_attempt_at IS NULL OR next_attempt_at <= $1) \
         AND (held_until IS NULL OR held_until <= $1) \
         ORDER BY id LIMIT $3{lock}) RETURNING {}",
        OUTBOX_COLUMNS.as_str()
    )
}

/// Outbox rows `WHERE condition ORDER BY id` (with `LIMIT $1` when asked).
pub(crate) fn outbox_select(condition: &str, limited: bool) -> String {
    format!(
        "SELECT {} FROM outbox WHERE {condition} ORDER BY id{}",
        OUTBOX_COLUMNS.as_str(),
        if limited { " LIMIT $1" } else { "" }
    )
}

pub(crate) const OUTBOX_PENDING: &str = "delivered = FALSE AND dead = FALSE";
pub(crate) const OUTBOX_DEAD: &str = "dead = TRUE";

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

pub(crate) const SET_CONTACT_TAIL: &str =
    " ON CONFLICT (authorization_id) DO UPDATE SET email = excluded.email";

pub(crate) const COUNT_BY_SUBSTATUS: &str =
    "SELECT substatus, COUNT(*) FROM cases GROUP BY substatus";

pub(crate) const ANY_CASE_WITH_SUBSTATUS: &str =
    "SELECT number FROM cases WHERE substatus = $1 ORDER BY number LIMIT 1";

pub(crate) const PING: &str = "SELECT 1";
