//! Cursor pagination shared by every list endpoint: `cursor` and `page_size` in, `next` out.
//! A cursor is the `(created_at, id)` position of the last item of a page, opaque to clients
//! (base64url of `millis:id`), so pages stay stable while new items arrive.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use plugboard_store::{from_millis, to_millis};

use crate::error::{ApiError, ApiResult};

/// Largest `page_size`.
pub const MAX_PAGE_SIZE: u32 = 250;
/// `page_size` when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// A checked page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page.
    pub size: u32,
    /// The position after which the page starts.
    pub after: Option<(DateTime<Utc>, String)>,
}

impl PageRequest {
    /// Checks `cursor` and `page_size` from a query string.
    pub fn new(cursor: Option<&str>, page_size: Option<u32>) -> ApiResult<Self> {
        let size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(ApiError::InputInvalid(format!(
                "page_size: must be between 1 and {MAX_PAGE_SIZE}"
            )));
        }
        let after = match cursor.filter(|c| !c.is_empty()) {
            Some(cursor) => Some(decode(cursor).ok_or_else(|| {
                ApiError::InputInvalid("cursor: not a cursor this API returned".into())
            })?),
            None => None,
        };
        Ok(Self { size, after })
    }

    /// How many rows to ask the store for: one more than a page, to know if another follows.
    pub fn fetch(&self) -> u32 {
        self.size + 1
    }

    /// Cuts `rows` (fetched with [`PageRequest::fetch`]) to a page and returns the cursor of
    /// the next page, if there is one. `position` gives an item's `(created_at, id)`.
    pub fn finish<T>(
        &self,
        rows: &mut Vec<T>,
        position: impl Fn(&T) -> (DateTime<Utc>, &str),
    ) -> Option<String> {
        let size = self.size as usize;
        if rows.len() <= size {
            return None;
        }
        rows.truncate(size);
        rows.last().map(|last| {
            let (at, id) = position(last);
            encode(at, id)
        })
    }
}

fn encode(at: DateTime<Utc>, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", to_millis(at)))
}

fn decode(cursor: &str) -> Option<(DateTime<Utc>, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (millis, id) = text.split_once(':')?;
    // Ids are printable; a control character (NUL, which PostgreSQL refuses) is no cursor.
    if id.chars().any(char::is_control) {
        return None;
    }
    Some((from_millis(millis.parse().ok()?).ok()?, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let at = from_millis(1_700_000_000_123).expect("time");
        let request = PageRequest {
            size: 1,
            after: None,
        };
        let mut rows = vec![(at, "personio:abc"), (at, "x")];
        let next = request
            .finish(&mut rows, |row| (row.0, row.1))
            .expect("a next page");
        assert_eq!(rows.len(), 1);
        let parsed = PageRequest::new(Some(&next), Some(10)).expect("valid");
        assert_eq!(parsed.after, Some((at, "personio:abc".to_owned())));
        for junk in ["%%%", "bm9jb2xvbg", "YWJjOmRlZg", "MToA"] {
            assert!(PageRequest::new(Some(junk), None).is_err(), "{junk}");
        }
        assert!(PageRequest::new(None, Some(0)).is_err());
        assert!(PageRequest::new(None, Some(MAX_PAGE_SIZE + 1)).is_err());
        assert_eq!(PageRequest::new(Some(""), None).expect("empty").after, None);
    }
}
