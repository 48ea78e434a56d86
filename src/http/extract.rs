//! Extractors that reject with [`ApiError`], so that bad input of every kind gets a
//! problem body naming the field.
//!
//! Bodies are read by the extractor but parsed by the handler ([`Body::json`]) after
//! the authorisation checks, so answers follow the documented order: 401, 400 (path),
//! 403, 404, 400 (body), 403 (body-dependent), 409.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{header, request::Parts};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::{AccountId, Code, Violation};

/// The body limit, also stated in the 413 answer and in the docs.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A request body, read but not yet parsed.
pub struct Body {
    content_type: Option<String>,
    bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
                ApiError::PayloadTooLarge { limit: BODY_LIMIT }
            }
            other => ApiError::validation(vec![Violation::new(
                "body",
                Code::InvalidType,
                format!("the body could not be read: {}", other.body_text()),
            )]),
        })?;
        Ok(Self {
            content_type,
            bytes,
        })
    }
}

/// 415 unless `content_type` is JSON (`application/json` or `application/…+json`).
pub(crate) fn check_json_type(content_type: Option<&str>) -> Result<(), ApiError> {
    match media_type(content_type).as_deref() {
        Some("application/json") => Ok(()),
        Some(t) if t.starts_with("application/") && t.ends_with("+json") => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType {
            expected: "application/json",
        }),
    }
}

fn media_type(content_type: Option<&str>) -> Option<String> {
    content_type.map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
}

impl Body {
    /// The bytes as received (an `Idempotency-Key`'s fingerprint covers them).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Parses the body as a JSON object into `T`: 415 unless the content type is JSON,
    /// 400 with the failing field's path when the JSON is malformed or of the wrong
    /// shape. The object check matters: serde's derived structs would otherwise accept
    /// an array as positional fields.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        self.check_json_type()?;
        if self.bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::validation(vec![Violation::new(
                "body",
                Code::Required,
                "must not be empty",
            )]));
        }
        if self.bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::validation(vec![Violation::new(
                "body",
                Code::InvalidType,
                "must be a JSON object",
            )]));
        }
        let value = parse_value(&self.bytes)?;
        serde_path_to_error::deserialize(value).map_err(json_violation)
    }

    /// Parses the body as a bare JSON array (the voice spec's batch requests).
    pub fn json_array<T: DeserializeOwned>(&self) -> Result<Vec<T>, ApiError> {
        self.check_json_type()?;
        if self.bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'[') {
            return Err(ApiError::validation(vec![Violation::new(
                "body",
                Code::InvalidType,
                "must be a JSON array",
            )]));
        }
        let value = parse_value(&self.bytes)?;
        serde_path_to_error::deserialize(value).map_err(json_violation)
    }

    /// Like [`Body::json`], but an empty body (with any content type) is `T::default()`.
    pub fn json_or_default<T: DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.bytes.iter().all(u8::is_ascii_whitespace) {
            Ok(T::default())
        } else {
            self.json()
        }
    }

    fn check_json_type(&self) -> Result<(), ApiError> {
        check_json_type(self.content_type.as_deref())
    }

    /// Parses an `application/x-www-form-urlencoded` body into its fields.
    pub fn form(&self) -> Result<HashMap<String, String>, ApiError> {
        if media_type(self.content_type.as_deref()).as_deref()
            != Some("application/x-www-form-urlencoded")
        {
            return Err(ApiError::UnsupportedMediaType {
                expected: "application/x-www-form-urlencoded",
            });
        }
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&self.bytes)
            .map_err(|e| {
                ApiError::validation(vec![Violation::new(
                    "body",
                    Code::InvalidType,
                    e.to_string(),
                )])
            })
            .and_then(|pairs| {
                match pairs
                    .iter()
                    .find(|(k, v)| k.contains('\0') || v.contains('\0'))
                {
                    Some((k, _)) => Err(nul_violation(k)),
                    None => Ok(pairs.into_iter().collect()),
                }
            })
    }
}

