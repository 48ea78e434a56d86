//! State snapshots: every table that makes up the world, dumped row by row as JSON
//! and loaded back in one transaction.
//!
//! The tables are listed here explicitly, in dependency order, with each column's
//! type, so that both backends read and write the same JSON whatever their own types
//! (SQLite's integer booleans, PostgreSQL's `bytea` and `integer`). What is derived from
//! these rows (search rows, available counts, `number_inventory.held_by`) is rebuilt
//! on import, never carried. A table added by a migration must be added here or to
//! [`NOT_CARRIED`]; the test suite compares both lists with the live schema.

use futures_util::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::Row;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{Backend, Conn, Result, StoreError, Tx, on_conn};
use crate::domain::number::{InventoryEntry, NumberType};

/// The `format` member of every snapshot.
pub const FORMAT: &str = "ccadmin-state";
/// The version of the snapshot format this build writes and reads.
pub const FORMAT_VERSION: i64 = 1;

/// A column's JSON type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JSON string.
    Text,
    /// A JSON integer (64 bits).
    Int,
    /// `true` or `false`.
    Bool,
    /// Bytes, as a base64 string (standard alphabet, padded).
    Blob,
}

/// A column of a carried table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: false,
    }
}

const fn opt(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: true,
    }
}

use Kind::{Blob, Bool, Int, Text};

/// Which snapshots carry a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Every snapshot.
    World,
    /// Only snapshots with the inventory.
    Inventory,
    /// Every snapshot, but without the inventory only the held numbers' entries.
    NumberInventory,
}

/// A carried table.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    /// The export's row order: the primary key, so that exports compare equal.
    pub order_by: &'static str,
    pub part: Part,
}

