//! Every request body has a limit. Over it the answer is 413 with a coded JSON body, in the
//! GraphQL error shape on `/graphql` and as `{ code, field, message }` elsewhere, before the
//! body has been read to its end (a declared length over the limit is refused at once).

use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::Code;

/// `/graphql`: a query with its variables (uploads are not accepted).
pub const GRAPHQL_BODY: usize = 2 * 1024 * 1024;
/// The shopper pages' forms (a return request, a review, an unsubscribe).
pub const FORM_BODY: usize = 16 * 1024;
/// Any other body read without a limit of its own.
pub const DEFAULT_BODY: usize = 64 * 1024;

/// The app-wide defaults; a route with a larger need sets its own.
pub fn defaults(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(DEFAULT_BODY))
        .app_data(web::FormConfig::default().limit(FORM_BODY));
}

/// The coded body of a 413 (kept as is when a handler already wrote a JSON one).
pub fn too_large<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let message = "the request body is larger than this endpoint accepts";
    let code = Code::PayloadTooLarge;
    let response = if res.request().path() == "/graphql" {
        graphql_refusal(
            code,
            &format!("{message} ({} MiB)", GRAPHQL_BODY / (1024 * 1024)),
        )
    } else {
        HttpResponse::PayloadTooLarge()
            .json(json!({ "code": code.as_str(), "field": "body", "message": message }))
    };
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}

/// A refusal in the GraphQL error shape, for failures before the schema runs; the status is
/// the code's.
pub fn graphql_refusal(code: Code, message: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(code.http_status())
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status).json(json!({
        "data": null,
        "errors": [{ "message": message, "extensions": { "code": code.as_str() } }],
    }))
}
