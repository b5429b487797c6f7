//! One error type for the whole service and one table of stable codes.
//!
//! Stage errors convert into [`AppError`]; [`AppError::code`] is the single exhaustive table
//! that integrators rely on (`extensions.code` in GraphQL). Internal errors log their cause
//! once, where they are turned into a response, and say nothing more than `INTERNAL`.

use async_graphql::ErrorExtensions;

/// Stable, machine-readable error codes. Never rename one: integrators match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    TokenExpired,
    TokenInvalid,
    ApiKeyRevoked,
    RateLimited,
    QueryTooDeep,
    QueryTooComplex,
    GraphqlParseFailed,
    GraphqlValidationFailed,
    /// The body is not a request (not JSON, or not the request's shape).
    BadRequest,
    /// The body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// The body's content type is not one the endpoint reads.
    UnsupportedMediaType,
    ServiceUnavailable,
    Internal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NOT_FOUND",
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::TokenExpired => "TOKEN_EXPIRED",
            Code::TokenInvalid => "TOKEN_INVALID",
            Code::ApiKeyRevoked => "API_KEY_REVOKED",
            Code::RateLimited => "RATE_LIMITED",
            Code::QueryTooDeep => "QUERY_TOO_DEEP",
            Code::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Code::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Code::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Code::BadRequest => "BAD_REQUEST",
            Code::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Code::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Code::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Code::Internal => "INTERNAL",
        }
    }

    /// The HTTP status used when the error ends a request outside GraphQL execution.
    pub fn http_status(self) -> u16 {
        match self {
            Code::Unauthenticated
            | Code::TokenExpired
            | Code::TokenInvalid
            | Code::ApiKeyRevoked => 401,
            Code::Forbidden => 403,
            Code::NotFound => 404,
            Code::BadUserInput
            | Code::QueryTooDeep
            | Code::QueryTooComplex
            | Code::GraphqlParseFailed
            | Code::GraphqlValidationFailed
            | Code::BadRequest => 400,
            Code::PayloadTooLarge => 413,
            Code::UnsupportedMediaType => 415,
            Code::RateLimited => 429,
            Code::ServiceUnavailable => 503,
            Code::Internal => 500,
        }
    }
}

/// A failure that ends an operation. Not `Display` on purpose: every way out (GraphQL, HTTP)
/// goes through [`AppError::public_message`], which never leaks internal detail.
#[derive(Debug)]
pub enum AppError {
    Unauthenticated,
    Forbidden(String),
    NotFound(&'static str),
    BadInput { field: String, message: String },
    TokenExpired,
    TokenInvalid(&'static str),
    ApiKeyRevoked,
    RateLimited { retry_after_secs: u64 },
    Unavailable(&'static str),
    Database(sea_orm::DbErr),
    Internal(anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        AppError::Database(err)
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        AppError::Internal(err)
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn code(&self) -> Code {
        match self {
            AppError::Unauthenticated => Code::Unauthenticated,
            AppError::Forbidden(_) => Code::Forbidden,
            AppError::NotFound(_) => Code::NotFound,
            AppError::BadInput { .. } => Code::BadUserInput,
            AppError::TokenExpired => Code::TokenExpired,
            AppError::TokenInvalid(_) => Code::TokenInvalid,
            AppError::ApiKeyRevoked => Code::ApiKeyRevoked,
            AppError::RateLimited { .. } => Code::RateLimited,
            AppError::Unavailable(_) => Code::ServiceUnavailable,
            AppError::Database(_) | AppError::Internal(_) => Code::Internal,
        }
    }

    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The message shown to a client: internal causes are logged here, never returned.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Database(err) => {
                tracing::error!(error = %err, "database error");
                "internal error".to_owned()
            }
            AppError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "internal error");
                "internal error".to_owned()
            }
            AppError::Unauthenticated => {
                "authentication required: send `Authorization: Bearer <access token or API key>`"
                    .to_owned()
            }
            AppError::Forbidden(message) => message.clone(),
            AppError::NotFound(what) => format!("{what} not found"),
            AppError::BadInput { field, message } => format!("{field}: {message}"),
            AppError::TokenExpired => {
                "the access token has expired: get a new one with refreshToken".to_owned()
            }
            AppError::TokenInvalid(why) => format!("the token is not valid: {why}"),
            AppError::ApiKeyRevoked => "this API key has been revoked".to_owned(),
            AppError::RateLimited { retry_after_secs } => {
                format!("too many attempts: try again in {retry_after_secs} seconds")
            }
            AppError::Unavailable(what) => format!("a dependency is unavailable: {what}"),
        }
    }

