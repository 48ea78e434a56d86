//! The one place where errors become HTTP answers: `application/problem+json` bodies
//! in AXP's shape, with the spec's `type` and `title` for each kind of problem.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::GrantError;
use crate::domain::Violation;
use crate::store::StoreError;

/// Where AXP documents its problem types.
const TYPE_BASE: &str = "https://developers.avayacloud.com/onecloud-ccaas/docs/error-handling";

const CONSTRAINT_DETAIL: &str = "A problem that indicates a syntactically correct, yet semantically illegal request. The Server can not process this request until the client resolves the semantic errors described in the violations section.";
const UNAUTHORIZED_DETAIL: &str = "This operation requires authentication. See https://developers.avayacloud.com/onecloud-ccaas/docs/how-to-authenticate-with-ccaas-apis";
const FORBIDDEN_DETAIL: &str = "According to the access control policy the current user and/or accountId does not have permission to access this resource.";
const NOT_FOUND_DETAIL: &str = "Either there is no API method associated with the URL path of the request, or the request refers to one or more resources that were not found.";

/// The seconds a 503 asks a client to wait before trying again: about how long the
/// database watch and the pool take to notice that the database is back.
pub const RETRY_AFTER_UNAVAILABLE: u64 = 2;

/// Result of a handler.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Every kind of answer that is not a success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request breaks the listed rules.
    #[error("constraint violation")]
    Validation {
        violations: Vec<Violation>,
        oauth_error: Option<&'static str>,
    },
    /// 401: no valid credentials. `detail` says which check failed.
    #[error("unauthorized: {detail}")]
    Unauthorized {
        detail: String,
        oauth_error: Option<&'static str>,
    },
    /// 403: the caller may not do this; `violations` names the fields at fault, if any.
    #[error("forbidden")]
    Forbidden {
        detail: Option<String>,
        violations: Vec<Violation>,
    },
    /// 404: no such resource in this account, or no such route.
    #[error("not found: {detail}")]
    NotFound { title: &'static str, detail: String },
    /// 409: conflicts with the current state; `violations` name the fields, if any.
    #[error("conflict: {detail}")]
    Conflict {
        detail: String,
        violations: Vec<Violation>,
    },
    /// 405: the route exists, not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413: the body is larger than the limit.
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    /// 429: too many attempts; try again after `retry_after` seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after: u64 },
    /// 415: the body is not of a media type this operation takes.
    #[error("unsupported media type")]
    UnsupportedMediaType { expected: &'static str },
    /// Emulator mode: the status of an injected fault, answered instead of running the
    /// operation (429 and 503 with `Retry-After`).
    #[error("injected fault {name}: {status}")]
    InjectedFault { status: StatusCode, name: String },
    /// An answer kept for an `Idempotency-Key` (extension): the answer of the request
    /// that first used the key, sent again as it was (`replayed`: with
    /// `Idempotent-Replayed: true`), whatever its status. Not problem+json of its own.
    #[error("kept answer {}", answer.status)]
    Kept {
        answer: crate::domain::idempotency::StoredAnswer,
        replayed: bool,
    },
    /// 422: the `Idempotency-Key` was used with another request (method, path or body).
    #[error("idempotency key reused")]
    KeyReused,
    /// 412: `If-Match` no longer names the resource's current representation.
    #[error("precondition failed")]
    PreconditionFailed,
    /// 304: `If-None-Match` names the current representation; no body.
    #[error("not modified")]
    NotModified { etag: String },
    /// 503: the database cannot serve now (unreachable, out of disk, read-only, no
    /// connection free in time), or the server is still connecting to it. Logged with
    /// its cause, never sent; the answer carries `Retry-After`.
    #[error("unavailable: {0}")]
    Unavailable(#[source] anyhow::Error),
    /// 500: a failure of ours. Logged with its cause, never sent.
    #[error("internal error: {0}")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// 400 with these violations.
    pub fn validation(violations: Vec<Violation>) -> Self {
        ApiError::Validation {
            violations,
            oauth_error: None,
        }
    }

    /// 401 saying what was wrong.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError::Unauthorized {
            detail: detail.into(),
            oauth_error: None,
        }
    }

    /// 403 with the spec's body.
    pub fn forbidden() -> Self {
        ApiError::Forbidden {
            detail: None,
            violations: Vec::new(),
        }
    }

    /// 404 for a resource: `"{what} with {key}:{id} not found."`, as the spec words it.
    pub fn not_found(what: &str, key: &str, id: &str) -> Self {
        ApiError::NotFound {
            title: "Resource Not Found",
            detail: format!("{what} with {key}:{id} not found."),
        }
    }

    /// 500 from any failure; 503 when a storage outage is its cause.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        let e = e.into();
        let outage = e.chain().any(|c| {
            c.downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_unavailable)
        });
        if outage {
            ApiError::Unavailable(e)
        } else {
            ApiError::Internal(e)
        }
    }

    /// The HTTP status of this answer.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::InjectedFault { status, .. } => *status,
            ApiError::Kept { answer, .. } => {
                StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            ApiError::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::NotModified { .. } => StatusCode::NOT_MODIFIED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl From<GrantError> for ApiError {
    fn from(e: GrantError) -> Self {
        let oauth_error = crate::auth::grant::oauth_error(&e);
        match e {
            GrantError::InvalidRequest(violations) => ApiError::Validation {
                violations,
                oauth_error,
            },
            GrantError::UnsupportedGrantType(t) => ApiError::Validation {
                violations: vec![crate::auth::grant::unsupported_grant_violation(&t)],
                oauth_error,
            },
            GrantError::InvalidClient => ApiError::Unauthorized {
                detail: "invalid_client: unknown or revoked client, wrong client secret or wrong appkey".to_owned(),
                oauth_error,
            },
            GrantError::InvalidGrant => ApiError::Unauthorized {
                detail: "invalid_grant: wrong user credentials, or an unknown, expired or already used refresh token".to_owned(),
                oauth_error,
            },
            GrantError::TooManyAttempts(retry_after) => ApiError::TooManyRequests { retry_after },
            GrantError::AccountNotFound => ApiError::NotFound {
                title: "Resource Not Found",
                detail: "The account in the path does not exist.".to_owned(),
            },
            GrantError::Store(e) => e.into(),
            GrantError::Signing(e) => ApiError::internal(e),
        }
    }
}

/// The body of every error answer (RFC 7807 with AXP's `violations`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub(super) struct Problem<'a> {
    /// A URI that identifies the kind of problem.
    #[serde(rename = "type")]
    #[schema(
        example = "https://developers.avayacloud.com/onecloud-ccaas/docs/error-handling#constraint-violation"
    )]
    kind: String,
    #[schema(example = "Constraint Violation")]
    title: &'a str,
    /// The HTTP status code.
    #[schema(example = 400)]
    status: u16,
    detail: String,
    /// This occurrence (`urn:uuid:...`), as the server's log records it.
    instance: String,
    /// The fields at fault, on 400, 403 and 409 answers that name fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Violation>>, nullable = false)]
    violations: Option<&'a [Violation]>,
    /// OAuth2's error code, on token endpoint refusals (extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "invalid_client")]
    error: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            ApiError::Kept { answer, replayed } => return kept_response(answer, replayed),
            ApiError::NotModified { etag } => {
                let mut res = status.into_response();
                if let Ok(v) = HeaderValue::from_str(&etag) {
                    res.headers_mut().insert(header::ETAG, v);
                }
                return res;
            }
            _ => {}
        }
        // The instance id lets a user quote this occurrence; it is logged with the cause.
        let instance = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let (anchor, title, detail, violations, error) = match &self {
            ApiError::Validation {
                violations,
                oauth_error,
            } => (
                "constraint-violation",
                "Constraint Violation",
                CONSTRAINT_DETAIL.to_owned(),
                Some(violations.as_slice()),
                *oauth_error,
            ),
            ApiError::Unauthorized {
                detail,
                oauth_error,
            } => (
                "unauthorized",
                "Unauthorized",
                if oauth_error.is_some() {
                    detail.clone()
                } else {
                    format!("{UNAUTHORIZED_DETAIL} ({detail})")
                },
                None,
                *oauth_error,
            ),
            ApiError::Forbidden { detail, violations } => (
                "forbidden",
                "Forbidden",
                detail
                    .clone()
                    .unwrap_or_else(|| FORBIDDEN_DETAIL.to_owned()),
                (!violations.is_empty()).then_some(violations.as_slice()),
                None,
            ),
            ApiError::NotFound { title, detail } => {
                ("resource-not-found", *title, detail.clone(), None, None)
            }
            ApiError::Conflict { detail, violations } => (
                "conflict",
                "Conflict",
                detail.clone(),
                (!violations.is_empty()).then_some(violations.as_slice()),
                None,
            ),
            ApiError::MethodNotAllowed => (
                "method-not-allowed",
                "Method Not Allowed",
                "The resource does not support this HTTP method.".to_owned(),
                None,
                None,
            ),
            ApiError::PayloadTooLarge { limit } => (
                "payload-too-large",
                "Payload Too Large",
                format!("The request body is larger than the limit of {limit} bytes."),
                None,
                None,
            ),
            ApiError::UnsupportedMediaType { expected } => (
                "unsupported-media-type",
                "Unsupported Media Type",
                format!(
                    "The media-type in Content-type of the request is not supported by the server. Use {expected}."
                ),
                None,
                None,
            ),
            ApiError::TooManyRequests { retry_after } => (
                "too-many-requests",
                "Too Many Requests",
                format!(
                    "Too many failed attempts for this client; try again in {retry_after} seconds."
                ),
                None,
                None,
            ),
            ApiError::InjectedFault { status, name } => (
                "injected-fault",
                status.canonical_reason().unwrap_or("Injected Fault"),
                format!(
                    "Fault '{name}' injected by the emulator (see GET /_ccadmin/faults); the operation did not run."
                ),
                None,
                None,
            ),
            ApiError::KeyReused => (
                "idempotency-key-reused",
                "Unprocessable Content",
                "This Idempotency-Key was used with another request (method, path or body); a key names one request. Use a new key for a new request.".to_owned(),
                None,
                None,
            ),
            ApiError::PreconditionFailed => (
                "precondition-failed",
                "Precondition Failed",
                "If-Match does not name the resource's current ETag: it changed since it was read. Read it again (GET), then retry; nothing was changed.".to_owned(),
                None,
                None,
            ),
            // Answered above; listed so that the match stays exhaustive.
            ApiError::Kept { .. } | ApiError::NotModified { .. } => {
                ("", "", String::new(), None, None)
            }
            ApiError::Unavailable(_) => (
                "service-unavailable",
                "Service Unavailable",
                format!(
                    "The service cannot reach its database right now; try again in {RETRY_AFTER_UNAVAILABLE} seconds."
                ),
                None,
                None,
            ),
            ApiError::Internal(_) => (
                "server-error",
                "Server Error",
                "An internal server error was encountered.".to_owned(),
                None,
                None,
            ),
        };
        match &self {
            ApiError::Internal(e) => tracing::error!(%instance, error = ?e, "request failed"),
            // An outage is the operator's to see, once per request, without a backtrace.
            ApiError::Unavailable(e) => {
                tracing::warn!(%instance, error = %format!("{e:#}"), "request refused: database unavailable")
            }
            _ => tracing::info!(%instance, status = status.as_u16(), %detail, "request refused"),
        }
        let problem = Problem {
            kind: format!("{TYPE_BASE}#{anchor}"),
            title,
            status: status.as_u16(),
            detail,
            instance,
            violations,
            error,
        };
        let mut res = (status, axum::Json(problem)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            ApiError::TooManyRequests { retry_after } => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            ApiError::Unavailable(_) => {
                res.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(RETRY_AFTER_UNAVAILABLE),
                );
            }
            _ => {}
        }
        if let ApiError::InjectedFault { status, .. } = &self
            && matches!(
                *status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            )
        {
            // An injected 429 or 503 says when to retry, as real ones do.
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// The header that marks a kept answer sent again.
pub const REPLAYED: &str = "idempotent-replayed";

/// A kept answer as a response: its status, headers and body as first sent.
fn kept_response(answer: crate::domain::idempotency::StoredAnswer, replayed: bool) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (status, answer.body).into_response();
    for (name, value) in &answer.headers {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            res.headers_mut().insert(n, v);
        }
    }
    if replayed {
        res.headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    res
}

