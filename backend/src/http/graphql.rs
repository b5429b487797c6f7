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
use async_graphql_actix_web::GraphQLSubscription;

use crate::auth::http::{bearer, refuse};
use crate::auth::service::authenticate;
use crate::error::Code;
use crate::graphql::context::RequestMeta;
use crate::graphql::errors;
use crate::graphql::live::SocketCredential;
use crate::http::limits;
use crate::infra::client_ip;
use crate::schema::AppSchema;
use crate::state::AppState;

/// `POST /graphql`: one request as JSON, its body at most [`limits::GRAPHQL_BODY`] (read by
/// actix under the route's limit, so an oversized one never reaches memory whole).
pub async fn execute(
    state: web::Data<AppState>,
    schema: web::Data<AppSchema>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let gql = match parse_request(&req, &body) {
        Ok(gql) => gql,
        Err(refusal) => return *refusal,
    };
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
    let mut request = gql.data(RequestMeta {
        client_ip: client_ip::of(&req, &state.config),
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

/// The request in the body: JSON only (a multipart upload would be held in memory, and no
/// field takes a file).
fn parse_request(
    req: &HttpRequest,
    body: &[u8],
) -> Result<async_graphql::Request, Box<HttpResponse>> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/") {
        return Err(Box::new(limits::graphql_refusal(
            Code::UnsupportedMediaType,
            "send the request as application/json: /graphql takes no uploads",
        )));
    }
    serde_json::from_slice::<async_graphql::Request>(body).map_err(|e| {
        Box::new(limits::graphql_refusal(
            Code::BadRequest,
            &format!("the body is not a GraphQL request in JSON ({{\"query\": …, \"variables\": …}}): {e}"),
        ))
    })
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
    // Queries and mutations may come over the socket too: they are limited by this address.
    let client_ip = client_ip::of(&req, &state.config);
    GraphQLSubscription::new(schema)
        .on_connection_init(move |init| async move {
            let mut data = Data::default();
            data.insert(RequestMeta { client_ip });
            let header = init
                .get("Authorization")
                .or_else(|| init.get("authorization"))
                .and_then(|v| v.as_str());
            if let Some(token) = bearer(header).map_err(async_graphql::Error::from)? {
                let principal = authenticate(&state, token)
                    .await
                    .map_err(async_graphql::Error::from)?;
                let expires = state.jwt.verify(token).ok().map(|claims| claims.exp);
                data.insert(principal);
                data.insert(SocketCredential::new(token, expires));
            }
            Ok(data)
        })
        .start(&req, capped(payload, MAX_SOCKET_BYTES))
}

/// What a client may send over one subscription socket in all: graphql-transport-ws messages
/// are small, and a socket lives no longer than its access token; without a cap, endless
/// continuation frames would grow one message in memory without end.
const MAX_SOCKET_BYTES: usize = 8 * 1024 * 1024;

/// The socket's byte stream, ended with an error past `limit` bytes.
fn capped(
    payload: web::Payload,
    limit: usize,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> {
    use futures_util::StreamExt;
    let mut seen = 0usize;
    payload.scan(false, move |over, chunk| {
        if *over {
            return std::future::ready(None);
        }
        if let Ok(bytes) = &chunk {
            seen += bytes.len();
            if seen > limit {
                *over = true;
                return std::future::ready(Some(Err(actix_web::error::PayloadError::Overflow)));
            }
        }
        std::future::ready(Some(chunk))
    })
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
