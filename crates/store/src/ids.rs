//! Identifiers in Kombo's shape: 24 base58 characters (about 140 random bits), and integration
//! ids `<tool>:<24 base58 chars>` such as `personio:CBNMt7dSNCzBdnRTx87dev4E`.

use std::fmt;

use rand::Rng;

/// Bitcoin's base58 alphabet: no `0`, `O`, `I` or `l`, matching every id Kombo publishes.
const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Length of the random part of every id.
pub const ID_LEN: usize = 24;

/// A fresh random id of [`ID_LEN`] base58 characters.
pub fn new_id() -> String {
    let mut rng = rand::rng();
    (0..ID_LEN)
        .map(|_| char::from(BASE58[rng.random_range(0..BASE58.len())]))
        .collect()
}

/// Whether `value` is a well-formed bare id.
pub fn is_id(value: &str) -> bool {
    value.len() == ID_LEN && value.bytes().all(|b| BASE58.contains(&b))
}

/// The id of an integration: its tool id, a colon, and a bare id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IntegrationId(String);

impl IntegrationId {
    /// A new id for an integration of `tool`.
    pub fn generate(tool: &str) -> Self {
        Self(format!("{tool}:{}", new_id()))
    }

    /// Parses an id as it arrives from a client (already percent-decoded).
    pub fn parse(value: &str) -> Option<Self> {
        let (tool, id) = value.split_once(':')?;
        let tool_ok = !tool.is_empty()
            && tool
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        (tool_ok && is_id(id)).then(|| Self(value.to_owned()))
    }

    /// The tool part (`personio`).
    pub fn tool(&self) -> &str {
        self.0.split_once(':').map_or("", |(tool, _)| tool)
    }

    /// The whole id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IntegrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_base58_and_unique() {
        let a = new_id();
        assert!(is_id(&a), "{a}");
        assert_ne!(a, new_id());
    }

    #[test]
    fn integration_ids_round_trip() {
        let id = IntegrationId::generate("personio");
        assert_eq!(id.tool(), "personio");
        assert_eq!(IntegrationId::parse(id.as_str()), Some(id));
        assert!(IntegrationId::parse("personio:CBNMt7dSNCzBdnRTx87dev4E").is_some());
        assert!(IntegrationId::parse("360learning:CBNMt7dSNCzBdnRTx87dev4E").is_some());
    }

    #[test]
    fn malformed_integration_ids_are_rejected() {
        for bad in [
            "",
            "personio",
            "personio:",
            ":CBNMt7dSNCzBdnRTx87dev4E",
            "Personio:CBNMt7dSNCzBdnRTx87dev4E",
            "personio:CBNMt7dSNCzBdnRTx87dev4",
            "personio:CBNMt7dSNCzBdnRTx87dev4E0",
            "personio:0BNMt7dSNCzBdnRTx87dev4E",
            "per sonio:CBNMt7dSNCzBdnRTx87dev4E",
            "personio:CBNMt7dSNCzBdnRTx87dev4E:x",
        ] {
            assert!(IntegrationId::parse(bad).is_none(), "{bad:?} parsed");
        }
    }
}
