//! `/graphql` (POST to execute, GET for GraphiQL) and `/graphql/ws` (subscriptions).
//!
//! A bearer credential is checked before the schema runs: a bad one ends the request with
//! 401 and a GraphQL-shaped error carrying its code; no credential runs the request anonymous
//! (guards then refuse what needs one).

use std::sync::Arc;
use std::time::Instant;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::Data;
use async_graphql::http::GraphiQLSource;
use async_graphql_actix_web::{GraphQLRequest, GraphQLSubscription};

use crate::app::AppState;
use crate::auth::service::authenticate;
use crate::error::AppError;
use crate::graphql::context::RequestMeta;
use crate::graphql::{AppSchema, errors};

pub async fn execute(
    state: web::Data<AppState>,
    schema: web::Data<AppSchema>,
    req: HttpRequest,
    gql: GraphQLRequest,
) -> HttpResponse {
    let principal = match bearer(
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(None) => None,
        Ok(Some(token)) => match authenticate(&state, token).await {
            Ok(p) => Some(p),
            Err(err) => return refuse(err),
        },
        Err(err) => return refuse(err),
    };
    let mut request = gql.into_inner().data(RequestMeta {
        client_ip: client_ip(&req, state.config.trust_proxy),
    });
    let operation = operation_kind(&request.query);
    if let Some(principal) = principal {
        request = request.data(principal);
    }
    let started = Instant::now();
    let response = errors::annotate(schema.execute(request).await);
    let outcome = if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    state
        .metrics
        .graphql_requests
        .with_label_values(&[operation, outcome])
        .inc();
    state
        .metrics
        .graphql_duration
        .with_label_values(&[operation])
        .observe(started.elapsed().as_secs_f64());
    HttpResponse::Ok().json(response)
}

pub async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql/ws")
                .title("Orderflow GraphiQL")
                .finish(),
        )
}

/// graphql-transport-ws. The client authenticates in `connection_init`:
/// `{"type":"connection_init","payload":{"Authorization":"Bearer …"}}`.
pub async fn subscriptions(
    state: web::Data<AppState>,
    schema: web::Data<AppSchema>,
    req: HttpRequest,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let state: Arc<AppState> = state.into_inner();
    let schema = AppSchema::clone(&schema);
    GraphQLSubscription::new(schema)
        .on_connection_init(move |init| async move {
            let mut data = Data::default();
            let header = init
                .get("Authorization")
                .or_else(|| init.get("authorization"))
                .and_then(|v| v.as_str());
            if let Some(token) = bearer(header).map_err(async_graphql::Error::from)? {
                let principal = authenticate(&state, token)
                    .await
                    .map_err(async_graphql::Error::from)?;
                data.insert(principal);
            }
            Ok(data)
        })
        .start(&req, payload)
}

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer(header: Option<&str>) -> Result<Option<&str>, AppError> {
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
pub(crate) async fn caller(
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

pub(crate) fn refuse(err: AppError) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(err.code().http_status())
        .unwrap_or(actix_web::http::StatusCode::UNAUTHORIZED);
    HttpResponse::build(status)
        .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
        .json(err.to_graphql_body())
}

fn client_ip(req: &HttpRequest, trust_proxy: bool) -> String {
    let info = req.connection_info();
    let addr = if trust_proxy {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    addr.unwrap_or("unknown").to_owned()
}

/// For metrics only: the operation type from the document's first keyword.
fn operation_kind(query: &str) -> &'static str {
    let head = query.trim_start();
    if head.starts_with("mutation") {
        "mutation"
    } else if head.starts_with("subscription") {
        "subscription"
    } else {
        "query"
    }
}
