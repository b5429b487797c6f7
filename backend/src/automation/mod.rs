//! Automation rules (across stages), in the manner of Shopify Flow: a trigger, a condition,
//! actions. `expr.rs` is the condition language (parse, type-check, evaluate; pure). Storing,
//! running, dry runs and the actions come with the rest of issue 8.

pub mod expr;
