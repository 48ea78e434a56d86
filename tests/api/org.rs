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

backend_tests! {
    async fn the_seeds_node_requests_replay(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let (status, created) = status_json(app.post(NODES, &admin, &json!({"name": "PuneLocation", "parentPath": "SyncG", "countryCode": "IN"})).await).await;
        assert_eq!(status, 202, "{created}");
        let id = created["organizationNodeId"].as_str().unwrap().to_owned();
        assert!(id.len() == 6 && id.chars().all(|c| c.is_ascii_uppercase()));
        assert_eq!(created, json!({"name": "PuneLocation", "parentPath": "SyncG", "organizationNodeId": id,
            "url": format!("/api/admin/account/v1/accounts/AQWSDE/organization-nodes/{id}"),
            "accountId": "AQWSDE", "nodeType": "OrganizationNode", "countryCode": "IN"}));
        assert_eq!(node_status(&app, &admin, &id).await, json!({"action": "ADD", "status": "IN_PROGRESS", "message": "Operation is in progress", "organizationNodeId": id}));
        app.finish_jobs().await;
        assert_eq!(node_status(&app, &admin, &id).await, json!({"action": "ADD", "status": "COMPLETED", "message": "Completed successfully", "organizationNodeId": id}));

        let got = node(&app, &admin, &id).await;
        assert_eq!(got["children"], json!([]));
        assert_eq!(got["accountId"], "AQWSDE");
        // The seed's PUT, profiles named as the seed names them.
        let put = json!({"name": "PuneLocation", "parentPath": "SyncG", "organizationNodeId": id,
            "url": "/ignored", "nodeType": "OrganizationNode", "countryCode": "IN",
            "profiles": [{"profileId": "N3ZW63", "name": "profileVoice"}]});
        let (status, updated) = status_json(app.put(&format!("{NODES}/{id}"), &admin, &put).await).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated, json!({"name": "PuneLocation", "parentPath": "SyncG", "organizationNodeId": id,
            "url": format!("/api/admin/account/v1/accounts/AQWSDE/organization-nodes/{id}"), "children": [],
            "profiles": [{"profileId": "N3ZW63", "url": "/api/admin/user/v1/accounts/AQWSDE/profiles/N3ZW63", "name": "profileVoice"}],
            "accountId": "AQWSDE", "nodeType": "OrganizationNode", "countryCode": "IN"}));
        assert_eq!(node_status(&app, &admin, &id).await["action"], "UPDATE");
    }

    async fn a_failed_add_is_reattempted_by_a_put(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let res = app.http.post(app.url(NODES)).bearer_auth(&admin.token).header("appkey", &admin.appkey)
            .header("prefer", "outcome=FAILED").json(&json!({"name": "Pune", "parentPath": "SyncG"})).send().await.unwrap();
        let (_, created) = status_json(res).await;
        let id = created["organizationNodeId"].as_str().unwrap().to_owned();
        app.finish_jobs().await;
        assert_eq!(node_status(&app, &admin, &id).await, json!({"action": "ADD", "status": "FAILED", "message": "Operation failed", "organizationNodeId": id}));
        assert_eq!(app.put(&format!("{NODES}/{id}"), &admin, &json!({"name": "Pune", "parentPath": "SyncG"})).await.status(), 200);
        assert_eq!(node_status(&app, &admin, &id).await["action"], "ADD", "the ADD is attempted again");
        app.finish_jobs().await;
        assert_eq!(node_status(&app, &admin, &id).await["status"], "COMPLETED");
    }

    async fn the_hierarchy_derives_paths_and_follows_renames_and_moves(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let a = create(&app, &admin, "Region", "SyncG").await;
        let b1 = create(&app, &admin, "Pune", "SyncG/Region").await;
        let c = create(&app, &admin, "Sales", "SyncG/Region/Pune").await;
        let d = create(&app, &admin, "Team1", "SyncG/Region/Pune/Sales").await;
        let e = create(&app, &admin, "Desk", "SyncG/Region/Pune/Sales/Team1").await;
        assert_eq!(node(&app, &admin, &e).await["parentPath"], "SyncG/Region/Pune/Sales/Team1");
        assert_eq!(node(&app, &admin, &a).await["children"], json!(["SyncG/Region/Pune", "SyncG/Region/Pune/Sales",
            "SyncG/Region/Pune/Sales/Team1", "SyncG/Region/Pune/Sales/Team1/Desk"]));
        // Renaming a node, or the account, changes every path below it.
        assert_eq!(app.put(&format!("{NODES}/{b1}"), &admin, &json!({"name": "Mumbai", "parentPath": "SyncG/Region"})).await.status(), 200);
        assert_eq!(node(&app, &admin, &e).await["parentPath"], "SyncG/Region/Mumbai/Sales/Team1");
        let account = json!({"name": "SyncH", "domains": [{"domainName": "avaya.com"}], "accountSize": 10});
        assert_eq!(app.put("/api/admin/account/v1/accounts/AQWSDE", &admin, &account).await.status(), 202);
        assert_eq!(node(&app, &admin, &d).await["parentPath"], "SyncH/Region/Mumbai/Sales");
        // Moving a node takes its subtree along.
        assert_eq!(app.put(&format!("{NODES}/{c}"), &admin, &json!({"name": "Sales", "parentPath": "SyncH"})).await.status(), 200);
        assert_eq!(node(&app, &admin, &e).await["parentPath"], "SyncH/Sales/Team1");
        assert_eq!(node(&app, &admin, &a).await["children"], json!(["SyncH/Region/Mumbai"]));
        // Never under itself.
        let (status, body) = status_json(app.put(&format!("{NODES}/{c}"), &admin, &json!({"name": "Sales", "parentPath": "SyncH/Sales/Team1"})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("parentPath".to_owned(), 20005)]);
        // A missing parent is the spec's 404; a taken name the spec's 409.
        let (status, body) = status_json(app.post(NODES, &admin, &json!({"name": "X", "parentPath": "SyncH/Nowhere"})).await).await;
        assert_eq!(status, 404);
        assert_problem(&body, 404, "resource-not-found", "OrganizationNode Not Found");
        let (status, body) = status_json(app.post(NODES, &admin, &json!({"name": "desk", "parentPath": "SyncH"})).await).await;
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
            let mut parent = "SyncG".to_owned();
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
            create(&app, &admin, n, "SyncG").await;
        }
        create(&app, &admin, "Child", "SyncG/Alpha").await;
        let (status, page) = status_json(app.get(NODES, &admin).await).await;
        assert_eq!(status, 200);
        assert_eq!(page["pagination"], json!({"pageNumber": 1, "pageSize": 5, "total": 7}));
        let names: Vec<&str> = page["organizationNodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Alpha", "Bravo", "Charlie", "Child", "Delta"]);
        assert!(page["organizationNodes"][0].get("children").is_none());
        assert_eq!(page["links"]["next"], "/api/admin/account/v1/accounts/AQWSDE/organization-nodes?pageNumber=2&pageSize=5");
        let (_, page) = status_json(app.get(&format!("{NODES}?filter=name:a*&children=true&orderBy=name%20desc"), &admin).await).await;
        assert_eq!(page["organizationNodes"][0]["name"], "Alpha");
        assert_eq!(page["organizationNodes"][0]["children"], json!(["SyncG/Alpha/Child"]));
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
        let (status, body) = status_json(app.post(NODES, &admin, &json!({"name": "Pune", "parentPath": "SyncG",
            "profiles": [{"profileId": pid}, {"profileId": "NOSUCH"}]})).await).await;
        assert_eq!(status, 400);
        assert_eq!(violations(&body), vec![("profiles[1].profileId".to_owned(), 20005)]);
        let (_, n) = status_json(app.post(NODES, &admin, &json!({"name": "Pune", "parentPath": "SyncG", "profiles": [{"profileId": pid}]})).await).await;
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
        assert_eq!(app.put(&format!("{NODES}/{nid}"), &admin, &json!({"name": "Pune", "parentPath": "SyncG"})).await.status(), 200);
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
        let a = create(&app, &admin, "Alpha", "SyncG").await;
        let b2 = create(&app, &admin, "Bravo", "SyncG").await;
        for _ in 0..10 {
            let (pa, pb) = (format!("{NODES}/{a}"), format!("{NODES}/{b2}"));
            let (ba, bb) = (json!({"name": "Alpha", "parentPath": "SyncG/Bravo"}), json!({"name": "Bravo", "parentPath": "SyncG/Alpha"}));
            let (ra, rb) = tokio::join!(app.put(&pa, &admin, &ba), app.put(&pb, &admin, &bb));
            let codes = [ra.status().as_u16(), rb.status().as_u16()];
            assert!(codes.contains(&200) && codes.iter().all(|c| [200, 400, 404].contains(c)), "{codes:?}");
            // Whatever won, both nodes still hang under the account.
            for id in [&a, &b2] {
                let path = node(&app, &admin, id).await["parentPath"].as_str().unwrap().to_owned();
                assert!(path.starts_with("SyncG"), "{path}");
            }
            // Back to the top for the next round.
            for (id, name) in [(&a, "Alpha"), (&b2, "Bravo")] {
                assert_eq!(app.put(&format!("{NODES}/{id}"), &admin, &json!({"name": name, "parentPath": "SyncG"})).await.status(), 200);
            }
        }
    }

    async fn another_accounts_nodes_and_profiles_are_out_of_reach(b: Backend) {
        let app = spawn_app(&b).await;
        let admin = app.admin().await;
        let id = create(&app, &admin, "Pune", "SyncG").await;
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