/// Every carried table, in an order where each row's references come before it.
pub const TABLES: &[Table] = &[
    Table {
        name: "account",
        columns: &[
            col("account_id", Text),
            col("name", Text),
            col("name_key", Text),
            col("is_default", Bool),
            col("enabled", Bool),
            col("doc", Text),
            col("created_at", Int),
            col("updated_at", Int),
        ],
        order_by: "account_id",
        part: Part::World,
    },
    Table {
        name: "account_domain",
        columns: &[col("account_id", Text), col("domain_key", Text)],
        order_by: "account_id, domain_key",
        part: Part::World,
    },
    Table {
        name: "account_profile",
        columns: &[
            col("account_id", Text),
            col("profile_id", Text),
            col("profile_key", Text),
        ],
        order_by: "account_id, profile_id",
        part: Part::World,
    },
    Table {
        name: "account_operation",
        columns: &[
            col("account_id", Text),
            col("action", Text),
            col("generation", Int),
            opt("rename_status", Text),
            col("updated_at", Int),
        ],
        order_by: "account_id",
        part: Part::World,
    },
    Table {
        name: "account_feature_status",
        columns: &[
            col("account_id", Text),
            col("feature", Text),
            col("action", Text),
            col("status", Text),
            col("message", Text),
            col("generation", Int),
            col("updated_at", Int),
        ],
        order_by: "account_id, feature",
        part: Part::World,
    },
    Table {
        name: "signing_key",
        columns: &[
            col("kid", Text),
            col("secret", Blob),
            col("created_at", Int),
        ],
        order_by: "kid",
        part: Part::World,
    },
    Table {
        name: "client",
        columns: &[
            col("client_id", Text),
            col("account_id", Text),
            col("secret_hash", Text),
            col("appkey", Text),
            col("roles", Text),
            col("features", Text),
            col("created_at", Int),
            opt("revoked_at", Int),
        ],
        order_by: "client_id",
        part: Part::World,
    },
    Table {
        name: "app_user",
        columns: &[
            col("account_id", Text),
            col("username", Text),
            col("password_hash", Text),
            col("roles", Text),
            col("created_at", Int),
        ],
        order_by: "account_id, username",
        part: Part::World,
    },
    Table {
        name: "refresh_token",
        columns: &[
            col("token_hash", Text),
            col("client_id", Text),
            opt("username", Text),
            col("expires_at", Int),
            opt("revoked_at", Int),
            col("created_at", Int),
        ],
        order_by: "token_hash",
        part: Part::World,
    },
    Table {
        name: "profile",
        columns: &[
            col("account_id", Text),
            col("profile_id", Text),
            col("profile_name", Text),
            col("profile_key", Text),
            opt("description", Text),
            col("created_at", Int),
            col("updated_at", Int),
        ],
        order_by: "account_id, profile_id",
        part: Part::World,
    },
    Table {
        name: "org_node",
        columns: &[
            col("account_id", Text),
            col("node_id", Text),
            col("name", Text),
            col("name_key", Text),
            opt("parent_id", Text),
            opt("country_code", Text),
            col("action", Text),
            col("status", Text),
            col("message", Text),
            col("generation", Int),
            col("created_at", Int),
            col("updated_at", Int),
        ],
        order_by: "account_id, node_id",
        part: Part::World,
    },
    Table {
        name: "org_node_profile",
        columns: &[
            col("account_id", Text),
            col("node_id", Text),
            col("profile_id", Text),
            col("position", Int),
        ],
        order_by: "account_id, node_id, profile_id",
        part: Part::World,
    },
    Table {
        name: "voice_element",
        columns: &[
            col("element_id", Text),
            col("account_id", Text),
            col("element_type", Text),
            col("name_key", Text),
            col("doc", Text),
            col("status", Text),
            opt("status_message", Text),
            col("generation", Int),
            col("created_at", Int),
            col("updated_at", Int),
        ],
        order_by: "element_id",
        part: Part::World,
    },
    Table {
        name: "documentation_rule",
        columns: &[
            col("country_code", Text),
            col("number_type", Text),
            col("required", Bool),
        ],
        order_by: "country_code, number_type",
        part: Part::Inventory,
    },
    Table {
        // `held_by` is not carried: it is the account of the `phone_number` row that
        // holds the number, set again on import.
        name: "number_inventory",
        columns: &[
            col("phone_number", Text),
            col("country_code", Text),
            col("number_type", Text),
            col("area_code", Text),
            col("documentation_required", Bool),
        ],
        order_by: "phone_number",
        part: Part::NumberInventory,
    },
    Table {
        name: "phone_number",
        columns: &[
            col("phone_number_id", Text),
            col("account_id", Text),
            col("phone_number", Text),
            col("country_code", Text),
            col("number_type", Text),
            opt("display_name", Text),
            opt("is_calling_party_number", Bool),
            opt("preferred_media_location", Text),
            col("status", Text),
            opt("status_message", Text),
            opt("status_before_disable", Text),
            col("generation", Int),
            col("created_at", Int),
            col("updated_at", Int),
        ],
        order_by: "phone_number_id",
        part: Part::World,
    },
    Table {
        name: "audit_record",
        columns: &[
            col("seq", Int),
            col("account_id", Text),
            col("at", Int),
            col("event", Text),
            col("author", Text),
            col("ip_address", Text),
            col("record_type", Text),
            col("audit_data", Text),
            col("search_text", Text),
        ],
        order_by: "seq",
        part: Part::World,
    },
    Table {
        // A `running` job is written `pending` without its lease: the lease belonged
        // to a worker of the exporting process.
        name: "job",
        columns: &[
            col("id", Text),
            col("kind", Text),
            col("account_id", Text),
            col("resource_id", Text),
            col("payload", Text),
            col("state", Text),
            col("attempts", Int),
            col("max_attempts", Int),
            col("run_at", Int),
            opt("lease_until", Int),
            opt("lease_token", Text),
            opt("last_error", Text),
            col("created_at", Int),
            col("updated_at", Int),
        ],
        order_by: "created_at, id",
        part: Part::World,
    },
    Table {
        name: "transition",
        columns: &[
            col("seq", Int),
            col("at", Int),
            col("account_id", Text),
            col("resource_kind", Text),
            col("resource_id", Text),
            opt("from_status", Text),
            col("to_status", Text),
            opt("message", Text),
            col("cause", Text),
        ],
        order_by: "seq",
        part: Part::World,
    },
    Table {
        name: "emulator_rule",
        columns: &[
            col("resource_kind", Text),
            opt("delay_ms", Int),
            opt("outcome", Text),
            col("failure_ppm", Int),
            col("updated_at", Int),
        ],
        order_by: "resource_kind",
        part: Part::World,
    },
    Table {
        // Injected faults, with the uses they have left.
        name: "emulator_fault",
        columns: &[
            col("name", Text),
            col("method", Text),
            col("path", Text),
            opt("account_id", Text),
            opt("status", Int),
            opt("delay_ms", Int),
            col("drop_connection", Bool),
            col("probability_ppm", Int),
            opt("remaining", Int),
            col("updated_at", Int),
        ],
        order_by: "name",
        part: Part::World,
    },
    Table {
        // The seed, its draw counter and the clock (without its version, which only
        // orders the moves of instances on one database).
        name: "emulator_state",
        columns: &[col("key", Text), col("value", Text)],
        order_by: "key",
        part: Part::World,
    },
];

/// Tables of the schema that snapshots do not carry, and why: derived from carried
/// rows (rebuilt on import), fixed by the migrations, or transient.
pub const NOT_CARRIED: &[(&str, &str)] = &[
    (
        "number_suffix",
        "search rows of the available numbers, rebuilt",
    ),
    (
        "inventory_gram_count",
        "counts of the available numbers, rebuilt",
    ),
    (
        "inventory_count",
        "counts of the available numbers, rebuilt",
    ),
    (
        "phone_number_tally",
        "counts of the numbers per account, status, country and type, kept by triggers (rebuilt by an import on PostgreSQL)",
    ),
    ("gram_position", "constant rows of a migration"),
    (
        "login_failure",
        "failed-login counters on real time, cleared by an import",
    ),
    (
        "idempotency_key",
        "answers kept 24 h of real time for retries; they name the replaced state's resources, so an import clears them",
    ),
];

