//! Tool logos: the vendors' marks imported from simple-icons (CC0; `scripts/import-logos.mjs`
//! copies them into `logos/`, with their sources), and the operator's own images from a
//! directory (`PLUGBOARD_TOOL_LOGOS_DIR`). Tools with neither keep their monogram.

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;

use crate::icon;

/// Largest operator image accepted: a logo is a few kilobytes; anything bigger is a mistake.
pub const MAX_OVERRIDE_BYTES: u64 = 256 * 1024;

/// A vendor's logo from simple-icons: one path on a 24×24 grid, in the brand's colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    /// The path's `d` attribute (checked to hold only path data).
    path: String,
    /// Where it comes from, its licence and brand colour (`logos/sources.toml`).
    pub source: LogoSource,
}

/// One entry of `logos/sources.toml`: the record of where a logo comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoSource {
    /// The brand's name as simple-icons writes it.
    pub title: String,
    /// The brand colour, `#rrggbb`.
    pub color: String,
    /// The package and version it was imported from, e.g. `simple-icons@16.37.0`.
    pub package: String,
    /// The icon's slug in that package.
    pub slug: String,
    /// Where simple-icons took the drawing from.
    pub source: String,
    /// The vendor's brand guidelines, when simple-icons records them.
    #[serde(default)]
    pub guidelines: Option<String>,
    /// The licence of the drawing (SPDX id, or a type and a link).
    pub license: String,
}

impl Logo {
    /// Parses a simple-icons SVG. Only `<svg><title/><path d/></svg>` with path data is
    /// accepted, so nothing in a compiled-in logo can run or fetch anything.
    pub(crate) fn parse(svg: &str, source: LogoSource) -> Result<Self, String> {
        let rest = svg
            .trim_end()
            .strip_prefix(
                r#"<svg role="img" viewBox="0 0 24 24" xmlns="http://www.w3.org/2000/svg"><title>"#,
            )
            .ok_or("does not start like a simple-icons SVG")?;
        let (title, rest) = rest.split_once("</title>").ok_or("has no title")?;
        let path = rest
            .strip_prefix(r#"<path d=""#)
            .and_then(|rest| rest.strip_suffix(r#""/></svg>"#))
            .ok_or("is not a single path")?;
        if title.contains('<') || path.is_empty() {
            return Err("has markup in its title or an empty path".into());
        }
        if !path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" .,-".contains(&b))
        {
            return Err("has characters that are not path data".into());
        }
        if icon::parse_hex(&source.color).is_none() {
            return Err("its colour in sources.toml is not #rrggbb".into());
        }
        Ok(Self {
            path: path.to_owned(),
            source,
        })
    }

    /// The logo on a rounded square of its brand colour, in white or black, whichever reads
    /// better on it.
    pub(crate) fn tile(&self, label: &str) -> String {
        let color = &self.source.color;
        let mark = if icon::contrast_with_white(color) >= 3.0 {
            "#fff"
        } else {
            "#000"
        };
        format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" aria-label="{label}">"#,
                r#"<rect width="64" height="64" rx="14" fill="{color}"/>"#,
                r#"<svg x="14" y="14" width="36" height="36" viewBox="0 0 24 24"><path fill="{mark}" d="{path}"/></svg>"#,
                "</svg>"
            ),
            label = icon::escape(label),
            color = color,
            mark = mark,
            path = self.path,
        )
    }

    /// The bare mark in `color` (the brand colour, or black for Kombo's `icon_black_url`).
    pub(crate) fn mark(&self, label: &str, color: &str) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" role="img" aria-label="{label}"><path fill="{color}" d="{path}"/></svg>"#,
            label = icon::escape(label),
            path = self.path,
        )
    }
}

/// The compiled-in logos by tool id, checked. Fails naming the file at fault.
pub(crate) fn builtin() -> Result<BTreeMap<String, Logo>, String> {
    let mut sources: BTreeMap<String, LogoSource> =
        toml::from_str(crate::LOGO_SOURCES).map_err(|e| format!("logos/sources.toml: {e}"))?;
    let mut logos = BTreeMap::new();
    for (id, svg) in crate::LOGO_FILES {
        let source = sources
            .remove(*id)
            .ok_or_else(|| format!("logos/{id}.svg has no entry in logos/sources.toml"))?;
        let logo = Logo::parse(svg, source).map_err(|e| format!("logos/{id}.svg {e}"))?;
        logos.insert((*id).to_owned(), logo);
    }
    if let Some(id) = sources.keys().next() {
        return Err(format!("logos/sources.toml names {id}, which has no SVG"));
    }
    Ok(logos)
}

/// An image ready to serve: its media type and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// `image/svg+xml` or `image/png`.
    pub content_type: &'static str,
    /// The file's bytes.
    pub body: Vec<u8>,
}

