//! The number inventory: the demo's generated numbers and documentation rules.
//!
//! Every number is checked against the numbering plan before it is offered: its
//! country's calling code and region (NANP countries share +1; the region comes from
//! the parsed number), and its type (toll-free or not).

use crate::domain::number::{InventoryEntry, NumberType};
use crate::domain::phone::{PlanFacts, facts};
use crate::store::{self, Db, StoreError};

/// Per country and type: does activating a number need documents? The demo's rules,
/// loaded as data into `documentation_rule`.
pub const DEMO_DOCUMENTATION_RULES: [(&str, NumberType, bool); 9] = [
    ("US", NumberType::Local, false),
    ("US", NumberType::TollFree, false),
    ("CA", NumberType::Local, true),
    ("GB", NumberType::Local, false),
    ("GB", NumberType::TollFree, true),
    ("DE", NumberType::Local, true),
    ("DE", NumberType::TollFree, true),
    ("IN", NumberType::Local, true),
    ("IN", NumberType::TollFree, true),
];

/// The seeds' own numbers, offered exactly as the seeds show them (the voice seed
/// offers +16479308804, a Toronto number, as US LOCAL with documentation required).
pub const SEED_NUMBERS: [(&str, &str, &str, bool); 4] = [
    ("+16479308804", "US", "647", true),
    ("+16479308815", "US", "647", true),
    ("+16062128688", "US", "606", false),
    ("+12702289911", "US", "270", false),
];

/// (country, type, national prefix that is the area code, digits after it)
const RANGES: [(&str, NumberType, &str, &str, usize); 23] = [
    ("US", NumberType::Local, "+1", "212", 7),
    ("US", NumberType::Local, "+1", "330", 7),
    ("US", NumberType::Local, "+1", "415", 7),
    ("US", NumberType::Local, "+1", "512", 7),
    ("US", NumberType::Local, "+1", "617", 7),
    ("US", NumberType::Local, "+1", "702", 7),
    ("US", NumberType::TollFree, "+1", "800", 7),
    ("US", NumberType::TollFree, "+1", "833", 7),
    ("US", NumberType::TollFree, "+1", "888", 7),
    ("CA", NumberType::Local, "+1", "416", 7),
    ("CA", NumberType::Local, "+1", "604", 7),
    ("CA", NumberType::Local, "+1", "514", 7),
    ("GB", NumberType::Local, "+44", "20", 8),
    ("GB", NumberType::Local, "+44", "161", 7),
    ("GB", NumberType::TollFree, "+44", "800", 7),
    ("GB", NumberType::TollFree, "+44", "808", 7),
    ("DE", NumberType::Local, "+49", "30", 8),
    ("DE", NumberType::Local, "+49", "89", 8),
    ("DE", NumberType::TollFree, "+49", "800", 7),
    ("IN", NumberType::Local, "+91", "20", 8),
    ("IN", NumberType::Local, "+91", "22", 8),
    ("IN", NumberType::Local, "+91", "80", 8),
    ("IN", NumberType::TollFree, "+91", "1800", 7),
];

/// How many numbers each range of the demo offers (before plan checks drop some).
pub const DEMO_PER_RANGE: usize = 250;

/// Checks that `number` belongs to `country` and is of type `t` in the numbering plan.
/// NANP numbers are checked for the region their area code belongs to.
pub fn plan_agrees(number: &str, country: &str, t: NumberType) -> bool {
    agrees(&facts(number), country, t)
}

/// Whether what the plan says of a number (`f`) fits `country` and type `t`.
fn agrees(f: &PlanFacts, country: &str, t: NumberType) -> bool {
    let toll_free = f.toll_free;
    let region_ok = f.region.as_deref() == Some(country) || (toll_free && f.calling_code == 1);
    f.valid
        && region_ok
        && match t {
            NumberType::TollFree => toll_free,
            NumberType::Local => !toll_free,
            NumberType::Unknown => false,
        }
}