/// The table called `name`.
pub fn table(name: &str) -> Option<(usize, &'static Table)> {
    TABLES.iter().enumerate().find(|(_, t)| t.name == name)
}

/// The latest migration applied to the database: the snapshot's `schemaVersion`.
pub async fn schema_version(tx: &mut Tx) -> Result<i64> {
    Ok(on_conn!(tx, |c| sqlx::query_scalar::<_, i64>(
        "select coalesce(max(version), 0) from _sqlx_migrations where success"
    )
    .fetch_one(&mut *c)
    .await)?)
}

/// What an export wrote: rows per table.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Counts(pub Map<String, Value>);

impl Counts {
    fn add(&mut self, table: &str, n: u64) {
        self.0.insert(table.to_owned(), Value::from(n));
    }
}

/// The select list of `table`, each column in its carried type (integers widened, so
/// that PostgreSQL's `integer` columns read as 64 bits like the rest).
fn select_sql(table: &Table, inventory: bool) -> String {
    let list: Vec<String> = table
        .columns
        .iter()
        .map(|c| match c.kind {
            Kind::Int => format!("cast({0} as bigint) as {0}", c.name),
            _ => c.name.to_owned(),
        })
        .collect();
    let filter = match (table.part, inventory) {
        (Part::NumberInventory, false) => " where held_by is not null",
        _ if table.name == "emulator_state" => " where key <> $1",
        _ => "",
    };
    format!(
        "select {} from {}{filter} order by {}",
        list.join(", "),
        table.name,
        table.order_by
    )
}

/// Bytes as the snapshot writes them.
fn base64(bytes: &[u8]) -> Value {
    use base64::Engine;
    Value::from(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Rewrites what a row must not carry as stored: a running job's lease, the clock's
/// version.
fn carried(table: &Table, row: &mut Map<String, Value>) {
    match table.name {
        "job" if row.get("state").and_then(Value::as_str) == Some("running") => {
            row.insert("state".to_owned(), Value::from("pending"));
            row.insert("lease_until".to_owned(), Value::Null);
            row.insert("lease_token".to_owned(), Value::Null);
        }
        "emulator_state"
            if row.get("key").and_then(Value::as_str) == Some(super::emulator::CLOCK_KEY) =>
        {
            let stripped = row
                .get("value")
                .and_then(Value::as_str)
                .and_then(|v| serde_json::from_str::<Map<String, Value>>(v).ok())
                .map(|mut clock| {
                    clock.remove("version");
                    Value::Object(clock).to_string()
                });
            if let Some(v) = stripped {
                row.insert("value".to_owned(), Value::from(v));
            }
        }
        _ => {}
    }
}

/// Writes the snapshot of everything `tx` sees (a consistent read: see
/// `Db::snapshot`) to `out`, one table after another and one row per line, without
/// holding more than a row at a time.
pub async fn export<W: AsyncWrite + Unpin + Send>(
    tx: &mut Tx,
    out: &mut W,
    inventory: bool,
    exported_at: &str,
) -> Result<Counts> {
    let schema = schema_version(tx).await?;
    let head = serde_json::json!({
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "schemaVersion": schema,
        "exportedAt": exported_at,
        "inventory": inventory,
    });
    let head = head.to_string();
    // The header's members, then the tables: `{"format":…,"inventory":true,"tables":[`.
    let open = format!("{},\"tables\":[\n", &head[..head.len() - 1]);
    write(out, open.as_bytes()).await?;
    let mut counts = Counts::default();
    let mut first_table = true;
    for table in TABLES {
        if table.part == Part::Inventory && !inventory {
            continue;
        }
        if !first_table {
            write(out, b",\n").await?;
        }
        first_table = false;
        write(
            out,
            format!("{{\"table\":\"{}\",\"rows\":[", table.name).as_bytes(),
        )
        .await?;
        let sql = select_sql(table, inventory);
        let mut n = 0u64;
        on_conn!(tx, |c| {
            let mut q = sqlx::query(&sql);
            if table.name == "emulator_state" {
                q = q.bind(super::emulator::GENERATION_KEY);
            }
            let mut rows = q.fetch(&mut *c);
            while let Some(r) = rows.try_next().await? {
                let mut row = Map::new();
                for (i, column) in table.columns.iter().enumerate() {
                    // Each type read as its carried type, on either backend.
                    let value = match column.kind {
                        Kind::Text => r.try_get::<Option<String>, _>(i)?.map(Value::from),
                        Kind::Int => r.try_get::<Option<i64>, _>(i)?.map(Value::from),
                        Kind::Bool => r.try_get::<Option<bool>, _>(i)?.map(Value::from),
                        Kind::Blob => r.try_get::<Option<Vec<u8>>, _>(i)?.as_deref().map(base64),
                    };
                    row.insert(column.name.to_owned(), value.unwrap_or(Value::Null));
                }
                carried(table, &mut row);
                let sep: &[u8] = if n == 0 { b"\n" } else { b",\n" };
                let line = Value::Object(row).to_string();
                write(out, sep).await.map_err(sqlx::Error::Io)?;
                write(out, line.as_bytes()).await.map_err(sqlx::Error::Io)?;
                n += 1;
            }
            Ok::<_, sqlx::Error>(())
        })?;
        write(out, if n == 0 { b"]}" } else { b"\n]}" }).await?;
        counts.add(table.name, n);
    }
    write(out, b"\n]}\n").await?;
    out.flush().await?;
    Ok(counts)
}

async fn write<W: AsyncWrite + Unpin>(out: &mut W, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(bytes).await
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Backend(sqlx::Error::Io(e))
    }
}

/// The header of a snapshot, as read.
#[derive(Debug, Clone)]
pub struct Header {
    pub format_version: i64,
    pub schema_version: i64,
    pub inventory: bool,
}

/// Why an import was refused: a place in the document (`client[3].appkey`, or a
/// header member) and what is wrong there. Nothing was changed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Refusal {
    pub field: String,
    pub message: String,
    pub kind: RefusalKind,
}

