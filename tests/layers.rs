//! The layers of ARCHITECTURE.md, held: every layer has its folder under `src/`, and no file
//! imports from a layer above its own (unit tests may reach anywhere), and no file is too long to read.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom to top; a file may import from its own layer and the ones before it.
const LAYERS: [&str; 6] = ["ground", "domain", "store", "services", "http", "top"];

/// The layer a module of the crate root belongs to (`app`, `serve`, `cli`, `config` are the top).
fn layer_of(top_module: &str) -> usize {
    LAYERS.iter().position(|layer| *layer == top_module).unwrap_or(LAYERS.len() - 1)
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The source of a file without its unit tests (which may reach anywhere).
fn without_tests(source: &str) -> &str {
    source.find("#[cfg(test)]\nmod tests").map_or(source, |at| &source[..at])
}

/// Every `crate::<module>` a file names, with the line it is on.
fn crate_references(source: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in without_tests(source).lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String =
                after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.push((number + 1, name));
            }
            rest = after;
        }
    }
    found
}

#[test]
fn no_file_imports_from_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 30, "the sources were found");
    let mut upward = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let own = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let own_layer = layer_of(own.trim_end_matches(".rs"));
        let source = std::fs::read_to_string(file).unwrap();
        for (line, module) in crate_references(&source) {
            if layer_of(&module) > own_layer {
                upward.push(format!("{}:{line} uses crate::{module}", relative.display()));
            }
        }
    }
    assert!(upward.is_empty(), "imports from a higher layer:\n{}", upward.join("\n"));
}

#[test]
fn the_checker_sees_an_upward_import() {
    let refs = crate_references("use crate::http::error::ApiError;\n// crate::app in a comment\n");
    assert_eq!(refs, vec![(1, "http".to_owned())]);
    assert!(layer_of("http") > layer_of("store"));
    assert_eq!(layer_of("config"), layer_of("top"));
}

#[test]
fn every_layer_has_its_folder() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sizes = BTreeMap::new();
    for layer in &LAYERS[..LAYERS.len() - 1] {
        let dir = src.join(layer);
        assert!(dir.join("mod.rs").is_file(), "src/{layer}/mod.rs");
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        sizes.insert(*layer, files.len());
    }
    assert!(sizes.values().all(|&count| count >= 2), "{sizes:?}");
}

/// Lines a source file may have, its unit tests included: past about 600 a file holds more than
/// one thing a reader can keep in mind, and is split.
const MAX_FILE_LINES: usize = 650;

#[test]
fn no_source_file_grows_past_what_a_reader_can_hold() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(file).unwrap().lines().count();
            (lines > MAX_FILE_LINES).then(|| format!("{} has {lines} lines", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these:\n{}", long.join("\n"));
}
