//! Voice elements: the seed's requests, constraints, conflicts, lifecycles, tenancy.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Creds, TestApp, assert_problem, spawn_app, status_json, violations};

const ACO: &str = "/api/admin/voice/v1/accounts/ABCDEF/aco-elements";
const TEAMS: &str = "/api/admin/voice/v1/accounts/ABCDEF/msteams-elements";

/// The (field, code) pairs a bad body must produce.
type Expected = Vec<(&'static str, i64)>;

fn seed_aco() -> Value {
    json!({"description": "Avaya Cloud Office Description", "name": "Avaya Cloud Office",
           "environment": "Production", "didNumbers": ["+16062128688", "+12702289911"]})
}

fn seed_teams() -> Value {
    json!({"description": "MS Teams Server description", "name": "MS Teams Server",
           "domain": "exchange.com", "didNumbers": ["+16062128688", "+12702289911"]})
}

fn assert_contains(actual: &Value, expected: &Value) {
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&actual[k], v, "field {k} of {actual}");
    }
}

fn assert_uuid(v: &Value) {
    let s = v.as_str().unwrap();
    assert!(s.len() == 36 && uuid::Uuid::parse_str(s).is_ok(), "{s}");
}

async fn prefer_post(
    app: &TestApp,
    creds: &Creds,
    path: &str,
    body: &Value,
    prefer: &str,
) -> (u16, Value) {
    let res = app
        .http
        .post(app.url(path))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey)
        .header("prefer", prefer)
        .json(body)
        .send()
        .await
        .unwrap();
    status_json(res).await
}

