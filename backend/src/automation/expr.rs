//! The condition language of automation rules: a typed expression over the facts of an event
//! (its order, customer, lines and scores), with `and`, `or`, `not`, comparisons, set
//! membership and `contains`. Pure: parsed and type-checked when a rule is saved (errors give
//! the column and say what was expected), evaluated against facts when it runs.
//!
//! ```text
//! fraud.score > 70 and order.total > 500
//! order.channel in ["shopify", "etsy"] and not (order.tags contains "vip")
//! shipping.country != "US" or lines.count >= 10
//! ```

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;

/// A value's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Number,
    Text,
    Bool,
    /// A list of texts (tags, SKUs).
    TextList,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Number => "a number",
            Type::Text => "text",
            Type::Bool => "true or false",
            Type::TextList => "a list of texts",
        })
    }
}

/// A value of the facts.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(Decimal),
    Text(String),
    Bool(bool),
    TextList(Vec<String>),
    /// Unknown for this event (no customer, not yet scored): every comparison with it is
    /// false, so a rule never acts on what it cannot see.
    Missing,
}

/// The fields a trigger offers, with their types.
pub type Schema = BTreeMap<&'static str, Type>;

/// The facts of one event.
pub type Facts = BTreeMap<&'static str, Value>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A field and the column it starts at.
    Field(String, usize),
    Number(Decimal),
    Text(String),
    Bool(bool),
    List(Vec<String>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Cmp, Box<Expr>, Box<Expr>),
    /// `x in [..]`, or `not in` when negated.
    In(Box<Expr>, Vec<String>, bool),
    Contains(Box<Expr>, Box<Expr>),
}

/// What is wrong, and where (1-based column).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct Invalid {
    pub column: usize,
    pub message: String,
}

fn invalid(column: usize, message: impl Into<String>) -> Invalid {
    Invalid {
        column,
        message: message.into(),
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Number(Decimal),
    Text(String),
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, Invalid> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '.'))
            {
                i += 1;
            }
            out.push((col, Tok::Ident(chars[start..i].iter().collect())));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let n = text
                .parse::<Decimal>()
                .map_err(|_| invalid(col, format!("{text} is not a number")))?;
            out.push((col, Tok::Number(n)));
        } else if c == '"' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(invalid(col, "this text has no closing \"")),
                    Some('"') => break,
                    Some('\\') if chars.get(i + 1).is_some() => {
                        text.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(ch) => {
                        text.push(*ch);
                        i += 1;
                    }
                }
            }
            i += 1;
            out.push((col, Tok::Text(text)));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let (tok, len) = match (c, two.as_str()) {
                (_, "<=") => (Tok::Op("<="), 2),
                (_, ">=") => (Tok::Op(">="), 2),
                (_, "!=") => (Tok::Op("!="), 2),
                (_, "==") => (Tok::Op("="), 2),
                ('=', _) => (Tok::Op("="), 1),
                ('<', _) => (Tok::Op("<"), 1),
                ('>', _) => (Tok::Op(">"), 1),
                ('(', _) => (Tok::LParen, 1),
                (')', _) => (Tok::RParen, 1),
                ('[', _) => (Tok::LBracket, 1),
                (']', _) => (Tok::RBracket, 1),
                (',', _) => (Tok::Comma, 1),
                _ => return Err(invalid(col, format!("unexpected \"{c}\""))),
            };
            out.push((col, tok));
            i += len;
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
    /// Nesting so far: bounded, so no condition can exhaust the stack.
    depth: usize,
}

