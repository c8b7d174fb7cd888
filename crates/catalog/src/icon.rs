//! The fallback tool icon: a monogram on a rounded square, for tools that have no CC0 logo
//! (`logo.rs`) and no operator image.

/// The SVG monogram of `label`. `filled` draws white letters on a `color` square; otherwise
/// `color` letters on an outlined square (the "black" variant of Kombo's asset set).
pub(crate) fn monogram(label: &str, color: &str, filled: bool) -> String {
    let letters = initials(label);
    let size = if letters.chars().count() > 1 { 26 } else { 32 };
    let (rect, text_fill) = if filled {
        (
            format!(r#"<rect width="64" height="64" rx="14" fill="{color}"/>"#),
            "#fff",
        )
    } else {
        (
            format!(
                r#"<rect x="2" y="2" width="60" height="60" rx="13" fill="none" stroke="{color}" stroke-width="4"/>"#
            ),
            color,
        )
    };
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" aria-label="{label}">"#,
            "{rect}",
            r#"<text x="32" y="32" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-size="{size}" font-weight="700" fill="{fill}">{letters}</text>"#,
            "</svg>"
        ),
        label = escape(label),
        rect = rect,
        size = size,
        fill = text_fill,
        letters = escape(&letters),
    )
}

/// Up to two letters: the first of each of the first two words, or the first letter alone.
fn initials(label: &str) -> String {
    label
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Parses `#rrggbb` into its three channels.
pub(crate) fn parse_hex(color: &str) -> Option<[u8; 3]> {
    let hex = color.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

/// WCAG 2 contrast ratio between `color` and white; 0 for an unparsable colour.
pub(crate) fn contrast_with_white(color: &str) -> f64 {
    let Some(rgb) = parse_hex(color) else {
        return 0.0;
    };
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2]);
    1.05 / (luminance + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_first_letters_of_two_words() {
        assert_eq!(initials("BambooHR"), "B");
        assert_eq!(initials("SAP SuccessFactors"), "SS");
        assert_eq!(initials("iCIMS Talent Cloud"), "IT");
        assert_eq!(initials("  "), "");
    }

    #[test]
    fn monogram_escapes_the_label() {
        let svg = monogram("R&D <Tools>", "#123456", true);
        assert!(svg.contains("aria-label=\"R&amp;D &lt;Tools&gt;\""));
        assert!(svg.contains(">RT</text>"), "{svg}");
    }

    #[test]
    fn contrast_matches_wcag_reference_values() {
        assert!((contrast_with_white("#000000") - 21.0).abs() < 0.01);
        assert!((contrast_with_white("#ffffff") - 1.0).abs() < 0.01);
        // #767676 is the lightest grey that passes AA on white.
        assert!(contrast_with_white("#767676") >= 4.5);
        assert!(contrast_with_white("#777777") < 4.5);
    }
}
