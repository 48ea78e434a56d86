//! `ETag`, `If-Match` and `If-None-Match` on single resources (extension, RFC 9110).
//!
//! A resource's entity tag is a hash of its representation as a GET answers it by
//! default (`domain::idempotency::entity_tag`), so it changes with every change a
//! client can see, a job's status change included. GET and PUT answers carry it;
//! `If-None-Match` on a GET answers 304; `If-Match` on a PUT or DELETE is checked
//! after the 404 and before the body (412), and again inside the write's transaction
//! with the resource's row locked ([`IfMatch`]), so that nothing changes when it no
//! longer holds.

use axum::extract::FromRequestParts;
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

use super::error::{ApiError, Result};
use crate::domain::AccountId;
use crate::domain::idempotency::{condition_matches, entity_tag};
use crate::service::ServiceError;
use crate::service::preconditions::Precondition;
use crate::store::Tx;
use crate::store::locks::{self, Resource};

/// The request's `If-Match` and `If-None-Match`, as sent. Never refuses.
pub struct Conditions {
    if_match: Option<String>,
    if_none_match: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Conditions {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let get = |name| {
            parts
                .headers
                .get(name)
                .map(|v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        Ok(Self {
            if_match: get(header::IF_MATCH),
            if_none_match: get(header::IF_NONE_MATCH),
        })
    }
}

/// The bytes a JSON answer sends (what `axum::Json` writes) and their entity tag.
fn representation(value: &impl Serialize) -> Result<(Vec<u8>, String)> {
    let bytes = serde_json::to_vec(value).map_err(ApiError::internal)?;
    let tag = entity_tag(&bytes);
    Ok((bytes, tag))
}

/// A JSON answer with its `ETag`.
pub fn tagged(status: StatusCode, value: &impl Serialize) -> Result<Response> {
    let (bytes, tag) = representation(value)?;
    let mut res = (status, bytes).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, v);
    }
    Ok(res)
}

impl Conditions {
    /// A GET's answer: 304 with the `ETag` and no body when `If-None-Match` names the
    /// current representation (weak comparison), else 200 with it.
    pub fn read(&self, value: &impl Serialize) -> Result<Response> {
        let (bytes, tag) = representation(value)?;
        if let Some(h) = &self.if_none_match
            && condition_matches(h, &tag, true)
        {
            return Err(ApiError::NotModified { etag: tag });
        }
        let mut res = (StatusCode::OK, bytes).into_response();
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(v) = HeaderValue::from_str(&tag) {
            headers.insert(header::ETAG, v);
        }
        Ok(res)
    }

    /// 412 unless `If-Match` (if sent) names `current`, the resource as a GET shows it
    /// now: the check before the body is read. The write checks again ([`IfMatch`]).
    pub fn check(&self, current: &impl Serialize) -> Result<()> {
        let Some(h) = &self.if_match else {
            return Ok(());
        };
        let (_, tag) = representation(current)?;
        if condition_matches(h, &tag, false) {
            Ok(())
        } else {
            Err(ApiError::PreconditionFailed)
        }
    }

    /// The write's own check of `If-Match`, if sent: `current` reads the resource in
    /// the write's transaction.
    pub fn in_write<'a, C: Current>(
        &'a self,
        account: &'a AccountId,
        resource: Resource<'a>,
        current: C,
    ) -> Option<IfMatch<'a, C>> {
        self.if_match.as_deref().map(|header| IfMatch {
            header,
            account,
            resource,
            current,
        })
    }
}

/// How a resource's current representation is read inside a write's transaction
/// (`None`: it is gone, and the write answers its 404).
pub trait Current: Send + Sync {
    fn read<'t>(&'t self, tx: &'t mut Tx) -> BoxFuture<'t, Result<Option<Value>, ServiceError>>;
}

/// `If-Match` checked by the write: the row is locked, read, and compared.
pub struct IfMatch<'a, C> {
    header: &'a str,
    account: &'a AccountId,
    resource: Resource<'a>,
    current: C,
}

impl<C: Current> Precondition for IfMatch<'_, C> {
    fn check<'t>(&'t self, tx: &'t mut Tx) -> BoxFuture<'t, Result<(), ServiceError>> {
        Box::pin(async move {
            locks::lock(tx, self.account, self.resource).await?;
            let Some(value) = self.current.read(tx).await? else {
                return Ok(());
            };
            let bytes = serde_json::to_vec(&value).map_err(|e| ServiceError::Other(e.into()))?;
            if condition_matches(self.header, &entity_tag(&bytes), false) {
                Ok(())
            } else {
                Err(ServiceError::PreconditionFailed)
            }
        })
    }
}

/// The `If-Match` header in the OpenAPI document (extension).
pub struct IfMatchParam;

/// The `If-None-Match` header in the OpenAPI document (extension).
pub struct IfNoneMatchParam;

fn header_param(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::extensions::ExtensionsBuilder;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .examples(["\"3a7bd3e2360a3d29eea436fcfb7e44c7\""])
                .build(),
        ))
        .extensions(Some(
            ExtensionsBuilder::new()
                .add("x-ccadmin-extension", true)
                .build(),
        ))
        .build()
}

impl utoipa::IntoParams for IfMatchParam {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![header_param(
            "If-Match",
            "Extension (RFC 9110): the `ETag` of the resource as last read, or `*`; when \
             it no longer names the current one the answer is 412 and nothing changes. \
             Checked after 404 and before the body.",
        )]
    }
}

impl utoipa::IntoParams for IfNoneMatchParam {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        vec![header_param(
            "If-None-Match",
            "Extension (RFC 9110): `ETag`s already held, or `*`; when one names the \
             current representation the answer is 304 with no body.",
        )]
    }
}