/// Parses a whole JSON document before any field is read: text after it, invalid UTF-8
/// and nesting deeper than serde_json's limit (128) are refused even inside members the
/// target type ignores, and so is NUL in any string (PostgreSQL cannot store it).
fn parse_value(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::validation(vec![Violation::new(
            "body",
            Code::InvalidType,
            format!("malformed JSON: {e}"),
        )])
    })?;
    if let Some(path) = nul_path(&value, String::new()) {
        return Err(nul_violation(&path));
    }
    Ok(value)
}

/// The answer to a NUL character in `field` (a JSON path, a parameter name).
fn nul_violation(field: &str) -> ApiError {
    ApiError::validation(vec![Violation::new(
        if field.is_empty() { "body" } else { field },
        Code::InvalidValue,
        "must not contain the NUL character",
    )])
}

/// The path of the first string (or member name) in `v` that contains NUL.
fn nul_path(v: &serde_json::Value, path: String) -> Option<String> {
    match v {
        serde_json::Value::String(s) if s.contains('\0') => Some(path),
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_path(x, format!("{path}[{i}]"))),
        serde_json::Value::Object(m) => m.iter().find_map(|(k, x)| {
            if k.contains('\0') {
                return Some(path.clone());
            }
            nul_path(
                x,
                if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                },
            )
        }),
        _ => None,
    }
}

fn json_violation(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = e.inner();
    let (field, message) = if inner.is_syntax() || inner.is_eof() {
        ("body".to_owned(), format!("malformed JSON: {inner}"))
    } else {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        // serde's message ends with " at line L column C"; the field path says where.
        let msg = inner.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        (field, msg)
    };
    ApiError::validation(vec![Violation::new(field, Code::InvalidType, message)])
}

/// The query string's parameters. Each endpoint validates the ones it takes; a query
/// string that is not valid `application/x-www-form-urlencoded` is a 400.
pub struct QueryParams {
    pairs: Vec<(String, String)>,
    raw: String,
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or_default().to_owned();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&raw).map_err(|e| {
            ApiError::validation(vec![Violation::new(
                "query",
                Code::InvalidType,
                e.to_string(),
            )])
        })?;
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(nul_violation(k));
        }
        Ok(Self { pairs, raw })
    }
}

impl QueryParams {
    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every parameter, in request order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The raw query string.
    pub fn raw(&self) -> &str {
        &self.raw
    }
}

/// The path's parameters, validated by the handler after authentication.
pub struct PathParams(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for PathParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(map) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::validation(vec![Violation::new(
                    "path",
                    Code::InvalidType,
                    e.body_text(),
                )])
            })?;
        if let Some((k, _)) = map.iter().find(|(_, v)| v.contains('\0')) {
            return Err(nul_violation(k));
        }
        Ok(Self(map))
    }
}

impl PathParams {
    /// The `{accountId}` parameter, which must be six letters.
    pub fn account_id(&self) -> Result<AccountId, ApiError> {
        let raw = self.raw("accountId");
        AccountId::parse_field("accountId", raw).map_err(|v| ApiError::validation(vec![v]))
    }

    /// A parameter as given.
    pub fn raw(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or_default()
    }
}

/// The raw `Prefer` header; what it means is decided by [`super::AppState::provisioning`]
/// after the body is checked.
pub struct PreferHeader(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for PreferHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.headers.get("prefer").map(|v| {
            String::from_utf8_lossy(v.as_bytes()).into_owned()
        })))
    }
}

/// The header in the OpenAPI document: an extension, honoured in emulator mode only.
impl utoipa::IntoParams for PreferHeader {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        vec![
            ParameterBuilder::new()
                .name("Prefer")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Extension, emulator mode only (ignored otherwise): how the work this \
                     request starts ends, e.g. `outcome=FAILED, delay=5s, retries=2`; a \
                     malformed value or an outcome this operation cannot have is 400. See \
                     docs/emulator.md.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .examples(["outcome=FAILED, delay=5s"])
                        .build(),
                ))
                .build(),
        ]
    }
}

impl PreferHeader {
    /// The header's value, if sent.
    pub fn raw(&self) -> Option<&str> {
        self.0.as_deref()
    }
}
