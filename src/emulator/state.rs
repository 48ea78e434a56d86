//! State snapshots (docs/state.md): export everything as one JSON document, import one
//! in a single transaction, and make every instance on the database see an import.
//!
//! The document is read as a stream: a parser on a blocking thread hands the header,
//! each table's name and batches of rows to the loader over a small channel, so a
//! million inventory rows are never held at once. The header must come before
//! `tables` (the export writes it so).

use std::cell::Cell;
use std::fmt;
use std::io::Read;

use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;

use crate::auth::Auth;
use crate::clock::Clock;
use crate::domain::time;
use crate::store::state::{
    self as snapshot, Counts, FORMAT, Header, ImportError, Load, Refusal, RefusalKind,
};
use crate::store::{self, Db, StoreError, Tx};

/// An export under way: one consistent read of the database.
pub struct Export {
    tx: Tx,
    inventory: bool,
    exported_at: String,
}

/// Starts an export of everything (`inventory`: with the number inventory). The
/// database is read as of now, whatever is written while the document is sent.
pub async fn begin_export(db: &Db, clock: &Clock, inventory: bool) -> Result<Export, StoreError> {
    Ok(Export {
        tx: db.snapshot().await?,
        inventory,
        exported_at: time::rfc3339(clock.now_ms()),
    })
}

impl Export {
    /// Writes the document to `out`; rows per table.
    pub async fn write_to<W: AsyncWrite + Unpin + Send>(
        mut self,
        out: &mut W,
    ) -> Result<Counts, StoreError> {
        snapshot::export(&mut self.tx, out, self.inventory, &self.exported_at).await
    }
}

/// What an import loaded.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    pub format_version: i64,
    pub schema_version: i64,
    pub inventory: bool,
    /// Rows loaded per table.
    pub rows: Map<String, Value>,
}

/// Replaces everything in `db` with the snapshot `reader` holds, in one transaction:
/// a document that is not a snapshot, or a row the database refuses, changes nothing.
/// The caller then calls [`refresh`] (the server) or leaves it to the servers'
/// followers (the CLI).
pub async fn import<R: Read + Send + 'static>(
    db: &Db,
    now: i64,
    reader: R,
) -> Result<Imported, ImportError> {
    let (sender, mut items) = mpsc::channel(4);
    let parser = tokio::task::spawn_blocking(move || parse(reader, &sender));
    let result = load(db, now, &mut items).await;
    // A refused load stops the parser at its next send.
    drop(items);
    let _ = parser.await;
    result
}

async fn load(
    db: &Db,
    now: i64,
    items: &mut mpsc::Receiver<Result<Item, Refusal>>,
) -> Result<Imported, ImportError> {
    let header = match items.recv().await {
        Some(Ok(Item::Header(h))) => h,
        Some(Err(refusal)) => return Err(refusal.into()),
        _ => return Err(not_a_snapshot("no header").into()),
    };
    let mut tx = db.write().await?;
    snapshot::check_header(&mut tx, &header).await?;
    let mut load = Load::begin(&mut tx, &header).await?;
    loop {
        match items.recv().await {
            Some(Ok(Item::Table(name))) => load.table(&mut tx, &name).await?,
            Some(Ok(Item::Rows(rows))) => {
                for row in rows {
                    load.row(&mut tx, row).await?;
                }
            }
            Some(Ok(Item::Done)) => break,
            Some(Ok(Item::Header(_))) => return Err(not_a_snapshot("a second header").into()),
            Some(Err(refusal)) => return Err(refusal.into()),
            None => return Err(not_a_snapshot("the document ended early").into()),
        }
    }
    let counts = load.finish(&mut tx, now).await?;
    tx.commit().await?;
    Ok(Imported {
        format_version: header.format_version,
        schema_version: header.schema_version,
        inventory: header.inventory,
        rows: counts.0,
    })
}

/// Makes this instance see the state in the database after an import: signing keys
/// read again, every cached client forgotten, and in emulator mode the clock taken as
/// stored (real time when the state has none).
pub async fn refresh(
    db: &Db,
    clock: &Clock,
    auth: &Auth,
    emulator: bool,
) -> Result<(), StoreError> {
    auth.tokens.reload_now(db).await?;
    auth.forget_all();
    // An import by the CLI or another instance committed nothing here: every cached
    // body of this instance is stale.
    db.epoch().advance();
    if emulator {
        super::clock::reload(db, clock).await?;
    }
    Ok(())
}

/// Watches the state's generation: when an import on another instance (or the CLI)
/// moved it past `seen`, [`refresh`]es this instance. Returns the generation seen.
pub async fn follow(
    db: &Db,
    clock: &Clock,
    auth: &Auth,
    emulator: bool,
    seen: i64,
) -> Result<i64, StoreError> {
    let mut tx = db.read().await?;
    let generation = store::emulator::generation(&mut tx).await?;
    drop(tx);
    if generation != seen {
        tracing::info!(
            generation,
            "the state was imported; reloading keys, clients and clock"
        );
        refresh(db, clock, auth, emulator).await?;
    }
    Ok(generation)
}

/// The state's generation now.
pub async fn generation(db: &Db) -> Result<i64, StoreError> {
    let mut tx = db.read().await?;
    store::emulator::generation(&mut tx).await
}

