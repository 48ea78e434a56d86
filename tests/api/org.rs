//! Organization nodes and profiles: the seed's requests, the hierarchy, statuses,
//! profile references, tenancy.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Creds, TestApp, assert_problem, spawn_app, status_json, violations};

const NODES: &str = "/api/admin/account/v1/accounts/AQWSDE/organization-nodes";
const PROFILES: &str = "/api/admin/user/v1/accounts/AQWSDE/profiles";

async fn create(app: &TestApp, creds: &Creds, name: &str, parent: &str) -> String {
    let (status, body) = status_json(
        app.post(NODES, creds, &json!({"name": name, "parentPath": parent}))
            .await,
    )
    .await;
    assert_eq!(status, 202, "{name}: {body}");
    body["organizationNodeId"].as_str().unwrap().to_owned()
}

async fn node(app: &TestApp, creds: &Creds, id: &str) -> Value {
    let (status, body) = status_json(app.get(&format!("{NODES}/{id}"), creds).await).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn node_status(app: &TestApp, creds: &Creds, id: &str) -> Value {
    let (status, body) = status_json(
        app.post(
            &format!("{NODES}:listStatuses"),
            creds,
            &json!({"organizationNodeIds": [id]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body[0].clone()
}

/// The organization seed's create body for account `AQWSDE` (named `SyncG`): the
/// seed's own create names `AccountA`; its GET and PUT show this account's root,
/// `AccountSyncG`.
fn seed_create_body() -> Value {
    json!({"name": "PuneLocation", "parentPath": "AccountSyncG", "countryCode": "IN"})
}

/// The seed's PUT request body, word for word but the node's id.
fn seed_put_body(id: &str) -> Value {
    json!({
        "name": "PuneLocation",
        "parentPath": "AccountSyncG",
        "organizationNodeId": id,
        "url": format!("/api/admin/account/v1/accounts/AQWSDE/organization-nodes/{id}"),
        "nodeType": "OrganizationNode",
        "countryCode": "IN",
        "profiles": [{"profileId": "N3ZW63", "name": "profileVoice"}]
    })
}

/// The seed's GET (and PUT) answer, word for word but the node's id, with ccadmin's
/// documented differences: the profile's `url` in the user API's `v1` (the seed shows
/// `v1alpha`) and the `countryCode` the requests sent (the seed's answers leave it
/// out).
fn seed_node_answer(id: &str) -> Value {
    json!({
        "name": "PuneLocation",
        "parentPath": "AccountSyncG",
        "organizationNodeId": id,
        "url": format!("/api/admin/account/v1/accounts/AQWSDE/organization-nodes/{id}"),
        "children": [],
        "profiles": [{
            "profileId": "N3ZW63",
            "url": "/api/admin/user/v1/accounts/AQWSDE/profiles/N3ZW63",
            "name": "profileVoice"
        }],
        "accountId": "AQWSDE",
        "nodeType": "OrganizationNode",
        "countryCode": "IN"
    })
}

/// Creates a node and returns the create's answer.
async fn create_answer(
    app: &TestApp,
    creds: &Creds,
    account: &str,
    name: &str,
    parent: &str,
) -> Value {
    let (status, body) = status_json(
        app.post(
            &format!("/api/admin/account/v1/accounts/{account}/organization-nodes"),
            creds,
            &json!({"name": name, "parentPath": parent}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 202, "{name} under {parent}: {body}");
    body
}

backend_tests! {
    async fn the_seeds_node_requests_replay(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, created) = status_json(app.post(NODES, &admin, &seed_create_body()).await).await;
        assert_eq!(status, 202, "{created}");
        let id = created["organizationNodeId"].as_str().unwrap().to_owned();
        assert!(id.len() == 6 && id.chars().all(|c| c.is_ascii_uppercase()));
        assert_eq!(created, json!({"name": "PuneLocation", "parentPath": "AccountSyncG", "organizationNodeId": id,
            "url": format!("/api/admin/account/v1/accounts/AQWSDE/organization-nodes/{id}"),
            "accountId": "AQWSDE", "nodeType": "OrganizationNode", "countryCode": "IN"}));
        assert_eq!(node_status(&app, &admin, &id).await, json!({"action": "ADD", "status": "IN_PROGRESS", "message": "Operation is in progress", "organizationNodeId": id}));
        app.finish_jobs().await;
        assert_eq!(node_status(&app, &admin, &id).await, json!({"action": "ADD", "status": "COMPLETED", "message": "Completed successfully", "organizationNodeId": id}));

        let got = node(&app, &admin, &id).await;
        assert_eq!(got["parentPath"], "AccountSyncG");
        assert_eq!(got["children"], json!([]));
        assert_eq!(got["accountId"], "AQWSDE");
        // The seed's PUT, word for word: its answer is the seed's, and so is the GET after it.
        let (status, updated) = status_json(app.put(&format!("{NODES}/{id}"), &admin, &seed_put_body(&id)).await).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated, seed_node_answer(&id));
        assert_eq!(node(&app, &admin, &id).await, seed_node_answer(&id));
        assert_eq!(node_status(&app, &admin, &id).await["action"], "UPDATE");
        // A node under it: its paths continue the seed's root.
        let team = create_answer(&app, &admin, "AQWSDE", "Team", "AccountSyncG/PuneLocation").await;
        assert_eq!(team["parentPath"], "AccountSyncG/PuneLocation");
        assert_eq!(node(&app, &admin, &id).await["children"], json!(["AccountSyncG/PuneLocation/Team"]));
    }

    async fn the_bare_account_name_is_read_on_input_and_answered_in_the_seeds_form(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let pune = create_answer(&app, &admin, "AQWSDE", "PuneLocation", "SyncG").await;
        assert_eq!(pune["parentPath"], "AccountSyncG");
        let pid = pune["organizationNodeId"].as_str().unwrap().to_owned();
        let team = create_answer(&app, &admin, "AQWSDE", "Team", "SyncG/PuneLocation").await;
        assert_eq!(team["parentPath"], "AccountSyncG/PuneLocation");
        let tid = team["organizationNodeId"].as_str().unwrap().to_owned();
        let desk = create_answer(&app, &admin, "AQWSDE", "Desk", "AccountSyncG/PuneLocation/Team").await;
        assert_eq!(desk["parentPath"], "AccountSyncG/PuneLocation/Team");
        assert_eq!(node(&app, &admin, &pid).await["children"],
            json!(["AccountSyncG/PuneLocation/Team", "AccountSyncG/PuneLocation/Team/Desk"]));
        // A PUT in the bare form answers in the seed's.
        let (status, moved) = status_json(app.put(&format!("{NODES}/{tid}"), &admin, &json!({"name": "Team", "parentPath": "SyncG"})).await).await;
        assert_eq!(status, 200, "{moved}");
        assert_eq!(moved["parentPath"], "AccountSyncG");
        assert_eq!(moved["children"], json!(["AccountSyncG/Team/Desk"]));
        // The list and its children too.
        let (status, page) = status_json(app.get(&format!("{NODES}?children=true&filter=name=Team"), &admin).await).await;
        assert_eq!(status, 200);
        assert_eq!(page["organizationNodes"][0]["parentPath"], "AccountSyncG");
        assert_eq!(page["organizationNodes"][0]["children"], json!(["AccountSyncG/Team/Desk"]));
        // Either root, exactly as written, case included; the 404 names the path as sent.
        for path in ["accountSyncG", "SYNCG/Team", "AccountSyncG/Nowhere", "SyncG/PuneLocation/Team", "Account", "PuneLocation"] {
            let (status, body) = status_json(app.post(NODES, &admin, &json!({"name": "Lost", "parentPath": path})).await).await;
            assert_eq!(status, 404, "{path}: {body}");
            assert_problem(&body, 404, "resource-not-found", "OrganizationNode Not Found");
            assert_eq!(body["detail"], format!("Organization Node with parentPath:{path} not found."));
        }
    }

    async fn an_account_named_like_a_seed_root_is_read_by_its_actual_name(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let mut ids = Vec::new();
        for name in ["X", "AccountX"] {
            let body = json!({"name": name, "domains": [{"domainName": format!("{}.example.com", name.to_lowercase())}], "accountSize": 5});
            let (status, created) = status_json(app.post("/api/admin/account/v1/accounts", &admin, &body).await).await;
            assert_eq!(status, 202, "{created}");
            ids.push(created["accountId"].as_str().unwrap().to_owned());
        }
        let (x, account_x) = (&ids[0], &ids[1]);
        // `AccountX` is the seed's form in the account named `X`, the bare form in the
        // account named `AccountX`: each is read by the account's actual name.
        assert_eq!(create_answer(&app, &admin, x, "InX", "AccountX").await["parentPath"], "AccountX");
        assert_eq!(create_answer(&app, &admin, x, "BareInX", "X").await["parentPath"], "AccountX");
        assert_eq!(create_answer(&app, &admin, account_x, "Seed", "AccountAccountX").await["parentPath"], "AccountAccountX");
        assert_eq!(create_answer(&app, &admin, account_x, "Bare", "AccountX").await["parentPath"], "AccountAccountX");
        assert_eq!(create_answer(&app, &admin, account_x, "Deep", "AccountX/Bare").await["parentPath"], "AccountAccountX/Bare");
        // `X` is not a root of the account named `AccountX`, nor `AccountAccountX` of `X`.
        for (account, path) in [(account_x, "X"), (account_x, "X/Bare"), (x, "AccountAccountX")] {
            let (status, body) = status_json(app.post(&format!("/api/admin/account/v1/accounts/{account}/organization-nodes"),
                &admin, &json!({"name": "Lost", "parentPath": path})).await).await;
            assert_eq!(status, 404, "{path}: {body}");
            assert_eq!(body["detail"], format!("Organization Node with parentPath:{path} not found."));
        }
    }

    async fn a_path_s_first_name_is_the_root_even_when_a_node_is_named_like_it(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let lookalike = create_answer(&app, &admin, "AQWSDE", "AccountSyncG", "AccountSyncG").await;
        assert_eq!(lookalike["parentPath"], "AccountSyncG");
        let lid = lookalike["organizationNodeId"].as_str().unwrap().to_owned();
        // Alone, `AccountSyncG` is the account; the node is reached below the root.
        assert_eq!(create_answer(&app, &admin, "AQWSDE", "Top", "AccountSyncG").await["parentPath"], "AccountSyncG");
        assert_eq!(create_answer(&app, &admin, "AQWSDE", "Inner", "AccountSyncG/AccountSyncG").await["parentPath"], "AccountSyncG/AccountSyncG");
        assert_eq!(create_answer(&app, &admin, "AQWSDE", "SyncG", "SyncG/AccountSyncG").await["parentPath"], "AccountSyncG/AccountSyncG");
        assert_eq!(node(&app, &admin, &lid).await["children"],
            json!(["AccountSyncG/AccountSyncG/Inner", "AccountSyncG/AccountSyncG/SyncG"]));
    }

    async fn a_failed_add_is_reattempted_by_a_put(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let res = app.http.post(app.url(NODES)).bearer_auth(&admin.token).header("appkey", &admin.appkey)
            .header("prefer", "outcome=FAILED").json(&json!({"name": "Pune", "parentPath": "AccountSyncG"})).send().await.unwrap();
        let (_, created) = status_json(res).await;
        let id = created["organizationNodeId"].as_str().unwrap().to_owned();
        app.finish_jobs().await;
        assert_eq!(node_status(&app, &admin, &id).await, json!({"action": "ADD", "status": "FAILED", "message": "Operation failed", "organizationNodeId": id}));
        assert_eq!(app.put(&format!("{NODES}/{id}"), &admin, &json!({"name": "Pune", "parentPath": "AccountSyncG"})).await.status(), 200);
        assert_eq!(node_status(&app, &admin, &id).await["action"], "ADD", "the ADD is attempted again");
        app.finish_jobs().await;
        assert_eq!(node_status(&app, &admin, &id).await["status"], "COMPLETED");
    }

    async fn the_hierarchy_derives_paths_and_follows_renames_and_moves(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let a = create(&app, &admin, "Region", "AccountSyncG").await;
        let b1 = create(&app, &admin, "Pune", "AccountSyncG/Region").await;
        let c = create(&app, &admin, "Sales", "AccountSyncG/Region/Pune").await;
        let d = create(&app, &admin, "Team1", "AccountSyncG/Region/Pune/Sales").await;
        let e = create(&app, &admin, "Desk", "AccountSyncG/Region/Pune/Sales/Team1").await;
        assert_eq!(node(&app, &admin, &e).await["parentPath"], "AccountSyncG/Region/Pune/Sales/Team1");
        assert_eq!(node(&app, &admin, &a).await["children"], json!(["AccountSyncG/Region/Pune", "AccountSyncG/Region/Pune/Sales",
            "AccountSyncG/Region/Pune/Sales/Team1", "AccountSyncG/Region/Pune/Sales/Team1/Desk"]));
        // Renaming a node, or the account, changes every path below it, in both forms.
        assert_eq!(app.put(&format!("{NODES}/{b1}"), &admin, &json!({"name": "Mumbai", "parentPath": "AccountSyncG/Region"})).await.status(), 200);
        assert_eq!(node(&app, &admin, &e).await["parentPath"], "AccountSyncG/Region/Mumbai/Sales/Team1");
        for old in ["AccountSyncG/Region/Pune", "SyncG/Region/Pune"] {
            assert_eq!(app.post(NODES, &admin, &json!({"name": "Lost", "parentPath": old})).await.status(), 404, "{old}");
        }
        let mut extra = Vec::new();
        for parent in ["AccountSyncG/Region/Mumbai", "SyncG/Region/Mumbai"] {
            let made = create_answer(&app, &admin, "AQWSDE", &format!("Under {}", extra.len()), parent).await;
            assert_eq!(made["parentPath"], "AccountSyncG/Region/Mumbai", "{parent}");
            extra.push(made["organizationNodeId"].as_str().unwrap().to_owned());
        }
        let account = json!({"name": "SyncH", "domains": [{"domainName": "avaya.com"}], "accountSize": 10});
        assert_eq!(app.put("/api/admin/account/v1/accounts/AQWSDE", &admin, &account).await.status(), 202);
        assert_eq!(node(&app, &admin, &d).await["parentPath"], "AccountSyncH/Region/Mumbai/Sales");
        assert_eq!(node(&app, &admin, &a).await["parentPath"], "AccountSyncH");
        for old in ["AccountSyncG", "SyncG", "AccountSyncG/Region", "SyncG/Region"] {
            assert_eq!(app.post(NODES, &admin, &json!({"name": "Lost", "parentPath": old})).await.status(), 404, "{old}");
        }
        for parent in ["AccountSyncH/Region", "SyncH/Region"] {
            let made = create_answer(&app, &admin, "AQWSDE", &format!("Under {}", extra.len()), parent).await;
            assert_eq!(made["parentPath"], "AccountSyncH/Region", "{parent}");
            extra.push(made["organizationNodeId"].as_str().unwrap().to_owned());
        }
        assert_eq!(node(&app, &admin, &extra[0]).await["parentPath"], "AccountSyncH/Region/Mumbai");
        for id in &extra {
            assert_eq!(app.call(Method::DELETE, &format!("{NODES}/{id}"), Some(&admin), None).await.status(), 204);
        }
        // Moving a node takes its subtree along.
        assert_eq!(app.put(&format!("{NODES}/{c}"), &admin, &json!({"name": "Sales", "parentPath": "AccountSyncH"})).await.status(), 200);
        assert_eq!(node(&app, &admin, &e).await["parentPath"], "AccountSyncH/Sales/Team1");
        assert_eq!(node(&app, &admin, &a).await["children"], json!(["AccountSyncH/Region/Mumbai"]));
        // Never under itself.
        let (status, body) = status_json(app.put(&format!("{NODES}/{c}"), &admin, &json!({"name": "Sales", "parentPath": "AccountSyncH/Sales/Team1"})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("parentPath".to_owned(), 20005)]);
        // A missing parent is the spec's 404; a taken name the spec's 409.
        let (status, body) = status_json(app.post(NODES, &admin, &json!({"name": "X", "parentPath": "AccountSyncH/Nowhere"})).await).await;
        assert_eq!(status, 404);
        assert_problem(&body, 404, "resource-not-found", "OrganizationNode Not Found");
        let (status, body) = status_json(app.post(NODES, &admin, &json!({"name": "desk", "parentPath": "AccountSyncH"})).await).await;
        assert_eq!(status, 409);
        assert_problem(&body, 409, "conflict", "Conflict");
        assert_eq!(body["detail"], "Organization Node with name:desk already exists");
        // Deleting (an extension) refuses a node with children.
        assert_eq!(app.call(Method::DELETE, &format!("{NODES}/{d}"), Some(&admin), None).await.status(), 409);
        assert_eq!(app.call(Method::DELETE, &format!("{NODES}/{e}"), Some(&admin), None).await.status(), 204);
        let (status, body) = status_json(app.get(&format!("{NODES}/{e}"), &admin).await).await;
        assert_eq!(status, 404);
        assert_eq!(body["detail"], format!("Organization Node with organizationNodeId:{e} not found."));
    }

    async fn a_thousand_nodes_five_levels_deep(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        // 10 regions, each 4 levels of 25 nodes: 1,000 nodes, 5 levels.
        let mut first = String::new();
        for r in 0..10 {
            let mut parent = "AccountSyncG".to_owned();
            for level in 0..4 {
                let name = format!("R{r}L{level}");
                let id = create(&app, &admin, &name, &parent).await;
                if r == 0 && level == 0 {
                    first = id;
                }
                parent = format!("{parent}/{name}");
            }
            for leaf in 0..96 {
                create(&app, &admin, &format!("R{r}Leaf{leaf}"), &parent).await;
            }
        }
        let root = node(&app, &admin, &first).await;
        assert_eq!(root["children"].as_array().unwrap().len(), 3 + 96);
        let (status, page) = status_json(app.get(&format!("{NODES}?pageSize=50&pageNumber=20&filter=name:R9*"), &admin).await).await;
        assert_eq!(status, 200);
        assert_eq!(page["pagination"]["total"], 100);
        let (_, page) = status_json(app.get(&format!("{NODES}?pageSize=5"), &admin).await).await;
        assert_eq!(page["pagination"]["total"], 1000);
    }

    async fn the_node_list_pages_filters_and_shows_children_on_request(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        for n in ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"] {
            create(&app, &admin, n, "AccountSyncG").await;
        }
        create(&app, &admin, "Child", "AccountSyncG/Alpha").await;
        let (status, page) = status_json(app.get(NODES, &admin).await).await;
        assert_eq!(status, 200);
        assert_eq!(page["pagination"], json!({"pageNumber": 1, "pageSize": 5, "total": 7}));
        let names: Vec<&str> = page["organizationNodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Alpha", "Bravo", "Charlie", "Child", "Delta"]);
        assert!(page["organizationNodes"][0].get("children").is_none());
        assert_eq!(page["links"]["next"], "/api/admin/account/v1/accounts/AQWSDE/organization-nodes?pageNumber=2&pageSize=5");
        let (_, page) = status_json(app.get(&format!("{NODES}?filter=name:a*&children=true&orderBy=name%20desc"), &admin).await).await;
        assert_eq!(page["organizationNodes"][0]["name"], "Alpha");
        assert_eq!(page["organizationNodes"][0]["children"], json!(["AccountSyncG/Alpha/Child"]));
        for (q, field) in [("pageSize=4", "pageSize"), ("filter=color:red", "filter"), ("orderBy=size", "orderBy"), ("children=maybe", "children")] {
            let (status, body) = status_json(app.get(&format!("{NODES}?{q}"), &admin).await).await;
            assert_eq!(status, 400, "{q}");
            assert_eq!(violations(&body)[0].0, field, "{q}");
        }
        let (status, body) = status_json(app.post(&format!("{NODES}:listStatuses"), &admin, &json!({"organizationNodeIds": ["ZZZZZZ"]})).await).await;
        assert_eq!(status, 404);
        assert_problem(&body, 404, "resource-not-found", "OrganizationNode Not Found");
    }

    async fn profiles_are_referenced_by_id_and_guarded_while_referenced(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, created) = status_json(app.post(PROFILES, &admin, &json!({"profileName": "Sales Agents", "description": "Agents of sales"})).await).await;
        assert_eq!(status, 201, "{created}");
        let pid = created["profileId"].as_str().unwrap().to_owned();
        assert_eq!(created["url"], format!("/api/admin/user/v1/accounts/AQWSDE/profiles/{pid}"));
        let (status, _) = status_json(app.post(PROFILES, &admin, &json!({"profileName": "sales agents"})).await).await;
        assert_eq!(status, 409);

        // A node and the account reference it; an unknown id is a violation at its index.
        let (status, body) = status_json(app.post(NODES, &admin, &json!({"name": "Pune", "parentPath": "AccountSyncG",
            "profiles": [{"profileId": pid}, {"profileId": "NOSUCH"}]})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("profiles[1].profileId".to_owned(), 20005)]);
        let (_, n) = status_json(app.post(NODES, &admin, &json!({"name": "Pune", "parentPath": "AccountSyncG", "profiles": [{"profileId": pid}]})).await).await;
        let nid = n["organizationNodeId"].as_str().unwrap().to_owned();
        let account = json!({"name": "SyncG", "domains": [{"domainName": "avaya.com"}], "accountSize": 10,
            "profiles": [{"profileId": "AQXSWF", "url": "/api/admin/user/v1/accounts/AVSDER/profiles/ASEDFG"}, {"profileId": pid}]});
        let (status, acc) = status_json(app.put("/api/admin/account/v1/accounts/AQWSDE", &admin, &account).await).await;
        assert_eq!(status, 202);
        assert_eq!(acc["profiles"][0], json!({"profileId": "AQXSWF", "url": "/api/admin/user/v1/accounts/AQWSDE/profiles/AQXSWF", "name": "profileAccount"}));

        // Renaming the profile shows in every reference.
        assert_eq!(app.put(&format!("{PROFILES}/{pid}"), &admin, &json!({"profileName": "Field Sales"})).await.status(), 200);
        assert_eq!(node(&app, &admin, &nid).await["profiles"][0]["name"], "Field Sales");
        let (_, acc) = status_json(app.get("/api/admin/account/v1/accounts/AQWSDE", &admin).await).await;
        assert_eq!(acc["profiles"][1]["name"], "Field Sales");

        // Referenced: 409 naming the referrers; unreferenced: 204.
        let (status, body) = status_json(app.call(Method::DELETE, &format!("{PROFILES}/{pid}"), Some(&admin), None).await).await;
        assert_eq!(status, 409);
        assert_eq!(body["detail"], format!("Profile {pid} is referenced by account AQWSDE and organization nodes {nid}."));
        assert_eq!(app.put(&format!("{NODES}/{nid}"), &admin, &json!({"name": "Pune", "parentPath": "AccountSyncG"})).await.status(), 200);
        let account = json!({"name": "SyncG", "domains": [{"domainName": "avaya.com"}], "accountSize": 10});
        assert_eq!(app.put("/api/admin/account/v1/accounts/AQWSDE", &admin, &account).await.status(), 202);
        assert_eq!(app.call(Method::DELETE, &format!("{PROFILES}/{pid}"), Some(&admin), None).await.status(), 204);
        assert_eq!(app.get(&format!("{PROFILES}/{pid}"), &admin).await.status(), 404);
        let (_, list) = status_json(app.get(PROFILES, &admin).await).await;
        let names: Vec<&str> = list["profiles"].as_array().unwrap().iter().map(|p| p["profileName"].as_str().unwrap()).collect();
        assert_eq!(names, ["profileAccount", "profileVoice"]);
        // Profile ids follow the spec's pattern, digits included (the seed's N3ZW63).
        let (status, voice) = status_json(app.get(&format!("{PROFILES}/N3ZW63"), &admin).await).await;
        assert_eq!(status, 200);
        assert_eq!(voice["profileName"], "profileVoice");
        let (status, body) = status_json(app.get(&format!("{PROFILES}/N3ZW6!"), &admin).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("profileId".to_owned(), 20006)]);
    }

    async fn concurrent_moves_never_make_a_cycle(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let a = create(&app, &admin, "Alpha", "AccountSyncG").await;
        let b2 = create(&app, &admin, "Bravo", "AccountSyncG").await;
        for _ in 0..10 {
            let (pa, pb) = (format!("{NODES}/{a}"), format!("{NODES}/{b2}"));
            let (ba, bb) = (json!({"name": "Alpha", "parentPath": "AccountSyncG/Bravo"}), json!({"name": "Bravo", "parentPath": "AccountSyncG/Alpha"}));
            let (ra, rb) = tokio::join!(app.put(&pa, &admin, &ba), app.put(&pb, &admin, &bb));
            let codes = [ra.status().as_u16(), rb.status().as_u16()];
            assert!(codes.contains(&200) && codes.iter().all(|c| [200, 400, 404].contains(c)), "{codes:?}");
            // Whatever won, both nodes still hang under the account.
            for id in [&a, &b2] {
                let path = node(&app, &admin, id).await["parentPath"].as_str().unwrap().to_owned();
                assert!(path.starts_with("AccountSyncG"), "{path}");
            }
            // Back to the top for the next round.
            for (id, name) in [(&a, "Alpha"), (&b2, "Bravo")] {
                assert_eq!(app.put(&format!("{NODES}/{id}"), &admin, &json!({"name": name, "parentPath": "AccountSyncG"})).await.status(), 200);
            }
        }
    }

    async fn another_accounts_nodes_and_profiles_are_out_of_reach(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let id = create(&app, &admin, "Pune", "AccountSyncG").await;
        let demo = app.demo().await;
        assert_eq!(app.get(&format!("{NODES}/{id}"), &demo).await.status(), 403);
        assert_eq!(app.get(NODES, &demo).await.status(), 403);
        assert_eq!(app.get(PROFILES, &demo).await.status(), 403);
        // Through the caller's own account, the id does not exist.
        let (status, _) = status_json(app.get(&format!("/api/admin/account/v1/accounts/ABCDEF/organization-nodes/{id}"), &demo).await).await;
        assert_eq!(status, 404);
        let (status, body) = status_json(app.get("/api/admin/account/v1/accounts/ABCDEF/organization-nodes/AB12", &demo).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("organizationNodeId".to_owned(), 20006)]);
    }
}
