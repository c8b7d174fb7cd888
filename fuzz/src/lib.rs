//! What the fuzz targets share: fixed keys and a fixed clock, so every run is reproducible and
//! the committed seeds stay valid, and an HMAC-SHA256 written out from its definition
//! (RFC 2104) to check Plugboard's signatures against.

use std::sync::LazyLock;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use plugboard::vault::{MasterKey, Vault};
use plugboard::{
    links::LinkClaims,
    tokens::{seal_link_with_nonce, sign_legacy_link},
};
use sha2::{Digest, Sha256};

/// The master key of the fuzz targets. The link tokens in `fuzz/seeds/link_token/` are sealed
/// or signed with it (`fuzz/seeds/make_link_tokens.py`), so they open and reach the code after
/// the authentication check.
pub const MASTER_KEY: [u8; 32] = [0x42; 32];

/// The vault of [`MASTER_KEY`].
pub fn vault() -> &'static Vault {
    static VAULT: LazyLock<Vault> = LazyLock::new(|| Vault::new(&MasterKey::new(MASTER_KEY)));
    &VAULT
}

/// Another master key.
const OTHER_KEY: [u8; 32] = [0x17; 32];

/// A vault of another master key: nothing signed by [`vault`] may verify with it.
pub fn other_vault() -> &'static Vault {
    static VAULT: LazyLock<Vault> = LazyLock::new(|| Vault::new(&MasterKey::new(OTHER_KEY)));
    &VAULT
}

/// The vault after a master key change from [`MASTER_KEY`] to another key: it signs with the
/// new key and still verifies what [`vault`] signed.
pub fn rotated_vault() -> &'static Vault {
    static VAULT: LazyLock<Vault> = LazyLock::new(|| {
        Vault::with_previous(&MasterKey::new(OTHER_KEY), &[MasterKey::new(MASTER_KEY)])
    });
    &VAULT
}

/// The token `vault` makes of `claims` in the format of `token`: sealed with the nonce `token`
/// carries, or signed the way links were signed before sealing. A token that opens must be
/// exactly this one, so no second spelling of a token opens.
pub fn remake(vault: &Vault, token: &str, claims: &LinkClaims) -> String {
    if token.starts_with("v4.local.") {
        let sealed = token
            .split('.')
            .nth(2)
            .expect("a sealed token that opened has a body");
        let bytes = URL_SAFE_NO_PAD.decode(sealed).expect("canonical base64");
        let nonce: [u8; 32] = bytes[..32].try_into().expect("a 32-byte nonce");
        seal_link_with_nonce(vault, claims, nonce)
    } else {
        sign_legacy_link(vault, claims)
    }
}

/// The fixed "now" of the fuzz targets: 2026-11-25T00:00:00Z.
pub const NOW: i64 = 1_795_564_800;

/// The instant `seconds` after the epoch, clamped to the range chrono can represent.
pub fn at(seconds: i64) -> DateTime<Utc> {
    let seconds = seconds.clamp(
        DateTime::<Utc>::MIN_UTC.timestamp(),
        DateTime::<Utc>::MAX_UTC.timestamp(),
    );
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// HMAC-SHA256 of the concatenated `parts` under `key`, computed from the definition rather
/// than with the `hmac` crate Plugboard uses: keys longer than a block are hashed first, then
/// `H((K ^ opad) || H((K ^ ipad) || message))`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Checks [`hmac_sha256`] against RFC 4231 (test case 2, and test case 6 whose key is longer
/// than a block), so a target never compares Plugboard against a broken oracle.
pub fn check_hmac_oracle() {
    let hex = |mac: [u8; 32]| mac.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        hex(hmac_sha256(
            b"Jefe",
            &[b"what do ya want ", b"for nothing?"]
        )),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        hex(hmac_sha256(
            &[0xaa; 131],
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}
