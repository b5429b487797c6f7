//! Stable `extensions.code` on every error, including those async-graphql raises itself
//! (parse, validation, depth and complexity limits), which carry none of their own.

use async_graphql::{Response, ServerError};

use crate::error::Code;

/// Adds a code to each error that lacks one.
pub fn annotate(mut response: Response) -> Response {
    for error in &mut response.errors {
        annotate_error(error);
    }
    response
}

pub fn annotate_error(error: &mut ServerError) {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|ext| ext.get("code").is_some());
    if has_code {
        return;
    }
    let code = classify(&error.message);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
}

fn classify(message: &str) -> Code {
    if message.starts_with("Query is nested too deep") {
        Code::QueryTooDeep
    } else if message.starts_with("Query is too complex") {
        Code::QueryTooComplex
    } else if message.starts_with(" --> ")
        || message.contains("expected ") && message.contains("-->")
    {
        Code::GraphqlParseFailed
    } else if message.starts_with("Invalid value for argument")
        || message.starts_with("Failed to parse")
    {
        Code::BadUserInput
    } else if message.starts_with("Internal server error") || message.starts_with("internal error")
    {
        Code::Internal
    } else {
        Code::GraphqlValidationFailed
    }
}

use crate::error::{Fail, Outcome, UserError};

/// Splits a service outcome for a mutation payload: the caller's mistakes become
/// `userErrors`, ours become a top-level error with its code.
pub fn payload<T>(outcome: Outcome<T>) -> async_graphql::Result<(Option<T>, Vec<UserError>)> {
    match outcome {
        Ok(value) => Ok((Some(value), Vec::new())),
        Err(Fail::User(err)) => Ok((None, vec![err])),
        Err(Fail::App(err)) => Err(err.into()),
    }
}

/// Whether a remote account (a carrier's, a processor's) answers with its key, in the
/// provider's own words when it does not.
#[derive(async_graphql::SimpleObject)]
pub struct ConnectionTest {
    pub ok: bool,
    pub message: String,
}