    /// A GraphQL-over-HTTP error body, for failures before the schema runs (authentication).
    pub fn to_graphql_body(&self) -> serde_json::Value {
        serde_json::json!({
            "data": null,
            "errors": [{
                "message": self.public_message(),
                "extensions": { "code": self.code().as_str() },
            }],
        })
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        let field = match &err {
            AppError::BadInput { field, .. } => Some(field.clone()),
            _ => None,
        };
        let retry = match &err {
            AppError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        async_graphql::Error::new(err.public_message()).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            if let Some(field) = &field {
                ext.set("field", field.as_str());
            }
            if let Some(retry) = retry {
                ext.set("retryAfterSeconds", retry);
            }
        })
    }
}

impl From<redis::RedisError> for AppError {
    fn from(err: redis::RedisError) -> Self {
        AppError::Internal(anyhow::Error::new(err).context("redis"))
    }
}

/// Why a mutation did not do what was asked, in terms the caller can fix: returned in the
/// payload's `userErrors`, never as a top-level error.
#[derive(Clone, Debug, PartialEq, Eq, async_graphql::SimpleObject)]
pub struct UserError {
    /// Path to the input field at fault, e.g. `["input", "email"]`; empty when no one field is.
    pub field: Vec<String>,
    pub message: String,
    pub code: UserErrorCode,
}

/// Stable codes of [`UserError`]. Never rename one: integrators match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum UserErrorCode {
    Invalid,
    Required,
    InvalidEmail,
    PasswordTooShort,
    PasswordTooLong,
    Taken,
    InvalidCredentials,
    RateLimited,
    NotAMember,
    NotFound,
    Forbidden,
    InvitationExpired,
    InvitationUsed,
    TokenInvalid,
    TokenExpired,
    TokenReused,
    LastOwner,
    ScopeNotAllowed,
    EmailNotSent,
    InsufficientStock,
    /// The order's state does not allow the action.
    IllegalTransition,
    /// The record changed while the action ran; read it again and retry.
    Conflict,
}

impl UserError {
    /// An error on `input.<field>`.
    pub fn on(field: &str, code: UserErrorCode, message: impl Into<String>) -> Self {
        Self {
            field: vec!["input".to_owned(), field.to_owned()],
            message: message.into(),
            code,
        }
    }

    /// An error at a path inside the input, e.g. `["variants", "0", "sku"]`.
    pub fn at(path: &[&str], code: UserErrorCode, message: impl Into<String>) -> Self {
        let mut field = vec!["input".to_owned()];
        field.extend(path.iter().map(|p| (*p).to_owned()));
        Self {
            field,
            message: message.into(),
            code,
        }
    }

    /// An error about the request as a whole.
    pub fn general(code: UserErrorCode, message: impl Into<String>) -> Self {
        Self {
            field: Vec::new(),
            message: message.into(),
            code,
        }
    }
}

/// The failure of a service call: the caller's to fix ([`UserError`]) or ours ([`AppError`]).
#[derive(Debug)]
pub enum Fail {
    User(UserError),
    App(AppError),
}

pub type Outcome<T> = Result<T, Fail>;

impl From<UserError> for Fail {
    fn from(err: UserError) -> Self {
        Fail::User(err)
    }
}

impl<E: Into<AppError>> From<E> for Fail {
    fn from(err: E) -> Self {
        let err: AppError = err.into();
        match err {
            AppError::RateLimited { retry_after_secs } => Fail::User(UserError::general(
                UserErrorCode::RateLimited,
                format!("too many attempts: try again in {retry_after_secs} seconds"),
            )),
            other => Fail::App(other),
        }
    }
}
