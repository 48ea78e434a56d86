//! State snapshots (`GET`/`PUT /_ccadmin/state`, `ccadmin state export|import`,
//! `serve --state`), starting the server from a test (`--port-file`, the
//! `ccadmin::testing` harness).

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{
    Backend, Creds, TestApp, TestDb, assert_number_page, assert_problem, spawn_app, spawn_app_with,
    status_json, violations,
};

const STATE: &str = "/_ccadmin/state";
const NUMBERS: &str = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers";
const AVAILABLE: &str = "/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers";

/// The snapshot as `GET /_ccadmin/state` answers it.
async fn export(app: &TestApp, admin: &Creds, query: &str) -> Value {
    let res = app.get(&format!("{STATE}{query}"), admin).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    res.json().await.expect("a JSON snapshot")
}

/// `PUT /_ccadmin/state` with a raw body.
async fn import_raw(app: &TestApp, admin: &Creds, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let res = app
        .http
        .put(app.url(STATE))
        .bearer_auth(&admin.token)
        .header("appkey", &admin.appkey)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the request is sent");
    status_json(res).await
}

/// The snapshot without what differs between two exports of the same state.
fn comparable(mut doc: Value) -> Value {
    doc.as_object_mut().unwrap().remove("exportedAt");
    doc
}

/// The rows of `table` in a snapshot.
fn rows<'a>(doc: &'a Value, table: &str) -> &'a Vec<Value> {
    doc["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .unwrap_or_else(|| panic!("no table {table}"))["rows"]
        .as_array()
        .unwrap()
}