/// 404 for any path no route matches.
pub async fn no_route() -> ApiError {
    ApiError::NotFound {
        title: "Not Found",
        detail: NOT_FOUND_DETAIL.to_owned(),
    }
}

/// 405 for a route that exists with other methods.
pub async fn wrong_method() -> ApiError {
    ApiError::MethodNotAllowed
}

impl From<crate::service::ServiceError> for ApiError {
    fn from(e: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError as S;
        match e {
            S::Invalid(v) => ApiError::validation(v),
            S::Forbidden { detail, violations } => ApiError::Forbidden {
                detail: Some(detail),
                violations,
            },
            S::NotFound { what, key, id } => ApiError::NotFound {
                // The spec's own title for nodes.
                title: if what == "Organization Node" {
                    "OrganizationNode Not Found"
                } else {
                    "Resource Not Found"
                },
                detail: format!("{what} with {key}:{id} not found."),
            },
            S::Conflict { detail, violations } => ApiError::Conflict { detail, violations },
            S::Seen(crate::domain::idempotency::Seen::Replay(answer)) => ApiError::Kept {
                answer,
                replayed: true,
            },
            S::Seen(crate::domain::idempotency::Seen::OtherRequest) => ApiError::KeyReused,
            S::PreconditionFailed => ApiError::PreconditionFailed,
            S::Store(e) => e.into(),
            S::Other(e) => ApiError::internal(e),
        }
    }
}
