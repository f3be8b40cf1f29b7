//! The architecture's rules, checked on the source (docs/ARCHITECTURE.md says the same in prose):
//!
//! 1. which top-level folder of `src/` may import which ([`LAYERS`]), and inside a layer what its
//!    shared parts may reach ([`INNER`]);
//! 2. no import cycle between the files of `domain/` and of `store/`;
//! 3. no import cycle between folders anywhere in the crate.
//!
//! An import is any path into the crate a file names: `use crate::…` trees (grouped ones
//! included), paths written inline in code (`crate::x::y(…)`, `super::…`, `$crate::…` in macros),
//! and paths through a name a `use` bound to a module (`use crate::store;` then
//! `store::org::users::count`). A name re-exported with `pub use` counts as an import of the module it
//! comes from. Comments and string literals are skipped. Plain std, no parser crate: the whole
//! crate is read in a fraction of a second, once for all the tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Which top-level folder (or file) of `src/` may import which. A layer may always import its
/// own files; anything not listed is refused. `*` is everything.
const LAYERS: &[(&str, &[&str])] = &[
    // The composition root: the command line and the server's assembly.
    ("app", &["*"]),
    // The demo branch and the bench seeder write through the domain and in bulk through the store.
    ("fixtures", &["context", "auth", "domain", "store", "geo", "media", "export", "workers"]),
    // Backup and restore: the settings, the SQLite snapshot, the media blobs.
    ("backup", &["context", "store", "media"]),
    // Handlers: parse, call the domain, answer.
    ("http", &["context", "auth", "domain", "store", "geo", "media", "export"]),
    // Settings, AppState and users made outside the API: what the server and the commands share.
    ("context", &["auth", "domain", "store", "geo", "media", "workers"]),
    // Passwords, tokens, sessions.
    ("auth", &["domain", "store"]),
    // Business rules.
    ("domain", &["store", "geo", "media", "export"]),
    // Persistence.
    ("store", &["workers"]),
    // Libraries that know nothing of the product.
    ("media", &["geo", "workers"]),
    ("geo", &[]),
    ("export", &[]),
    ("workers", &[]),
];

/// Inside a layer: the folders a part may import of another layer (or of its own), when that is
/// narrower than [`LAYERS`] says. `(importer, target layer, folders of it that it may import)`;
/// the importer covers its subfolders, a target folder is that folder's own files only.
const INNER: &[(&str, &str, &[&str])] = &[
    // The domain's shared vocabulary imports nothing from the capability folders.
    ("domain/kinds", "domain", &["domain/kinds"]),
    ("domain/common", "domain", &["domain/common", "domain/kinds"]),
    // Handlers reach the store only for its shared parts (the pool, its errors, paging, the
    // clock); queries are the domain's business.
    ("http", "store", &["store"]),
];

/// Folders whose files must not import each other in a circle.
const FILE_LEVEL: &[&str] = &["domain", "store"];

