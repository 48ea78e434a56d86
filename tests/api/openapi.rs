//! `GET /openapi.json` and `GET /docs`: the published contract lists exactly the
//! operations the routers serve, each with its security and problem answers, and the
//! browsable page works from the binary alone.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::*;

/// The routes that serve the pages' files, and `/`'s redirect to the console; they
/// are not API operations.
const ASSETS: [&str; 8] = [
    "/docs/swagger-ui-bundle.js",
    "/docs/swagger-ui.css",
    "/",
    "/console/console.css",
    "/console/dom.js",
    "/console/api.js",
    "/console/pages.js",
    "/console/app.js",
];

async fn document(app: &TestApp) -> Value {
    let res = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    res.json().await.expect("a JSON document")
}

/// `(METHOD, path, operation)` of every operation of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            out.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

#[tokio::test]
async fn the_document_lists_exactly_the_routed_operations() {
    let app = spawn_app(&Backend::Sqlite).await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );

    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, normalise_template(&p)))
        .collect();
    let routed: BTreeSet<(String, String)> = routed_operations()
        .into_iter()
        .filter(|(_, p)| !ASSETS.contains(&p.as_str()))
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in /openapi.json: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "in /openapi.json but not routed: {unrouted:?}"
    );

    let ids: Vec<String> = operations(&doc)
        .iter()
        .map(|(m, p, op)| {
            op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{m} {p}: no operationId"))
                .to_owned()
        })
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "operationIds repeat: {ids:?}");
}

#[tokio::test]
async fn every_operation_declares_its_security_and_problem_answers() {
    let app = spawn_app(&Backend::Sqlite).await;
    let doc = document(&app).await;
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("securitySchemes");
    assert_eq!(schemes["BearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["AppKey"]["in"], "header");
    assert_eq!(schemes["AppKey"]["name"], "appkey");
    let problem = &doc["components"]["schemas"]["Problem"];
    for field in ["type", "title", "status", "detail", "instance"] {
        assert!(
            problem["required"]
                .as_array()
                .unwrap()
                .contains(&Value::from(field)),
            "{problem}"
        );
    }

    let open = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs",
        "/console",
    ];
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().expect("responses");
        assert!(responses.contains_key("500"), "{method} {path}: no 500");
        assert!(responses.contains_key("503"), "{method} {path}: no 503");
        if open.contains(&path.as_str()) || path.ends_with("/openid-connect/token") {
            continue;
        }
        assert_eq!(
            op["security"][0],
            serde_json::json!({"BearerAuth": [], "AppKey": []}),
            "{method} {path}"
        );
        for status in ["401", "403"] {
            let answer = &responses[status];
            assert_eq!(
                answer["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{method} {path}: {status}"
            );
        }
        if path.contains('{') {
            assert!(
                responses.contains_key("400") && responses.contains_key("404"),
                "{method} {path}"
            );
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: no {status}"
                );
            }
        }
        let path_params: Vec<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let template: Vec<&str> = path
            .split('{')
            .skip(1)
            .map(|r| r.split('}').next().unwrap())
            .collect();
        assert_eq!(path_params, template, "{method} {path}: path parameters");
    }
}

#[tokio::test]
async fn the_docs_page_is_served_from_the_binary_without_authentication() {
    let app = spawn_app(&Backend::Sqlite).await;
    let res = app.http.get(app.url("/docs")).send().await.expect("sent");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    let page = res.text().await.unwrap();
    assert!(
        page.contains(r#"src="/docs/swagger-ui-bundle.js""#),
        "{page}"
    );
    assert!(page.contains(r#"url: "/openapi.json""#), "{page}");
    // Nothing the page loads comes from elsewhere.
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );

    for (path, kind, min_len) in [
        (
            "/docs/swagger-ui-bundle.js",
            "text/javascript; charset=utf-8",
            1_000_000,
        ),
        ("/docs/swagger-ui.css", "text/css; charset=utf-8", 100_000),
    ] {
        let res = app.http.get(app.url(path)).send().await.expect("sent");
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], kind, "{path}");
        let body = res.bytes().await.unwrap();
        assert!(body.len() > min_len, "{path}: {} bytes", body.len());
    }
}

/// Every `pattern` in `value`, with where it is.
fn patterns(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "pattern" && v.is_string() {
                    out.push((at.to_owned(), v.as_str().unwrap().to_owned()));
                } else {
                    patterns(v, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                patterns(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A pattern written into an annotation must be one the code checks with, so that the
/// document and the validation cannot drift apart (`*` as an account is the
/// Administrator's `:getByPhoneNumbers` across accounts).
#[tokio::test]
async fn every_documented_pattern_is_one_the_server_checks() {
    use ccadmin::domain::{account, audit, element, fault, ids, number, org, phone};
    let known = [
        account::NAME_PATTERN,
        account::DOMAIN_PATTERN,
        account::EMAIL_PATTERN,
        account::ADDRESS_NAME_PATTERN,
        account::ZIP_PATTERN,
        account::UUID_PATTERN,
        account::LABEL_PATTERN,
        account::PROFILE_ID_PATTERN,
        element::NAME_PATTERN,
        element::DESCRIPTION_PATTERN,
        ids::SIX_LETTERS,
        number::COUNTRY_PATTERN,
        org::NODE_NAME_PATTERN,
        phone::E164_PATTERN,
        number::ACCOUNT_OR_ANY_PATTERN,
        number::FRAGMENT_PATTERN,
        audit::AUTHOR_PATTERN,
        fault::NAME_PATTERN,
    ];
    let app = spawn_app(&Backend::Sqlite).await;
    let doc = document(&app).await;
    // Body schemas and path parameters; a query parameter's pattern describes its
    // grammar (filter, orderBy), which its parser holds rather than a constant.
    let mut found = Vec::new();
    patterns(
        &doc["components"]["schemas"],
        "/components/schemas",
        &mut found,
    );
    for (method, path, op) in operations(&doc) {
        for p in op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
        {
            patterns(p, &format!("{method} {path} {}", p["name"]), &mut found);
        }
    }
    assert!(found.len() > 10, "{found:?}");
    let unknown: Vec<_> = found
        .iter()
        .filter(|(_, p)| !known.contains(&p.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "patterns no domain constant holds: {unknown:?}"
    );
}
