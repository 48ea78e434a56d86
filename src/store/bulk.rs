//! Rows written in bulk into one table: `COPY` on PostgreSQL, multi-row inserts on SQLite.
//!
//! For loads of millions of rows (imports). On PostgreSQL, `COPY` costs a fraction of
//! parameterised inserts (no statement per batch, no parameters to parse); SQLite has no
//! `COPY`, and its inserts of many rows per statement with anonymous parameters are
//! already cheap.

use sqlx::postgres::PgCopyIn;
use sqlx::{PgConnection, SqliteConnection};

use super::{Conn, Result, Tx};

/// One value of a row.
#[derive(Debug, Clone, Copy)]
pub enum Value<'v> {
    Text(&'v str),
    Int(i64),
    Bool(bool),
}

/// A bulk write in progress; [`Bulk::finish`] ends it (dropped unfinished, the write
/// fails and with it the transaction).
pub struct Bulk<'c, 'v> {
    inner: Inner<'c, 'v>,
    columns: usize,
    rows: u64,
}

enum Inner<'c, 'v> {
    Postgres {
        copy: PgCopyIn<&'c mut PgConnection>,
        /// `COPY` text of the rows not sent yet.
        buf: Vec<u8>,
    },
    Sqlite {
        conn: &'c mut SqliteConnection,
        /// `insert into t (columns) values `
        head: String,
        /// The rows not inserted yet, value after value.
        pending: Vec<Value<'v>>,
    },
}

/// How much `COPY` text is sent at a time.
const COPY_CHUNK: usize = 1 << 20;

/// SQLite parameters per statement: well under its limit (32,766), and large enough that
/// statements are few.
const SQLITE_PARAMETERS: usize = 6_000;

impl<'c, 'v> Bulk<'c, 'v> {
    /// Starts writing rows of `columns` into `table`. With `freeze` on PostgreSQL the rows
    /// are written frozen and their pages all-visible (`COPY ... FREEZE`), so index-only
    /// scans need no vacuum first; the table must have been created or truncated in this
    /// transaction. SQLite has nothing of the kind.
    pub async fn begin(
        tx: &'c mut Tx,
        table: &str,
        columns: &[&str],
        freeze: bool,
    ) -> Result<Bulk<'c, 'v>> {
        let list = columns.join(", ");
        let inner = match tx.conn().await? {
            Conn::Postgres(c) => {
                let options = if freeze { " with (freeze)" } else { "" };
                let copy = c
                    .copy_in_raw(&format!("copy {table} ({list}) from stdin{options}"))
                    .await?;
                Inner::Postgres {
                    copy,
                    buf: Vec::with_capacity(COPY_CHUNK + 4096),
                }
            }
            Conn::Sqlite(conn) => Inner::Sqlite {
                conn,
                head: format!("insert into {table} ({list}) values "),
                pending: Vec::with_capacity(SQLITE_PARAMETERS),
            },
        };
        Ok(Bulk {
            inner,
            columns: columns.len(),
            rows: 0,
        })
    }

    /// Adds a row: one value per column, in the order `begin` named them.
    pub async fn row(&mut self, values: &[Value<'v>]) -> Result<()> {
        debug_assert_eq!(values.len(), self.columns);
        self.rows += 1;
        match &mut self.inner {
            Inner::Postgres { copy, buf } => {
                copy_text(buf, values);
                if buf.len() >= COPY_CHUNK {
                    copy.send(buf.as_slice()).await?;
                    buf.clear();
                }
            }
            Inner::Sqlite { pending, .. } => {
                pending.extend_from_slice(values);
                if pending.len() + self.columns > SQLITE_PARAMETERS {
                    self.flush_sqlite().await?;
                }
            }
        }
        Ok(())
    }

    /// Writes what is pending and ends the write; the number of rows written.
    pub async fn finish(mut self) -> Result<u64> {
        match self.inner {
            Inner::Postgres { mut copy, buf } => {
                if !buf.is_empty() {
                    copy.send(buf.as_slice()).await?;
                }
                copy.finish().await?;
            }
            Inner::Sqlite { .. } => self.flush_sqlite().await?,
        }
        Ok(self.rows)
    }

    async fn flush_sqlite(&mut self) -> Result<()> {
        let Inner::Sqlite {
            conn,
            head,
            pending,
        } = &mut self.inner
        else {
            return Ok(());
        };
        if pending.is_empty() {
            return Ok(());
        }
        let rows = pending.len() / self.columns;
        let mut tuple = String::from("(?");
        for _ in 1..self.columns {
            tuple.push_str(", ?");
        }
        tuple.push(')');
        let mut sql = String::with_capacity(head.len() + rows * (tuple.len() + 2));
        sql.push_str(head);
        for i in 0..rows {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&tuple);
        }
        let mut q = sqlx::query(&sql);
        for v in pending.iter() {
            q = match *v {
                Value::Text(s) => q.bind(s),
                Value::Int(n) => q.bind(n),
                Value::Bool(b) => q.bind(b),
            };
        }
        q.execute(&mut **conn).await?;
        pending.clear();
        Ok(())
    }
}

/// Appends a row in `COPY`'s text format: values separated by tabs, backslash escapes for
/// the characters that would end a value or a row.
fn copy_text(buf: &mut Vec<u8>, values: &[Value<'_>]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            buf.push(b'\t');
        }
        match *v {
            Value::Text(s) => {
                for b in s.bytes() {
                    match b {
                        b'\\' => buf.extend_from_slice(b"\\\\"),
                        b'\t' => buf.extend_from_slice(b"\\t"),
                        b'\n' => buf.extend_from_slice(b"\\n"),
                        b'\r' => buf.extend_from_slice(b"\\r"),
                        _ => buf.push(b),
                    }
                }
            }
            Value::Int(n) => buf.extend_from_slice(n.to_string().as_bytes()),
            Value::Bool(b) => buf.push(if b { b't' } else { b'f' }),
        }
    }
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_would_end_a_value_or_a_row() {
        let mut buf = Vec::new();
        copy_text(
            &mut buf,
            &[
                Value::Text("+12125550123"),
                Value::Text("a\\b\tc\nd\re"),
                Value::Int(-42),
                Value::Bool(true),
                Value::Bool(false),
            ],
        );
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "+12125550123\ta\\\\b\\tc\\nd\\re\t-42\tt\tf\n"
        );
    }
}
