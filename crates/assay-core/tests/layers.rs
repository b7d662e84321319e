//! The core's groups depend on each other in one direction only. Each group
//! is a folder of `src/`; a group may name (`crate::GROUP`) any group before
//! it in `ORDER` and none after it, so a cycle between groups cannot appear
//! without this test failing. Unit tests (from `#[cfg(test)]` to the end of
//! a file) are left out: a fixture may import through a higher group. The
//! crate root keeps only the files every group shares.

#![allow(clippy::expect_used)] // a test: a missing source folder should fail it loudly

use std::collections::BTreeMap;
use std::path::Path;

/// The groups, lowest first.
const ORDER: &[&str] = &[
    "formats",
    "catalog",
    "identity",
    "provenance",
    "rights",
    "ingest",
    "duplicates",
    "exports",
    "datasets",
    "market",
    "setup",
];

/// The files the crate root may hold: what every group shares.
const ROOT_FILES: &[&str] = &["error.rs", "job.rs", "lib.rs", "open.rs"];

/// One source file: the group it belongs to, its path for messages, its text.
struct Source {
    group: String,
    path: String,
    text: String,
}

/// Root names (`crate::Library`) are re-exports; `lib.rs` says which group
/// each comes from, so naming one counts as naming its group.
fn root_names(lib_rs: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for statement in lib_rs.split(';') {
        let Some(start) = statement.find("pub use ") else {
            continue;
        };
        let path = &statement[start + "pub use ".len()..];
        let group = path.split("::").next().unwrap_or("").trim().to_owned();
        if !ORDER.contains(&group.as_str()) {
            continue;
        }
        let listed = match (path.find('{'), path.rfind('}')) {
            (Some(open), Some(close)) => path[open + 1..close].to_owned(),
            _ => path.rsplit("::").next().unwrap_or("").to_owned(),
        };
        for item in listed.split(',') {
            let name = item.rsplit(" as ").next().unwrap_or("").trim();
            if !name.is_empty() {
                names.insert(name.to_owned(), group.clone());
            }
        }
    }
    names
}

/// Every `crate::X` a text names, with its line number.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if rest.starts_with('{') {
                let close = rest.find('}').unwrap_or(rest.len());
                for item in rest[1..close].split(',') {
                    found.push((n + 1, head(item.trim())));
                }
            } else {
                found.push((n + 1, head(rest)));
            }
        }
    }
    found
}

fn head(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Every reference from a group to a group after it, as `file:line: why`.
fn violations(sources: &[Source], roots: &BTreeMap<String, String>) -> Vec<String> {
    let rank = |group: &str| ORDER.iter().position(|g| *g == group);
    let mut found = Vec::new();
    for source in sources {
        let Some(own) = rank(&source.group) else {
            found.push(format!(
                "{}: group {:?} is not in ORDER; place it in the layering",
                source.path, source.group
            ));
            continue;
        };
        for (line, name) in crate_paths(&source.text) {
            let target = roots.get(&name).cloned().unwrap_or(name);
            if let Some(theirs) = rank(&target) {
                if theirs > own {
                    found.push(format!(
                        "{}:{line}: {} uses {target}, which sits above it",
                        source.path, source.group
                    ));
                }
            }
        }
    }
    found
}

fn read_sources(src: &Path) -> Vec<Source> {
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(src).expect("src/ is readable") {
        let entry = entry.expect("src/ lists");
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let group = entry.file_name().to_string_lossy().into_owned();
        let mut stack = vec![path];
        while let Some(dir) = stack.pop() {
            for file in std::fs::read_dir(&dir).expect("group folder is readable") {
                let file = file.expect("group folder lists").path();
                if file.is_dir() {
                    stack.push(file);
                } else if file.extension().is_some_and(|e| e == "rs") {
                    let mut text = std::fs::read_to_string(&file).expect("source is UTF-8");
                    if let Some(tests) = text.find("#[cfg(test)]") {
                        text.truncate(tests);
                    }
                    sources.push(Source {
                        group: group.clone(),
                        path: file
                            .strip_prefix(src)
                            .unwrap_or(&file)
                            .display()
                            .to_string(),
                        text,
                    });
                }
            }
        }
    }
    sources
}

#[test]
fn groups_depend_on_each_other_in_one_direction() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let roots = root_names(&std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    assert!(roots.contains_key("Library"), "lib.rs re-exports were read");
    let sources = read_sources(&src);
    assert!(sources.len() > 40, "the groups' files were found");
    let found = violations(&sources, &roots);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_crate_root_keeps_only_the_shared_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<String> = std::fs::read_dir(&src)
        .expect("src/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ROOT_FILES);
}

#[test]
fn an_upward_reference_and_a_group_out_of_order_are_named() {
    let roots = BTreeMap::from([("Library".to_owned(), "catalog".to_owned())]);
    let sources = [
        Source {
            group: "formats".into(),
            path: "formats/exif.rs".into(),
            text: "use crate::error::Result;\nuse crate::{formats::media, rights::licenses};\n"
                .into(),
        },
        Source {
            group: "identity".into(),
            path: "identity/users.rs".into(),
            text: "use crate::Library;\nfn f() { crate::market::sync::x() }\n".into(),
        },
        Source {
            group: "newgroup".into(),
            path: "newgroup/mod.rs".into(),
            text: String::new(),
        },
    ];
    assert_eq!(
        violations(&sources, &roots),
        [
            "formats/exif.rs:2: formats uses rights, which sits above it",
            "identity/users.rs:2: identity uses market, which sits above it",
            "newgroup/mod.rs: group \"newgroup\" is not in ORDER; place it in the layering",
        ]
    );
}