/// What kind of fault a [`Refusal`] is, for its violation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// Not JSON, or a value of the wrong JSON type.
    Type,
    /// A required member or value is missing.
    Missing,
    /// A value that is not allowed (a version, a table, a constraint of the database).
    Value,
}

impl Refusal {
    pub fn new(field: impl Into<String>, kind: RefusalKind, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            kind,
        }
    }
}

/// An import's failure: the document's fault, or the database's.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Store(e.into())
    }
}

/// Checks a header against what this build and database can load.
pub async fn check_header(tx: &mut Tx, header: &Header) -> Result<(), ImportError> {
    if header.format_version != FORMAT_VERSION {
        return Err(Refusal::new(
            "formatVersion",
            RefusalKind::Value,
            format!(
                "this ccadmin reads format version {FORMAT_VERSION}, not {}",
                header.format_version
            ),
        )
        .into());
    }
    let ours = schema_version(tx).await?;
    if header.schema_version > ours {
        return Err(Refusal::new(
            "schemaVersion",
            RefusalKind::Value,
            format!(
                "the snapshot was taken at schema version {}, newer than this database's {ours}: import it with a ccadmin at least as new",
                header.schema_version
            ),
        )
        .into());
    }
    Ok(())
}

/// A load in progress, in one write transaction: [`Load::begin`] empties the tables,
/// [`Load::table`] and [`Load::row`] insert, [`Load::finish`] rebuilds what is derived.
/// Dropped before `finish` (with the transaction), nothing changes.
pub struct Load {
    inventory: bool,
    /// The index in [`TABLES`] of the table being loaded.
    current: Option<usize>,
    /// The row's index within its table, for refusals.
    row: usize,
    counts: Counts,
    clock_version: i64,
    generation: i64,
    numbers: Option<super::numbers::InventoryLoad>,
    batch: Vec<InventoryEntry>,
    /// Rows of the current table not inserted yet (see [`Rows`]).
    rows: Rows,
}

/// Inventory entries inserted at a time.
const INVENTORY_BATCH: usize = 5_000;

/// Rows of a table inserted by one statement (PostgreSQL) or a few (SQLite): a row per
/// statement cost a round trip each, over seven minutes for 100,000 numbers on
/// PostgreSQL (issue #16).
const ROW_BATCH: usize = 2_000;