/// The demo inventory: deterministic numbers of every range, plan-checked, with the
/// documentation rule of their country and type, and the seeds' numbers.
pub fn demo_entries() -> Vec<InventoryEntry> {
    let mut out = Vec::new();
    for (country, t, cc, area, rest) in RANGES {
        let required = DEMO_DOCUMENTATION_RULES
            .iter()
            .find(|(c, rt, _)| *c == country && *rt == t)
            .is_some_and(|(_, _, r)| *r);
        let span = 10u64.pow(rest as u32);
        // A stride coprime with the span walks through varied subscriber numbers.
        let stride = 7_919_u64 * 13;
        let start = 2 * span / 10;
        let mut n = 0;
        let mut k = 0u64;
        while n < DEMO_PER_RANGE && k < 20 * DEMO_PER_RANGE as u64 {
            let sub = start + (k * stride) % (span - start);
            k += 1;
            let number = format!("{cc}{area}{sub:0width$}", width = rest);
            if plan_agrees(&number, country, t) {
                out.push(InventoryEntry {
                    phone_number: number,
                    country_code: country.to_owned(),
                    number_type: t,
                    area_code: area.to_owned(),
                    documentation_required: required,
                });
                n += 1;
            }
        }
    }
    for (number, country, area, required) in SEED_NUMBERS {
        out.retain(|e| e.phone_number != number);
        out.push(InventoryEntry {
            phone_number: number.to_owned(),
            country_code: country.to_owned(),
            number_type: NumberType::Local,
            area_code: area.to_owned(),
            documentation_required: required,
        });
    }
    out
}

/// The demo inventory as shipped: `demo_entries()` written in the import format, so a
/// start does not re-run thousands of numbering-plan checks (a test keeps it in step).
pub const DEMO_CSV: &str = include_str!("../data/demo-inventory.csv");

/// The header of the inventory CSV format.
pub const CSV_HEADER: &str = "phoneNumber,countryCode,type,areaCode,documentationRequired";

/// Writes entries in the inventory CSV format.
pub fn to_csv(entries: &[InventoryEntry]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for e in entries {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            e.phone_number,
            e.country_code,
            e.number_type.as_str(),
            e.area_code,
            e.documentation_required
        ));
    }
    out
}

/// One line of the inventory CSV format that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based line number in the file.
    pub line: usize,
    pub reason: String,
}

/// Parses one data line (`line` is its 1-based number, for the report). With
/// `check_plan`, the number must also agree with the numbering plan.
pub fn parse_row(line: usize, text: &str, check_plan: bool) -> Result<InventoryEntry, BadRow> {
    let bad = |reason: String| BadRow { line, reason };
    let cols: Vec<&str> = text.split(',').map(str::trim).collect();
    let [number, country, t, area, docs] = cols[..] else {
        return Err(bad(format!(
            "expected 5 columns ({CSV_HEADER}), found {}",
            cols.len()
        )));
    };
    let t = NumberType::parse_inventory(t)
        .ok_or_else(|| bad(format!("type must be LOCAL or TOLLFREE, not '{t}'")))?;
    crate::domain::number::CountryCode::parse_field("countryCode", country)
        .map_err(|_| bad(format!("bad countryCode '{country}'")))?;
    let required = match docs {
        "true" => true,
        "false" => false,
        other => {
            return Err(bad(format!(
                "documentationRequired must be true or false, not '{other}'"
            )));
        }
    };
    // A control character is no part of an area code (and PostgreSQL refuses NUL in
    // text, which would fail the whole import rather than the row).
    if area.chars().any(char::is_control) {
        return Err(bad(
            "areaCode must not contain control characters".to_owned()
        ));
    }
    crate::domain::phone::E164::check_form(
        "phoneNumber",
        number,
        crate::domain::number::NUMBER_MAX_LEN,
    )
    .map_err(|v| bad(format!("phoneNumber {number} {}", v.message)))?;
    // One parse serves both the plan check and a missing area code: parsing is the
    // import's main cost.
    let plan = (check_plan || area.is_empty()).then(|| facts(number));
    if let Some(f) = plan.as_ref().filter(|_| check_plan)
        && !agrees(f, country, t)
    {
        return Err(bad(format!(
            "{number} is not a {} number of {country} in the numbering plan",
            t.as_str()
        )));
    }
    let area = match plan {
        Some(f) if area.is_empty() => f.area_code.unwrap_or_default(),
        _ => area.to_owned(),
    };
    Ok(InventoryEntry {
        phone_number: number.to_owned(),
        country_code: country.to_owned(),
        number_type: t,
        area_code: area,
        documentation_required: required,
    })
}

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// Rows read (the header excluded).
    pub rows: usize,
    /// Numbers added to the inventory.
    pub imported: u64,
    /// Valid rows whose number was already in the inventory (left as it was).
    pub already_present: u64,
    /// Rows skipped because they are invalid, with their line numbers.
    pub skipped: usize,
    /// The first invalid rows, for the report.
    pub bad_rows: Vec<BadRowOut>,
}

