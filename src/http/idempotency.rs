//! `Idempotency-Key` on the writes that create or start work (extension): the header's
//! checks, the replay decided before anything else about the request, this instance's
//! keys in flight, and the refusals an operation decided, kept for the key.
//!
//! The write itself reserves the key and stores its answer in its own transaction
//! (`service::idempotency`); this module only decides what happens around it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Result};
use crate::domain::idempotency::{
    HEADER, IdempotencyKey, KeyScope, KeyedRequest, StoredAnswer, fingerprint,
};
use crate::service::ServiceError;
use crate::service::idempotency::{self as keys, Keyed, Render};
use crate::store::Tx;

/// The most bytes of a refusal's body kept (problem bodies are far smaller).
const KEPT_BODY_LIMIT: usize = 64 * 1024;

/// What a keyed request is: the raw header, its method and its path with the query.
/// Never refuses; [`begin`] checks the key after authentication.
pub struct KeyHeader {
    key: Option<Vec<u8>>,
    method: String,
    path_and_query: String,
}

impl<S: Send + Sync> FromRequestParts<S> for KeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            key: parts.headers.get(HEADER).map(|v| v.as_bytes().to_vec()),
            method: parts.method.as_str().to_owned(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        })
    }
}

/// The header in the OpenAPI document (extension).
impl utoipa::IntoParams for KeyHeader {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::extensions::ExtensionsBuilder;
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        vec![
            ParameterBuilder::new()
                .name(HEADER)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Extension: names this request so that a retry does not do it twice. \
                     1-255 printable ASCII characters, scoped to the calling client and \
                     this operation, kept 24 hours. The same key with the same request \
                     answers the first answer again (header `Idempotent-Replayed: true`); \
                     with another body 422; while the first still runs 409. See \
                     docs/compatibility.md.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(crate::domain::idempotency::KEY_MAX_LEN))
                        .pattern(Some("^[\\x20-\\x7E]+$"))
                        .examples(["3f1c2b9e-7a44-4f0e-9d55-2b8c1e6a0f17"])
                        .build(),
                ))
                .extensions(Some(
                    ExtensionsBuilder::new()
                        .add("x-ccadmin-extension", true)
                        .build(),
                ))
                .build(),
        ]
    }
}

/// The keys this instance is running requests for: a second request with one of them
/// is 409 at once (on another instance it waits for the first's outcome instead).
#[derive(Default)]
pub struct InFlight(Mutex<HashSet<KeyScope>>);

/// A key held in [`InFlight`] until the request ends.
struct Slot {
    set: Arc<InFlight>,
    scope: KeyScope,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut set) = self.set.0.lock() {
            set.remove(&self.scope);
        }
    }
}

/// A request whose key (if any) is checked and free: it may run.
pub struct Started {
    request: Option<KeyedRequest>,
    sent: Mutex<Option<StoredAnswer>>,
    _slot: Option<Slot>,
}

/// The checks of a keyed write that come right after authentication: the key's form
/// (400 naming the header), an answer kept for it (sent again, or 422 for another
/// request), and the same key running on this instance (409).
pub async fn begin(
    state: &AppState,
    caller: &Caller,
    head: &KeyHeader,
    operation: &'static str,
    body: &[u8],
) -> Result<Started> {
    let unkeyed = Started {
        request: None,
        sent: Mutex::new(None),
        _slot: None,
    };
    let Some(raw) = &head.key else {
        return Ok(unkeyed);
    };
    let key = IdempotencyKey::parse(raw).map_err(|v| ApiError::validation(vec![v]))?;
    let request = KeyedRequest {
        scope: KeyScope {
            account_id: caller.account_id.to_string(),
            client_id: caller.client_id.clone(),
            operation,
            key,
        },
        fingerprint: fingerprint(&head.method, &head.path_and_query, body),
    };
    if let Some(seen) = keys::seen(&state.db, &request).await? {
        return Err(ServiceError::Seen(seen).into());
    }
    let set = state.idempotency.clone();
    let fresh = set
        .0
        .lock()
        .map(|mut s| s.insert(request.scope.clone()))
        .unwrap_or(false);
    if !fresh {
        return Err(ApiError::Conflict {
            detail: format!(
                "A request with this {HEADER} is still running; retry when it has answered."
            ),
            violations: Vec::new(),
        });
    }
    let scope = request.scope.clone();
    Ok(Started {
        request: Some(request),
        sent: Mutex::new(None),
        _slot: Some(Slot { set, scope }),
    })
}