impl Load {
    /// Empties every carried table of `tx` (the inventory only when the snapshot
    /// carries it; otherwise every number is released, to be held again by the
    /// snapshot's numbers).
    pub async fn begin(tx: &mut Tx, header: &Header) -> Result<Self, ImportError> {
        let clock_version = stored_clock_version(tx).await?;
        let generation = super::emulator::state(tx, super::emulator::GENERATION_KEY)
            .await?
            .and_then(|g| g.parse::<i64>().ok())
            .unwrap_or(0);
        tx.prepare_bulk_load().await?;
        let mut statements: Vec<String> = Vec::new();
        if tx.backend() == Backend::Postgres {
            // The tally trigger stands aside until `finish` rebuilds the tally (its
            // per-row updates cost PostgreSQL more with every row: migration 0017).
            statements.push("set local ccadmin.bulk_load = 'on'".to_owned());
        }
        // Not carried: login failures, and idempotency keys, whose kept answers name the
        // resources of the state being replaced.
        statements.extend([
            "delete from login_failure".to_owned(),
            "delete from idempotency_key".to_owned(),
        ]);
        for t in TABLES.iter().rev() {
            match (t.part, header.inventory) {
                (Part::World, _) | (_, true) => {
                    statements.push(format!("delete from {}", t.name));
                }
                (Part::NumberInventory, false) => statements.push(
                    "update number_inventory set held_by = null where held_by is not null"
                        .to_owned(),
                ),
                (Part::Inventory, false) => {}
            }
        }
        on_conn!(tx, |c| {
            for sql in &statements {
                sqlx::query(sql).execute(&mut *c).await?;
            }
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(Self {
            inventory: header.inventory,
            current: None,
            row: 0,
            counts: Counts::default(),
            clock_version,
            generation,
            numbers: None,
            batch: Vec::new(),
            rows: Rows::default(),
        })
    }

    /// Starts the rows of table `name`, which must come after the tables before it.
    pub async fn table(&mut self, tx: &mut Tx, name: &str) -> Result<(), ImportError> {
        let field = format!("tables.{name}");
        let Some((index, table)) = table(name) else {
            let known: Vec<_> = TABLES.iter().map(|t| t.name).collect();
            return Err(Refusal::new(
                field,
                RefusalKind::Value,
                format!("unknown table; tables: {}", known.join(", ")),
            )
            .into());
        };
        if let Some(current) = self.current
            && index <= current
        {
            return Err(Refusal::new(
                field,
                RefusalKind::Value,
                format!(
                    "must come before {} (each table once, in the documented order)",
                    TABLES[current].name
                ),
            )
            .into());
        }
        if table.part == Part::Inventory && !self.inventory {
            return Err(Refusal::new(
                field,
                RefusalKind::Value,
                "is carried only by a snapshot with the inventory (\"inventory\": true)",
            )
            .into());
        }
        self.flush_rows(tx).await?;
        self.flush_numbers(tx).await?;
        self.current = Some(index);
        self.row = 0;
        self.counts.add(name, 0);
        if table.part == Part::NumberInventory {
            self.numbers = Some(super::numbers::InventoryLoad::begin(tx).await?);
        }
        Ok(())
    }

    /// Inserts a row of the current table.
    pub async fn row(&mut self, tx: &mut Tx, row: Map<String, Value>) -> Result<(), ImportError> {
        let Some(index) = self.current else {
            return Err(Refusal::new("tables", RefusalKind::Value, "a row outside a table").into());
        };
        let table = &TABLES[index];
        let at = format!("{}[{}]", table.name, self.row);
        self.row += 1;
        let values = values(table, &at, row)?;
        if table.part == Part::NumberInventory {
            self.batch.push(inventory_entry(&at, &values)?);
            if self.batch.len() >= INVENTORY_BATCH {
                self.add_numbers(tx).await?;
            }
        } else {
            if !self.rows.fits(&values) {
                self.flush_rows(tx).await?;
            }
            self.rows.push(self.row - 1, values);
            if self.rows.len() >= ROW_BATCH {
                self.flush_rows(tx).await?;
            }
        }
        let n = self
            .counts
            .0
            .get(table.name)
            .and_then(Value::as_u64)
            .unwrap_or(0);
        self.counts.add(table.name, n + 1);
        Ok(())
    }

    /// Inserts the pending rows of the current table.
    async fn flush_rows(&mut self, tx: &mut Tx) -> Result<(), ImportError> {
        if let Some(index) = self.current {
            self.rows.flush(tx, &TABLES[index]).await?;
        }
        Ok(())
    }

    async fn add_numbers(&mut self, tx: &mut Tx) -> Result<(), ImportError> {
        if let Some(load) = &mut self.numbers {
            if !self.inventory && !self.batch.is_empty() {
                // The importing inventory's entries give way to the snapshot's.
                let numbers: Vec<&str> =
                    self.batch.iter().map(|e| e.phone_number.as_str()).collect();
                super::numbers::delete_inventory(tx, &numbers).await?;
            }
            load.add(tx, &self.batch).await?;
            self.batch.clear();
        }
        Ok(())
    }

    /// Ends the inventory's load, if one is under way.
    async fn flush_numbers(&mut self, tx: &mut Tx) -> Result<(), ImportError> {
        self.add_numbers(tx).await?;
        if let Some(load) = self.numbers.take() {
            load.finish(tx).await?;
        }
        Ok(())
    }

    /// Ends the load: numbers held again by their accounts, one default account and a
    /// signing key checked (a key is made when the snapshot has none), sequences moved
    /// past the loaded rows, the clock given a version every instance takes, the
    /// state's generation moved on, and the search rows and counts rebuilt.
    pub async fn finish(mut self, tx: &mut Tx, now: i64) -> Result<Counts, ImportError> {
        self.flush_rows(tx).await?;
        self.flush_numbers(tx).await?;
        let defaults: i64 = on_conn!(tx, |c| sqlx::query_scalar(
            "select count(*) from account where is_default"
        )
        .fetch_one(&mut *c)
        .await)?;
        if defaults != 1 {
            return Err(Refusal::new(
                "tables.account",
                RefusalKind::Value,
                format!("must hold exactly one default account (is_default true), not {defaults}"),
            )
            .into());
        }
        let mut statements = vec![
            // A join, not a subquery per entry: PostgreSQL plans this inside the load's
            // transaction with the statistics of the emptied tables, and its plan for the
            // correlated form scanned every number for every entry (over nine minutes
            // for 100,000 numbers, issue #16).
            "update number_inventory set held_by = p.account_id from phone_number p
             where p.phone_number = number_inventory.phone_number",
            "update job set state = 'pending', lease_until = null, lease_token = null
             where state = 'running'",
        ];
        if tx.backend() == Backend::Postgres {
            statements.extend([
                "delete from phone_number_tally",
                "insert into phone_number_tally (account_id, status, country_code, number_type, slot, n)
                 select account_id, status, country_code, number_type, substr(phone_number_id, 1, 1), count(*)
                 from phone_number group by 1, 2, 3, 4, 5",
                "set local ccadmin.bulk_load = 'off'",
                "select setval(pg_get_serial_sequence('transition', 'seq'), coalesce(max(seq), 0) + 1, false) from transition",
                "select setval(pg_get_serial_sequence('audit_record', 'seq'), coalesce(max(seq), 0) + 1, false) from audit_record",
            ]);
        }
        on_conn!(tx, |c| {
            for sql in &statements {
                sqlx::query(sql).execute(&mut *c).await?;
            }
            Ok::<_, sqlx::Error>(())
        })?;
        // A hand-written snapshot may carry no signing key: the server needs one.
        let keys: i64 = on_conn!(tx, |c| sqlx::query_scalar(
            "select count(*) from signing_key"
        )
        .fetch_one(&mut *c)
        .await)?;
        if keys == 0 {
            let mut secret = vec![0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut secret);
            let key = super::credentials::SigningKey {
                kid: "k1".to_owned(),
                secret,
            };
            super::credentials::insert_key_if_absent(tx, &key, now).await?;
        }
        let clock = super::emulator::state(tx, super::emulator::CLOCK_KEY).await?;
        if let Some(clock) = clock {
            let mut value: Map<String, Value> = serde_json::from_str(&clock).map_err(|e| {
                Refusal::new(
                    "emulator_state.clock",
                    RefusalKind::Value,
                    format!("not a clock: {e}"),
                )
            })?;
            value.insert("version".to_owned(), Value::from(self.clock_version + 1));
            super::emulator::set_state(
                tx,
                super::emulator::CLOCK_KEY,
                &Value::Object(value).to_string(),
            )
            .await?;
        }
        super::emulator::set_state(
            tx,
            super::emulator::GENERATION_KEY,
            &(self.generation + 1).to_string(),
        )
        .await?;
        super::numbers::reindex_available(tx).await?;
        super::numbers::recount_available(tx).await?;
        tx.end_bulk_load().await?;
        Ok(self.counts)
    }
}

/// The clock's stored version (0 if none), which an imported clock must exceed.
async fn stored_clock_version(tx: &mut Tx) -> Result<i64> {
    Ok(super::emulator::state(tx, super::emulator::CLOCK_KEY)
        .await?
        .and_then(|v| serde_json::from_str::<Map<String, Value>>(&v).ok())
        .and_then(|m| m.get("version").and_then(Value::as_i64))
        .unwrap_or(0))
}

/// A value ready to bind.
#[derive(Debug, Clone)]
enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Blob(Option<Vec<u8>>),
}

/// The row's values in the table's column order, checked against the column types;
/// `None` for a column the row leaves out (its default applies).
fn values(
    table: &Table,
    at: &str,
    mut row: Map<String, Value>,
) -> Result<Vec<(Column, Option<Cell>)>, Refusal> {
    use base64::Engine;
    let mut out = Vec::with_capacity(table.columns.len());
    for c in table.columns {
        let field = format!("{at}.{}", c.name);
        let cell = match row.remove(c.name) {
            None => None,
            Some(Value::Null) if c.nullable => Some(match c.kind {
                Kind::Text => Cell::Text(None),
                Kind::Int => Cell::Int(None),
                Kind::Bool => Cell::Bool(None),
                Kind::Blob => Cell::Blob(None),
            }),
            Some(Value::Null) => {
                return Err(Refusal::new(
                    field,
                    RefusalKind::Missing,
                    "must not be null",
                ));
            }
            Some(v) => Some(match (c.kind, v) {
                (Kind::Text, Value::String(s)) => Cell::Text(Some(s)),
                (Kind::Int, Value::Number(n)) if n.is_i64() => Cell::Int(n.as_i64()),
                (Kind::Bool, Value::Bool(b)) => Cell::Bool(Some(b)),
                (Kind::Blob, Value::String(s)) => Cell::Blob(Some(
                    base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .map_err(|_| Refusal::new(&field, RefusalKind::Type, "must be base64"))?,
                )),
                (kind, _) => {
                    let what = match kind {
                        Kind::Text => "a string",
                        Kind::Int => "an integer",
                        Kind::Bool => "a boolean",
                        Kind::Blob => "a base64 string",
                    };
                    return Err(Refusal::new(
                        field,
                        RefusalKind::Type,
                        format!("must be {what}"),
                    ));
                }
            }),
        };
        if cell.is_none() && !c.nullable && table.part == Part::NumberInventory {
            return Err(Refusal::new(field, RefusalKind::Missing, "is required"));
        }
        out.push((*c, cell));
    }
    if let Some(extra) = row.keys().next() {
        return Err(Refusal::new(
            format!("{at}.{extra}"),
            RefusalKind::Value,
            format!("{} has no such column", table.name),
        ));
    }
    Ok(out)
}

fn inventory_entry(at: &str, values: &[(Column, Option<Cell>)]) -> Result<InventoryEntry, Refusal> {
    let text = |i: usize| match &values[i].1 {
        Some(Cell::Text(Some(s))) => s.clone(),
        _ => String::new(),
    };
    let number_type = NumberType::parse_inventory(&text(2)).ok_or_else(|| {
        Refusal::new(
            format!("{at}.number_type"),
            RefusalKind::Value,
            "must be LOCAL or TOLLFREE",
        )
    })?;
    Ok(InventoryEntry {
        phone_number: text(0),
        country_code: text(1),
        number_type,
        area_code: text(3),
        documentation_required: matches!(values[4].1, Some(Cell::Bool(Some(true)))),
    })
}

/// Rows of the current table waiting to be inserted together: consecutive rows that
/// give the same columns (a row may leave out a column that has a default).
#[derive(Default)]
struct Rows {
    /// The index within its table of the first row, for refusals.
    first: usize,
    /// Which of the table's columns the rows give.
    given: Vec<bool>,
    rows: Vec<Vec<(Column, Option<Cell>)>>,
}

fn given(values: &[(Column, Option<Cell>)]) -> Vec<bool> {
    values.iter().map(|(_, v)| v.is_some()).collect()
}

impl Rows {
    fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether `values` gives the same columns as the rows pending.
    fn fits(&self, values: &[(Column, Option<Cell>)]) -> bool {
        self.rows.is_empty() || given(values) == self.given
    }

