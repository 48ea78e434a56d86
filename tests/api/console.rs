//! `GET /console`: the web console is served from the binary, small, and refers to
//! nothing outside its own origin (tests/console drives it in a browser).

use crate::helpers::*;

/// Every file the console's first load fetches.
const FILES: [(&str, &str); 6] = [
    ("/console", "text/html; charset=utf-8"),
    ("/console/console.css", "text/css; charset=utf-8"),
    ("/console/app.js", "text/javascript; charset=utf-8"),
    ("/console/dom.js", "text/javascript; charset=utf-8"),
    ("/console/api.js", "text/javascript; charset=utf-8"),
    ("/console/pages.js", "text/javascript; charset=utf-8"),
];

#[tokio::test]
async fn the_console_is_served_from_the_binary_small_and_self_contained() {
    let app = spawn_app(&Backend::Sqlite).await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirect.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 307);
    assert_eq!(res.headers()["location"], "/console");

    let mut total = 0;
    for (path, kind) in FILES {
        let res = app.http.get(app.url(path)).send().await.expect("sent");
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], kind, "{path}");
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        let body = res.text().await.unwrap();
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} names another origin"
        );
        total += body.len();
    }
    // The first load, uncompressed, stays under the budget of 200 KB.
    assert!(total < 200 * 1024, "the first load is {total} bytes");

    // The page knows the mode, and nothing else.
    let page = app
        .http
        .get(app.url("/console"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<meta name="ccadmin-mode" content="demo">"#),
        "{page}"
    );
}
