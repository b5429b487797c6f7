//! The catalog: products and their variants, warehouses, suppliers. Stock itself belongs to
//! the inventory stage ([`crate::lifecycle::inventory`]).

pub mod graphql;
pub mod listing_marks;
pub mod loaders;
pub mod product_repo;
pub mod products;
pub mod supplier_repo;
pub mod suppliers;
pub mod warehouse_repo;
pub mod warehouses;
