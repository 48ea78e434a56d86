//! The published contract: `GET /openapi.json` and a browsable page at `GET /docs`.
//!
//! The document is derived from the code: each handler carries a `#[utoipa::path]`
//! annotation next to its routing, and the bodies it reads and writes derive
//! `ToSchema`. What every operation shares is added here, once, from the same facts the
//! server acts on: the security schemes of [`super::auth`], and the problem answers of
//! [`super::error`] (400 for parameters and bodies, 401/403 for authenticated
//! operations, 404 under a path with ids, 413/415 for bodies, 500 and 503 everywhere).
//! `tests/api/openapi.rs` checks that the document and the routers list the same
//! operations; schemathesis in CI checks that the answers match the document.
//!
//! `/docs` is Swagger UI, whose files are compiled into the binary from
//! `assets/swagger-ui` so that the page works without any network.

use std::sync::LazyLock;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type};

use super::AppState;
use super::error::ApiError;
use crate::domain::account::{PROFILE_ID_PATTERN, UUID_PATTERN};
use crate::domain::ids::SIX_LETTERS;

/// The extension that marks an operation or a field the reference specs do not have.
pub const EXTENSION: &str = "x-ccadmin-extension";

/// The routes of this module, served without authentication.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs_page))
        .route("/docs/swagger-ui-bundle.js", get(docs_script))
        .route("/docs/swagger-ui.css", get(docs_style))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ccadmin: Avaya Experience Platform administration APIs",
        description = "The account, organization, user-profile, voice and authentication \
            operations of the Avaya Experience Platform administration APIs, as ccadmin \
            serves them. Operations and fields that the reference specifications do not \
            have carry `x-ccadmin-extension: true`. Every error answer is an \
            `application/problem+json` body; see docs/errors.md."
    ),
    paths(
        super::health::healthz,
        super::health::readyz,
        super::metrics::scrape,
        openapi_json,
        docs_page,
    ),
    components(schemas(super::error::Problem, crate::domain::Violation)),
    modifiers(&Shared),
)]
struct ApiDoc;

/// The whole document: this module's operations and every API module's.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for part in [
        super::voice::Api::openapi(),
        super::numbers::Api::openapi(),
        super::accounts::Api::openapi(),
        super::clients::Api::openapi(),
        super::auth::Api::openapi(),
        super::org::Api::openapi(),
        super::audit::Api::openapi(),
        super::emulator::Api::openapi(),
        super::events::Api::openapi(),
        super::console::Api::openapi(),
        super::faults::Api::openapi(),
        super::requests::Api::openapi(),
    ] {
        doc.merge(part);
    }
    // The modifier runs again over the merged document: the parts' operations need the
    // shared answers too (it is idempotent).
    utoipa::Modify::modify(&Shared, &mut doc);
    doc
}

/// Built on the first request (not at start-up), then served without copying.
static DOCUMENT: LazyLock<Result<Bytes, String>> = LazyLock::new(|| {
    serde_json::to_vec(&document())
        .map(Bytes::from)
        .map_err(|e| e.to_string())
});

/// The OpenAPI document of this server.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "Operations",
    security(()),
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json", body = Object)),
    extensions(("x-ccadmin-extension" = json!(true)))
)]
async fn openapi_json() -> Result<Response, ApiError> {
    let body = DOCUMENT
        .as_ref()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("the OpenAPI document: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.clone(),
    )
        .into_response())
}

const DOCS_PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ccadmin API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
</script>
</body>
</html>
"##;

/// A browsable page of the document (Swagger UI, served from the binary).
#[utoipa::path(
    get,
    path = "/docs",
    tag = "Operations",
    security(()),
    responses((status = 200, description = "Swagger UI", content_type = "text/html", body = String)),
    extensions(("x-ccadmin-extension" = json!(true)))
)]
async fn docs_page() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        DOCS_PAGE,
    )
        .into_response()
}

async fn docs_script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/swagger-ui/swagger-ui-bundle.js"),
    )
}

async fn docs_style() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/swagger-ui/swagger-ui.css"),
    )
}

