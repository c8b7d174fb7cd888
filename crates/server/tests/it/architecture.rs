//! `ARCHITECTURE.md` names every source file: each crate's tree there (a code block starting
//! `crates/<crate>/src/`) must list exactly the `.rs` files under that `src/`, so the map
//! cannot omit a new file or keep one that is gone.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The files each tree of `markdown` names, by the tree's root (`crates/server/src/`).
fn trees(markdown: &str) -> Vec<(String, BTreeSet<String>)> {
    let mut trees = Vec::new();
    for block in markdown.split("```").skip(1).step_by(2) {
        let mut lines = block.lines().skip_while(|line| line.trim().is_empty());
        let Some(root) = lines
            .next()
            .filter(|l| l.starts_with("crates/") && l.ends_with("/src/"))
        else {
            continue;
        };
        trees.push((root.to_owned(), named(lines)));
    }
    trees
}

/// The paths an indented tree names: an entry is a line indented by two spaces per level whose
/// first word ends in `.rs` or `/`; deeper-indented lines continue a description.
fn named<'a>(lines: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    let mut folders: Vec<String> = Vec::new();
    for line in lines.filter(|line| !line.trim().is_empty()) {
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            break;
        }
        let Some(word) = line.split_whitespace().next() else {
            continue;
        };
        if indent % 2 != 0 || indent > 8 || !(word.ends_with(".rs") || word.ends_with('/')) {
            continue;
        }
        folders.truncate(indent / 2 - 1);
        let path = format!("{}{word}", folders.concat());
        if word.ends_with('/') {
            folders.push(word.to_owned());
        } else {
            files.insert(path);
        }
    }
    files
}

fn sources(dir: &Path, prefix: &str, into: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("a name");
        if path.is_dir() {
            sources(&path, &format!("{prefix}{name}/"), into);
        } else if name.ends_with(".rs") {
            into.insert(format!("{prefix}{name}"));
        }
    }
}

#[test]
fn architecture_names_every_source_file() {
    let root = repository();
    let markdown = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let trees = trees(&markdown);
    let crates: BTreeSet<String> = std::fs::read_dir(root.join("crates"))
        .expect("crates/")
        .map(|entry| {
            format!(
                "crates/{}/src/",
                entry.expect("crate").file_name().to_string_lossy()
            )
        })
        .collect();
    let mapped: BTreeSet<String> = trees.iter().map(|(root, _)| root.clone()).collect();
    assert_eq!(mapped, crates, "ARCHITECTURE.md has a tree for each crate");
    for (tree, named) in &trees {
        let mut actual = BTreeSet::new();
        sources(&root.join(tree), "", &mut actual);
        let missing: Vec<_> = actual.difference(named).collect();
        let gone: Vec<_> = named.difference(&actual).collect();
        assert!(
            missing.is_empty() && gone.is_empty(),
            "{tree} in ARCHITECTURE.md: add {missing:?}, remove {gone:?}"
        );
    }
}
