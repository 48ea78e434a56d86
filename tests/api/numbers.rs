//! Phone numbers and available numbers: the seed's requests, lifecycles, the
//! inventory, lists and batches, tenancy.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{
    Creds, TestApp, assert_number_page, assert_problem, spawn_app, status_json, violations,
};

const NUMBERS: &str = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers";
const AVAILABLE: &str = "/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers";
const VERIFICATION: &str = "Verification needed. Please send the necessary documents to siptrunksupport@avaya.com to activate it.";

async fn available(app: &TestApp, creds: &Creds, query: &str) -> Value {
    let (status, body) = status_json(app.get(&format!("{AVAILABLE}?{query}"), creds).await).await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

async fn add(app: &TestApp, creds: &Creds, number: &str) -> Value {
    let (status, body) = status_json(
        app.post(NUMBERS, creds, &json!({"phoneNumber": number}))
            .await,
    )
    .await;
    assert_eq!(status, 202, "{number}: {body}");
    body
}

/// Every available number a query finds, following `next` links to the end, after
/// checking that each page's `total` is the count of all of them.
async fn all_available(app: &TestApp, creds: &Creds, query: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut page = available(app, creds, &format!("{query}&pageSize=50")).await;
    let total = page["pagination"]["total"].as_u64().unwrap();
    loop {
        found.extend(numbers_of(&page));
        // The spec's links are empty strings where there is no page.
        let next = page["links"]["next"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if next.is_empty() {
            break;
        }
        let (status, body) = status_json(app.get(&next, creds).await).await;
        assert_eq!(status, 200, "{next}: {body}");
        assert_eq!(body["pagination"]["total"], total, "{next}");
        page = body;
    }
    assert_eq!(found.len() as u64, total, "{query}");
    found
}

/// Whether a listed number passes a filter, as a test computes it.
type Keep<'a> = &'a dyn Fn(&Value) -> bool;

fn numbers_of(page: &Value) -> Vec<String> {
    page["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["phoneNumber"].as_str().unwrap().to_owned())
        .collect()
}

backend_tests! {
    async fn the_seeds_number_is_added_updated_verified_and_released(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let request = json!({"phoneNumber": "+16479308804", "displayName": "private Number", "countryCode": "US", "isCallingPartyNumber": true});
        let (status, added) = status_json(app.post(NUMBERS, &demo, &request).await).await;
        assert_eq!(status, 202, "{added}");
        let id = added["phoneNumberId"].as_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok());
        assert_eq!(added, json!({"phoneNumberId": id, "phoneNumber": "+16479308804", "displayName": "private Number",
            "isCallingPartyNumber": true, "countryCode": "US", "type": "UNKNOWN", "accountId": "ABCDEF", "status": "INPROGRESS"}));
        let path = format!("{NUMBERS}/{id}");
        app.finish_jobs().await;
        let (_, got) = status_json(app.get(&path, &demo).await).await;
        assert_eq!((got["status"].as_str(), got["type"].as_str(), got["statusMessage"].as_str()), (Some("INACTIVE"), Some("LOCAL"), Some(VERIFICATION)));

        // The seed's PUT: settings replaced, status kept.
        let (status, updated) = status_json(app.put(&path, &demo, &json!({"displayName": "private Number", "isCallingPartyNumber": true})).await).await;
        assert_eq!(status, 202);
        assert_eq!(updated, json!({"phoneNumberId": id, "phoneNumber": "+16479308804", "displayName": "private Number",
            "isCallingPartyNumber": true, "countryCode": "US", "type": "LOCAL", "accountId": "ABCDEF", "status": "INACTIVE",
            "statusMessage": VERIFICATION}));
        // A name filter ignores case and follows the name as it changes.
        let named = format!("{NUMBERS}?filter=displayName:*PRIVATE%20n*");
        let (status, page) = status_json(app.get(&named, &demo).await).await;
        assert_eq!((status, page["pagination"]["total"].as_i64()), (200, Some(1)), "{page}");
        assert_eq!(page["phoneNumbers"][0]["phoneNumberId"], id.as_str());
        let (_, updated) = status_json(app.put(&path, &demo, &json!({"preferredMediaLocation": "US-LA"})).await).await;
        assert!(updated.get("displayName").is_none(), "omitted fields are removed: {updated}");
        let (status, page) = status_json(app.get(&named, &demo).await).await;
        assert_eq!((status, page["pagination"]["total"].as_i64()), (200, Some(0)), "{page}");

        // The documents arrive.
        let admin = app.admin().await;
        let (status, verified) = status_json(app.post("/_ccadmin/verifications", &admin, &json!({"accountId": "ABCDEF", "phoneNumberId": id})).await).await;
        assert_eq!(status, 200, "{verified}");
        assert_eq!(verified["status"], "ACTIVE");
        assert!(verified.get("statusMessage").is_none());
        let (status, _) = status_json(app.post("/_ccadmin/verifications", &admin, &json!({"accountId": "ABCDEF", "phoneNumberId": id})).await).await;
        assert_eq!(status, 409, "only an INACTIVE number can be verified");

        // Release: 204, gone, available again at once, and can be added again.
        assert_eq!(app.call(Method::DELETE, &path, Some(&demo), None).await.status(), 204);
        assert_eq!(app.get(&path, &demo).await.status(), 404);
        let page = available(&app, &demo, "countryCode=US&type=LOCAL&phoneNumber=6479308804").await;
        assert_eq!(numbers_of(&page), ["+16479308804"]);
        assert_eq!(page["phoneNumbers"][0]["documentationRequired"], true);
        add(&app, &demo, "+16479308804").await;
    }

    async fn a_number_without_documentation_becomes_active_with_its_type(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let page = available(&app, &demo, "countryCode=US&type=TOLLFREE&pageSize=1").await;
        assert_eq!(page["phoneNumbers"][0]["documentationRequired"], false);
        let number = page["phoneNumbers"][0]["phoneNumber"].as_str().unwrap().to_owned();
        let added = add(&app, &demo, &number).await;
        assert_eq!(app.run_due_jobs().await, 0, "the activation takes its 200 ms");
        app.finish_jobs().await;
        let (_, got) = status_json(app.get(&format!("{NUMBERS}/{}", added["phoneNumberId"].as_str().unwrap()), &demo).await).await;
        assert_eq!((got["status"].as_str(), got["type"].as_str(), got["countryCode"].as_str()), (Some("ACTIVE"), Some("TOLLFREE"), Some("US")));
        // No longer offered to anyone.
        let again = available(&app, &demo, &format!("countryCode=US&type=TOLLFREE&phoneNumber={}", &number[1..])).await;
        assert_eq!(again["pagination"]["total"], 0);
    }

    async fn a_batch_of_activations_ends_only_the_numbers_still_waiting_for_it(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        // The seed's number needs documents, a toll-free one does not; each with a
        // neighbour of its type. All four jobs run in one batch.
        let local = available(&app, &demo, "countryCode=US&type=LOCAL&pageSize=2").await;
        let tollfree = available(&app, &demo, "countryCode=US&type=TOLLFREE&pageSize=2").await;
        assert_eq!(tollfree["phoneNumbers"][0]["documentationRequired"], false);
        let local_other = numbers_of(&local).into_iter().find(|n| n != "+16479308804").unwrap();
        let tollfree = numbers_of(&tollfree);
        let mut ids = Vec::new();
        for number in ["+16479308804", &local_other, &tollfree[0], &tollfree[1]] {
            ids.push(add(&app, &demo, number).await["phoneNumberId"].as_str().unwrap().to_owned());
        }
        let (local, gone, tollfree, moved) = (&ids[0], &ids[1], &ids[2], &ids[3]);
        // What a release committed after the batch was claimed leaves (the number gone,
        // its job still to settle), and a number that moved to another generation.
        let db = ccadmin::open(&app.args.storage).await.unwrap();
        execute(&db, &format!("delete from phone_number where phone_number_id = '{gone}'")).await;
        execute(&db, &format!("update phone_number set generation = generation + 1 where phone_number_id = '{moved}'")).await;

        assert_eq!(app.finish_jobs().await, 4);
        let status = |id: &str| {
            let path = format!("{NUMBERS}/{id}");
            let app = &app;
            let demo = &demo;
            async move {
                let (status, got) = status_json(app.get(&path, demo).await).await;
                (status, got["status"].as_str().map(str::to_owned), got["type"].as_str().map(str::to_owned),
                 got["statusMessage"].as_str().map(str::to_owned))
            }
        };
        assert_eq!(status(local).await, (200, Some("INACTIVE".into()), Some("LOCAL".into()), Some(VERIFICATION.into())));
        assert_eq!(status(tollfree).await, (200, Some("ACTIVE".into()), Some("TOLLFREE".into()), None));
        assert_eq!(status(gone).await.0, 404);
        assert_eq!(status(moved).await, (200, Some("INPROGRESS".into()), Some("UNKNOWN".into()), None));

        // Every job ended once; only the two numbers ended are journaled as ended.
        let (_, jobs) = status_json(app.get("/_ccadmin/jobs?accountId=ABCDEF&limit=100", &admin).await).await;
        let mut states: Vec<(String, String)> = jobs["jobs"].as_array().unwrap().iter()
            .filter(|j| ids.iter().any(|id| j["resourceId"] == id.as_str()))
            .map(|j| (j["resourceId"].as_str().unwrap().to_owned(), j["state"].as_str().unwrap().to_owned()))
            .collect();
        states.sort();
        let mut expected: Vec<(String, String)> = ids.iter().map(|id| (id.clone(), "succeeded".to_owned())).collect();
        expected.sort();
        assert_eq!(states, expected);
        for (id, end) in [(local, Some("INACTIVE")), (gone, None), (tollfree, Some("ACTIVE")), (moved, None)] {
            let (status, body) = status_json(app.get(&format!("/_ccadmin/transitions?accountId=ABCDEF&resourceId={id}"), &admin).await).await;
            assert_eq!(status, 200, "{body}");
            let ends: Vec<(Value, Value, Value)> = body["transitions"].as_array().unwrap().iter()
                .filter(|t| t["from"] == "INPROGRESS")
                .map(|t| (t["to"].clone(), t["message"].clone(), t["cause"].clone()))
                .collect();
            let want: Vec<(Value, Value, Value)> = end.into_iter().map(|to| (
                json!(to),
                if to == "INACTIVE" { json!(VERIFICATION) } else { Value::Null },
                json!("worker"),
            )).collect();
            assert_eq!(ends, want, "{id}: {body}");
        }
    }

    async fn numbers_that_cannot_be_added_get_clear_answers(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        // Held by another account, and not in the inventory: the same answer.
        let (status, _) = status_json(app.post("/api/admin/voice/v1/accounts/AQWSDE/phone-numbers", &admin, &json!({"phoneNumber": "+16062128688"})).await).await;
        assert_eq!(status, 202);
        for number in ["+16062128688", "+12125550123"] {
            let (status, body) = status_json(app.post(NUMBERS, &demo, &json!({"phoneNumber": number})).await).await;
            assert_eq!(status, 400, "{number}");
            assert_problem(&body, 400, "constraint-violation", "Constraint Violation");
            assert_eq!(body["violations"], json!([{"field": "phoneNumber", "code": 20005,
                "message": format!("{number} is not available to add; search available-phone-numbers")}]));
        }
        add(&app, &demo, "+12702289911").await;
        let (status, body) = status_json(app.post(NUMBERS, &demo, &json!({"phoneNumber": "+12702289911"})).await).await;
        assert_eq!(status, 409);
        assert_eq!(body["detail"], "Number already exists");
        let (status, body) = status_json(app.post(NUMBERS, &demo, &json!({"phoneNumber": "+16479308815", "countryCode": "CA"})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("countryCode".to_owned(), 20005)]);
        for (body, field, code) in [(json!({}), "phoneNumber", 20002), (json!({"phoneNumber": "16479308804"}), "phoneNumber", 20006),
                                    (json!({"phoneNumber": "+10000000000"}), "phoneNumber", 20005),
                                    (json!({"phoneNumber": "+16479308804", "displayName": "x".repeat(256)}), "displayName", 20003)] {
            let (status, problem) = status_json(app.post(NUMBERS, &demo, &body).await).await;
            assert_eq!(status, 400, "{body}");
            assert_eq!(violations(&problem), vec![(field.to_owned(), code)], "{body}");
        }
    }

    async fn concurrent_adds_of_one_number_give_one_202(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (http, creds) = (app.http.clone(), if i % 2 == 0 { demo.clone() } else { admin.clone() });
            let url = app.url(if i % 2 == 0 { NUMBERS } else { "/api/admin/voice/v1/accounts/AQWSDE/phone-numbers" });
            tasks.push(tokio::spawn(async move {
                http.post(url).bearer_auth(&creds.token).header("appkey", &creds.appkey)
                    .json(&json!({"phoneNumber": "+16062128688"})).send().await.unwrap().status().as_u16()
            }));
        }
        let mut codes = Vec::new();
        for t in tasks {
            codes.push(t.await.unwrap());
        }
        assert_eq!(codes.iter().filter(|c| **c == 202).count(), 1, "{codes:?}");
        assert!(codes.iter().all(|c| [202, 400, 409].contains(c)), "{codes:?}");
    }

    async fn a_failed_activation_carries_its_reason(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let res = app.http.post(app.url(NUMBERS)).bearer_auth(&demo.token).header("appkey", &demo.appkey)
            .header("prefer", "outcome=FAILED").json(&json!({"phoneNumber": "+16062128688"})).send().await.unwrap();
        let (status, added) = status_json(res).await;
        assert_eq!(status, 202);
        app.finish_jobs().await;
        let (_, got) = status_json(app.get(&format!("{NUMBERS}/{}", added["phoneNumberId"].as_str().unwrap()), &demo).await).await;
        assert_eq!(got["status"], "FAILED");
        assert_eq!(got["statusMessage"], "simulated failure (Prefer: outcome=FAILED)");
    }

    async fn administrators_disable_and_enable_numbers(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        let id = add(&app, &demo, "+16479308804").await["phoneNumberId"].as_str().unwrap().to_owned();
        app.finish_jobs().await;
        let disable = format!("{NUMBERS}/{id}:disable");
        assert_eq!(app.call(Method::POST, &disable, Some(&demo), None).await.status(), 403);
        let (status, disabled) = status_json(app.call(Method::POST, &disable, Some(&admin), None).await).await;
        assert_eq!(status, 200, "{disabled}");
        assert_eq!(disabled["status"], "DISABLED");
        let (_, checked) = status_json(app.post(&format!("{NUMBERS}:validate"), &demo, &json!([id, "c8c2909d-75e9-484a-94c0-b7e8d29771fe"])).await).await;
        assert_eq!(checked, json!({"valid": [], "invalid": [{"id": id, "message": "Phone number is disabled"},
            {"id": "c8c2909d-75e9-484a-94c0-b7e8d29771fe", "message": "Doesn't exist in database"}]}));
        let (_, listed) = status_json(app.post(&format!("{NUMBERS}:list"), &demo, &json!([id])).await).await;
        assert_eq!(listed, json!([]), ":list leaves DISABLED numbers out");
        let (_, filtered) = status_json(app.get(&format!("{NUMBERS}?filter=status:DISABLED"), &demo).await).await;
        assert_eq!(filtered["pagination"]["total"], 1);
        let (status, enabled) = status_json(app.call(Method::POST, &format!("{NUMBERS}/{id}:enable"), Some(&admin), None).await).await;
        assert_eq!(status, 200);
        assert_eq!((enabled["status"].as_str(), enabled["statusMessage"].as_str()), (Some("INACTIVE"), Some(VERIFICATION)), "back where it was");
        let (_, checked) = status_json(app.post(&format!("{NUMBERS}:validate"), &demo, &json!([id])).await).await;
        assert_eq!(checked, json!({"valid": [{"id": id}], "invalid": []}));
    }

    async fn the_number_list_filters_orders_and_pages(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let us = available(&app, &demo, "countryCode=US&type=LOCAL&areaCode=212&pageSize=4").await;
        let tf = available(&app, &demo, "countryCode=US&type=TOLLFREE&pageSize=2").await;
        let mut all: Vec<String> = numbers_of(&us);
        all.extend(numbers_of(&tf));
        for (i, n) in all.iter().enumerate() {
            let (status, _) = status_json(app.post(NUMBERS, &demo, &json!({"phoneNumber": n, "displayName": format!("Line {}", 6 - i)})).await).await;
            assert_eq!(status, 202);
        }
        app.finish_jobs().await;
        let list = |q: &str| { let q = q.to_owned(); let (app, demo) = (&app, demo.clone());
            async move { status_json(app.get(&format!("{NUMBERS}?{q}"), &demo).await).await } };
        let (status, page) = list("").await;
        assert_eq!(status, 200);
        assert_eq!(page["pagination"], json!({"pageNumber": 1, "pageSize": 5, "total": 6}));
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(numbers_of(&page), sorted[..5]);
        // Follow next to the end.
        let (_, last) = status_json(app.get(page["links"]["next"].as_str().unwrap(), &demo).await).await;
        assert_eq!(numbers_of(&last), sorted[5..]);
        assert_eq!(last["links"]["next"], "");
        let (_, page) = list("filter=type:TOLLFREE").await;
        assert_eq!(page["pagination"]["total"], 2);
        // `:` ignores case; `=` does not; a value that only Unicode case-folding would
        // turn into a stored one matches nothing.
        let (_, page) = list("filter=type:tollFree,countryCode:us").await;
        assert_eq!(page["pagination"]["total"], 2);
        let (_, page) = list("filter=type=tollfree").await;
        assert_eq!(page["pagination"]["total"], 0);
        let (_, page) = list("filter=status:%C3%9F").await;
        assert_eq!(page["pagination"]["total"], 0);
        let (_, page) = list("filter=countryCode:US,type:LOCAL,phoneNumber:%2B1212*").await;
        assert_eq!(page["pagination"]["total"], 4);
        let (_, page) = list("filter=displayName:line 1").await;
        assert_eq!(page["pagination"]["total"], 1);
        let (_, page) = list("orderBy=displayName%20desc&pageSize=50").await;
        assert_eq!(page["phoneNumbers"][0]["displayName"], "Line 6");
        let (_, page) = list("filter=status:ACTIVE").await;
        assert_eq!(page["pagination"]["total"], 6);
        for (q, field, code) in [("filter=colour:red", "filter", 20009), ("orderBy=status", "orderBy", 20009), ("pageSize=51", "pageSize", 20004)] {
            let (status, body) = list(q).await;
            assert_eq!(status, 400, "{q}");
            assert_eq!(violations(&body), vec![(field.to_owned(), code)], "{q}");
        }
    }

    async fn every_page_of_every_order_and_filter_is_the_slice_of_the_whole_sorted_list(b: Backend) {
        // Numbers of several countries, types, statuses and display names (duplicates and
        // missing ones), then every page of every order and filter compared with the
        // order computed here from the whole list. Display names are lower-case letters,
        // numbers all start with +, so byte order and a PostgreSQL locale agree.
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        let mut pool = Vec::new();
        for q in ["countryCode=US&type=LOCAL&areaCode=212&pageSize=5", "countryCode=US&type=TOLLFREE&pageSize=3",
                  "countryCode=GB&type=LOCAL&pageSize=3", "countryCode=CA&type=LOCAL&pageSize=3", "countryCode=DE&type=TOLLFREE&pageSize=2",
                  "countryCode=US&type=LOCAL&areaCode=212&pageNumber=2&pageSize=5"] {
            pool.extend(numbers_of(&available(&app, &demo, q).await));
        }
        pool.truncate(19);
        assert_eq!(pool.len(), 19);
        let names = [Some("bravo"), Some("alpha"), None, Some("bravo"), Some("charlie"), None, Some("delta"), Some("alpha")];
        let mut ids = Vec::new();
        for (i, n) in pool[..16].iter().enumerate() {
            let mut body = json!({"phoneNumber": n});
            if let Some(name) = names[i % names.len()] {
                body["displayName"] = json!(name);
            }
            let (status, added) = status_json(app.post(NUMBERS, &demo, &body).await).await;
            assert_eq!(status, 202, "{added}");
            ids.push(added["phoneNumberId"].as_str().unwrap().to_owned());
        }
        app.finish_jobs().await;
        for id in &ids[3..5] {
            assert_eq!(app.call(Method::POST, &format!("{NUMBERS}/{id}:disable"), Some(&admin), None).await.status(), 200);
        }
        assert_eq!(app.call(Method::DELETE, &format!("{NUMBERS}/{}", ids[0]), Some(&demo), None).await.status(), 204);
        // Three more, left INPROGRESS.
        for n in &pool[16..] {
            add(&app, &demo, n).await;
        }
        let (status, whole) = status_json(app.get(&format!("{NUMBERS}?pageSize=50"), &demo).await).await;
        assert_eq!(status, 200);
        let all: Vec<Value> = whole["phoneNumbers"].as_array().unwrap().clone();
        assert_eq!((whole["pagination"]["total"].as_u64(), all.len()), (Some(18), 18));
        let statuses: std::collections::BTreeSet<&str> = all.iter().map(|n| n["status"].as_str().unwrap()).collect();
        assert!(statuses.contains("DISABLED") && statuses.contains("INPROGRESS") && statuses.len() >= 3, "{statuses:?}");

        let text = |n: &Value, f: &str| n[f].as_str().unwrap_or("").to_owned();
        let filters: [(&str, Keep); 9] = [
            ("", &|_| true),
            ("filter=status:ACTIVE", &|n| n["status"] == "ACTIVE"),
            ("filter=status=DISABLED", &|n| n["status"] == "DISABLED"),
            ("filter=countryCode:us", &|n| n["countryCode"] == "US"),
            ("filter=type:TOLLFREE", &|n| n["type"] == "TOLLFREE"),
            ("filter=type:LOCAL,countryCode:US,status:ACTIVE", &|n| n["type"] == "LOCAL" && n["countryCode"] == "US" && n["status"] == "ACTIVE"),
            ("filter=displayName:*a*", &|n| text(n, "displayName").contains('a')),
            ("filter=displayName=alpha", &|n| n["displayName"] == "alpha"),
            ("filter=phoneNumber:%2B1*,status:INPROGRESS", &|n| text(n, "phoneNumber").starts_with("+1") && n["status"] == "INPROGRESS"),
        ];
        for (filter, keep) in filters {
            for field in ["phoneNumber", "displayName", "countryCode", "type"] {
                for desc in [false, true] {
                    let mut expected: Vec<&Value> = all.iter().filter(|n| keep(n)).collect();
                    expected.sort_by_key(|n| (text(n, field), text(n, "phoneNumber")));
                    if desc {
                        expected.reverse();
                    }
                    let expected: Vec<String> = expected.iter().map(|n| text(n, "phoneNumber")).collect();
                    let order = if desc { format!("{field}%20desc") } else { field.to_owned() };
                    // Two sizes, so that pages start inside and across the groups a
                    // page in country or type order is read by (`pages::ids_by_group`).
                    for size in [2, 4] {
                        let pages = expected.len().div_ceil(size);
                        for number in 1..=pages + 1 {
                            let query = format!("{filter}&orderBy={order}");
                            let page = assert_number_page(&app, &demo, (NUMBERS, &query), (number, size), &expected).await;
                            assert_eq!(page["links"]["next"] == "", number >= pages, "{query} page {number}");
                        }
                    }
                }
            }
        }
        // Another account's numbers are never counted nor shown.
        let (_, other) = status_json(app.get("/api/admin/voice/v1/accounts/AQWSDE/phone-numbers?pageSize=50", &admin).await).await;
        assert!(numbers_of(&other).iter().all(|n| !pool.contains(n)), "{other}");
    }

    async fn batches_take_at_most_a_thousand_and_star_is_for_administrators(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        let added = add(&app, &demo, "+12702289911").await;
        let too_many: Vec<String> = (0..1001).map(|_| "+12702289911".to_owned()).collect();
        for op in [":list", ":validate", ":getByPhoneNumbers"] {
            let (status, body) = status_json(app.post(&format!("{NUMBERS}{op}"), &demo, &json!(too_many)).await).await;
            assert_eq!(status, 400, "{op}");
            assert_eq!(violations(&body)[0].1, 20007, "{op}");
            let (status, _) = status_json(app.post(&format!("{NUMBERS}{op}"), &demo, &json!({"not": "an array"})).await).await;
            assert_eq!(status, 400, "{op}");
        }
        let (status, found) = status_json(app.post(&format!("{NUMBERS}:getByPhoneNumbers"), &demo, &json!(["+12702289911", "+16062128688"])).await).await;
        assert_eq!(status, 200);
        assert_eq!(found, json!([added]));
        let star = "/api/admin/voice/v1/accounts/*/phone-numbers:getByPhoneNumbers";
        let (status, found) = status_json(app.post(&format!("{star}?filter=accountId=ABCDEF"), &admin, &json!(["+12702289911"])).await).await;
        assert_eq!(status, 200);
        assert_eq!(found[0]["phoneNumberId"], added["phoneNumberId"]);
        assert_eq!(app.post(&format!("{star}?filter=accountId=ABCDEF"), &demo, &json!(["+12702289911"])).await.status(), 403);
        let (status, body) = status_json(app.post(star, &admin, &json!(["+12702289911"])).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("filter".to_owned(), 20002)]);
    }

    async fn the_available_search_answers_the_request_with_working_links(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let page = available(&app, &demo, "countryCode=US&type=LOCAL&areaCode=212&pageNumber=1&pageSize=5").await;
        assert_eq!(page["pagination"]["pageNumber"], 1);
        assert_eq!(page["pagination"]["pageSize"], 5);
        let total = page["pagination"]["total"].as_i64().unwrap();
        assert!(total >= 200, "{total}");
        assert!(numbers_of(&page).iter().all(|n| n.starts_with("+1212")));
        assert!(page["phoneNumbers"].as_array().unwrap().iter().all(|n| n["type"] == "LOCAL" && n["countryCode"] == "US"));
        let next = page["links"]["next"].as_str().unwrap();
        assert_eq!(next, "/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers?countryCode=US&type=LOCAL&areaCode=212&pageNumber=2&pageSize=5");
        let (_, second) = status_json(app.get(next, &demo).await).await;
        assert_eq!(second["links"]["prev"], "/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers?countryCode=US&type=LOCAL&areaCode=212&pageNumber=1&pageSize=5");
        let contains = available(&app, &demo, "countryCode=US&type=LOCAL&phoneNumber=%2B1647930").await;
        assert_eq!(numbers_of(&contains), ["+16479308804", "+16479308815"]);
        let gb = available(&app, &demo, "countryCode=GB&type=TOLLFREE&pageSize=50").await;
        assert!(gb["phoneNumbers"].as_array().unwrap().iter().all(|n| n["documentationRequired"] == true));
        let (status, countries) = status_json(app.get("/api/admin/voice/v1/accounts/ABCDEF/countries?type=TOLLFREE", &demo).await).await;
        assert_eq!(status, 200);
        assert_eq!(countries, json!(["DE", "GB", "IN", "US"]));
        let (_, countries) = status_json(app.get("/api/admin/voice/v1/accounts/ABCDEF/countries?type=LOCAL", &demo).await).await;
        assert_eq!(countries, json!(["CA", "DE", "GB", "IN", "US"]));
        for (q, expected) in [("", vec![("countryCode", 20002), ("type", 20002)]),
                              ("countryCode=us&type=MOBILE", vec![("countryCode", 20006), ("type", 20005)]),
                              ("countryCode=US&type=LOCAL&areaCode=123456&phoneNumber=abc", vec![("areaCode", 20003), ("phoneNumber", 20006)])] {
            let (status, body) = status_json(app.get(&format!("{AVAILABLE}?{q}"), &demo).await).await;
            assert_eq!(status, 400, "{q}");
            let expected: Vec<(String, i64)> = expected.into_iter().map(|(f, c)| (f.to_owned(), c)).collect();
            assert_eq!(violations(&body), expected, "{q}");
        }
        assert_eq!(app.get("/api/admin/voice/v1/accounts/ABCDEF/countries", &demo).await.status(), 400);
    }

    async fn search_totals_follow_holds_releases_and_short_fragments(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let total = |v: &Value| v["pagination"]["total"].as_i64().unwrap();
        let before = available(&app, &demo, "countryCode=US&type=LOCAL&areaCode=212").await;
        let all_us = total(&available(&app, &demo, "countryCode=US&type=LOCAL").await);
        let number = before["phoneNumbers"][0]["phoneNumber"].as_str().unwrap().to_owned();
        let id = add(&app, &demo, &number).await["phoneNumberId"].as_str().unwrap().to_owned();
        let held = available(&app, &demo, "countryCode=US&type=LOCAL&areaCode=212").await;
        assert_eq!(total(&held), total(&before) - 1);
        assert_eq!(total(&available(&app, &demo, "countryCode=US&type=LOCAL").await), all_us - 1);
        assert_eq!(app.call(Method::DELETE, &format!("{NUMBERS}/{id}"), Some(&demo), None).await.status(), 204);
        assert_eq!(total(&available(&app, &demo, "countryCode=US&type=LOCAL&areaCode=212").await), total(&before));
        // One and two characters are below the trigram index and still found.
        let short = available(&app, &demo, "countryCode=US&type=LOCAL&areaCode=647&phoneNumber=04").await;
        assert_eq!(numbers_of(&short), ["+16479308804"]);
        let exact = available(&app, &demo, &format!("countryCode=US&type=LOCAL&phoneNumber={}", number.replace('+', "%2B"))).await;
        assert_eq!(numbers_of(&exact), vec![number]);
    }

    async fn fragment_search_finds_exactly_what_a_scan_finds(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let group = "countryCode=US&type=LOCAL&areaCode=212";
        let all = all_available(&app, &demo, group).await;
        assert!(all.len() > 100, "{}", all.len());
        assert!(all.windows(2).all(|w| w[0] < w[1]), "in number order");
        let sample = all[all.len() / 2].clone();
        // Three characters (the counted-once path; "212" occurs twice in some numbers),
        // longer ones (the distinct path), a leading +, and two characters (a scan).
        let fragments = [&sample[6..9], "212", &sample[5..9], &sample[4..10], "+1212", &sample[8..10]];
        for f in fragments {
            let expected: Vec<String> = all.iter().filter(|n| n.contains(f)).cloned().collect();
            assert!(!expected.is_empty(), "{f}");
            let q = format!("{group}&phoneNumber={}", f.replace('+', "%2B"));
            assert_eq!(all_available(&app, &demo, &q).await, expected, "{f}");
        }
        let whole_country = all_available(&app, &demo, &format!("countryCode=US&type=LOCAL&phoneNumber={}", &sample[3..8])).await;
        assert!(whole_country.contains(&sample) && whole_country.iter().all(|n| n.contains(&sample[3..8])));
        // "702" is mostly area 702's numbers, the last in number order: a walk through
        // the numbers from the start finds few of them within its budget (PostgreSQL
        // then reads the suffix range instead).
        let us = all_available(&app, &demo, "countryCode=US&type=LOCAL").await;
        let expected: Vec<String> = us.iter().filter(|n| n.contains("702")).cloned().collect();
        assert!(expected.len() >= 250, "{}", expected.len());
        assert_eq!(all_available(&app, &demo, "countryCode=US&type=LOCAL&phoneNumber=702").await, expected);

        // Held, a number leaves the results; released, or reset, it is back.
        let fragment = format!("{group}&phoneNumber={}", &sample[4..12]);
        let id = add(&app, &demo, &sample).await["phoneNumberId"].as_str().unwrap().to_owned();
        assert!(!all_available(&app, &demo, &fragment).await.contains(&sample));
        assert_eq!(app.call(Method::DELETE, &format!("{NUMBERS}/{id}"), Some(&demo), None).await.status(), 204);
        assert_eq!(all_available(&app, &demo, &fragment).await, vec![sample.clone()]);
        add(&app, &demo, &sample).await;
        assert_eq!(all_available(&app, &demo, &fragment).await, Vec::<String>::new());
        let admin = app.admin().await;
        let res = app.call(Method::POST, "/_ccadmin/reset", Some(&admin), Some(&json!({}))).await;
        assert_eq!(res.status(), 204);
        assert_eq!(all_available(&app, &demo, &fragment).await, vec![sample.clone()]);
    }

    async fn another_accounts_numbers_are_invisible(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        let (_, theirs) = status_json(app.post("/api/admin/voice/v1/accounts/AQWSDE/phone-numbers", &admin, &json!({"phoneNumber": "+16062128688"})).await).await;
        let id = theirs["phoneNumberId"].as_str().unwrap();
        let path = format!("{NUMBERS}/{id}");
        assert_eq!(app.get(&path, &demo).await.status(), 404);
        assert_eq!(app.put(&path, &demo, &json!({})).await.status(), 404);
        assert_eq!(app.call(Method::DELETE, &path, Some(&demo), None).await.status(), 404);
        let (_, listed) = status_json(app.post(&format!("{NUMBERS}:list"), &demo, &json!([id])).await).await;
        assert_eq!(listed, json!([]));
        let (_, found) = status_json(app.post(&format!("{NUMBERS}:getByPhoneNumbers"), &demo, &json!(["+16062128688"])).await).await;
        assert_eq!(found, json!([]));
        assert_eq!(app.get("/api/admin/voice/v1/accounts/AQWSDE/phone-numbers", &demo).await.status(), 403);
        assert_eq!(app.get(&format!("/api/admin/voice/v1/accounts/AQWSDE/phone-numbers/{id}"), &admin).await.status(), 200);
    }
}

