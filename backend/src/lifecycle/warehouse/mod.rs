//! The warehouse: parcels batched into waves and picked along the bins, then packed with
//! every item scanned, with a packing slip for the box.

pub mod graphql;
pub mod pack;
pub mod picking;
pub mod repo;
pub mod service;
pub mod slip;