    fn push(&mut self, index: usize, values: Vec<(Column, Option<Cell>)>) {
        if self.rows.is_empty() {
            self.first = index;
            self.given = given(&values);
        }
        self.rows.push(values);
    }

    /// Inserts the pending rows of `table`. If the database refuses the batch, it is
    /// undone (a savepoint) and its rows are inserted one by one, so that a refusal names
    /// the row at fault, as when every row had its own statement.
    async fn flush(&mut self, tx: &mut Tx, table: &Table) -> Result<(), ImportError> {
        let rows = std::mem::take(&mut self.rows);
        if rows.is_empty() {
            return Ok(());
        }
        let columns: Vec<Column> = rows[0]
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(c, _)| *c)
            .collect();
        if columns.is_empty() {
            // Rows of defaults only (a hand-written snapshot): no multi-row form.
            return self.one_by_one(tx, table, &rows).await;
        }
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| r.iter().filter_map(|(_, v)| v.clone()).collect())
            .collect();
        savepoint(tx, "savepoint state_rows").await?;
        let inserted = match tx.conn().await? {
            Conn::Postgres(c) => insert_rows_postgres(c, table, &columns, cells).await,
            Conn::Sqlite(c) => insert_rows_sqlite(c, table, &columns, &cells).await,
        };
        match inserted {
            Ok(()) => savepoint(tx, "release savepoint state_rows").await,
            Err(StoreError::Backend(sqlx::Error::Database(_))) => {
                savepoint(tx, "rollback to savepoint state_rows").await?;
                savepoint(tx, "release savepoint state_rows").await?;
                self.one_by_one(tx, table, &rows).await
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn one_by_one(
        &self,
        tx: &mut Tx,
        table: &Table,
        rows: &[Vec<(Column, Option<Cell>)>],
    ) -> Result<(), ImportError> {
        for (i, row) in rows.iter().enumerate() {
            insert(tx, table, row)
                .await
                .map_err(|e| refusal_of(&format!("{}[{}]", table.name, self.first + i), e))?;
        }
        Ok(())
    }
}

async fn savepoint(tx: &mut Tx, sql: &str) -> Result<(), ImportError> {
    on_conn!(tx, |c| sqlx::query(sql)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// PostgreSQL: one statement for the whole batch, each column bound as one array and
/// the rows made by `unnest`, so the text (and its prepared plan) is the same for every
/// batch, whatever its length, and no parameter limit applies.
async fn insert_rows_postgres(
    conn: &mut sqlx::PgConnection,
    table: &Table,
    columns: &[Column],
    rows: Vec<Vec<Cell>>,
) -> Result<()> {
    let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let arrays: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let t = match c.kind {
                Kind::Text => "text",
                Kind::Int => "int8",
                Kind::Bool => "bool",
                Kind::Blob => "bytea",
            };
            format!("${}::{t}[]", i + 1)
        })
        .collect();
    let sql = format!(
        "insert into {} ({}) select * from unnest({})",
        table.name,
        names.join(", "),
        arrays.join(", ")
    );
    // The rows turned into columns; `values` gave every cell its column's kind.
    let mut text: Vec<Vec<Option<String>>> = vec![Vec::new(); columns.len()];
    let mut int: Vec<Vec<Option<i64>>> = vec![Vec::new(); columns.len()];
    let mut boolean: Vec<Vec<Option<bool>>> = vec![Vec::new(); columns.len()];
    let mut blob: Vec<Vec<Option<Vec<u8>>>> = vec![Vec::new(); columns.len()];
    for row in rows {
        for (i, cell) in row.into_iter().enumerate() {
            match cell {
                Cell::Text(v) => text[i].push(v),
                Cell::Int(v) => int[i].push(v),
                Cell::Bool(v) => boolean[i].push(v),
                Cell::Blob(v) => blob[i].push(v),
            }
        }
    }
    let mut q = sqlx::query(&sql);
    for (i, c) in columns.iter().enumerate() {
        q = match c.kind {
            Kind::Text => q.bind(std::mem::take(&mut text[i])),
            Kind::Int => q.bind(std::mem::take(&mut int[i])),
            Kind::Bool => q.bind(std::mem::take(&mut boolean[i])),
            Kind::Blob => q.bind(std::mem::take(&mut blob[i])),
        };
    }
    q.execute(conn).await.map_err(StoreError::Backend)?;
    Ok(())
}

/// SQLite parameters per statement: under its limit (32,766), and large enough that
/// statements are few (each is a hop to the connection's thread).
const SQLITE_PARAMETERS: usize = 6_000;

/// SQLite: multi-row `values`, as many rows per statement as the parameters allow.
async fn insert_rows_sqlite(
    conn: &mut sqlx::SqliteConnection,
    table: &Table,
    columns: &[Column],
    rows: &[Vec<Cell>],
) -> Result<()> {
    let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let per_statement = (SQLITE_PARAMETERS / columns.len()).max(1);
    for chunk in rows.chunks(per_statement) {
        let sql = format!(
            "insert into {} ({}) values {}",
            table.name,
            names.join(", "),
            super::dialect::values_rows(Backend::Sqlite, chunk.len(), columns.len())
        );
        let mut q = sqlx::query(&sql);
        for cell in chunk.iter().flatten() {
            q = match cell {
                Cell::Text(s) => q.bind(s.as_deref()),
                Cell::Int(n) => q.bind(*n),
                Cell::Bool(b) => q.bind(*b),
                Cell::Blob(b) => q.bind(b.as_deref()),
            };
        }
        q.execute(&mut *conn).await.map_err(StoreError::Backend)?;
    }
    Ok(())
}

/// Inserts one row (the columns it gives).
async fn insert(tx: &mut Tx, table: &Table, values: &[(Column, Option<Cell>)]) -> Result<()> {
    let given: Vec<_> = values
        .iter()
        .filter_map(|(c, v)| v.as_ref().map(|v| (c.name, v)))
        .collect();
    let names: Vec<&str> = given.iter().map(|(n, _)| *n).collect();
    let params: Vec<String> = (1..=given.len()).map(|i| format!("${i}")).collect();
    let sql = if given.is_empty() {
        // An empty row: every column's default, which the constraints then judge.
        format!("insert into {} default values", table.name)
    } else {
        format!(
            "insert into {} ({}) values ({})",
            table.name,
            names.join(", "),
            params.join(", ")
        )
    };
    on_conn!(tx, |c| {
        let mut q = sqlx::query(&sql);
        for (_, v) in &given {
            q = match v {
                Cell::Text(s) => q.bind(s.clone()),
                Cell::Int(n) => q.bind(*n),
                Cell::Bool(b) => q.bind(*b),
                Cell::Blob(b) => q.bind(b.clone()),
            };
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })
    .map_err(StoreError::Backend)?;
    Ok(())
}

/// A database's refusal of a row (a broken constraint) is the document's fault; a
/// failure of the database itself is not.
fn refusal_of(at: &str, e: StoreError) -> ImportError {
    if let StoreError::Backend(sqlx::Error::Database(db)) = &e {
        return Refusal::new(
            at,
            RefusalKind::Value,
            format!("the database refused the row: {}", db.message()),
        )
        .into();
    }
    ImportError::Store(e)
}