/// Runs a statement on whichever backend `db` is, as another process could.
async fn execute(db: &ccadmin::store::Db, sql: &str) {
    match db {
        ccadmin::store::Db::Sqlite { write, .. } => {
            sqlx::query(sql).execute(write).await.map(|_| ())
        }
        ccadmin::store::Db::Postgres { pool, .. } => {
            sqlx::query(sql).execute(pool).await.map(|_| ())
        }
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Rows of a query, on whichever backend `db` is.
async fn fetch<T>(db: &ccadmin::store::Db, sql: &str) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    match db {
        ccadmin::store::Db::Sqlite { read, .. } => sqlx::query_as(sql).fetch_all(read).await,
        ccadmin::store::Db::Postgres { pool, .. } => sqlx::query_as(sql).fetch_all(pool).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Checks that the search tables kept in step by holds, releases, resets and imports
/// (`number_suffix`, `inventory_gram_count`, `inventory_count`) hold exactly what a
/// rebuild from the inventory would.
async fn assert_search_tables_match_the_inventory(db: &ccadmin::store::Db, when: &str) {
    let position = match db.backend() {
        ccadmin::store::Backend::Sqlite => "instr",
        ccadmin::store::Backend::Postgres => "strpos",
    };
    type Gram = (String, String, String, String, i64);
    let mut kept: Vec<Gram> = fetch(
        db,
        "select country_code, number_type, gram, area_code, available
        from inventory_gram_count where available <> 0",
    )
    .await;
    let mut recounted: Vec<Gram> = fetch(
        db,
        &format!(
            "select country_code, number_type, substr(phone_number, i, 3),
            area_code, count(*)
        from number_inventory join gram_position on i <= length(phone_number) - 2
        where held_by is null and {position}(phone_number, substr(phone_number, i, 3)) = i
        group by 1, 2, 3, 4"
        ),
    )
    .await;
    kept.sort();
    recounted.sort();
    assert!(!kept.is_empty(), "{when}");
    assert!(
        kept == recounted,
        "{when}: gram counts differ from a recount ({} rows kept, {} recounted)",
        kept.len(),
        recounted.len()
    );

    // Every available number has all its suffix rows; a held one has all or none (an
    // add leaves them, a rebuild drops them); no other number has any.
    type Suffix = (String, String, String, String, String, bool);
    let mut kept: Vec<Suffix> = fetch(
        db,
        "select country_code, number_type, suffix, phone_number, area_code, first
        from number_suffix",
    )
    .await;
    let with_rows: std::collections::HashSet<String> = kept.iter().map(|r| r.3.clone()).collect();
    type Derived = (String, String, String, String, String, bool, bool);
    let mut derived: Vec<Suffix> = fetch::<Derived>(
        db,
        &format!(
            "select country_code, number_type, substr(phone_number, i),
            phone_number, area_code, {position}(phone_number, substr(phone_number, i, 3)) = i,
            held_by is null
        from number_inventory join gram_position on i between 2 and length(phone_number) - 2"
        ),
    )
    .await
    .into_iter()
    .filter(|r| r.6 || with_rows.contains(&r.3))
    .map(|(c, t, s, n, a, f, _)| (c, t, s, n, a, f))
    .collect();
    kept.sort();
    derived.sort();
    assert!(
        kept == derived,
        "{when}: suffix rows differ from a rebuild ({} rows kept, {} derived)",
        kept.len(),
        derived.len()
    );

    type Count = (String, String, String, i64);
    let mut kept: Vec<Count> = fetch(
        db,
        "select country_code, number_type, area_code, available
        from inventory_count where available <> 0",
    )
    .await;
    let mut recounted: Vec<Count> = fetch(
        db,
        "select country_code, number_type, area_code, count(*)
        from number_inventory where held_by is null group by 1, 2, 3",
    )
    .await;
    kept.sort();
    recounted.sort();
    assert_eq!(kept, recounted, "{when}: available counts");
}

backend_tests! {
    async fn search_tables_stay_in_step_through_holds_releases_resets_and_imports(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let admin = app.admin().await;
        let db = ccadmin::open(&app.args.storage).await.unwrap();
        assert_search_tables_match_the_inventory(&db, "seeded").await;

        // "212" twice in one number, held and released; another account's number.
        let twice = all_available(&app, &demo, "countryCode=US&type=LOCAL&areaCode=212&phoneNumber=212").await
            .into_iter().find(|n| n[2..].contains("212")).expect("a number with 212 twice");
        let id = add(&app, &demo, &twice).await["phoneNumberId"].as_str().unwrap().to_owned();
        add(&app, &demo, "+16479308804").await;
        let (status, _) = status_json(app.post("/api/admin/voice/v1/accounts/AQWSDE/phone-numbers", &admin, &json!({"phoneNumber": "+16062128688"})).await).await;
        assert_eq!(status, 202);
        assert_search_tables_match_the_inventory(&db, "after holds").await;
        // Their suffix rows stay, and no search offers them: three digits (a range of
        // the rows that count each number once) and more (a range of all its rows).
        let offered = all_available(&app, &demo, "countryCode=US&type=LOCAL&areaCode=212&phoneNumber=212").await;
        assert!(!offered.contains(&twice), "{twice} held, offered: {offered:?}");
        assert!(!offered.is_empty());
        for fragment in ["930", "9308804"] {
            let offered = all_available(&app, &demo, &format!("countryCode=US&type=LOCAL&phoneNumber={fragment}")).await;
            assert!(!offered.contains(&"+16479308804".to_owned()), "{fragment}: {offered:?}");
        }
        assert_eq!(app.call(Method::DELETE, &format!("{NUMBERS}/{id}"), Some(&demo), None).await.status(), 204);
        assert_search_tables_match_the_inventory(&db, "after a release").await;
        let res = app.call(Method::POST, "/_ccadmin/reset", Some(&admin), Some(&json!({"accountId": "AQWSDE"}))).await;
        assert_eq!(res.status(), 204);
        assert_search_tables_match_the_inventory(&db, "after an account's reset").await;

        // An import: new numbers, a number twice (the first row wins), a number already
        // held (kept as it is), invalid rows, and an area code COPY must escape.
        let csv = "phoneNumber,countryCode,type,areaCode,documentationRequired\n\
                   +14155550120,US,LOCAL,415,false\n\
                   +14155550121,US,LOCAL,415,true\n\
                   +14155550120,US,LOCAL,415,true\n\
                   +16479308804,US,LOCAL,647,false\n\
                   +14155550122,US,MOBILE,,false\n\
                   +14155550123,US,LOCAL,4\t15,false\n\
                   +14155550124,US,LOCAL,a\\b,false\n\
                   +442079460199,GB,LOCAL,20,false\n";
        let report = ccadmin::inventory::import(&db, csv.to_owned(), false, |_, _| {}).await.unwrap();
        let report = serde_json::to_value(&report).unwrap();
        assert_eq!((&report["rows"], &report["imported"], &report["alreadyPresent"], &report["skipped"]),
                   (&json!(8), &json!(4), &json!(2), &json!(2)), "{report}");
        let lines: Vec<&Value> = report["badRows"].as_array().unwrap().iter().map(|r| &r["line"]).collect();
        assert_eq!(lines, [&json!(6), &json!(7)], "{report}");
        assert_search_tables_match_the_inventory(&db, "after an import").await;
        let found = available(&app, &demo, "countryCode=US&type=LOCAL&phoneNumber=5550120").await;
        assert_eq!(found["phoneNumbers"], json!([{"phoneNumber": "+14155550120", "countryCode": "US", "type": "LOCAL", "documentationRequired": false}]));
        let found = available(&app, &demo, "countryCode=US&type=LOCAL&areaCode=a%5Cb&phoneNumber=124").await;
        assert_eq!(numbers_of(&found), ["+14155550124"]);
        let found = available(&app, &demo, "countryCode=GB&type=LOCAL&phoneNumber=%2B44207946019").await;
        assert_eq!(numbers_of(&found), ["+442079460199"]);
        assert_eq!(available(&app, &demo, "countryCode=US&type=LOCAL&phoneNumber=9308804").await["pagination"]["total"], 0,
                   "a held number stays held through an import");

        // Holds of imported numbers, then everything reset.
        add(&app, &demo, "+14155550121").await;
        assert_search_tables_match_the_inventory(&db, "after a hold of an imported number").await;
        let res = app.call(Method::POST, "/_ccadmin/reset", Some(&admin), Some(&json!({}))).await;
        assert_eq!(res.status(), 204);
        assert_search_tables_match_the_inventory(&db, "after a reset").await;
        let found = available(&app, &demo, "countryCode=US&type=LOCAL&areaCode=647&phoneNumber=9308804").await;
        assert_eq!(found["phoneNumbers"][0]["documentationRequired"], true, "the import left the seed's number as it was");
        db.close().await;
    }
}