fn asset(content_type: &'static str, bytes: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // The files change only with the binary.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// What every operation shares: the security schemes, and the problem answers.
struct Shared;

impl utoipa::Modify for Shared {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "BearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from the token endpoint"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "AppKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "appkey",
                "The application key of the account's client",
            ))),
        );
        components.add_security_scheme(
            "MetricsToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The `--metrics-token`, when the server sets one"))
                    .build(),
            ),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let names = template_names(path);
            for op in operations(item) {
                add_path_parameters(op, &names);
                add_shared(op, !names.is_empty());
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The `{name}`s of a path template, in order.
fn template_names(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

/// Declares each path parameter `op` does not declare itself, as the handlers check it
/// (the same patterns as the violations they answer).
fn add_path_parameters(op: &mut Operation, names: &[&str]) {
    let params = op.parameters.get_or_insert_with(Vec::new);
    for (i, name) in names.iter().enumerate() {
        let declared = params
            .iter()
            .any(|p| p.name == *name && p.parameter_in == ParameterIn::Path);
        if !declared {
            params.insert(i, path_parameter(name));
        }
    }
}

fn path_parameter(name: &str) -> Parameter {
    let (description, pattern, length, example) = match name {
        "accountId" => (
            "The unique 6 character internal id that represents the customer account.",
            SIX_LETTERS,
            Some(6),
            "ABCDEF",
        ),
        "elementId" | "phoneNumberId" => (
            "The unique 36 character internal id (uuid) of the resource.",
            UUID_PATTERN,
            Some(36),
            "c8c2909d-75e9-484a-94c0-b7e8d29771fe",
        ),
        "organizationNodeId" => (
            "The unique 6 character id of the organization node.",
            SIX_LETTERS,
            Some(6),
            "QWERTY",
        ),
        "profileId" => (
            "The 6 character id of the user profile.",
            PROFILE_ID_PATTERN,
            Some(6),
            "N3ZW63",
        ),
        _ => ("", "", None, ""),
    };
    let mut schema = ObjectBuilder::new().schema_type(Type::String);
    if !pattern.is_empty() {
        schema = schema.pattern(Some(pattern)).examples([example]);
    }
    if let Some(n) = length {
        schema = schema.min_length(Some(n)).max_length(Some(n));
    }
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description((!description.is_empty()).then_some(description))
        .schema(Some(schema.build()))
        .build()
}

/// Adds to `op` the security it does not state and the problem answers it can give.
fn add_shared(op: &mut Operation, has_ids: bool) {
    // An operation states `security(())` to be open; otherwise it needs both headers.
    let security = op.security.get_or_insert_with(|| vec![token_and_appkey()]);
    let authenticated = security.contains(&token_and_appkey());
    let has_input =
        op.parameters.as_ref().is_some_and(|p| !p.is_empty()) || op.request_body.is_some();
    let has_body = op.request_body.is_some();
    let answers: [(bool, &str, &str); 8] = [
        (
            has_input,
            "400",
            "The request breaks a rule; `violations` names each field",
        ),
        (authenticated, "401", "No valid token and appkey"),
        (
            authenticated,
            "403",
            "The caller may not act on this account or operation",
        ),
        (
            has_ids && authenticated,
            "404",
            "No such resource in this account",
        ),
        (has_body, "413", "The body is larger than 1 MiB"),
        (has_body, "415", "The body is not JSON"),
        (
            true,
            "500",
            "An unexpected failure; the problem's `instance` is logged",
        ),
        (
            true,
            "503",
            "The database is unavailable (or still being reached at start); retry after `Retry-After` seconds",
        ),
    ];
    for (applies, status, description) in answers {
        if applies && !op.responses.responses.contains_key(status) {
            op.responses
                .responses
                .insert(status.to_owned(), problem(description));
        }
    }
    add_idempotency(op);
}

/// What an operation that takes an `Idempotency-Key` answers besides (extension): the
/// replay header on its successes, 409 while the key runs, 422 for a reused key.
fn add_idempotency(op: &mut Operation) {
    use utoipa::openapi::extensions::ExtensionsBuilder;
    use utoipa::openapi::header::HeaderBuilder;
    let keyed = op.parameters.as_ref().is_some_and(|ps| {
        ps.iter().any(|p| {
            p.name == crate::domain::idempotency::HEADER && p.parameter_in == ParameterIn::Header
        })
    });
    if !keyed {
        return;
    }
    let extension = || {
        Some(
            ExtensionsBuilder::new()
                .add("x-ccadmin-extension", true)
                .build(),
        )
    };
    for (status, response) in op.responses.responses.iter_mut() {
        if let (true, RefOr::T(r)) = (status.starts_with('2'), response) {
            r.headers.insert(
                "Idempotent-Replayed".to_owned(),
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["true"])))
                    .description(Some(
                        "Extension: `true` when this is the kept answer of an earlier request with the same `Idempotency-Key`",
                    ))
                    .build(),
            );
        }
    }
    let answers = [
        (
            "409",
            "The state does not allow it, or (extension) a request with this `Idempotency-Key` is still running on this instance",
        ),
        (
            "422",
            "Extension: this `Idempotency-Key` was used with another request (method, path or body)",
        ),
    ];
    for (status, description) in answers {
        let entry = op
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
        if let RefOr::T(r) = entry {
            if status == "422" {
                r.extensions = extension();
            } else if !r.description.contains("Idempotency-Key") {
                r.description
                    .push_str("; or (extension) a request with this `Idempotency-Key` is still running on this instance");
            }
        }
    }
}

/// What the API operations require: an access token and the client's appkey.
fn token_and_appkey() -> SecurityRequirement {
    SecurityRequirement::new("BearerAuth", Vec::<String>::new()).add("AppKey", Vec::<String>::new())
}

/// A problem answer described by `description`.
pub fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                Content::new(Some(Ref::from_schema_name("Problem"))),
            )
            .build(),
    )
}
