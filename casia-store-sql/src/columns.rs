//! Columns defined once (issue 15). [`row_type!`] declares a table's row
//! as a struct whose field list is the column list: from it come the
//! column names in order, each column's [`Kind`], the row as bound
//! [`Value`]s and the row back from fetched values. Statements are built
//! as text plus values ([`Statement`]); each backend only binds values
//! (`sqlite/`, `postgres.rs`) and rows are decoded by kind once for both
//! sqlx backends (`engine::decode_row`) and once for the rusqlite reader,
//! so no column is restated per backend.

use std::borrow::Cow;
use std::fmt::Write as _;

use casia_core::StoreError;

/// The SQL type of a column as the code reads and binds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `TEXT NOT NULL`.
    Text,
    /// `TEXT`, nullable.
    OptText,
    /// `INTEGER`/`BIGINT NOT NULL`.
    Int,
    /// `INTEGER`/`BIGINT`, nullable.
    OptInt,
    /// `BOOLEAN NOT NULL`.
    Bool,
    /// `BLOB`/`BYTEA NOT NULL`.
    Bytes,
}

impl Kind {
    /// The PostgreSQL array type of a column of this kind (`UNNEST` input).
    pub(crate) fn postgres_array(self) -> &'static str {
        match self {
            Kind::Text | Kind::OptText => "TEXT[]",
            Kind::Int | Kind::OptInt => "BIGINT[]",
            Kind::Bool => "BOOLEAN[]",
            Kind::Bytes => "BYTEA[]",
        }
    }
}

/// One bound or fetched value. `None` variants are typed NULLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text, or a typed NULL.
    Text(Option<String>),
    /// A 64-bit integer, or a typed NULL.
    Int(Option<i64>),
    /// A boolean.
    Bool(bool),
    /// Bytes, or a typed NULL.
    Bytes(Option<Vec<u8>>),
    /// A PostgreSQL `TEXT[]` (one column of many rows).
    Texts(Vec<Option<String>>),
    /// A PostgreSQL `BIGINT[]`.
    Ints(Vec<Option<i64>>),
    /// A PostgreSQL `BOOLEAN[]`.
    Bools(Vec<bool>),
}

/// A Rust type a column maps to, and its [`Kind`].
pub trait Column: Sized {
    /// How the column is read.
    const KIND: Kind;
    /// The value to bind.
    fn into_value(self) -> Value;
    /// The column from a fetched value of [`Self::KIND`].
    fn from_value(v: Value) -> Option<Self>;
}

impl Column for String {
    const KIND: Kind = Kind::Text;
    fn into_value(self) -> Value {
        Value::Text(Some(self))
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Text(t) => t,
            _ => None,
        }
    }
}

impl Column for Option<String> {
    const KIND: Kind = Kind::OptText;
    fn into_value(self) -> Value {
        Value::Text(self)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
}

impl Column for i64 {
    const KIND: Kind = Kind::Int;
    fn into_value(self) -> Value {
        Value::Int(Some(self))
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Int(i) => i,
            _ => None,
        }
    }
}

impl Column for Option<i64> {
    const KIND: Kind = Kind::OptInt;
    fn into_value(self) -> Value {
        Value::Int(self)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }
}

impl Column for bool {
    const KIND: Kind = Kind::Bool;
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
}

impl Column for Vec<u8> {
    const KIND: Kind = Kind::Bytes;
    fn into_value(self) -> Value {
        Value::Bytes(Some(self))
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Bytes(b) => b,
            _ => None,
        }
    }
}

