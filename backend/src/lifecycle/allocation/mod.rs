//! Stage 4, inventory allocation: stock reserved per line across warehouses, atomically and
//! never beyond what is available; the rest backordered with a supplier's expected date.

pub mod decide;
pub mod loaders;
pub mod repo;
pub mod service;
