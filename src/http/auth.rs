//! Who is calling: the bearer token and appkey checks every API call passes, the
//! role and tenancy rules, and the token endpoint.

use std::sync::{Arc, OnceLock};

use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, request::Parts};
use axum::routing::post;
use axum::{Json, Router};

use super::AppState;
use super::error::{ApiError, Problem, Result};
use super::extract::{Body, PathParams};
use super::schemas::TokenForm;
use crate::auth::{ClientFacts, TokenError, TokenResponse, grant::TokenRequest};
use crate::domain::audit::Author;
use crate::domain::{AccountId, Code, Role, Violation};

/// The authenticated caller of an API operation.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account the token was issued in.
    pub account_id: AccountId,
    /// The client the token was issued to.
    pub client_id: String,
    /// The user (password grant) or client the token stands for.
    pub subject: String,
    pub roles: Vec<Role>,
    /// The client's facts, for feature grants.
    pub client: Arc<ClientFacts>,
    /// The caller's IP address, for audit records.
    pub ip: String,
}

impl Caller {
    /// The caller as audit records name it.
    pub fn author(&self) -> Author {
        Author {
            id: self.subject.clone(),
            ip: self.ip.clone(),
        }
    }

    /// True for a platform Administrator.
    pub fn is_administrator(&self) -> bool {
        self.roles.contains(&Role::Administrator)
    }

    /// 403 unless the caller is an Administrator.
    pub fn require_administrator(&self) -> Result<()> {
        if self.is_administrator() {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// 403 unless the caller may act in `account`: an Administrator anywhere, an
    /// Account Administrator in its own account. Decided before any lookup, so the
    /// answer never depends on whether something exists in another account.
    pub fn require_account(&self, account: &AccountId) -> Result<()> {
        if self.is_administrator()
            || (self.roles.contains(&Role::AccountAdministrator) && &self.account_id == account)
        {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// Where the `Caller` extractor leaves the token's client for the journal, so that the
/// token is not verified twice.
#[derive(Clone, Default)]
pub struct ClientSlot(Arc<OnceLock<String>>);

impl ClientSlot {
    /// Sets the client (the first one set stays).
    pub fn set(&self, client: &str) {
        let _ = self.0.set(client.to_owned());
    }

    pub(super) fn get(&self) -> Option<String> {
        self.0.get().cloned()
    }
}

fn bearer(headers: &HeaderMap) -> Result<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header is missing"))?
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ApiError::unauthorized(
            "the Authorization header must be 'Bearer <token>'",
        )),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = bearer(&parts.headers)?;
        let appkey = parts
            .headers
            .get("appkey")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::unauthorized("the appkey header is missing"))?;
        let now = state.clock.now_ms() / 1000;
        let claims = match state.auth.tokens.verify(token, now) {
            Err(TokenError::UnknownKey) if state.auth.tokens.reload(&state.db).await? => {
                state.auth.tokens.verify(token, now)
            }
            other => other,
        }
        .map_err(|e| ApiError::unauthorized(e.to_string()))?;
        let account_id = AccountId::try_from(claims.account_id)
            .map_err(|_| ApiError::unauthorized("the token names no valid account"))?;
        let client = state
            .auth
            .clients
            .get(&state.db, &account_id, &claims.azp)
            .await?
            .ok_or_else(|| ApiError::unauthorized("the token's client is unknown or revoked"))?;
        if !crate::auth::secret::constant_time_eq(appkey, &client.appkey) {
            return Err(ApiError::unauthorized(
                "the appkey does not belong to the token's client",
            ));
        }
        if let Some(slot) = parts.extensions.get::<ClientSlot>() {
            slot.set(&claims.azp);
        }
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| ip_text(c.0.ip()))
            .unwrap_or_default();
        Ok(Caller {
            account_id,
            client_id: claims.azp,
            subject: claims.sub,
            roles: claims.roles,
            client,
            ip,
        })
    }
}

/// An address as audit records show it: IPv4 where it is one (IPv4-mapped and the
/// IPv6 loopback included), else the IPv6 text.
fn ip_text(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) if v6.is_loopback() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
    }
}

/// The token endpoint's routes.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/auth/v1/{accountId}/protocol/openid-connect/token",
        post(issue_token),
    )
}

/// Generate an access token
///
/// The `client_credentials`, `password` and `refresh_token` grants, form-encoded. Every
/// grant authenticates the client (`client_id`, `client_secret` and its own `appkey`
/// header) and returns a new refresh token; refresh tokens are single use. Five failed
/// client authentications for one client within 5 minutes pause its logins: 1 s, then
/// doubling with each further failure up to 60 s (429).
#[utoipa::path(post, path = "/api/auth/v1/{accountId}/protocol/openid-connect/token",
    operation_id = "postGenerateToken", tag = "Access Token",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("AppKey" = [])),
    responses(
        (status = 200, description = "The tokens", body = TokenResponse),
        (status = 400, description = "The request breaks a rule; `violations` names each \
            field. `error` is `invalid_request` for a missing or empty form field, \
            `unsupported_grant_type` for another `grant_type`",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`error` `invalid_client`: unknown or revoked client, \
            wrong secret, missing or wrong `appkey`; or `invalid_grant`: wrong user \
            credentials, or an unknown, expired or used refresh token",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The account in the path does not exist",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/x-www-form-urlencoded`",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed client authentications for this \
            client lately (extension)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the client may try again"))),
    ))]
#[tracing::instrument(skip_all, fields(account_id = %params.raw("accountId")))]
async fn issue_token(
    State(state): State<AppState>,
    params: PathParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<TokenResponse>> {
    let account = params.account_id()?;
    let form = body.form()?;
    let req = TokenRequest::parse(&form)?;
    let appkey = headers.get("appkey").and_then(|v| v.to_str().ok());
    let tokens = state
        .auth
        .issue(&state.db, &account, appkey, req, state.clock.now_ms())
        .await?;
    Ok(Json(tokens))
}

/// A violation for a role name that is not one of ours.
pub fn unknown_role(field: String, name: &str) -> Violation {
    Violation::new(
        field,
        Code::InvalidValue,
        format!(
            "unknown role '{name}'; must be one of {}",
            Role::ALL.map(Role::as_str).join(", ")
        ),
    )
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(issue_token))]
pub struct Api;
