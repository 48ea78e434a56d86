//! The web console: `GET /console` and its files, compiled into the binary from
//! `assets/console` (plain ES modules and one style sheet, no build step), so that it
//! works without any network. `GET /` redirects to it.
//!
//! The console is a client of the public API like any other: it signs in at the token
//! endpoint, calls the API with the signed-in client's rights, and follows
//! `GET …/accounts/{accountId}/events` ([`super::events`]). The page itself holds no
//! data; it only learns the server's mode, to offer the emulator's pages and to say
//! where the demo credentials are.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::AppState;

/// The routes of this module, served without authentication.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/console", get(console_page))
        .route("/console/console.css", get(style))
        .route("/console/dom.js", get(dom_module))
        .route("/console/api.js", get(api_module))
        .route("/console/pages.js", get(pages_module))
        .route("/console/app.js", get(app_module))
}

/// Only this origin: the console loads and calls nothing else.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'none'";

/// `/` has nothing of its own: the console.
async fn root() -> Redirect {
    Redirect::temporary("/console")
}

/// The console's page: the mode goes into a `<meta>` element for the scripts.
#[utoipa::path(
    get,
    path = "/console",
    tag = "Operations",
    security(()),
    responses((status = 200, description = "The web console", content_type = "text/html", body = String)),
    extensions(("x-ccadmin-extension" = json!(true)))
)]
async fn console_page(State(state): State<AppState>) -> Response {
    let mode = match (state.demo, state.emulator) {
        (true, _) => "demo",
        (false, true) => "emulator",
        (false, false) => "standard",
    };
    let page = include_str!("../../assets/console/index.html").replace("{{MODE}}", mode);
    file("text/html; charset=utf-8", page.into_bytes().into())
}

async fn style() -> Response {
    file(
        "text/css; charset=utf-8",
        include_bytes!("../../assets/console/console.css")
            .as_slice()
            .into(),
    )
}

async fn dom_module() -> Response {
    script(include_bytes!("../../assets/console/dom.js"))
}

async fn api_module() -> Response {
    script(include_bytes!("../../assets/console/api.js"))
}

async fn pages_module() -> Response {
    script(include_bytes!("../../assets/console/pages.js"))
}

async fn app_module() -> Response {
    script(include_bytes!("../../assets/console/app.js"))
}

fn script(bytes: &'static [u8]) -> Response {
    file("text/javascript; charset=utf-8", bytes.into())
}

fn file(content_type: &'static str, body: axum::body::Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // The files change with the binary: the browser asks again each time.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

/// The page's operation, for the document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(console_page))]
pub struct Api;