fn tables(doc: &Value) -> Vec<String> {
    doc["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap().to_owned())
        .collect()
}

/// An available US number of the demo inventory (the `nth` in area code 212).
async fn some_available(app: &TestApp, creds: &Creds, nth: usize) -> String {
    let (status, page) = status_json(
        app.get(
            &format!("{AVAILABLE}?countryCode=US&type=LOCAL&areaCode=212&pageSize=5"),
            creds,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["phoneNumbers"][nth]["phoneNumber"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn available_total(app: &TestApp, creds: &Creds, query: &str) -> u64 {
    let (status, page) = status_json(app.get(&format!("{AVAILABLE}?{query}"), creds).await).await;
    assert_eq!(status, 200, "{page}");
    page["pagination"]["total"].as_u64().unwrap()
}

/// How many numbers ABCDEF lists.
async fn listed(app: &TestApp, creds: &Creds) -> u64 {
    let (status, page) = status_json(app.get(&format!("{NUMBERS}?pageSize=1"), creds).await).await;
    assert_eq!(status, 200, "{page}");
    page["pagination"]["total"].as_u64().unwrap()
}

/// Adds `number` to ABCDEF; its id.
async fn add_number(app: &TestApp, creds: &Creds, number: &str, prefer: Option<&str>) -> String {
    let mut req = app
        .http
        .post(app.url(NUMBERS))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey)
        .json(&json!({"phoneNumber": number}));
    if let Some(p) = prefer {
        req = req.header("prefer", p);
    }
    let (status, body) = status_json(req.send().await.unwrap()).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "INPROGRESS");
    body["phoneNumberId"].as_str().unwrap().to_owned()
}

async fn number_status(app: &TestApp, creds: &Creds, id: &str) -> Value {
    let (status, body) = status_json(app.get(&format!("{NUMBERS}/{id}"), creds).await).await;
    assert_eq!(status, 200, "{body}");
    body["status"].clone()
}

async fn login_status(
    app: &TestApp,
    account: &str,
    client: &str,
    secret: &str,
    appkey: &str,
) -> u16 {
    app.token_request(
        account,
        Some(appkey),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", secret),
        ],
    )
    .await
    .status()
    .as_u16()
}

/// A world with a bit of everything: a client made through the API, a number still
/// activating (a 60 s delay), a rule, a seed, and a moved clock.
struct World {
    snapshot: Value,
    /// The Administrator's token the snapshot was taken with: valid wherever the
    /// snapshot is loaded (same client, same signing key).
    admin: Creds,
    client_id: String,
    secret: String,
    appkey: String,
    number_id: String,
}

async fn build_world(app: &TestApp) -> World {
    let admin = app.admin().await;
    let demo = app.demo().await;
    let client = app
        .create_client("ABCDEF", &json!({"roles": ["Account Administrator"]}))
        .await;
    let number = some_available(app, &demo, 0).await;
    let number_id = add_number(app, &demo, &number, Some("delay=60s")).await;
    let (status, _) = status_json(
        app.put(
            "/_ccadmin/rules/org.node",
            &admin,
            &json!({"delay": "2s", "outcome": "FAILED"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = status_json(
        app.put("/_ccadmin/seed", &admin, &json!({"seed": 42}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = status_json(
        app.post("/_ccadmin/clock:advance", &admin, &json!({"by": "1h"}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    // The clock moved past the first token's life.
    let admin = app.admin().await;
    World {
        snapshot: export(app, &admin, "").await,
        admin,
        client_id: client["clientId"].as_str().unwrap().to_owned(),
        secret: client["clientSecret"].as_str().unwrap().to_owned(),
        appkey: client["appkey"].as_str().unwrap().to_owned(),
        number_id,
    }
}

backend_tests! {
    async fn a_snapshot_brings_back_the_world_it_was_taken_of(b: Backend) {
        // Arrange
        let app = spawn_app(&b).await;
        let world = build_world(&app).await;
        let doc = &world.snapshot;
        assert_eq!(doc["format"], "ccadmin-state");
        assert_eq!(doc["formatVersion"], 1);
        assert_eq!(doc["inventory"], true);
        assert!(doc["schemaVersion"].as_i64().unwrap() >= 13);
        assert!(rows(doc, "number_inventory").len() > 5000);
        let admin = app.admin().await;
        let reset = app.call(Method::POST, "/_ccadmin/reset", Some(&admin), None).await;
        assert_eq!(reset.status(), 204);
        assert_eq!(
            login_status(&app, "ABCDEF", &world.client_id, &world.secret, &world.appkey).await,
            401
        );

        // Act
        let (status, body) = import_raw(&app, &admin, doc.to_string()).await;

        // Assert
        assert_eq!(status, 200, "{body}");
        // The clock is the snapshot's again, an hour ahead: tokens from before expired.
        let admin = app.admin().await;
        assert_eq!(body["formatVersion"], 1);
        assert_eq!(body["inventory"], true);
        assert_eq!(body["rows"]["account"], 3);
        assert_eq!(body["rows"]["client"], 3);
        assert_eq!(body["rows"]["phone_number"], 1);
        assert_eq!(body["rows"]["emulator_rule"], 1);
        // The same credentials work, the Administrator's token too (same signing key).
        assert_eq!(
            login_status(&app, "ABCDEF", &world.client_id, &world.secret, &world.appkey).await,
            200
        );
        let rules: Value = app.get("/_ccadmin/rules", &admin).await.json().await.unwrap();
        assert_eq!(rules["seed"], 42);
        assert_eq!(rules["rules"][0]["resourceKind"], "org.node");
        assert_eq!(rules["rules"][0]["outcome"], "FAILED");
        // The clock is the snapshot's: an hour ahead.
        let clock: Value = app.get("/_ccadmin/clock", &admin).await.json().await.unwrap();
        let now = chrono::DateTime::parse_from_rfc3339(clock["now"].as_str().unwrap()).unwrap();
        assert!(now.timestamp() - chrono::Utc::now().timestamp() > 3000, "{clock}");
        // The number still activating finishes after the import.
        let demo = app.demo().await;
        assert_eq!(number_status(&app, &demo, &world.number_id).await, "INPROGRESS");
        app.finish_jobs().await;
        assert_eq!(number_status(&app, &demo, &world.number_id).await, "ACTIVE");
        // Exported again, the state is the snapshot but for the work done since.
        let again = export(&app, &admin, "").await;
        assert_eq!(rows(&again, "account"), rows(doc, "account"));
        assert_eq!(rows(&again, "client"), rows(doc, "client"));
        assert_eq!(rows(&again, "audit_record"), rows(doc, "audit_record"));
    }

    async fn a_bad_snapshot_changes_nothing_and_names_the_fault(b: Backend) {
        // Arrange
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let good = export(&app, &admin, "?inventory=false").await;
        let mut wrong_version = good.clone();
        wrong_version["formatVersion"] = json!(2);
        let mut newer_schema = good.clone();
        newer_schema["schemaVersion"] = json!(9999);
        let mut duplicate_client = good.clone();
        let client_table = tables(&good).iter().position(|t| t == "client").unwrap();
        let first = duplicate_client["tables"][client_table]["rows"][0].clone();
        duplicate_client["tables"][client_table]["rows"]
            .as_array_mut()
            .unwrap()
            .push(first);
        let mut orphan_number = good.clone();
        let numbers = tables(&good).iter().position(|t| t == "phone_number").unwrap();
        orphan_number["tables"][numbers]["rows"] = json!([{
            "phone_number_id": "00000000-0000-4000-8000-000000000001", "account_id": "NOSUCH",
            "phone_number": "+12125550100", "country_code": "US", "number_type": "LOCAL",
            "status": "ACTIVE", "generation": 1, "created_at": 0, "updated_at": 0}]);
        let mut unknown_column = good.clone();
        unknown_column["tables"][0]["rows"][0]["nope"] = json!(1);
        let mut wrong_type = good.clone();
        wrong_type["tables"][0]["rows"][0]["is_default"] = json!("yes");
        let mut no_default = good.clone();
        for row in no_default["tables"][0]["rows"].as_array_mut().unwrap() {
            row["is_default"] = json!(false);
        }
        let mut reordered = good.clone();
        let last = tables(&good).len() - 1;
        reordered["tables"].as_array_mut().unwrap().swap(last - 1, last);
        // The table that now comes after the one it must precede is the one named.
        let misplaced = format!("tables.{}", good["tables"][last - 1]["table"].as_str().unwrap());
        let rows_of_client = good["tables"][client_table]["rows"].as_array().unwrap().len();
        let duplicate_at = format!("client[{rows_of_client}]");
        let cases: Vec<(&str, String, &str, i64)> = vec![
            ("not JSON", "{\"format\": ".to_owned(), "body", 20001),
            ("an array", "[1, 2]".to_owned(), "body", 20001),
            ("empty", String::new(), "body", 20002),
            ("another format", json!({"format": "x", "tables": []}).to_string(), "format", 20005),
            ("no tables", json!({"format": "ccadmin-state", "formatVersion": 1,
                "schemaVersion": 1, "inventory": false}).to_string(), "tables", 20002),
            ("a version this build does not read", wrong_version.to_string(), "formatVersion", 20005),
            ("a newer schema", newer_schema.to_string(), "schemaVersion", 20005),
            ("a duplicate client (primary key)", duplicate_client.to_string(),
                &duplicate_at, 20005),
            ("a number of no account (foreign key)", orphan_number.to_string(), "phone_number[0]", 20005),
            ("an unknown column", unknown_column.to_string(), "account[0].nope", 20005),
            ("a wrongly typed value", wrong_type.to_string(), "account[0].is_default", 20001),
            ("no default account", no_default.to_string(), "tables.account", 20005),
            ("tables out of order", reordered.to_string(), &misplaced, 20005),
            ("trailing garbage", format!("{good} trailing"), "body", 20001),
        ];

        for (case, body, field, code) in cases {
            // Act
            let (status, problem) = import_raw(&app, &admin, body).await;

            // Assert
            assert_eq!(status, 400, "{case}: {problem}");
            assert_problem(&problem, 400, "constraint-violation", "Constraint Violation");
            assert_eq!(violations(&problem), vec![(field.to_owned(), code)], "{case}: {problem}");
            let now = export(&app, &admin, "?inventory=false").await;
            assert_eq!(comparable(now), comparable(good.clone()), "{case} changed the state");
        }
        // Not JSON by media type, and not for an Account Administrator.
        let res = app.http.put(app.url(STATE)).bearer_auth(&admin.token)
            .header("appkey", &admin.appkey).header("content-type", "text/plain")
            .body(good.to_string()).send().await.unwrap();
        assert_eq!(res.status(), 415);
        let demo = app.demo().await;
        let (status, problem) = import_raw(&app, &demo, good.to_string()).await;
        assert_eq!(status, 403, "{problem}");
        assert_eq!(app.get(STATE, &demo).await.status(), 403);
        let (status, problem) = status_json(app.get(&format!("{STATE}?inventory=no"), &admin).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&problem), vec![("inventory".to_owned(), 20005)]);
    }

    async fn a_snapshot_of_more_rows_than_a_batch_loads_every_row_and_names_a_bad_one(b: Backend) {
        // Arrange: 5,100 more numbers (more than one batch of rows, 2,000, and of
        // inventory entries, 5,000), each with its inventory entry; every seventh leaves
        // out its nullable columns, so batches also break where the columns given change.
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let demo = app.demo().await;
        let before = listed(&app, &demo).await;
        let mut doc = export(&app, &admin, "?inventory=false").await;
        let position = |doc: &Value, name: &str| tables(doc).iter().position(|t| t == name).unwrap();
        let (numbers, inventory) = (position(&doc, "phone_number"), position(&doc, "number_inventory"));
        let existing = rows(&doc, "phone_number").len();
        for i in 0..5_100u32 {
            let number = format!("+1555{:07}", 1_000_000 + i);
            let mut row = json!({
                "phone_number_id": format!("00000000-0000-4000-8000-{i:012}"),
                "account_id": "ABCDEF", "phone_number": number, "country_code": "US",
                "number_type": "LOCAL", "status": "ACTIVE", "generation": 1,
                "created_at": 0, "updated_at": 0});
            if i % 7 != 0 {
                for (k, v) in [("display_name", json!(format!("line {i}"))),
                    ("is_calling_party_number", json!(false)),
                    ("preferred_media_location", Value::Null), ("status_message", Value::Null),
                    ("status_before_disable", Value::Null)] {
                    row[k] = v;
                }
            }
            doc["tables"][numbers]["rows"].as_array_mut().unwrap().push(row);
            doc["tables"][inventory]["rows"].as_array_mut().unwrap().push(json!({
                "phone_number": number, "country_code": "US", "number_type": "LOCAL",
                "area_code": "555", "documentation_required": false}));
        }
        // The same, with a number of no account in the third batch.
        let mut bad = doc.clone();
        let at = existing + 4_321;
        bad["tables"][numbers]["rows"][at]["account_id"] = json!("NOSUCH");

        // Act
        let (status, problem) = import_raw(&app, &admin, bad.to_string()).await;

        // Assert: the row at fault is named and nothing changed.
        assert_eq!(status, 400, "{problem}");
        assert_eq!(violations(&problem), vec![(format!("phone_number[{at}]"), 20005)], "{problem}");
        assert_eq!(listed(&app, &demo).await, before);

        // Act
        let (status, body) = import_raw(&app, &admin, doc.to_string()).await;

        // Assert: every row is there, as given.
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["rows"]["phone_number"], existing + 5_100, "{body}");
        let demo = app.demo().await;
        assert_eq!(listed(&app, &demo).await, before + 5_100);
        let again = export(&app, &admin, "?inventory=false").await;
        let by_id = |doc: &Value| -> std::collections::HashMap<String, Value> {
            rows(doc, "phone_number").iter()
                .map(|r| (r["phone_number_id"].as_str().unwrap().to_owned(), r.clone())).collect()
        };
        let (given, loaded) = (by_id(&doc), by_id(&again));
        assert_eq!(loaded.len(), given.len());
        for (id, row) in &given {
            let mut want = row.clone();
            for k in ["display_name", "is_calling_party_number", "preferred_media_location",
                "status_message", "status_before_disable"] {
                if want.get(k).is_none() {
                    want[k] = Value::Null;
                }
            }
            assert_eq!(loaded.get(id), Some(&want), "{id}");
        }
        assert_eq!(rows(&again, "number_inventory").len(), rows(&doc, "number_inventory").len());
    }

    async fn contains_filters_of_a_large_account_give_exact_totals_and_pages_either_side_of_the_probe(b: Backend) {
        // Arrange: 600 more numbers in ABCDEF (loaded as a snapshot, the quick way to a
        // large account). Half are named "Tango …", more than a page reads in its first
        // pass (store::numbers::pages::PROBE, 250), so their pages are counted and read
        // apart; the fragments below match fewer, found in that one pass. A quarter have
        // no name: they sort first in name order, and a name filter skips them.
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let mut doc = export(&app, &admin, "?inventory=false").await;
        let position = |doc: &Value, name: &str| tables(doc).iter().position(|t| t == name).unwrap();
        let (numbers, inventory) = (position(&doc, "phone_number"), position(&doc, "number_inventory"));
        for i in 0..600u32 {
            let number = format!("+1555{:07}", 2_000_000 + i);
            let name = match i % 4 {
                0 | 2 => Some(format!("Tango {i}")),
                1 => Some(format!("line {i}")),
                _ => None,
            };
            doc["tables"][numbers]["rows"].as_array_mut().unwrap().push(json!({
                "phone_number_id": format!("00000000-0000-4000-8000-{i:012}"),
                "account_id": "ABCDEF", "phone_number": number, "country_code": "US",
                "number_type": "LOCAL", "display_name": name, "status": "ACTIVE", "generation": 1,
                "created_at": 0, "updated_at": 0}));
            doc["tables"][inventory]["rows"].as_array_mut().unwrap().push(json!({
                "phone_number": number, "country_code": "US", "number_type": "LOCAL",
                "area_code": "555", "documentation_required": false}));
        }
        let (status, body) = import_raw(&app, &admin, doc.to_string()).await;
        assert_eq!(status, 200, "{body}");
        let demo = app.demo().await;
        let text = |row: &Value, k: &str| row[k].as_str().unwrap_or("").to_owned();
        let mine: Vec<&Value> = rows(&doc, "phone_number").iter().filter(|r| r["account_id"] == "ABCDEF").collect();

        for (filter, field, fragment) in [
            ("displayName:*tA*", "display_name", "ta"),
            ("displayName:*ine 5*", "display_name", "ine 5"),
            ("phoneNumber:*20004*", "phone_number", "20004"),
        ] {
            for (order, key) in [("phoneNumber", ""), ("displayName", "display_name")] {
                for desc in [false, true] {
                    let mut expected: Vec<(String, String)> = mine.iter()
                        .filter(|r| text(r, field).to_lowercase().contains(fragment))
                        .map(|r| (if key.is_empty() { String::new() } else { text(r, key) }, text(r, "phone_number")))
                        .collect();
                    expected.sort();
                    if desc {
                        expected.reverse();
                    }
                    let expected: Vec<String> = expected.into_iter().map(|(_, n)| n).collect();
                    let size = 50;
                    let last = expected.len().div_ceil(size);
                    for number in [1, 2, last / 2 + 1, last, last + 1] {
                        // Act and assert: the page's total and numbers.
                        let order = if desc { format!("{order}%20desc") } else { order.to_owned() };
                        let query = format!("filter={filter}&orderBy={order}");
                        assert_number_page(&app, &demo, (NUMBERS, &query), (number, size), &expected).await;
                    }
                }
            }
        }
    }

    async fn a_token_accepted_before_an_import_of_other_keys_is_refused_after_it(b: Backend) {
        // Arrange: another instance's snapshot (its own signing key), and a token of the
        // importer that has been used, so the importer has verified it once already.
        let exporter = spawn_app(&b).await;
        let doc = export(&exporter, &exporter.admin().await, "?inventory=false").await;
        let importer = spawn_app(&b).await;
        let before = importer.demo().await;
        assert_eq!(importer.get("/api/admin/account/v1/accounts/ABCDEF", &before).await.status(), 200);
        let admin = importer.admin().await;

        // Act
        let (status, body) = import_raw(&importer, &admin, doc.to_string()).await;

        // Assert: the key that signed it is gone with the import, and so is the token.
        assert_eq!(status, 200, "{body}");
        let (status, body) =
            status_json(importer.get("/api/admin/account/v1/accounts/ABCDEF", &before).await).await;
        assert_eq!(status, 401);
        assert_problem(&body, 401, "unauthorized", "Unauthorized");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.ends_with("(the token's signature is invalid)"), "{body}");
        let after = importer.demo().await;
        assert_eq!(importer.get("/api/admin/account/v1/accounts/ABCDEF", &after).await.status(), 200);
    }

    async fn a_snapshot_without_inventory_keeps_the_importers_inventory_but_its_numbers(b: Backend) {
        // Arrange: the exporter holds one number, activated.
        let exporter = spawn_app(&b).await;
        let demo = exporter.demo().await;
        let number = some_available(&exporter, &demo, 0).await;
        let id = add_number(&exporter, &demo, &number, None).await;
        exporter.finish_jobs().await;
        let admin = exporter.admin().await;
        let doc = export(&exporter, &admin, "?inventory=false").await;
        assert_eq!(doc["inventory"], false);
        assert!(!tables(&doc).contains(&"documentation_rule".to_owned()));
        let carried: Vec<&Value> = rows(&doc, "number_inventory").iter().collect();
        assert_eq!(carried.len(), 1);
        assert_eq!(carried[0]["phone_number"], number.as_str());
        // The importer has the demo inventory and one number of its own.
        let importer = spawn_app(&b).await;
        let its_demo = importer.demo().await;
        let its_number = some_available(&importer, &its_demo, 1).await;
        add_number(&importer, &its_demo, &its_number, None).await;
        let all = "countryCode=US&type=LOCAL";
        let before = available_total(&importer, &its_demo, all).await;
        let its_admin = importer.admin().await;

        // Act
        let (status, body) = import_raw(&importer, &its_admin, doc.to_string()).await;

        // Assert
        assert_eq!(status, 200, "{body}");
        // The snapshot's signing key replaced the importer's: log in again.
        let its_demo = importer.demo().await;
        assert_eq!(body["inventory"], false);
        assert_eq!(body["rows"]["number_inventory"], 1);
        assert_eq!(number_status(&importer, &its_demo, &id).await, "ACTIVE");
        // Its own number went back to the inventory; the snapshot's is held.
        let after = available_total(&importer, &its_demo, all).await;
        assert_eq!(after, before + 1 - 1);
        let digits = &number[2..];
        assert_eq!(available_total(&importer, &its_demo, &format!("{all}&phoneNumber={digits}")).await, 0);
        let digits = &its_number[2..];
        assert_eq!(available_total(&importer, &its_demo, &format!("{all}&phoneNumber={digits}")).await, 1);
        // Released, the snapshot's number returns to the importer's inventory.
        let del = importer.call(Method::DELETE, &format!("{NUMBERS}/{id}"), Some(&its_demo), None).await;
        assert!(del.status().is_success(), "{}", del.status());
        assert_eq!(available_total(&importer, &its_demo, all).await, after + 1);
    }

    async fn serve_state_starts_from_a_snapshot_and_refuses_a_database_with_data(b: Backend) {
        // Arrange
        let app = spawn_app(&b).await;
        let world = build_world(&app).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("world.json");
        std::fs::write(&file, world.snapshot.to_string()).unwrap();
        let with_state = |args: &mut ccadmin::config::ServeArgs| {
            args.demo = false;
            args.emulator = true;
            args.state = Some(file.clone());
        };

        // Act
        let started = spawn_app_with(&b, with_state).await;

        // Assert: the snapshot's world, its credentials, its unfinished work.
        assert_eq!(
            login_status(&started, "ABCDEF", &world.client_id, &world.secret, &world.appkey).await,
            200
        );
        let demo = started.demo().await;
        assert_eq!(number_status(&started, &demo, &world.number_id).await, "INPROGRESS");
        started.finish_jobs().await;
        assert_eq!(number_status(&started, &demo, &world.number_id).await, "ACTIVE");
        // The database has data now: --state alone refuses, --state-replace replaces.
        let mut args = started.args.clone();
        args.listen = "127.0.0.1:0".parse().unwrap();
        let refused = ccadmin::App::build(&args).await.err().expect("a refusal");
        assert!(format!("{refused:#}").contains("--state-replace"), "{refused:#}");
        args.state_replace = true;
        let replaced = ccadmin::App::build(&args).await.expect("the snapshot replaces the data");
        drop(replaced);
    }
}

#[tokio::test]
async fn a_snapshot_from_sqlite_loads_into_postgresql_and_exports_the_same() {
    let Some(pg) = Backend::postgres() else {
        return;
    };
    // Arrange
    let sqlite = spawn_app(&Backend::Sqlite).await;
    let world = build_world(&sqlite).await;
    let postgres = spawn_app(&pg).await;
    let admin = postgres.admin().await;

    // Act
    let (status, body) = import_raw(&postgres, &admin, world.snapshot.to_string()).await;
    // Exported with the snapshot's own token: a new login would add a refresh token.
    let again = export(&postgres, &world.admin, "").await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_same(&again, &world.snapshot);
    // And back: PostgreSQL's export into a fresh SQLite database.
    let back = spawn_app(&Backend::Sqlite).await;
    let (status, body) = import_raw(&back, &back.admin().await, again.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let last = export(&back, &world.admin, "").await;
    assert_same(&last, &world.snapshot);
}

/// Two snapshots are the same but for `exportedAt`; a difference is shown by table.
fn assert_same(got: &Value, want: &Value) {
    assert_eq!(tables(got), tables(want));
    for t in tables(want) {
        assert_eq!(rows(got, &t), rows(want, &t), "table {t}");
    }
    assert_eq!(comparable(got.clone()), comparable(want.clone()));
}

/// Runs the binary's CLI on `data_dir`, off the test's runtime: a server of the test
/// runs on that runtime, and a command blocking it would freeze the server, with
/// whatever write transaction it had open still holding SQLite's write lock.
async fn ccadmin_cli(args: &[&str], data_dir: &std::path::Path) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccadmin"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0");
    tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .expect("the command's thread ends")
}

#[tokio::test]
async fn the_cli_exports_and_imports_and_a_running_server_follows_within_a_second() {
    // Arrange: a snapshot with a client that the running server does not have.
    let source = spawn_app(&Backend::Sqlite).await;
    let world = build_world(&source).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("world.json");
    let out = ccadmin_cli(
        &["state", "export", file.to_str().unwrap()],
        &source.db.data_dir().unwrap(),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["rows"]["client"], 3);
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(rows(&written, "client"), rows(&world.snapshot, "client"));
    let target = spawn_app_with(&Backend::Sqlite, |a| a.workers = 1).await;
    assert_eq!(
        login_status(
            &target,
            "ABCDEF",
            &world.client_id,
            &world.secret,
            &world.appkey
        )
        .await,
        401
    );

    // Act
    let out = ccadmin_cli(
        &["state", "import", file.to_str().unwrap()],
        &target.db.data_dir().unwrap(),
    )
    .await;

    // Assert
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = login_status(
            &target,
            "ABCDEF",
            &world.client_id,
            &world.secret,
            &world.appkey,
        )
        .await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not follow the import: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A bad file: a clear error, nothing changed.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"format\": \"ccadmin-state\", \"formatVersion\": 7}",
    )
    .unwrap();
    let out = ccadmin_cli(
        &["state", "import", bad.to_str().unwrap()],
        &target.db.data_dir().unwrap(),
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.json: tables: is required"), "{stderr}");
}

#[tokio::test]
async fn serve_on_port_zero_writes_the_port_file_once_ready() {
    // Arrange
    let db = TestDb::create(&Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("port");

    // Act
    let mut child = Command::new(env!("CARGO_BIN_EXE_ccadmin"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--port-file"])
        .arg(&port_file)
        .arg("--data-dir")
        .arg(db.data_dir().unwrap())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !port_file.exists() {
        assert!(Instant::now() < deadline, "no port file");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Assert
    let text = std::fs::read_to_string(&port_file).unwrap();
    let _ = (child.kill(), child.wait());
    assert!(text.ends_with('\n'), "{text:?}");
    let addr: std::net::SocketAddr = text.trim_end().parse().expect("HOST:PORT");
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0);
    // Only the file itself is left: the temporary name was renamed.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[tokio::test]
async fn the_rust_harness_serves_the_demo_on_a_free_port() {
    // Arrange
    let server = ccadmin::testing::TestServer::start().expect("the server starts");
    let http = reqwest::Client::new();
    let admin = &server.admin;

    // Act
    let res = http
        .post(server.url(&format!(
            "/api/auth/v1/{}/protocol/openid-connect/token",
            admin.account_id
        )))
        .header("appkey", &admin.appkey)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", admin.client_id.as_str()),
            ("client_secret", admin.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(res.status(), 200);
    let token: Value = res.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap();
    let account = http
        .get(server.url("/api/admin/account/v1/accounts/ABCDEF"))
        .bearer_auth(token)
        .header("appkey", &admin.appkey)
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), 200);
    assert!(server.base_url.starts_with("http://127.0.0.1:"));
    assert_eq!(server.client.account_id, "ABCDEF");
}

backend_tests! {
    async fn every_table_of_the_schema_is_carried_or_said_not_to_be(b: Backend) {
        let app = spawn_app(&b).await;
        let schema = schema(&app.db).await;
        for (table, columns) in &schema {
            if let Some((_, t)) = ccadmin::store::state::table(table) {
                let mut carried: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
                if *table == "number_inventory" {
                    carried.push("held_by");
                }
                let mut have: Vec<&str> = columns.iter().map(String::as_str).collect();
                carried.sort_unstable();
                have.sort_unstable();
                assert_eq!(have, carried, "the columns of {table}");
            } else {
                assert!(
                    ccadmin::store::state::NOT_CARRIED.iter().any(|(n, _)| n == table),
                    "table {table} is neither carried by snapshots nor listed in NOT_CARRIED (src/store/state.rs)"
                );
            }
        }
    }
}

/// Every table of the database with its stored columns (SQLite's full-text index tables
/// aside: they are the audit search's index, kept by triggers; and generated columns).
async fn schema(db: &TestDb) -> Vec<(String, Vec<String>)> {
    use sqlx::Connection;
    let mut out = Vec::new();
    match db {
        TestDb::Sqlite(dir) => {
            let path = dir.path().join("ccadmin.db");
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'
                 and name <> '_sqlx_migrations' and name not like '%_fts%' order by name",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            for t in tables {
                let columns: Vec<String> =
                    sqlx::query_scalar(&format!("select name from pragma_table_info('{t}')"))
                        .fetch_all(&mut c)
                        .await
                        .unwrap();
                out.push((t, columns));
            }
        }
        TestDb::Postgres { url, .. } => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "select table_name::text from information_schema.tables where table_schema = 'public'
                 and table_type = 'BASE TABLE' and table_name <> '_sqlx_migrations' order by 1",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            for t in tables {
                // Generated columns (the folded display name) are the database's own
                // derivation: a snapshot cannot carry them and need not.
                let columns: Vec<String> = sqlx::query_scalar(
                    "select column_name::text from information_schema.columns
                     where table_schema = 'public' and table_name = $1 and is_generated = 'NEVER'",
                )
                .bind(&t)
                .fetch_all(&mut c)
                .await
                .unwrap();
                out.push((t, columns));
            }
        }
    }
    assert!(out.len() > 20, "{out:?}");
    out
}
