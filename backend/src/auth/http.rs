//! Credentials on plain HTTP endpoints (downloads, label files): the bearer token read as
//! `/graphql` reads it, and the refusal shaped like a GraphQL error.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::auth::service::authenticate;
use crate::error::AppError;
use crate::state::AppState;

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(header: Option<&str>) -> Result<Option<&str>, AppError> {
    let Some(value) = header else { return Ok(None) };
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::TokenInvalid(
            "send the Authorization header as `Bearer <token>`",
        ));
    }
    Ok(Some(token.trim()))
}

/// The caller of a plain HTTP endpoint (a download), authenticated as for `/graphql` and
/// holding `permission`; otherwise the response that refuses it.
pub async fn caller(
    state: &AppState,
    req: &HttpRequest,
    permission: crate::tenancy::Permission,
) -> Result<crate::tenancy::Principal, HttpResponse> {
    let token = match bearer(
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(Some(token)) => token,
        Ok(None) => return Err(refuse(AppError::Unauthenticated)),
        Err(err) => return Err(refuse(err)),
    };
    let principal = authenticate(state, token).await.map_err(refuse)?;
    principal.require(permission).map_err(refuse)?;
    Ok(principal)
}

pub fn refuse(err: AppError) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(err.code().http_status())
        .unwrap_or(actix_web::http::StatusCode::UNAUTHORIZED);
    HttpResponse::build(status)
        .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
        .json(err.to_graphql_body())
}
