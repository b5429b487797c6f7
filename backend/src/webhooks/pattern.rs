//! Which events a subscription wants: `*`, a family (`order.*`, `return.*`) or one kind
//! (`order.shipped`). Pure.

/// Why a pattern is refused.
pub fn check(pattern: &str) -> Result<(), String> {
    let p = pattern.trim();
    if p == "*" {
        return Ok(());
    }
    let body = p.strip_suffix(".*").unwrap_or(p);
    let ok = !body.is_empty()
        && body.len() <= 80
        && body.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{pattern}\" is not an event pattern: use *, a family such as order.* or a kind such as order.shipped"
        ))
    }
}

/// Whether `kind` is one of `patterns`.
pub fn matches(patterns: &[String], kind: &str) -> bool {
    patterns.iter().any(|p| {
        let p = p.trim();
        p == "*"
            || p == kind
            || p.strip_suffix(".*").is_some_and(|family| {
                kind.strip_prefix(family)
                    .is_some_and(|r| r.starts_with('.'))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_kinds_and_everything() {
        let p = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(matches(&p(&["*"]), "order.shipped"));
        assert!(matches(&p(&["order.*"]), "order.shipped"));
        assert!(!matches(&p(&["order.*"]), "orders.shipped"));
        assert!(!matches(&p(&["order.*"]), "return.approved"));
        assert!(matches(&p(&["return.approved"]), "return.approved"));
        assert!(!matches(&p(&["return.approved"]), "return.approved_later"));
        assert!(check("order.*").is_ok() && check("refund.issued").is_ok() && check("*").is_ok());
        assert!(
            check("Order.Shipped").is_err() && check("order..x").is_err() && check("").is_err()
        );
    }
}
