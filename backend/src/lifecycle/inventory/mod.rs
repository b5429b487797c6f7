//! Stage 4, inventory: stock per variant and warehouse, changed only through the movement
//! ledger. available = on hand − reserved, and a reservation never exceeds what is available.

pub mod decide;
pub mod graphql;
pub mod loaders;
pub mod repo;
pub mod service;