/// Deepest nesting of parentheses and `not` a condition may have.
const MAX_DEPTH: usize = 32;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }

    fn col(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |(c, _)| *c)
    }

    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(i)) if i.eq_ignore_ascii_case(w))
    }

    fn or(&mut self) -> Result<Expr, Invalid> {
        let mut left = self.and()?;
        while self.word("or") {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, Invalid> {
        let mut left = self.not()?;
        while self.word("and") {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn deeper(&mut self) -> Result<(), Invalid> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(invalid(
                self.col(),
                format!("nested more than {MAX_DEPTH} deep: simplify the condition"),
            ));
        }
        Ok(())
    }

    fn not(&mut self) -> Result<Expr, Invalid> {
        if self.word("not") {
            self.at += 1;
            self.deeper()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, Invalid> {
        let left = self.primary()?;
        if let Some(Tok::Op(op)) = self.peek() {
            let cmp = match *op {
                "=" => Cmp::Eq,
                "!=" => Cmp::Ne,
                "<" => Cmp::Lt,
                "<=" => Cmp::Le,
                ">" => Cmp::Gt,
                _ => Cmp::Ge,
            };
            self.at += 1;
            let right = self.primary()?;
            return Ok(Expr::Compare(cmp, Box::new(left), Box::new(right)));
        }
        let negated = self.word("not")
            && matches!(self.toks.get(self.at + 1), Some((_, Tok::Ident(w))) if w.eq_ignore_ascii_case("in"));
        if negated {
            self.at += 1;
        }
        if self.word("in") {
            self.at += 1;
            let list = match self.primary()? {
                Expr::List(items) => items,
                _ => {
                    return Err(invalid(
                        self.col(),
                        "in needs a list, e.g. [\"US\", \"CA\"]",
                    ));
                }
            };
            return Ok(Expr::In(Box::new(left), list, negated));
        }
        if self.word("contains") {
            self.at += 1;
            let right = self.primary()?;
            return Ok(Expr::Contains(Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr, Invalid> {
        let col = self.col();
        let Some(tok) = self.peek().cloned() else {
            return Err(invalid(col, "the condition ends too soon"));
        };
        self.at += 1;
        match tok {
            Tok::Number(n) => Ok(Expr::Number(n)),
            Tok::Text(t) => Ok(Expr::Text(t)),
            Tok::Ident(w) if w.eq_ignore_ascii_case("true") => Ok(Expr::Bool(true)),
            Tok::Ident(w) if w.eq_ignore_ascii_case("false") => Ok(Expr::Bool(false)),
            Tok::Ident(w)
                if ["and", "or", "not", "in", "contains"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                Err(invalid(
                    col,
                    format!("expected a field or a value, found \"{w}\""),
                ))
            }
            Tok::Ident(w) => Ok(Expr::Field(w, col)),
            Tok::LParen => {
                self.deeper()?;
                let inner = self.or()?;
                self.depth -= 1;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(invalid(self.col(), "expected \")\""));
                }
                self.at += 1;
                Ok(inner)
            }
            Tok::LBracket => {
                let mut items = Vec::new();
                loop {
                    match self.peek().cloned() {
                        Some(Tok::RBracket) => {
                            self.at += 1;
                            break;
                        }
                        Some(Tok::Text(t)) => {
                            self.at += 1;
                            items.push(t);
                            match self.peek() {
                                Some(Tok::Comma) => self.at += 1,
                                Some(Tok::RBracket) => {}
                                _ => return Err(invalid(self.col(), "expected \",\" or \"]\"")),
                            }
                        }
                        _ => {
                            return Err(invalid(
                                self.col(),
                                "a list holds texts in quotes, e.g. [\"US\", \"CA\"]",
                            ));
                        }
                    }
                }
                Ok(Expr::List(items))
            }
            other => Err(invalid(
                col,
                format!("expected a field or a value, found {other:?}"),
            )),
        }
    }
}

/// Parses a condition and checks it against the fields the trigger offers.
pub fn parse(src: &str, schema: &Schema) -> Result<Expr, Invalid> {
    if src.trim().is_empty() {
        return Err(invalid(1, "write a condition, e.g. order.total > 500"));
    }
    if src.chars().count() > 2000 {
        return Err(invalid(2001, "a condition may be at most 2000 characters"));
    }
    let toks = lex(src)?;
    let mut p = Parser {
        end: src.chars().count() + 1,
        toks,
        at: 0,
        depth: 0,
    };
    let expr = p.or()?;
    if p.at < p.toks.len() {
        return Err(invalid(
            p.col(),
            "expected and, or, or the end of the condition",
        ));
    }
    let t = type_of(&expr, schema)?;
    if t != Type::Bool {
        return Err(invalid(
            1,
            format!("the condition must be true or false, not {t}"),
        ));
    }
    Ok(expr)
}

/// Where an expression starts, as far as its fields tell (1 when it has none).
fn col_of(e: &Expr) -> usize {
    let first = match e {
        Expr::Field(_, col) => *col,
        Expr::Not(x) | Expr::In(x, _, _) => col_of(x),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Compare(_, a, b) | Expr::Contains(a, b) => {
            match col_of(a) {
                1 => col_of(b),
                c => c,
            }
        }
        _ => 1,
    };
    first.max(1)
}

fn type_of(e: &Expr, schema: &Schema) -> Result<Type, Invalid> {
    let need = |e: &Expr, want: Type, what: &str| -> Result<(), Invalid> {
        let t = type_of(e, schema)?;
        if t == want {
            Ok(())
        } else {
            Err(invalid(
                col_of(e),
                format!("{what} needs {want}, but {} is {t}", show(e)),
            ))
        }
    };
    Ok(match e {
        Expr::Field(f, col) => *schema.get(f.as_str()).ok_or_else(|| {
            let known: Vec<&str> = schema.keys().copied().collect();
            invalid(
                *col,
                format!("there is no field {f}; fields: {}", known.join(", ")),
            )
        })?,
        Expr::Number(_) => Type::Number,
        Expr::Text(_) => Type::Text,
        Expr::Bool(_) => Type::Bool,
        Expr::List(_) => Type::TextList,
        Expr::Not(x) => {
            need(x, Type::Bool, "not")?;
            Type::Bool
        }
        Expr::And(a, b) | Expr::Or(a, b) => {
            need(a, Type::Bool, "and/or")?;
            need(b, Type::Bool, "and/or")?;
            Type::Bool
        }
        Expr::Compare(op, a, b) => {
            let (ta, tb) = (type_of(a, schema)?, type_of(b, schema)?);
            if ta != tb {
                return Err(invalid(
                    col_of(e),
                    format!(
                        "{} is {ta} and cannot be compared with {} ({tb})",
                        show(a),
                        show(b)
                    ),
                ));
            }
            let ordered = matches!(op, Cmp::Lt | Cmp::Le | Cmp::Gt | Cmp::Ge);
            if ordered && ta != Type::Number {
                return Err(invalid(
                    col_of(e),
                    format!("<, <=, > and >= compare numbers; {} is {ta}", show(a)),
                ));
            }
            if ta == Type::TextList {
                return Err(invalid(
                    col_of(e),
                    format!("compare {} with contains, not = or !=", show(a)),
                ));
            }
            Type::Bool
        }
        Expr::In(x, _, _) => {
            need(x, Type::Text, "in")?;
            Type::Bool
        }
        Expr::Contains(list, item) => {
            need(list, Type::TextList, "contains")?;
            need(item, Type::Text, "contains")?;
            Type::Bool
        }
    })
}

fn show(e: &Expr) -> String {
    match e {
        Expr::Field(f, _) => f.clone(),
        Expr::Number(n) => n.to_string(),
        Expr::Text(t) => format!("\"{t}\""),
        Expr::Bool(b) => b.to_string(),
        Expr::List(_) => "the list".into(),
        _ => "the expression".into(),
    }
}

fn value(e: &Expr, facts: &Facts) -> Value {
    match e {
        Expr::Field(f, _) => facts.get(f.as_str()).cloned().unwrap_or(Value::Missing),
        Expr::Number(n) => Value::Number(*n),
        Expr::Text(t) => Value::Text(t.clone()),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::List(items) => Value::TextList(items.clone()),
        other => truth(other, facts).map_or(Value::Missing, Value::Bool),
    }
}

/// Whether the facts satisfy the (checked) condition. Texts compare without regard to case.
/// What the facts do not know is unknown, not false, all the way up (`not` of unknown is
/// unknown): an unknown condition does not match.
pub fn eval(e: &Expr, facts: &Facts) -> bool {
    truth(e, facts).unwrap_or(false)
}

/// Three-valued: `None` when the facts cannot tell.
fn truth(e: &Expr, facts: &Facts) -> Option<bool> {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match e {
        Expr::Not(x) => truth(x, facts).map(|t| !t),
        Expr::And(a, b) => match (truth(a, facts), truth(b, facts)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Expr::Or(a, b) => match (truth(a, facts), truth(b, facts)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Expr::Compare(op, a, b) => match (value(a, facts), value(b, facts)) {
            (Value::Missing, _) | (_, Value::Missing) => None,
            (Value::Number(x), Value::Number(y)) => Some(match op {
                Cmp::Eq => x == y,
                Cmp::Ne => x != y,
                Cmp::Lt => x < y,
                Cmp::Le => x <= y,
                Cmp::Gt => x > y,
                Cmp::Ge => x >= y,
            }),
            (Value::Text(x), Value::Text(y)) => match op {
                Cmp::Eq => Some(same(&x, &y)),
                Cmp::Ne => Some(!same(&x, &y)),
                _ => None,
            },
            (Value::Bool(x), Value::Bool(y)) => match op {
                Cmp::Eq => Some(x == y),
                Cmp::Ne => Some(x != y),
                _ => None,
            },
            _ => None,
        },
        Expr::In(x, list, negated) => match value(x, facts) {
            Value::Text(t) => Some(list.iter().any(|i| same(i, &t)) != *negated),
            _ => None,
        },
        Expr::Contains(list, item) => match (value(list, facts), value(item, facts)) {
            (Value::TextList(l), Value::Text(t)) => Some(l.iter().any(|i| same(i, &t))),
            _ => None,
        },
        Expr::Bool(b) => Some(*b),
        Expr::Field(..) => match value(e, facts) {
            Value::Bool(b) => Some(b),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        [
            ("order.total", Type::Number),
            ("order.channel", Type::Text),
            ("order.tags", Type::TextList),
            ("order.test", Type::Bool),
            ("fraud.score", Type::Number),
            ("lines.count", Type::Number),
            ("shipping.country", Type::Text),
            ("customer.orders_count", Type::Number),
        ]
        .into_iter()
        .collect()
    }

    fn facts(score: i64, total: &str) -> Facts {
        [
            (
                "order.total",
                Value::Number(total.parse().unwrap_or_default()),
            ),
            ("order.channel", Value::Text("shopify".into())),
            (
                "order.tags",
                Value::TextList(vec!["VIP".into(), "gift".into()]),
            ),
            ("order.test", Value::Bool(false)),
            ("fraud.score", Value::Number(Decimal::from(score))),
            ("lines.count", Value::Number(Decimal::from(3))),
            ("shipping.country", Value::Text("CA".into())),
            ("customer.orders_count", Value::Missing),
        ]
        .into_iter()
        .collect()
    }

    fn run(src: &str, f: &Facts) -> bool {
        let e = parse(src, &schema()).unwrap_or_else(|e| panic!("{src}: {e}"));
        eval(&e, f)
    }

    #[test]
    fn the_issues_rule_holds_exactly_the_risky_big_orders() {
        let rule = "fraud.score > 70 and order.total > 500";
        assert!(run(rule, &facts(71, "500.01")));
        assert!(!run(rule, &facts(70, "900")));
        assert!(!run(rule, &facts(95, "500")));
    }

    #[test]
    fn membership_contains_not_and_precedence() {
        let f = facts(10, "20");
        assert!(run("order.channel in [\"shopify\", \"etsy\"]", &f));
        assert!(run("shipping.country not in [\"US\"]", &f));
        assert!(
            run("order.tags contains \"vip\"", &f),
            "case does not matter"
        );
        assert!(!run("not (order.tags contains \"gift\")", &f));
        // and binds tighter than or.
        assert!(run(
            "order.total > 100 and fraud.score > 50 or lines.count = 3",
            &f
        ));
        assert!(!run(
            "order.total > 100 and (fraud.score > 50 or lines.count = 3)",
            &f
        ));
        assert!(run(
            "order.test = false and order.channel != \"amazon\"",
            &f
        ));
    }

    #[test]
    fn what_is_unknown_never_matches() {
        let f = facts(10, "20");
        assert!(!run("customer.orders_count >= 0", &f));
        assert!(!run("customer.orders_count < 0", &f));
        // Not even negated; but a known side can still decide.
        assert!(!run("not (customer.orders_count > 3)", &f));
        assert!(run("customer.orders_count > 3 or order.total > 1", &f));
        assert!(!run("customer.orders_count > 3 and order.total > 1", &f));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}order.total > 1{}", "(".repeat(40), ")".repeat(40));
        let e = parse(&deep, &schema()).unwrap_err();
        assert!(e.message.contains("nested more than 32 deep"), "{e}");
        let fine = format!("{}order.total > 1{}", "(".repeat(10), ")".repeat(10));
        assert!(parse(&fine, &schema()).is_ok());
        assert!(parse(&"not ".repeat(40), &schema()).is_err());
    }

    #[test]
    fn mistakes_are_named_with_their_column() {
        let s = schema();
        let e = parse("order.total > 5 and order.totl > 5", &s).unwrap_err();
        assert!(e.message.contains("there is no field order.totl"), "{e}");
        assert_eq!(e.column, 21);
        let e = parse("order.total > \"big\"", &s).unwrap_err();
        assert!(e.message.contains("cannot be compared"), "{e}");
        let e = parse("lines.count > 1 or order.channel > \"a\"", &s).unwrap_err();
        assert!(e.message.contains("compare numbers"), "{e}");
        assert_eq!(e.column, 20);
        let e = parse("order.total", &s).unwrap_err();
        assert!(e.message.contains("must be true or false"), "{e}");
        let e = parse("order.total > 5 and", &s).unwrap_err();
        assert_eq!(e.column, 20);
        let e = parse("order.total > 5 order.test", &s).unwrap_err();
        assert_eq!(e.column, 17);
        let e = parse("order.channel = \"open", &s).unwrap_err();
        assert_eq!(e.column, 17);
        let e = parse("order.total # 5", &s).unwrap_err();
        assert_eq!((e.column, e.message.as_str()), (13, "unexpected \"#\""));
        assert!(parse("", &s).is_err());
        assert!(parse("order.channel in \"US\"", &s).is_err());
    }
}