/// An invalid row as reported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BadRowOut {
    pub line: usize,
    pub reason: String,
}

/// How many invalid rows the report lists (all are counted).
pub const REPORTED_BAD_ROWS: usize = 100;

/// Why an import stopped without importing anything.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the first line must be the header {CSV_HEADER:?}, not {0:?}")]
    Header(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses and checks the data lines of an inventory CSV on every core: the numbering
/// plan checks dominate the cost, and they are independent.
pub fn parse_lines(
    lines: &[(usize, &str)],
    check_plan: bool,
) -> Vec<Result<InventoryEntry, BadRow>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(16);
    let chunk = lines.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = lines
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(line, text)| parse_row(*line, text, check_plan))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Rows parsed (in parallel) and inserted per step: memory stays bounded and progress
/// moves.
const IMPORT_SLICE: usize = 50_000;

/// Imports an inventory CSV in one transaction: every valid row is added (numbers
/// already present are kept as they are), invalid rows are skipped and reported by
/// line; on a fatal error nothing is imported. `progress` is told how many rows are
/// done as the import goes.
pub async fn import(
    db: &Db,
    text: String,
    check_plan: bool,
    progress: impl Fn(u64, u64),
) -> Result<ImportReport, ImportError> {
    let header = text.lines().next().unwrap_or_default().trim();
    if header != CSV_HEADER {
        return Err(ImportError::Header(header.chars().take(200).collect()));
    }
    let total = data_lines(&text).count() as u64;
    let mut report = ImportReport {
        rows: total as usize,
        ..ImportReport::default()
    };
    // Parsing (the numbering-plan checks) and inserting each take about half the time:
    // a thread parses the next slice while this task inserts the last one.
    let (parsed_tx, mut parsed_rx) = tokio::sync::mpsc::channel(1);
    let parser = std::thread::spawn(move || {
        let lines: Vec<(usize, &str)> = data_lines(&text).collect();
        for slice in lines.chunks(IMPORT_SLICE) {
            if parsed_tx
                .blocking_send(parse_lines(slice, check_plan))
                .is_err()
            {
                break; // the import stopped on an error
            }
        }
    });
    let mut tx = db.write().await?;
    tx.prepare_bulk_load().await?;
    let mut load = store::numbers::InventoryLoad::begin(&mut tx).await?;
    let mut done = 0u64;
    while let Some(parsed) = parsed_rx.recv().await {
        done += parsed.len() as u64;
        let mut good = Vec::with_capacity(parsed.len());
        for r in parsed {
            match r {
                Ok(e) => good.push(e),
                Err(bad) => {
                    report.skipped += 1;
                    if report.bad_rows.len() < REPORTED_BAD_ROWS {
                        report.bad_rows.push(BadRowOut {
                            line: bad.line,
                            reason: bad.reason,
                        });
                    }
                }
            }
        }
        load.add(&mut tx, &good).await?;
        progress(done, total);
    }
    // The channel closed: every slice was sent, or the parser panicked.
    parser
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    (report.imported, report.already_present) = load.finish(&mut tx).await?;
    tracing::info!(rows = total, imported = report.imported, "rows inserted");
    store::numbers::recount_available(&mut tx).await?;
    store::numbers::reindex_available(&mut tx).await?;
    tracing::info!("search index rebuilt");
    tx.commit().await?;
    db.settle_after_bulk_load(&[
        "number_inventory",
        "number_suffix",
        "inventory_count",
        "inventory_gram_count",
    ])
    .await?;
    tracing::info!("committed");
    Ok(report)
}

