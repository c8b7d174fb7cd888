//! The values list endpoints and paths take from the URL: the pagination cursor and
//! `page_size` (`api::page::PageRequest::new`), integration ids (`IntegrationId::parse`, behind
//! every `/v1/integrations/{id}` route) and categories (`Category::from_path`, `/v1/tools/{category}`).
//!
//! Properties, for any strings and numbers:
//! - no panic;
//! - a page request is accepted only with a `page_size` from 1 to 250 (100 when left out); an
//!   accepted cursor names an id without control characters (NUL cannot reach PostgreSQL), and
//!   the cursor of the page after an accepted one reads back as the same position;
//! - an integration id is accepted exactly when it is a non-empty tool of lower-case letters
//!   and digits, a colon, and a 24-character base58 id; it keeps its text and names its tool,
//!   and every id `IntegrationId::generate` makes for such a tool is accepted;
//! - a category path is accepted exactly when it is a category's wire name in lower case.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use plugboard::api::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest};
use plugboard_catalog::Category;
use plugboard_store::ids::IntegrationId;

/// Bitcoin's base58 alphabet: no `0`, `O`, `I` or `l`.
const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

#[derive(Arbitrary, Debug)]
struct Input {
    cursor: Option<String>,
    page_size: Option<u32>,
    integration_id: String,
    category: String,
}

fn check_page(cursor: Option<&str>, page_size: Option<u32>) {
    let Ok(page) = PageRequest::new(cursor, page_size) else {
        return;
    };
    let size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    assert!((1..=MAX_PAGE_SIZE).contains(&size));
    assert_eq!(page.size, size);
    assert_eq!(page.fetch(), size + 1);
    assert_eq!(page.after.is_some(), cursor.is_some_and(|c| !c.is_empty()));
    if let Some((created_at, id)) = &page.after {
        assert!(!id.chars().any(char::is_control), "{id:?}");
        // A full fetch whose last item sits at the cursor's position: the next page starts
        // there, so its cursor must read back as that position.
        let mut rows = vec![(*created_at, id.clone()); page.fetch() as usize];
        let next = page
            .finish(&mut rows, |(at, id)| (*at, id.as_str()))
            .expect("a full fetch has a next page");
        assert_eq!(rows.len(), size as usize);
        let again = PageRequest::new(Some(&next), None).expect("our own cursor");
        assert_eq!(again.after.as_ref(), Some(&(*created_at, id.clone())));
    }
}

fn check_integration_id(text: &str) {
    let expected = text.split_once(':').is_some_and(|(tool, id)| {
        !tool.is_empty()
            && tool
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && id.len() == 24
            && id.bytes().all(|b| BASE58.contains(&b))
    });
    let parsed = IntegrationId::parse(text);
    assert_eq!(parsed.is_some(), expected, "{text:?}");
    if let Some(id) = parsed {
        assert_eq!(id.as_str(), text);
        assert_eq!(id.to_string(), text);
        assert_eq!(Some(id.tool()), text.split_once(':').map(|(tool, _)| tool));
        let generated = IntegrationId::generate(id.tool());
        assert_eq!(IntegrationId::parse(generated.as_str()), Some(generated));
    }
}

fn check_category(text: &str) {
    let expected = match text {
        "hris" => Some(Category::Hris),
        "ats" => Some(Category::Ats),
        "assessment" => Some(Category::Assessment),
        "lms" => Some(Category::Lms),
        _ => None,
    };
    assert_eq!(Category::from_path(text), expected, "{text:?}");
}

fuzz_target!(|input: Input| {
    check_page(input.cursor.as_deref(), input.page_size);
    check_integration_id(&input.integration_id);
    check_category(&input.category);
});
