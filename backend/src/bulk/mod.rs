//! Bulk in and out: CSV imports of products and stock (the `import` command), and the CSV
//! export of orders (`GET /exports/orders.csv`).

pub mod export;
pub mod import;