/// Reads an operator's logo directory: `<tool-id>.svg` or `<tool-id>.png` for tools of
/// `known`. Every entry must be such a file: a typo or a stray file fails the start rather
/// than being ignored. Symbolic links, larger files than [`MAX_OVERRIDE_BYTES`], SVGs with
/// scripts, event handlers or embedded documents, and PNGs that are not PNGs are refused.
pub(crate) fn read_overrides(
    dir: &Path,
    known: impl Fn(&str) -> bool,
) -> Result<BTreeMap<String, Image>, (String, String)> {
    let fail = |name: &str, message: &str| (dir.join(name).display().to_string(), message.into());
    let entries = std::fs::read_dir(dir).map_err(|e| {
        (
            dir.display().to_string(),
            format!("cannot read directory: {e}"),
        )
    })?;
    let mut images = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            (
                dir.display().to_string(),
                format!("cannot read directory: {e}"),
            )
        })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(fail(
                "?",
                "file names must be <tool-id>.svg or <tool-id>.png",
            ));
        };
        if name.starts_with('.') {
            continue; // editor and VCS droppings such as .gitkeep
        }
        let (id, content_type) = match name.rsplit_once('.') {
            Some((id, "svg")) => (id, "image/svg+xml"),
            Some((id, "png")) => (id, "image/png"),
            _ => return Err(fail(name, "must be named <tool-id>.svg or <tool-id>.png")),
        };
        if !known(id) {
            return Err(fail(name, "names no tool of the catalog"));
        }
        // The entry itself, not what a link points to: a link could reach any file.
        let meta = std::fs::symlink_metadata(entry.path())
            .map_err(|e| fail(name, &format!("cannot read: {e}")))?;
        if !meta.is_file() {
            return Err(fail(
                name,
                "must be a regular file (not a link or directory)",
            ));
        }
        if meta.len() > MAX_OVERRIDE_BYTES {
            return Err(fail(name, "is larger than 256 KiB"));
        }
        let body =
            std::fs::read(entry.path()).map_err(|e| fail(name, &format!("cannot read: {e}")))?;
        check_image(content_type, &body).map_err(|message| fail(name, message))?;
        if images
            .insert(id.to_owned(), Image { content_type, body })
            .is_some()
        {
            return Err(fail(name, "the tool has both an .svg and a .png"));
        }
    }
    Ok(images)
}

/// The content checks of an operator image (a tool's or the operator's own logo). SVGs are
/// also served with a policy that lets nothing run, and only ever shown through `<img>`;
/// refusing active content here turns a hostile or careless file into a clear start-up error.
pub fn check_image(content_type: &str, body: &[u8]) -> Result<(), &'static str> {
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > MAX_OVERRIDE_BYTES {
        return Err("is larger than 256 KiB");
    }
    if content_type == "image/png" {
        return match body.starts_with(b"\x89PNG\r\n\x1a\n") {
            true => Ok(()),
            false => Err("is not a PNG file"),
        };
    }
    let text = std::str::from_utf8(body).map_err(|_| "is not UTF-8 text")?;
    let lower = text.to_ascii_lowercase();
    if !lower.contains("<svg") {
        return Err("is not an SVG image");
    }
    let active = [
        "<script",
        "<foreignobject",
        "<iframe",
        "<embed",
        "<object",
        "javascript:",
    ];
    if active.iter().any(|needle| lower.contains(needle)) {
        return Err("contains a script or an embedded document");
    }
    let handler = regex::Regex::new(r"[\s/]on[a-z]+\s*=").expect("a valid pattern");
    if handler.is_match(&lower) {
        return Err("contains an event handler attribute (on…=)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_imported_logo_is_a_single_path_with_its_source_recorded() {
        let logos = builtin().expect("the imported logos are valid");
        for id in ["greenhouse", "gusto", "hibob", "okta", "personio"] {
            let logo = logos.get(id).unwrap_or_else(|| panic!("no logo for {id}"));
            assert!(logo.source.package.starts_with("simple-icons@"), "{id}");
            assert!(logo.source.source.starts_with("https://"), "{id}");
            assert!(!logo.source.license.is_empty(), "{id}");
        }
    }

    #[test]
    fn svgs_that_are_not_a_single_path_are_refused() {
        let source = LogoSource {
            title: "X".into(),
            color: "#123456".into(),
            package: "simple-icons@0".into(),
            slug: "x".into(),
            source: "https://example.com".into(),
            guidelines: None,
            license: "CC0-1.0".into(),
        };
        let head = r#"<svg role="img" viewBox="0 0 24 24" xmlns="http://www.w3.org/2000/svg"><title>X</title>"#;
        let good = format!(r#"{head}<path d="M0 0h24v24H0z"/></svg>"#);
        assert!(Logo::parse(&good, source.clone()).is_ok());
        for bad in [
            format!(r#"{head}<path d="M0 0" onload="x()"/></svg>"#),
            format!(r#"{head}<script>x()</script><path d="M0 0"/></svg>"#),
            format!(r#"{head}<path d="M0 0&quot;"/></svg>"#),
            "<svg/>".to_owned(),
        ] {
            assert!(Logo::parse(&bad, source.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn operator_images_are_checked() {
        assert!(check_image("image/svg+xml", br#"<svg viewBox="0 0 1 1"></svg>"#).is_ok());
        assert!(check_image("image/png", b"\x89PNG\r\n\x1a\n....").is_ok());
        for (kind, body) in [
            (
                "image/svg+xml",
                &b"<svg><script>alert(1)</script></svg>"[..],
            ),
            ("image/svg+xml", b"<svg onload=\"alert(1)\"></svg>"),
            ("image/svg+xml", b"<svg><a href=\"javascript:x\"/></svg>"),
            ("image/svg+xml", b"<svg><foreignObject/></svg>"),
            ("image/svg+xml", b"<html></html>"),
            ("image/png", b"<svg></svg>"),
        ] {
            assert!(
                check_image(kind, body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let big = vec![b' '; usize::try_from(MAX_OVERRIDE_BYTES).expect("small") + 1];
        assert!(check_image("image/svg+xml", &big).is_err());
    }
}