/// A row of a table (or of a query), declared with the crate's `row_type!`.
pub trait RowType: Sized {
    /// The table the row belongs to.
    const TABLE: &'static str;
    /// The column names, in field order.
    const COLUMNS: &'static [&'static str];
    /// The column kinds, in field order.
    const KINDS: &'static [Kind];
    /// The row as values to bind, in column order.
    fn push_values(self, out: &mut Vec<Value>);
    /// The row from fetched values in column order; `None` when a value is
    /// not of its column's kind.
    fn from_values(values: &mut std::vec::IntoIter<Value>) -> Option<Self>;

    /// The row from the next elements of a JSON array, in column order
    /// (what the reads aggregate rows into; booleans may come as `0`/`1`,
    /// SQLite's form).
    ///
    /// # Errors
    /// A missing element or one of the wrong type.
    fn from_json_seq<'de, A: serde::de::SeqAccess<'de>>(seq: &mut A) -> Result<Self, A::Error>;
}

/// Reads a [`RowType`] from a JSON array (`deserialize_seq`).
pub struct RowVisitor<T>(std::marker::PhantomData<T>);

impl<T> Default for RowVisitor<T> {
    fn default() -> Self {
        RowVisitor(std::marker::PhantomData)
    }
}

impl<'de, T: RowType> serde::de::Visitor<'de> for RowVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a {} row as an array", T::TABLE)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        T::from_json_seq(&mut seq)
    }
}

/// A boolean as JSON gives it: `true`/`false`, or SQLite's `1`/`0`.
struct JsonBool(bool);

impl<'de> serde::Deserialize<'de> for JsonBool {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = JsonBool;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a boolean, 0 or 1")
            }
            fn visit_bool<E>(self, b: bool) -> Result<JsonBool, E> {
                Ok(JsonBool(b))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<JsonBool, E> {
                match n {
                    0 => Ok(JsonBool(false)),
                    1 => Ok(JsonBool(true)),
                    _ => Err(E::custom(format!("{n} is not a boolean"))),
                }
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<JsonBool, E> {
                self.visit_u64(u64::try_from(n).map_err(E::custom)?)
            }
        }
        d.deserialize_any(V)
    }
}

/// How a column's value is read from a JSON array.
pub trait JsonColumn: Sized {
    /// The next element of `seq` as this column.
    ///
    /// # Errors
    /// The element is missing or of the wrong type.
    fn next<'de, A: serde::de::SeqAccess<'de>>(seq: &mut A) -> Result<Option<Self>, A::Error>;
}

macro_rules! json_column {
    ($($ty:ty),+) => {$(
        impl JsonColumn for $ty {
            fn next<'de, A: serde::de::SeqAccess<'de>>(
                seq: &mut A,
            ) -> Result<Option<Self>, A::Error> {
                seq.next_element::<$ty>()
            }
        }
    )+};
}
json_column!(String, Option<String>, i64, Option<i64>, Vec<u8>);

impl JsonColumn for bool {
    fn next<'de, A: serde::de::SeqAccess<'de>>(seq: &mut A) -> Result<Option<Self>, A::Error> {
        Ok(seq.next_element::<JsonBool>()?.map(|b| b.0))
    }
}

/// The next element of a JSON row as column `name`.
///
/// # Errors
/// The row ended before this column, or the element has the wrong type.
pub fn next_column<'de, A: serde::de::SeqAccess<'de>, T: JsonColumn>(
    seq: &mut A,
    name: &str,
) -> Result<T, A::Error> {
    T::next(seq)?.ok_or_else(|| serde::de::Error::custom(format!("no column {name}")))
}