backend_tests! {
    async fn the_seeds_aco_lifecycle_replays(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let (status, created) = status_json(app.post(ACO, &demo, &seed_aco()).await).await;
        assert_eq!(status, 202, "{created}");
        let mut expected = seed_aco();
        expected["elementType"] = json!("ACO");
        expected["status"] = json!("SUCCESS");
        assert_contains(&created, &expected);
        assert_uuid(&created["elementId"]);
        let path = format!("{ACO}/{}", created["elementId"].as_str().unwrap());
        let (status, got) = status_json(app.get(&path, &demo).await).await;
        assert_eq!(status, 200);
        assert_eq!(got, created);
        // UUIDs are not case-sensitive.
        assert_eq!(app.get(&path.to_uppercase().replace("/API/ADMIN/VOICE/V1/ACCOUNTS/ABCDEF/ACO-ELEMENTS", "/api/admin/voice/v1/accounts/ABCDEF/aco-elements"), &demo).await.status(), 200);

        // PUT is a complete replacement: omitted fields go, defaults come back.
        let replacement = json!({"name": "Avaya Cloud Office", "environment": "Development", "isChatEnabled": false});
        let (status, updated) = status_json(app.put(&path, &demo, &replacement).await).await;
        assert_eq!(status, 202);
        assert_eq!(updated["didNumbers"], json!([]));
        assert!(updated.get("description").is_none(), "{updated}");
        assert_eq!((updated["environment"].as_str(), updated["isChatEnabled"].as_bool()), (Some("Development"), Some(false)));
        let (_, updated) = status_json(app.put(&path, &demo, &seed_aco()).await).await;
        assert_eq!(updated["isChatEnabled"], true, "the default is re-applied");

        let res = app.call(Method::DELETE, &path, Some(&demo), None).await;
        assert_eq!(res.status(), 204);
        let (status, body) = status_json(app.get(&path, &demo).await).await;
        assert_eq!(status, 404);
        assert_problem(&body, 404, "resource-not-found", "Resource Not Found");
        assert_eq!(app.call(Method::DELETE, &path, Some(&demo), None).await.status(), 404);
    }

    async fn the_seeds_teams_element_replays_and_both_types_are_listed(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let (status, teams) = status_json(app.post(TEAMS, &demo, &seed_teams()).await).await;
        assert_eq!(status, 202);
        let mut expected = seed_teams();
        expected["elementType"] = json!("MSTeams");
        expected["status"] = json!("SUCCESS");
        assert_contains(&teams, &expected);
        let (status, aco) = status_json(app.post(ACO, &demo, &seed_aco()).await).await;
        assert_eq!(status, 202);
        let (status, list) = status_json(app.get("/api/admin/voice/v1/accounts/ABCDEF/elements", &demo).await).await;
        assert_eq!(status, 200);
        assert_eq!(list["elements"], json!([aco, teams]));
        // An element is found only at its own type's path.
        let wrong = format!("{ACO}/{}", teams["elementId"].as_str().unwrap());
        assert_eq!(app.get(&wrong, &demo).await.status(), 404);
    }

    async fn one_element_of_each_type_and_unique_names(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        assert_eq!(app.post(ACO, &demo, &seed_aco()).await.status(), 202);
        let mut second = seed_aco();
        second["name"] = json!("Another Office");
        let (status, body) = status_json(app.post(ACO, &demo, &second).await).await;
        assert_eq!(status, 409);
        assert_problem(&body, 409, "conflict", "Conflict");
        assert_eq!(body["detail"], "Only one instance of Avaya Cloud Office element can be created for an account.");

        let mut teams = seed_teams();
        teams["name"] = json!("avaya cloud OFFICE");
        let (status, body) = status_json(app.post(TEAMS, &demo, &teams).await).await;
        assert_eq!(status, 409);
        assert_eq!(body["detail"], "A resource with the same unique constraint values already exists.");
        assert_eq!(body["violations"], json!([{"field": "name", "message": "A MS Teams with this name already exists", "code": 20008}]));
        // Another account may use the same name.
        let admin = app.admin().await;
        let (status, _) = status_json(app.post("/api/admin/voice/v1/accounts/AQWSDE/aco-elements", &admin, &seed_aco()).await).await;
        assert_eq!(status, 202);
    }

    async fn concurrent_creates_give_one_element(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (http, url, creds) = (app.http.clone(), app.url(ACO), demo.clone());
            let mut body = seed_aco();
            body["name"] = json!(format!("Office {i}"));
            tasks.push(tokio::spawn(async move {
                http.post(url).bearer_auth(&creds.token).header("appkey", &creds.appkey).json(&body)
                    .send().await.unwrap().status().as_u16()
            }));
        }
        let mut codes = Vec::new();
        for t in tasks {
            codes.push(t.await.unwrap());
        }
        assert_eq!(codes.iter().filter(|c| **c == 202).count(), 1, "{codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == 409).count(), 19, "{codes:?}");
    }

    async fn invalid_elements_name_each_field(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let cases: Vec<(&str, Value, Expected)> = vec![
            (ACO, json!({}), vec![("name", 20002), ("environment", 20002)]),
            (ACO, json!({"name": "x/y", "environment": "Staging", "description": "semi;colon"}),
             vec![("name", 20006), ("description", 20006), ("environment", 20005)]),
            (ACO, json!({"name": "x", "environment": "Production", "didNumbers": ["+16062128688", "6062128688", "+16062128688", "+10000000000", null]}),
             vec![("didNumbers[1]", 20006), ("didNumbers[2]", 20008), ("didNumbers[3]", 20005), ("didNumbers[4]", 20002)]),
            (ACO, json!({"name": "x", "environment": "Production", "presenceApplicationType": "PIGEON"}), vec![("presenceApplicationType", 20005)]),
            (TEAMS, json!({"name": "", "domain": "-x.com"}), vec![("name", 20003), ("domain", 20006)]),
            (TEAMS, json!({"name": "x", "didNumbers": "+16062128688"}), vec![("didNumbers", 20001)]),
        ];
        for (path, body, expected) in cases {
            let (status, problem) = status_json(app.post(path, &demo, &body).await).await;
            assert_eq!(status, 400, "{body}");
            let expected: Vec<(String, i64)> = expected.into_iter().map(|(f, c)| (f.to_owned(), c)).collect();
            assert_eq!(violations(&problem), expected, "{body}");
        }
        let many: Vec<String> = (0..2001).map(|i| format!("+1606212{:04}", i % 10_000)).collect();
        let (status, problem) = status_json(app.post(ACO, &demo, &json!({"name": "x", "environment": "Production", "didNumbers": many})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&problem)[0], ("didNumbers".to_owned(), 20003));
    }

    async fn element_paths_are_checked_in_order(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let (status, body) = status_json(app.get(&format!("{ACO}/not-a-uuid"), &demo).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("elementId".to_owned(), 20006)]);
        let (status, body) = status_json(app.get("/api/admin/voice/v1/accounts/AB/aco-elements/x", &demo).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("accountId".to_owned(), 20006), ("elementId".to_owned(), 20006)]);
        let some = "/api/admin/voice/v1/accounts/AQWSDE/aco-elements/c8c2909d-75e9-484a-94c0-b7e8d29771fe";
        assert_eq!(app.get(some, &demo).await.status(), 403, "another account, before any lookup");
        assert_eq!(app.post("/api/admin/voice/v1/accounts/AQWSDE/aco-elements", &demo, &seed_aco()).await.status(), 403);
        let admin = app.admin().await;
        let (status, body) = status_json(app.post("/api/admin/voice/v1/accounts/ZZZZZZ/aco-elements", &admin, &seed_aco()).await).await;
        assert_eq!(status, 404);
        assert_eq!(body["detail"], "Account with AccountId:ZZZZZZ not found.");
        let missing = format!("{ACO}/c8c2909d-75e9-484a-94c0-b7e8d29771fe");
        let (status, body) = status_json(app.put(&missing, &demo, &json!({})).await).await;
        assert_eq!(status, 404, "404 before the body is checked");
        assert_eq!(body["detail"], "Avaya Cloud Office element with elementId:c8c2909d-75e9-484a-94c0-b7e8d29771fe not found.");
    }

    async fn another_accounts_element_is_invisible(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (_, other) = status_json(app.post("/api/admin/voice/v1/accounts/AQWSDE/aco-elements", &admin, &seed_aco()).await).await;
        let id = other["elementId"].as_str().unwrap();
        let demo = app.demo().await;
        // Through the caller's own account path, another account's id does not exist.
        let path = format!("{ACO}/{id}");
        assert_eq!(app.get(&path, &demo).await.status(), 404);
        assert_eq!(app.put(&path, &demo, &seed_aco()).await.status(), 404);
        assert_eq!(app.call(Method::DELETE, &path, Some(&demo), None).await.status(), 404);
        let (_, still) = status_json(app.get(&format!("/api/admin/voice/v1/accounts/AQWSDE/aco-elements/{id}"), &admin).await).await;
        assert_eq!(still, other);
    }

    async fn a_slow_or_failing_element_goes_through_the_engine(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let (status, created) = prefer_post(&app, &demo, ACO, &seed_aco(), "delay=5s, outcome=FAILED").await;
        assert_eq!(status, 202);
        assert_eq!(created["status"], "IN_PROGRESS");
        let path = format!("{ACO}/{}", created["elementId"].as_str().unwrap());
        app.finish_jobs().await;
        let (_, got) = status_json(app.get(&path, &demo).await).await;
        assert_eq!(got["status"], "FAILED");
        assert_eq!(got["statusMessage"], "simulated failure (Prefer: outcome=FAILED)");
        // A PUT re-attempts; by default it completes at once.
        let (status, updated) = status_json(app.put(&path, &demo, &seed_aco()).await).await;
        assert_eq!(status, 202);
        assert_eq!(updated["status"], "SUCCESS");
        assert!(updated.get("statusMessage").is_none());
    }

    async fn deleting_an_element_cancels_its_pending_work(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let (_, created) = prefer_post(&app, &demo, TEAMS, &seed_teams(), "delay=1h").await;
        let id = created["elementId"].as_str().unwrap();
        assert_eq!(app.call(Method::DELETE, &format!("{TEAMS}/{id}"), Some(&demo), None).await.status(), 204);
        assert_eq!(app.finish_jobs().await, 0, "the pending job was cancelled");
        let admin = app.admin().await;
        let (_, jobs) = status_json(app.get("/_ccadmin/jobs?accountId=ABCDEF", &admin).await).await;
        assert_eq!(jobs["jobs"][0]["state"], "cancelled");
        let (_, journal) = status_json(app.get(&format!("/_ccadmin/transitions?resourceId={id}"), &admin).await).await;
        let tos: Vec<&str> = journal["transitions"].as_array().unwrap().iter().map(|t| t["to"].as_str().unwrap()).collect();
        assert_eq!(tos, ["IN_PROGRESS", "DELETED"]);
    }
}