#[test]
fn layers_import_only_what_the_table_allows() {
    let wrong = layer_violations(Crate::read());
    assert!(
        wrong.is_empty(),
        "imports against the layer rules (tests/architecture.rs, docs/ARCHITECTURE.md):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_import_cycle_between_files_of_domain_or_store() {
    let found = file_cycles(Crate::read());
    assert!(found.is_empty(), "import cycles between files:\n{}", found.join("\n"));
}

#[test]
fn no_import_cycle_between_folders() {
    let found = folder_cycles(Crate::read());
    assert!(found.is_empty(), "import cycles between folders:\n{}", found.join("\n"));
}

/// The checks can fail: a small crate with one of each mistake, written every way a path can be.
#[test]
fn the_checks_find_planted_mistakes() {
    let planted = Crate::from_sources([
        ("lib.rs", "pub mod domain; pub mod http; pub mod store;"),
        ("http/mod.rs", "pub struct Handler;"),
        ("domain/mod.rs", "pub mod a; pub mod b; pub mod common; pub mod kinds; pub use kinds::k::Kind;"),
        // a → b by a grouped use tree; b → a by a path inline in code: a cycle of files.
        (
            "domain/a.rs",
            "use crate::domain::{b::B, Kind};\npub struct A;\nfn f() -> crate::domain::common::c::C { todo!() }",
        ),
        ("domain/b.rs", "pub struct B;\npub fn g() { let _ = crate::domain::a::A; } // crate::http::Handler"),
        // common → a folder above it (domain/, where a.rs is) and back: a cycle of folders; and
        // domain → http through `super::super::…`: against the layers.
        ("domain/common/mod.rs", "pub mod c;"),
        (
            "domain/common/c.rs",
            "use super::super::a::A;\nuse crate::domain::Kind;\npub struct C(A, Kind);\nconst S: &str = \"crate::store::x\";\nfn h() { super::super::super::http::Handler; }",
        ),
        ("domain/kinds/mod.rs", "pub mod k;"),
        ("domain/kinds/k.rs", "pub struct Kind;"),
        // store → domain through `$crate` in a macro and through a name `use` bound.
        ("store/mod.rs", "pub mod y;\nmacro_rules! m { () => { $crate::domain::a::A } }"),
        ("store/y.rs", "use crate::domain;\nfn i() { domain::b::g(); }"),
    ]);
    let layers = layer_violations(&planted).join("\n");
    assert!(
        layers.contains("src/domain/common/c.rs: super::super::super::http::Handler — domain imports http"),
        "{layers}"
    );
    assert!(
        layers.contains("src/domain/common/c.rs: use super::super::a::A — domain/common imports domain/"),
        "{layers}"
    );
    assert!(layers.contains("src/store/mod.rs: $crate::domain::a::A — store imports domain"), "{layers}");
    assert!(layers.contains("src/store/y.rs: domain::b::g — store imports domain"), "{layers}");
    assert!(
        !layers.contains("crate::store::x") && !layers.contains("src/domain/b.rs"),
        "comments and strings are not code: {layers}"
    );
    assert!(!layers.contains("crate::domain::Kind"), "a re-exported name is its defining module's: {layers}");
    let files = file_cycles(&planted).join("\n");
    assert!(files.contains("src/domain/a.rs → src/domain/b.rs → src/domain/a.rs"), "{files}");
    let folders = folder_cycles(&planted).join("\n");
    assert!(folders.contains("src/domain/ → src/domain/common/ → src/domain/"), "{folders}");
    assert!(
        folders.contains("src/domain/a.rs: crate::domain::common::c::C"),
        "the import behind each step is named: {folders}"
    );
}

/// The reader sees the crate: a broken scan would pass every check above.
#[test]
fn the_reader_sees_the_crate() {
    let crate_ = Crate::read();
    let has = |from: &str, to: &str| crate_.edges.iter().any(|e| e.from == module(from) && e.to == module(to));
    assert!(has("app/cli", "context/config"));
    assert!(has("http/common/json", "http/common/problem"));
    assert!(has("domain/supervision/daily_report", "domain/supervision/findings"));
    assert!(has("context/bootstrap", "store/org/users"), "`use crate::store;` then `store::org::users::count`");
    assert!(
        has("domain/org/audit", "domain/common/actor") && !has("domain/org/audit", "domain"),
        "Actor is re-exported"
    );
    assert!(crate_.files.len() > 150 && crate_.edges.len() > 1000, "the scan is broken: {} files", crate_.files.len());
}

fn layer_violations(crate_: &Crate) -> Vec<String> {
    crate_
        .edges
        .iter()
        .filter_map(|edge| {
            refusal(crate_, edge).map(|why| format!("{}: {} — {why}", crate_.files[&edge.from].display, edge.written))
        })
        .collect()
}

fn file_cycles(crate_: &Crate) -> Vec<String> {
    let mut found = Vec::new();
    for root in FILE_LEVEL {
        let inside = |m: &Module| m.first().is_some_and(|s| s == root);
        let mut graph: Graph<Module> = BTreeMap::new();
        for edge in crate_.edges.iter().filter(|e| inside(&e.from) && inside(&e.to)) {
            graph.entry(edge.from.clone()).or_default().entry(edge.to.clone()).or_insert_with(|| edge.written.clone());
        }
        for cycle in cycles(&graph) {
            found.push(describe(&cycle, &graph, |m| crate_.files[m].display.clone()));
        }
    }
    found
}

fn folder_cycles(crate_: &Crate) -> Vec<String> {
    let mut graph: Graph<String> = BTreeMap::new();
    for edge in &crate_.edges {
        let (from, to) = (&crate_.files[&edge.from], &crate_.files[&edge.to]);
        if from.folder != to.folder {
            graph
                .entry(from.folder.clone())
                .or_default()
                .entry(to.folder.clone())
                .or_insert_with(|| format!("{}: {}", from.display, edge.written));
        }
    }
    cycles(&graph).iter().map(|c| describe(c, &graph, |f| format!("{f}/"))).collect()
}

// ---- the rules -------------------------------------------------------------------------------

fn refusal(crate_: &Crate, edge: &Edge) -> Option<String> {
    let (from, to) = (&crate_.files[&edge.from], &crate_.files[&edge.to]);
    let (layer, target) = (from.layer(), to.layer());
    if layer != target {
        let Some((_, allowed)) = LAYERS.iter().find(|(l, _)| *l == layer) else {
            return Some(format!("`{layer}` is not in the LAYERS table"));
        };
        if !allowed.iter().any(|a| *a == "*" || *a == target) {
            let list = if allowed.is_empty() { "nothing of the crate".to_owned() } else { allowed.join(", ") };
            return Some(format!("{layer} imports {target}; {layer} may import {list}"));
        }
    }
    for (importer, target_layer, folders) in INNER {
        let within = from.folder == format!("src/{importer}") || from.folder.starts_with(&format!("src/{importer}/"));
        if within && target == *target_layer && !folders.iter().any(|f| to.folder == format!("src/{f}")) {
            return Some(format!(
                "{importer} imports {}/; of {target_layer} it may import {}",
                &to.folder[4..],
                folders.join(", ")
            ));
        }
    }
    None
}

// ---- reading the crate -----------------------------------------------------------------------

/// A module's path from the crate root: `["domain", "field", "partners"]`; `[]` is `lib.rs`.
type Module = Vec<String>;

fn module(path: &str) -> Module {
    path.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

struct File {
    /// `src/domain/field/partners.rs`
    display: String,
    /// `src/domain/field`
    folder: String,
    module: Module,
    /// Child modules declared with `mod x;` / `mod x { … }`.
    children: BTreeSet<String>,
    tokens: Vec<Tok>,
    /// The module each token is in: the file's, or an inline `mod x { … }` in it.
    scopes: Vec<Module>,
}

impl File {
    fn layer(&self) -> String {
        self.module.first().cloned().unwrap_or_else(|| "lib".to_owned())
    }
}

struct Edge {
    from: Module,
    to: Module,
    /// The path as written, for messages.
    written: String,
}

struct Crate {
    files: BTreeMap<Module, File>,
    edges: Vec<Edge>,
}

impl Crate {
    /// The crate under `src/`, read once for all the tests.
    fn read() -> &'static Crate {
        static CRATE: OnceLock<Crate> = OnceLock::new();
        CRATE.get_or_init(Crate::read_files)
    }

    fn read_files() -> Crate {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let sources: Vec<(String, String)> = rust_files(&root)
            .into_iter()
            .map(|path| {
                let relative = path.strip_prefix(&root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                (relative, source)
            })
            // main.rs is the binary: a crate of its own, importing `outreach::`.
            .filter(|(relative, _)| relative != "main.rs")
            .collect();
        Crate::from_sources(sources.iter().map(|(r, s)| (r.as_str(), s.as_str())))
    }

    /// The crate of these files, named by their path under `src/`.
    fn from_sources<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> Crate {
        let mut files = BTreeMap::new();
        for (relative, source) in sources {
            let mut module = module(relative.trim_end_matches(".rs"));
            if module.last().is_some_and(|s| s == "mod" || s == "lib") {
                module.pop();
            }
            let tokens = lex(source);
            let scopes = scopes(&tokens, &module);
            let folder = match relative.rsplit_once('/') {
                Some((dir, _)) => format!("src/{dir}"),
                None => "src".to_owned(),
            };
            let children = declared_children(&tokens);
            files.insert(
                module.clone(),
                File { display: format!("src/{relative}"), folder, module, children, tokens, scopes },
            );
        }
        let mut crate_ = Crate { files, edges: Vec::new() };
        let reexports = crate_.reexports();
        let mut edges = Vec::new();
        for file in crate_.files.values() {
            for (path, scope, written) in crate_.paths(file) {
                if let Some((mut to, rest)) = crate_.resolve(&scope, &path, file) {
                    // Follow re-exports to the module that defines the name.
                    let mut name = rest.first().cloned();
                    for _ in 0..8 {
                        match name.as_ref().and_then(|n| reexports.get(&(to.clone(), n.clone()))) {
                            Some((origin, original)) => {
                                to = origin.clone();
                                name = original.clone();
                            }
                            None => break,
                        }
                    }
                    if to != file.module {
                        edges.push(Edge { from: file.module.clone(), to, written });
                    }
                }
            }
        }
        crate_.edges = edges;
        crate_
    }

    /// `(module, name) → (module the name comes from, its name there)` for every `pub use`.
    fn reexports(&self) -> HashMap<(Module, String), (Module, Option<String>)> {
        let mut map = HashMap::new();
        for file in self.files.values() {
            for (i, tok) in file.tokens.iter().enumerate() {
                let public = matches!(tok, Tok::Ident(s) if s == "pub");
                if !public {
                    continue;
                }
                // `pub use` or `pub(crate) use`
                let mut j = i + 1;
                if file.tokens.get(j) == Some(&Tok::Punct('(')) {
                    while j < file.tokens.len() && file.tokens[j] != Tok::Punct(')') {
                        j += 1;
                    }
                    j += 1;
                }
                if !matches!(file.tokens.get(j), Some(Tok::Ident(s)) if s == "use") {
                    continue;
                }
                let scope = file.scopes[i].clone();
                let (trees, _) = use_tree(&file.tokens, j + 1);
                for (path, alias) in trees {
                    let Some(alias) = alias else { continue };
                    if let Some((origin, rest)) = self.resolve(&scope, &path, file) {
                        map.insert((scope.clone(), alias), (origin, rest.first().cloned()));
                    }
                }
            }
        }
        map
    }

    /// Every path into the crate a file names, with the module it is written in and as written.
    fn paths(&self, file: &File) -> Vec<(Vec<String>, Module, String)> {
        let toks = &file.tokens;
        let mut out = Vec::new();
        // Names `use` binds to paths of the crate, per scope: first, so that code above a `use`
        // sees them too.
        let mut aliases: BTreeMap<(Module, String), Vec<String>> = BTreeMap::new();
        let mut statements = Vec::new();
        for i in 0..toks.len() {
            if matches!(&toks[i], Tok::Ident(s) if s == "use") {
                let scope = file.scopes[i].clone();
                let (trees, end) = use_tree(toks, i + 1);
                for (path, alias) in trees {
                    if self.resolve(&scope, &path, file).is_some() {
                        if let Some(alias) = alias {
                            aliases.insert((scope.clone(), alias), path.clone());
                        }
                        let written = format!("use {}", path.join("::"));
                        out.push((path, scope.clone(), written));
                    }
                }
                statements.push(i..end);
            }
        }
        let mut i = 0;
        while i < toks.len() {
            if let Some(statement) = statements.iter().find(|s| s.start == i) {
                i = statement.end;
                continue;
            }
            // An inline path: IDENT (:: IDENT)+, not itself the tail of a longer path.
            if let Tok::Ident(first) = &toks[i]
                && toks.get(i + 1) == Some(&Tok::Colon2)
                && !matches!(i.checked_sub(1).map(|p| &toks[p]), Some(Tok::Colon2))
            {
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while toks.get(j) == Some(&Tok::Colon2) {
                    match toks.get(j + 1) {
                        Some(Tok::Ident(s)) => path.push(s.clone()),
                        _ => break,
                    }
                    j += 2;
                }
                let scope = file.scopes[i].clone();
                let written = path.join("::");
                if matches!(first.as_str(), "crate" | "$crate" | "super" | "self") {
                    out.push((path, scope, written));
                } else if let Some(target) = lookup_alias(&aliases, &scope, first) {
                    let mut full = target.clone();
                    full.extend(path.into_iter().skip(1));
                    out.push((full, scope, written));
                }
                i = j;
                continue;
            }
            i += 1;
        }
        out
    }

    /// The module a path lands in (the longest prefix that is a file of the crate) and the
    /// segments after it; `None` for paths outside the crate.
    fn resolve(&self, scope: &Module, path: &[String], file: &File) -> Option<(Module, Vec<String>)> {
        let (mut base, mut rest): (Module, &[String]) = match path.first().map(String::as_str) {
            Some("crate" | "$crate") => (Vec::new(), &path[1..]),
            Some("super" | "self") => {
                let mut base = scope.clone();
                let mut rest = path;
                while let Some(head) = rest.first() {
                    match head.as_str() {
                        "super" => {
                            base.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                (base, rest)
            }
            // A child module of the file, named from the file itself (`pub use common::…` in a mod.rs).
            Some(first) if scope == &file.module && file.children.contains(first) => (scope.clone(), path),
            _ => return None,
        };
        let mut best = (base.clone(), rest.to_vec());
        while let Some(next) = rest.first() {
            base.push(next.clone());
            rest = &rest[1..];
            if self.files.contains_key(&base) {
                best = (base.clone(), rest.to_vec());
            }
        }
        best.1.retain(|s| s != "self" && s != "*");
        // Inline modules (`mod tests { … }`) are part of their file.
        let mut module = best.0;
        while !module.is_empty() && !self.files.contains_key(&module) {
            module.pop();
        }
        Some((module, best.1))
    }
}

fn lookup_alias<'a>(
    aliases: &'a BTreeMap<(Module, String), Vec<String>>,
    scope: &Module,
    name: &str,
) -> Option<&'a Vec<String>> {
    let mut scope = scope.clone();
    loop {
        if let Some(found) = aliases.get(&(scope.clone(), name.to_owned())) {
            return Some(found);
        }
        // A name `use`d in a file is not in scope in its inline modules, but `use super::*` is
        // their habit: looking outward errs on the side of seeing an import.
        scope.pop()?;
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

// ---- tokens ----------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Colon2,
    Punct(char),
}

/// Identifiers, `::` and punctuation; comments, strings, chars and lifetimes dropped.
fn lex(source: &str) -> Vec<Tok> {
    let chars: Vec<char> = source.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' || ((c == 'b' || c == 'c') && at(i + 1) == '"') {
            i += if c == '"' { 1 } else { 2 };
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if (c == 'r' || ((c == 'b' || c == 'c') && at(i + 1) == 'r')) && {
            let start = if c == 'r' { i + 1 } else { i + 2 };
            let mut k = start;
            while at(k) == '#' {
                k += 1;
            }
            at(k) == '"' && (k > start || at(start) == '"')
        } {
            // A raw string: r"…", r#"…"#, br"…".
            let start = if c == 'r' { i + 1 } else { i + 2 };
            let mut k = start;
            while at(k) == '#' {
                k += 1;
            }
            let hashes = k - start;
            i = k + 1;
            while i < chars.len() {
                if chars[i] == '"' && (0..hashes).all(|h| at(i + 1 + h) == '#') {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a): skip either.
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' || (c == '$' && at(i + 1).is_alphabetic()) {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            toks.push(Tok::Ident(word.strip_prefix("r#").map(str::to_owned).unwrap_or(word)));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
        } else if c == ':' && at(i + 1) == ':' {
            toks.push(Tok::Colon2);
            i += 2;
        } else {
            if !c.is_whitespace() {
                toks.push(Tok::Punct(c));
            }
            i += 1;
        }
    }
    toks
}

/// The module of each token: the file's, plus the inline `mod x { … }` blocks around it.
fn scopes(toks: &[Tok], file: &Module) -> Vec<Module> {
    let mut out = Vec::with_capacity(toks.len());
    let mut scope = file.clone();
    // Brace depths at which an inline module opened.
    let mut opened: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        if let (Tok::Ident(m), Some(Tok::Ident(name)), Some(Tok::Punct('{'))) =
            (&toks[i], toks.get(i + 1), toks.get(i + 2))
            && m == "mod"
        {
            out.extend([scope.clone(), scope.clone()]);
            depth += 1;
            opened.push(depth);
            scope.push(name.clone());
            out.push(scope.clone());
            i += 3;
            continue;
        }
        match toks[i] {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                if opened.last() == Some(&depth) {
                    opened.pop();
                    scope.pop();
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        out.push(scope.clone());
        i += 1;
    }
    out
}

fn declared_children(toks: &[Tok]) -> BTreeSet<String> {
    toks.windows(2)
        .filter_map(|w| match (&w[0], &w[1]) {
            (Tok::Ident(m), Tok::Ident(name)) if m == "mod" => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// A path of a `use` tree and the name it binds (`None` for a glob or `as _`).
type UsePath = (Vec<String>, Option<String>);

/// Flattens the use tree starting at `i` (after `use`) into paths with the name each binds
/// (`None` for globs); returns the index after its `;`.
fn use_tree(toks: &[Tok], i: usize) -> (Vec<UsePath>, usize) {
    fn tree(toks: &[Tok], mut i: usize, prefix: &[String], out: &mut Vec<UsePath>) -> usize {
        let mut path = prefix.to_vec();
        loop {
            match toks.get(i) {
                Some(Tok::Ident(s)) if s != "as" => {
                    path.push(s.clone());
                    i += 1;
                }
                Some(Tok::Punct('*')) => {
                    out.push((path.clone(), None));
                    return i + 1;
                }
                Some(Tok::Punct('{')) => {
                    i += 1;
                    loop {
                        match toks.get(i) {
                            Some(Tok::Punct('}')) => return i + 1,
                            Some(Tok::Punct(',')) => i += 1,
                            None => return i,
                            _ => i = tree(toks, i, &path, out),
                        }
                    }
                }
                _ => break,
            }
            if toks.get(i) == Some(&Tok::Colon2) {
                i += 1;
            } else {
                break;
            }
        }
        let mut name = path.last().cloned();
        if name.as_deref() == Some("self") {
            path.pop();
            name = path.last().cloned();
        }
        if matches!(toks.get(i), Some(Tok::Ident(s)) if s == "as") {
            name = match toks.get(i + 1) {
                Some(Tok::Ident(alias)) if alias != "_" => Some(alias.clone()),
                _ => None,
            };
            i += 2;
        }
        out.push((path, name));
        i
    }
    let mut out = Vec::new();
    let end = tree(toks, i, &[], &mut out);
    let end = toks[end..].iter().position(|t| *t == Tok::Punct(';')).map_or(toks.len(), |p| end + p + 1);
    (out, end)
}

// ---- cycles ----------------------------------------------------------------------------------

/// `from → to → an import that makes the edge`.
type Graph<N> = BTreeMap<N, BTreeMap<N, String>>;

/// One cycle through each strongly connected group of more than one node (Tarjan, then the
/// shortest way back to the group's first node).
fn cycles<N: Ord + Clone>(graph: &Graph<N>) -> Vec<Vec<N>> {
    struct Tarjan<'g, N> {
        graph: &'g Graph<N>,
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        stack: Vec<N>,
        groups: Vec<Vec<N>>,
    }
    impl<N: Ord + Clone> Tarjan<'_, N> {
        fn visit(&mut self, v: &N) {
            let n = self.index.len();
            self.index.insert(v.clone(), n);
            self.low.insert(v.clone(), n);
            self.stack.push(v.clone());
            for w in self.graph.get(v).into_iter().flat_map(|e| e.keys()) {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v.clone(), low);
                } else if self.stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v.clone(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    let done = &w == v;
                    group.push(w);
                    if done {
                        break;
                    }
                }
                if group.len() > 1 {
                    self.groups.push(group);
                }
            }
        }
    }
    let mut t = Tarjan { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), groups: Vec::new() };
    for v in graph.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.groups
        .into_iter()
        .map(|group| {
            let members: BTreeSet<N> = group.into_iter().collect();
            let Some(start) = members.iter().next().cloned() else { return Vec::new() };
            // Breadth-first from `start` back to it, inside the group.
            let mut came_from: BTreeMap<N, N> = BTreeMap::new();
            let mut queue = VecDeque::from([start.clone()]);
            while let Some(v) = queue.pop_front() {
                for w in graph.get(&v).into_iter().flat_map(|e| e.keys()).filter(|w| members.contains(*w)) {
                    if *w == start {
                        let mut path = vec![v.clone()];
                        while let Some(p) = came_from.get(path.last().unwrap_or(&start)) {
                            path.push(p.clone());
                        }
                        path.reverse();
                        if path.first() != Some(&start) {
                            path.insert(0, start.clone());
                        }
                        return path;
                    }
                    if !came_from.contains_key(w) && *w != start {
                        came_from.insert(w.clone(), v.clone());
                        queue.push_back(w.clone());
                    }
                }
            }
            members.into_iter().collect()
        })
        .collect()
}

/// `a → b → a`, then the import that makes each step.
fn describe<N: Ord + Clone>(cycle: &[N], graph: &Graph<N>, name: impl Fn(&N) -> String) -> String {
    let mut names: Vec<String> = cycle.iter().map(&name).collect();
    names.push(name(&cycle[0]));
    let mut text = format!("  {}", names.join(" → "));
    for (k, from) in cycle.iter().enumerate() {
        let to = &cycle[(k + 1) % cycle.len()];
        if let Some(why) = graph.get(from).and_then(|e| e.get(to)) {
            let _ = write!(text, "\n      {} → {}: {why}", name(from), name(to));
        }
    }
    text
}