/// Declares a row struct whose fields are a table's columns, in order, and
/// implements [`RowType`] for it (with serde's `Deserialize`, which also
/// reads the row from a JSON array in column order: the form the case
/// reads aggregate history, attachment and survey rows in).
macro_rules! row_type {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident in $table:literal {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        $vis struct $name {
            $(
                $(#[$fmeta])*
                #[doc = concat!("Column `", stringify!($field), "`.")]
                pub $field: $ty
            ),+
        }

        impl $crate::columns::RowType for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];
            const KINDS: &'static [$crate::columns::Kind] =
                &[$(<$ty as $crate::columns::Column>::KIND),+];
            fn push_values(self, out: &mut Vec<$crate::columns::Value>) {
                $( out.push($crate::columns::Column::into_value(self.$field)); )+
            }
            fn from_values(
                values: &mut std::vec::IntoIter<$crate::columns::Value>,
            ) -> Option<Self> {
                Some($name {
                    $( $field: <$ty as $crate::columns::Column>::from_value(values.next()?)?, )+
                })
            }
            fn from_json_seq<'de, A: serde::de::SeqAccess<'de>>(
                seq: &mut A,
            ) -> Result<Self, A::Error> {
                Ok($name {
                    $( $field: $crate::columns::next_column::<A, $ty>(seq, stringify!($field))?, )+
                })
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_seq($crate::columns::RowVisitor::<$name>::default())
            }
        }
    };
}
pub(crate) use row_type;

/// `a, b, c` of `T`'s columns, each prefixed with `prefix` (e.g. `c.`).
pub(crate) fn column_list<T: RowType>(prefix: &str) -> String {
    let mut out = String::new();
    for (i, c) in T::COLUMNS.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(prefix);
        out.push_str(c);
    }
    out
}

/// Rows of `T` from fetched values (all of `T`'s columns, in order, and
/// nothing else); a value of the wrong kind is a corrupt row.
pub(crate) fn rows_from<T: RowType>(fetched: Vec<Vec<Value>>) -> Result<Vec<T>, StoreError> {
    fetched
        .into_iter()
        .map(|values| {
            T::from_values(&mut values.into_iter()).ok_or_else(|| {
                StoreError::backend(format!("a {} row of unexpected shape", T::TABLE))
            })
        })
        .collect()
}

/// SQL text with `$N` placeholders and the values they bind, in order.
/// Both backends take `$N` (SQLite reads it as a numbered parameter).
#[derive(Debug, Clone, Default)]
pub struct Statement {
    /// The SQL text.
    pub sql: Cow<'static, str>,
    /// The values of `$1`, `$2`, … in order.
    pub values: Vec<Value>,
}

impl Statement {
    /// A statement with fixed text, to which values are then bound in
    /// placeholder order.
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Statement {
        Statement {
            sql: sql.into(),
            values: Vec::new(),
        }
    }

