//! The crate's layering, checked: each module of `backend/src` (the lifecycle's stages each
//! count as one) may use only the modules below it in [`LAYERS`]; so the modules form no
//! cycle, the stages never reach up into `http` or the schema, and plumbing stays beneath
//! what it serves. Uses of a module are found by parsing every source file (syn): `use`
//! trees, paths in code, and paths inside macro calls; test-only items are left out.
//!
//! There are no exceptions: a use that reaches up (or sideways, between equals) fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// Bottom first: a module may use the modules listed before it (not its equals).
const LAYERS: &[&str] = &[
    "domain",
    "error",
    "planning::forecast",
    "config",
    "infra",
    "tenancy",
    "state",
    "auth",
    "graphql",
    "jobs",
    "lifecycle::state",
    "lifecycle::machine",
    "lifecycle::settings",
    "catalog",
    "customers",
    "lifecycle::events",
    "order",
    "lifecycle::transition",
    "lifecycle::ledger",
    "lifecycle::capture",
    "lifecycle::inventory",
    "lifecycle::payment",
    "lifecycle::fraud",
    "lifecycle::allocation",
    "lifecycle::shipping",
    "lifecycle::routing",
    "lifecycle::warehouse",
    "lifecycle::tracking",
    "lifecycle::notify",
    "lifecycle::engine",
    "lifecycle::refund",
    "lifecycle::returns",
    "lifecycle::reconcile",
    "lifecycle::support",
    "lifecycle",
    "webhooks",
    "automation",
    "reporting",
    "planning",
    "channels",
    "bulk",
    "schema",
    "http",
    "app",
    "demo",
    "cli",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The module path of a source file, from the crate root (`lifecycle/capture/repo.rs` →
/// `["lifecycle", "capture", "repo"]`).
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The node a module path belongs to: its top-level module, or its stage in `lifecycle`.
fn node_of(path: &[String]) -> Option<String> {
    let first = path.first()?;
    if first == "lifecycle" {
        return Some(match path.get(1) {
            Some(stage) => format!("lifecycle::{stage}"),
            None => "lifecycle".into(),
        });
    }
    Some(first.clone())
}

/// Collects the module paths one file uses.
struct Uses<'a> {
    here: &'a [String],
    found: BTreeSet<Vec<String>>,
}

impl Uses<'_> {
    /// `segments` as written: `crate::…`, `super::…` or `self::…` (others name crates or
    /// local items).
    fn add(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let resolved = match first.as_str() {
            "crate" => segments[1..].to_vec(),
            "super" | "self" => {
                let mut at = self.here.to_vec();
                let mut rest = segments;
                while let Some(s) = rest.first() {
                    match s.as_str() {
                        "super" => {
                            at.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                at.extend(rest.iter().cloned());
                at
            }
            _ => return,
        };
        // Two segments are enough to find the node.
        self.found.insert(resolved.into_iter().take(2).collect());
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.add(prefix);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.add(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.add(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    /// `crate :: a :: b` and `super :: a` sequences in a macro's tokens.
    fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let mut run: Vec<String> = Vec::new();
        let mut colons = 0;
        for tt in tokens {
            match tt {
                proc_macro2::TokenTree::Group(g) => {
                    self.flush(&mut run);
                    self.tokens(g.stream());
                    colons = 0;
                }
                proc_macro2::TokenTree::Ident(i) => {
                    if !run.is_empty() && colons != 2 {
                        self.flush(&mut run);
                    }
                    run.push(i.to_string());
                    colons = 0;
                }
                proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => colons += 1,
                _ => {
                    self.flush(&mut run);
                    colons = 0;
                }
            }
        }
        self.flush(&mut run);
    }

    fn flush(&mut self, run: &mut Vec<String>) {
        if run.len() > 1 {
            let taken = std::mem::take(run);
            self.add(&taken);
        }
        run.clear();
    }
}

/// `#[test]`, `#[cfg(test)]`, `#[cfg(all(test, …))]`.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("test")
            || a.path().is_ident("cfg")
                && matches!(&a.meta, syn::Meta::List(l) if l
                    .tokens
                    .to_string()
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|w| w == "test"))
    })
}

impl<'ast> Visit<'ast> for Uses<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Impl(i) => &i.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.add(&segments);
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every edge between nodes, with a file that makes it.
fn edges() -> BTreeMap<(String, String), String> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    all.sort();
    let mut edges = BTreeMap::new();
    for file in all {
        let here = module_of(&file);
        let Some(from) = node_of(&here) else {
            continue; // lib.rs and main.rs name the modules.
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let parsed = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
        let mut uses = Uses {
            here: &here,
            found: BTreeSet::new(),
        };
        uses.visit_file(&parsed);
        for used in uses.found {
            let Some(to) = node_of(&used) else { continue };
            if to != from && LAYERS.contains(&to.as_str()) {
                let rel = file.strip_prefix(src()).unwrap().display().to_string();
                edges.entry((from.clone(), to)).or_insert(rel);
            }
        }
    }
    edges
}

fn rank(node: &str) -> usize {
    LAYERS
        .iter()
        .position(|n| *n == node)
        .unwrap_or_else(|| panic!("module {node} is not placed in LAYERS"))
}

#[test]
fn every_module_is_placed_in_a_layer() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    for file in all {
        if let Some(node) = node_of(&module_of(&file)) {
            rank(&node);
        }
    }
}

#[test]
fn modules_use_only_the_layers_beneath_them() {
    let upward: Vec<String> = edges()
        .iter()
        .filter(|((from, to), _)| rank(to) >= rank(from))
        .map(|((from, to), file)| format!("{from} -> {to}   (in {file})"))
        .collect();
    assert!(
        upward.is_empty(),
        "modules reach up the layering (see LAYERS in tests/layers.rs):\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_parser_sees_every_kind_of_use() {
    let here = vec![
        "lifecycle".to_owned(),
        "engine".to_owned(),
        "jobs".to_owned(),
    ];
    let code = r#"
        use crate::jobs::{Job, queue};
        use super::super::capture::repo;
        fn f() { crate::webhooks::service::x(); tracing::info!("{}", crate::reporting::y()); }
        #[cfg(test)]
        mod tests { use crate::demo::z; }
    "#;
    let mut uses = Uses {
        here: &here,
        found: BTreeSet::new(),
    };
    uses.visit_file(&syn::parse_file(code).unwrap());
    let nodes: BTreeSet<String> = uses.found.iter().filter_map(|p| node_of(p)).collect();
    let want: BTreeSet<String> = ["jobs", "lifecycle::capture", "webhooks", "reporting"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(nodes, want);
}