impl Started {
    /// What the write needs to reserve the key and keep its answer, if keyed.
    pub fn keyed<'a, T>(&'a self, render: &'a dyn Render<T>) -> Option<Keyed<'a, T>> {
        self.request.as_ref().map(|request| Keyed {
            request,
            render,
            sent: &self.sent,
        })
    }

    /// The write's result: a refusal the operation decided (400, 403, 404, 409) is
    /// kept for the key, so a retry gets it again; an outage or a failure of ours keeps
    /// nothing, so a retry runs again.
    pub async fn settle<T>(
        &self,
        state: &AppState,
        result: std::result::Result<T, ServiceError>,
    ) -> Result<T> {
        let e = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let decided = matches!(
            e,
            ServiceError::Invalid(_)
                | ServiceError::Forbidden { .. }
                | ServiceError::NotFound { .. }
                | ServiceError::Conflict { .. }
        );
        let Some(request) = self.request.as_ref().filter(|_| decided) else {
            return Err(e.into());
        };
        let answer = answer_of(ApiError::from(e).into_response()).await?;
        match keys::record_refusal(&state.db, request, &answer).await? {
            None => Err(ApiError::Kept {
                answer,
                replayed: false,
            }),
            Some(seen) => Err(ServiceError::Seen(seen).into()),
        }
    }

    /// The answer the write stored for its key, to send as it was stored.
    pub fn sent(&self) -> Option<Response> {
        let answer = self.sent.lock().ok()?.take()?;
        Some(
            ApiError::Kept {
                answer,
                replayed: false,
            }
            .into_response(),
        )
    }
}

/// A rendered response as a kept answer.
async fn answer_of(res: Response) -> Result<StoredAnswer> {
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .filter(|(n, _)| [header::CONTENT_TYPE, header::LOCATION, header::ETAG].contains(n))
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let bytes = axum::body::to_bytes(res.into_body(), KEPT_BODY_LIMIT)
        .await
        .map_err(ApiError::internal)?;
    Ok(StoredAnswer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// A JSON answer with a fixed status, rendered from the write's result without reads.
pub struct JsonAnswer<F> {
    pub status: axum::http::StatusCode,
    pub body: F,
}

impl<T: Sync, F> Render<T> for JsonAnswer<F>
where
    F: Fn(&T) -> Result<serde_json::Value> + Send + Sync,
{
    fn render<'t>(
        &'t self,
        _: &'t mut Tx,
        value: &'t T,
    ) -> BoxFuture<'t, std::result::Result<StoredAnswer, ServiceError>> {
        Box::pin(async move { json_answer(self.status, (self.body)(value)) })
    }
}

/// An answer that failed while rendered inside a write, for the write's error: an
/// outage stays one (503 after the rollback), anything else is a failure of ours.
pub fn service_error(e: ApiError) -> ServiceError {
    match e {
        ApiError::Unavailable(e) | ApiError::Internal(e) => ServiceError::Other(e),
        other => ServiceError::Other(anyhow::anyhow!("{other}")),
    }
}

/// A status and JSON body as a kept answer.
pub fn json_answer(
    status: axum::http::StatusCode,
    body: Result<serde_json::Value>,
) -> std::result::Result<StoredAnswer, ServiceError> {
    let body = body.map_err(service_error)?;
    Ok(StoredAnswer {
        status: status.as_u16(),
        headers: vec![(
            header::CONTENT_TYPE.as_str().to_owned(),
            "application/json".to_owned(),
        )],
        body: serde_json::to_string(&body).map_err(|e| ServiceError::Other(e.into()))?,
    })
}
