//! Compiles every `tools/*.toml` file into the crate, so the binary carries its catalog and a
//! new tool is added by dropping in one data file; likewise the imported logos in `logos/`.

use std::{env, fs, path::Path};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("crates/catalog/tools exists")
        .map(|entry| entry.expect("readable tools directory").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Every compiled-in tool file: (file name, contents).\npub(crate) const TOOL_FILES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name");
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    out.push_str(&logo_files());
    let target = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("tool_files.rs");
    fs::write(target, out).expect("OUT_DIR is writable");
}

/// `LOGO_FILES` (`logos/<tool>.svg`) and `LOGO_SOURCES` (`logos/sources.toml`), written by
/// `scripts/import-logos.mjs`.
fn logo_files() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("logos");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("crates/catalog/logos exists")
        .map(|entry| entry.expect("readable logos directory").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "svg"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Every compiled-in logo: (tool id, SVG).\npub(crate) const LOGO_FILES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let id = path
            .file_stem()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name");
        out.push_str(&format!(
            "    ({id:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let sources = dir.join("sources.toml");
    println!("cargo:rerun-if-changed={}", sources.display());
    out.push_str(&format!(
        "/// Where each logo comes from and its licence.\npub(crate) const LOGO_SOURCES: &str = include_str!({:?});\n",
        sources.display().to_string()
    ));
    out
}
