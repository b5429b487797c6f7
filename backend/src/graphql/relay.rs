//! Relay conventions: global object ids and cursor connections.

use async_graphql::ID;
use async_graphql::connection::{Connection, Edge};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::AppError;
use crate::tenancy::repo::{DEFAULT_PAGE, MAX_PAGE};

/// `base64url("Type:uuid")`: opaque to clients, and says what it names.
pub fn global_id(type_name: &str, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}")))
}

/// Reads a global id of `type_name`; `field` names the argument in the error.
pub fn decode_id(id: &str, type_name: &str, field: &str) -> Result<Uuid, AppError> {
    let bad = || AppError::bad_input(field, format!("is not a {type_name} id"));
    let raw = URL_SAFE_NO_PAD.decode(id.trim()).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (kind, uuid) = raw.split_once(':').ok_or_else(bad)?;
    if kind != type_name {
        return Err(bad());
    }
    Uuid::try_parse(uuid).map_err(|_| bad())
}

/// The page size asked for, checked: 0 to 100, 20 when not given.
pub fn page_size(first: Option<i32>) -> Result<u64, AppError> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n < 0 || n as u64 > MAX_PAGE => Err(AppError::bad_input(
            "first",
            format!("must be between 0 and {MAX_PAGE}"),
        )),
        Some(n) => Ok(n as u64),
    }
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("cursor:{id}"))
}

pub fn decode_cursor(cursor: Option<&str>) -> Result<Option<Uuid>, AppError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let bad = || AppError::bad_input("after", "is not a cursor from this connection");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let id = raw.strip_prefix("cursor:").ok_or_else(bad)?;
    Uuid::try_parse(id).map(Some).map_err(|_| bad())
}

/// Builds a forward connection from `rows` fetched with `limit + 1`, so that one extra row
/// tells whether a next page exists.
pub fn connection<T: async_graphql::OutputType>(
    mut rows: Vec<(Uuid, T)>,
    limit: u64,
    has_previous: bool,
) -> Connection<String, T> {
    let has_next = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let mut connection = Connection::new(has_previous, has_next);
    connection.edges.extend(
        rows.into_iter()
            .map(|(id, node)| Edge::new(encode_cursor(id), node)),
    );
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_refuse_other_types() {
        let id = Uuid::now_v7();
        let gid = global_id("ApiKey", id);
        assert_eq!(decode_id(&gid, "ApiKey", "id").unwrap(), id);
        assert!(decode_id(&gid, "User", "id").is_err());
        assert!(decode_id("garbage!", "ApiKey", "id").is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None).unwrap(), 20);
        assert!(page_size(Some(101)).is_err());
        assert!(page_size(Some(-1)).is_err());
    }
}