/// True when the database holds no account: nothing a snapshot would replace.
pub async fn is_empty(db: &Db) -> Result<bool, StoreError> {
    let mut tx = db.read().await?;
    Ok(store::accounts::count_all(&mut tx).await? == 0)
}

fn not_a_snapshot(why: &str) -> Refusal {
    Refusal::new(
        "body",
        RefusalKind::Type,
        format!("not a ccadmin state snapshot: {why}"),
    )
}

/// What the parser hands the loader.
enum Item {
    Header(Header),
    Table(String),
    Rows(Vec<Map<String, Value>>),
    /// The whole document was read and is well-formed.
    Done,
}

/// Rows handed over at a time.
const ROW_BATCH: usize = 500;

struct Parser<'a> {
    sender: &'a mpsc::Sender<Result<Item, Refusal>>,
    /// The loader went away (it refused something) or the parser refused something
    /// and said so: stop without another message.
    stopped: Cell<bool>,
}

impl Parser<'_> {
    fn send<E: serde::de::Error>(&self, item: Result<Item, Refusal>) -> Result<(), E> {
        let refused = item.is_err();
        if self.sender.blocking_send(item).is_err() || refused {
            self.stopped.set(true);
            return Err(E::custom("stopped"));
        }
        Ok(())
    }
}

/// Reads the document from `reader`, sending what it finds; a malformed document
/// ends with its refusal.
fn parse<R: Read>(reader: R, sender: &mpsc::Sender<Result<Item, Refusal>>) {
    let parser = Parser {
        sender,
        stopped: Cell::new(false),
    };
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let result = DocumentSeed(&parser)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if parser.stopped.get() {
        return;
    }
    let last = match result {
        Ok(()) => Ok(Item::Done),
        Err(e) if e.is_io() => Err(Refusal::new(
            "body",
            RefusalKind::Type,
            format!("cannot be read: {e}"),
        )),
        Err(e) => Err(not_a_snapshot(&e.to_string())),
    };
    let _ = sender.blocking_send(last);
}

struct DocumentSeed<'p, 'a>(&'p Parser<'a>);

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (mut format, mut version, mut schema, mut inventory) = (None, None, None, None);
        let mut tables = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => format = Some(map.next_value::<String>()?),
                "formatVersion" => version = Some(map.next_value::<i64>()?),
                "schemaVersion" => schema = Some(map.next_value::<i64>()?),
                "inventory" => inventory = Some(map.next_value::<bool>()?),
                "tables" if !tables => {
                    let header = header(format.as_deref(), version, schema, inventory);
                    self.0.send(header.map(Item::Header))?;
                    map.next_value_seed(TablesSeed(self.0))?;
                    tables = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !tables {
            self.0.send(Err(Refusal::new(
                "tables",
                RefusalKind::Missing,
                "is required",
            )))?;
        }
        Ok(())
    }
}

/// The header members, each required before `tables`.
fn header(
    format: Option<&str>,
    version: Option<i64>,
    schema: Option<i64>,
    inventory: Option<bool>,
) -> Result<Header, Refusal> {
    let missing =
        |field: &str| Refusal::new(field, RefusalKind::Missing, "is required, before tables");
    match format {
        None => return Err(missing("format")),
        Some(FORMAT) => {}
        Some(other) => {
            return Err(Refusal::new(
                "format",
                RefusalKind::Value,
                format!("must be \"{FORMAT}\", not \"{other}\""),
            ));
        }
    }
    Ok(Header {
        format_version: version.ok_or_else(|| missing("formatVersion"))?,
        schema_version: schema.ok_or_else(|| missing("schemaVersion"))?,
        inventory: inventory.ok_or_else(|| missing("inventory"))?,
    })
}

struct TablesSeed<'p, 'a>(&'p Parser<'a>);

impl<'de> DeserializeSeed<'de> for TablesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for TablesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of tables")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(TableSeed(self.0))?.is_some() {}
        Ok(())
    }
}

struct TableSeed<'p, 'a>(&'p Parser<'a>);

impl<'de> DeserializeSeed<'de> for TableSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TableSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a table: {\"table\": name, \"rows\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut named = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "table" if !named => {
                    let name = map.next_value::<String>()?;
                    self.0.send(Ok(Item::Table(name)))?;
                    named = true;
                }
                "rows" if named => map.next_value_seed(RowsSeed(self.0))?,
                "rows" => {
                    return Err(A::Error::custom(
                        "a table's \"table\" must come before its \"rows\"",
                    ));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !named {
            return Err(A::Error::custom("a table without \"table\""));
        }
        Ok(())
    }
}

struct RowsSeed<'p, 'a>(&'p Parser<'a>);

impl<'de> DeserializeSeed<'de> for RowsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of rows (objects)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut batch = Vec::with_capacity(ROW_BATCH);
        while let Some(row) = seq.next_element::<Map<String, Value>>()? {
            batch.push(row);
            if batch.len() == ROW_BATCH {
                self.0.send(Ok(Item::Rows(std::mem::take(&mut batch))))?;
            }
        }
        if !batch.is_empty() {
            self.0.send(Ok(Item::Rows(batch)))?;
        }
        Ok(())
    }
}