    /// Binds the next placeholder's value.
    pub fn bind(mut self, v: impl Column) -> Statement {
        self.values.push(v.into_value());
        self
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Statement {
        self.sql.to_mut().push_str(sql);
        self
    }

    /// Appends a placeholder for `v` and binds it.
    pub fn push_bind(&mut self, v: impl Column) -> &mut Statement {
        self.push_value(v.into_value())
    }

    /// Appends a placeholder for a raw value and binds it.
    pub fn push_value(&mut self, v: Value) -> &mut Statement {
        self.values.push(v);
        let n = self.values.len();
        let _ = write!(self.sql.to_mut(), "${n}");
        self
    }

    /// Appends `VALUES (…), (…)` of `rows` (each row's values in column
    /// order), binding every value.
    pub fn push_rows<T: RowType>(&mut self, rows: impl IntoIterator<Item = T>) {
        self.push(" VALUES ");
        let mut buffer = Vec::with_capacity(T::COLUMNS.len());
        for (i, row) in rows.into_iter().enumerate() {
            self.push(if i == 0 { "(" } else { ", (" });
            buffer.clear();
            row.push_values(&mut buffer);
            for (j, v) in buffer.drain(..).enumerate() {
                if j > 0 {
                    self.push(", ");
                }
                self.push_value(v);
            }
            self.push(")");
        }
    }
}

/// The statement's text for SQLite: when its placeholders are `$1`, `$2`,
/// … each once and in order — every statement built with
/// [`Statement::push_value`] — they become anonymous `?`, bound by
/// position. SQLite resolves a named placeholder (`$N`) by a linear search
/// at bind time, which made a 500-row `INSERT` quadratic (85 % of a bulk
/// load's time, issue 15). Other texts are returned as they are.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn sqlite_text(sql: &str) -> Cow<'_, str> {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut expected = 1u64;
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            if end > start {
                if sql[start..end].parse::<u64>().ok() != Some(expected) {
                    return Cow::Borrowed(sql);
                }
                expected += 1;
                out.push_str(&sql[last..i]);
                out.push('?');
                last = end;
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    if expected == 1 {
        return Cow::Borrowed(sql);
    }
    out.push_str(&sql[last..]);
    Cow::Owned(out)
}

/// `INSERT INTO table (columns)` of `T` with `VALUES` of `rows`.
pub fn insert<T: RowType>(rows: impl IntoIterator<Item = T>) -> Statement {
    let mut s = Statement::new(format!(
        "INSERT INTO {} ({})",
        T::TABLE,
        column_list::<T>("")
    ));
    s.push_rows(rows);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    row_type! {
        /// A row for the tests.
        struct Sample in "samples" {
            name: String,
            note: Option<String>,
            n: i64,
            flag: bool,
        }
    }

    #[test]
    fn a_row_type_knows_its_columns_kinds_and_values() {
        assert_eq!(Sample::COLUMNS, ["name", "note", "n", "flag"]);
        assert_eq!(
            Sample::KINDS,
            [Kind::Text, Kind::OptText, Kind::Int, Kind::Bool]
        );
        let row = Sample {
            name: "a".into(),
            note: None,
            n: 7,
            flag: true,
        };
        let mut values = Vec::new();
        row.clone().push_values(&mut values);
        assert_eq!(
            values,
            [
                Value::Text(Some("a".into())),
                Value::Text(None),
                Value::Int(Some(7)),
                Value::Bool(true)
            ]
        );
        let back = rows_from::<Sample>(vec![values]).expect("row");
        assert_eq!(back, std::slice::from_ref(&row));
        assert!(rows_from::<Sample>(vec![vec![Value::Int(Some(1))]]).is_err());
        let from_json: Sample = serde_json::from_str(r#"["a", null, 7, true]"#).expect("json");
        assert_eq!(from_json, row);
        // SQLite's JSON gives booleans as 0/1.
        let from_sqlite: Sample = serde_json::from_str(r#"["a", null, 7, 1]"#).expect("json");
        assert_eq!(from_sqlite, row);
        assert!(serde_json::from_str::<Sample>(r#"["a", null, 7, 2]"#).is_err());
        assert!(serde_json::from_str::<Sample>(r#"["a", null]"#).is_err());
    }

    #[test]
    fn statements_number_their_placeholders() {
        let rows = (0..2).map(|n| Sample {
            name: format!("s{n}"),
            note: Some("x".into()),
            n,
            flag: false,
        });
        let s = insert(rows);
        assert_eq!(
            s.sql,
            "INSERT INTO samples (name, note, n, flag) VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)"
        );
        assert_eq!(s.values.len(), 8);
        let mut w = Statement::new("SELECT 1 WHERE a = ");
        w.push_bind("x".to_owned())
            .push(" AND b = ")
            .push_bind(3_i64);
        assert_eq!(w.sql, "SELECT 1 WHERE a = $1 AND b = $2");
        assert_eq!(column_list::<Sample>("c."), "c.name, c.note, c.n, c.flag");
        assert_eq!(
            sqlite_text(&s.sql),
            "INSERT INTO samples (name, note, n, flag) VALUES (?, ?, ?, ?), (?, ?, ?, ?)"
        );
        // Out of order or repeated: left numbered.
        let odd = "UPDATE t SET a = $2 WHERE id = $1";
        assert_eq!(sqlite_text(odd), odd);
        let twice = "INSERT INTO c VALUES ($1, $2) ON CONFLICT DO UPDATE SET n = n + $2";
        assert_eq!(sqlite_text(twice), twice);
        assert_eq!(sqlite_text("SELECT 1"), "SELECT 1");
    }
}