/// The data lines of an inventory CSV with their 1-based line numbers, blank ones left
/// out.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .skip(1)
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty())
}

/// Loads the demo's documentation rules and inventory (existing numbers are kept).
pub async fn seed_demo(db: &Db) -> Result<u64, StoreError> {
    let entries: Vec<InventoryEntry> = DEMO_CSV
        .lines()
        .enumerate()
        .skip(1)
        .filter_map(|(i, l)| parse_row(i + 1, l, false).ok())
        .collect();
    let mut tx = db.write().await?;
    for (country, t, required) in DEMO_DOCUMENTATION_RULES {
        store::numbers::set_documentation_rule(&mut tx, country, t, required).await?;
    }
    let mut added = 0;
    // 1,000 rows (5,000 parameters) per statement stays under both backends' limits.
    for chunk in entries.chunks(1000) {
        let new = store::numbers::insert_inventory(&mut tx, chunk).await?;
        if new > 0 {
            let numbers: Vec<&str> = chunk.iter().map(|e| e.phone_number.as_str()).collect();
            store::numbers::index_available(&mut tx, &numbers).await?;
        }
        added += new;
    }
    if added > 0 {
        store::numbers::recount_available(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_inventory_offers_every_country_and_type_with_valid_numbers() {
        let entries = demo_entries();
        for (country, t) in [
            ("US", NumberType::Local),
            ("US", NumberType::TollFree),
            ("CA", NumberType::Local),
            ("GB", NumberType::Local),
            ("GB", NumberType::TollFree),
            ("DE", NumberType::Local),
            ("DE", NumberType::TollFree),
            ("IN", NumberType::Local),
            ("IN", NumberType::TollFree),
        ] {
            let n = entries
                .iter()
                .filter(|e| e.country_code == country && e.number_type == t)
                .count();
            assert!(n >= 200, "{country} {t:?}: {n}");
        }
        assert!(entries.len() >= 4_000);
        let seed = entries
            .iter()
            .find(|e| e.phone_number == "+16479308804")
            .unwrap();
        assert_eq!(
            (seed.country_code.as_str(), seed.documentation_required),
            ("US", true)
        );
        // The shipped file is exactly this inventory. To regenerate it after changing
        // the ranges: CCADMIN_WRITE_DEMO_INVENTORY=1 cargo test --lib inventory
        let csv = to_csv(&entries);
        if std::env::var_os("CCADMIN_WRITE_DEMO_INVENTORY").is_some() {
            std::fs::write(
                concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo-inventory.csv"),
                &csv,
            )
            .unwrap();
        } else {
            assert!(
                csv == DEMO_CSV,
                "data/demo-inventory.csv is stale; regenerate it"
            );
        }
    }

    #[test]
    fn rows_are_parsed_or_reported_with_their_line() {
        assert!(parse_row(2, "+16479308804,US,LOCAL,647,true", false).is_ok());
        assert_eq!(
            parse_row(3, "+16479308804,US,LOCAL", false)
                .unwrap_err()
                .line,
            3
        );
        assert!(parse_row(4, "+16479308804,US,MOBILE,647,true", false).is_err());
        assert!(parse_row(5, "+16479308804,CA,LOCAL,,maybe", false).is_err());
        assert!(
            parse_row(6, "+16479308804,US,LOCAL,,true", true).is_err(),
            "a CA number is not US in the plan"
        );
        assert_eq!(
            parse_row(7, "+14165550123,CA,LOCAL,,false", false)
                .unwrap()
                .area_code,
            "416"
        );
        assert!(parse_row(8, "+14165550123,CA,LOCAL,4\u{0}16,false", false).is_err());
    }
}
