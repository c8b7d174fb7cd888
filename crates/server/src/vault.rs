//! The vault: everything Plugboard keeps secret is sealed with a key derived from the master key.
//!
//! From the 32-byte master key, HKDF-SHA256 derives independent subkeys: one for sealing
//! records (XChaCha20-Poly1305: random 192-bit nonces are safe at any volume), one for sealing
//! link tokens (PASETO v4.local), one for signing form states and the links issued before
//! links were sealed (HMAC-SHA256), and a short public key id. Every sealed record carries that key id, so a later
//! master key can be introduced and old records re-sealed in the background, and start-up can
//! refuse a master key that cannot open the existing data. The associated data binds each
//! ciphertext to its purpose and record: a credential copied onto another integration's row
//! does not decrypt.

use std::{fmt, path::Path};

use base64::Engine;
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use hkdf::Hkdf;
use plugboard_store::Sealed;
use rand::RngCore;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

/// The master key. `Debug` never prints it; memory is wiped on drop.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    /// Wraps raw key bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let key = Self::new(bytes);
        bytes.zeroize();
        key
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads `path`, or creates it with a new key (mode 0600). Returns whether it was created.
    pub fn load_or_generate(path: &Path) -> std::io::Result<(Self, bool)> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let key = crate::config::parse_master_key(&text).map_err(|e| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: {e}", path.display()),
                    )
                })?;
                Ok((key, false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                let text =
                    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(key.bytes()));
                write_private(path, text.as_bytes())?;
                Ok((key, true))
            }
            Err(e) => Err(e),
        }
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// What a sealed record is for; part of the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An integration's credentials.
    Credentials,
    /// A webhook endpoint's signing secret.
    WebhookSecret,
    /// An operator's OAuth app client secret; the record id is the app revision's id.
    OauthClientSecret,
    /// What an OAuth sign-in attempt keeps for its callback (PKCE verifier, link token) and
    /// its result (the activation token); the record id is the attempt id.
    OauthAttempt,
    /// An operator's OpenID Connect sign-in in progress (state, nonce, PKCE verifier), in the
    /// browser's cookie.
    OidcSignin,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Self::Credentials => "credentials",
            Self::WebhookSecret => "webhook-secret",
            Self::OauthClientSecret => "oauth-client-secret",
            Self::OauthAttempt => "oauth-attempt",
            Self::OidcSignin => "oidc-signin",
        }
    }
}

/// Opening a record failed: wrong key, tampered ciphertext, or a record of another owner.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The record was sealed with a key this process does not have.
    #[error("record sealed with unknown key id {0}")]
    UnknownKey(String),
    /// Authentication failed: the record was altered or belongs to another owner.
    #[error("record failed authentication")]
    Tampered,
}

struct Generation {
    id: String,
    cipher: XChaCha20Poly1305,
    link_key: Zeroizing<[u8; 32]>,
    link_seal_key: Zeroizing<[u8; 32]>,
    dashboard_key: Zeroizing<[u8; 32]>,
}

/// Seals and opens records, and holds the link-signing keys. It seals and signs with the
/// current master key and opens and verifies with it or any previous one, so that after a
/// master key change nothing already stored or sent stops working while `plugboard keys
/// rotate` re-seals the stored records.
pub struct Vault {
    current: Generation,
    previous: Vec<Generation>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("key_id", &self.current.id)
            .field(
                "previous_key_ids",
                &self.previous.iter().map(|g| &g.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn derive(master: &MasterKey, info: &str) -> Zeroizing<[u8; 32]> {
    let hkdf = Hkdf::<Sha256>::new(Some(b"plugboard"), master.bytes());
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
    hkdf.expand(info.as_bytes(), out.as_mut())
        .expect("HKDF output length is valid");
    out
}

impl Generation {
    fn new(master: &MasterKey) -> Self {
        let id_bytes = derive(master, "key-id v1");
        let seal_key = derive(master, "seal v1");
        Self {
            id: bs58::encode(&id_bytes[..9]).into_string(),
            cipher: XChaCha20Poly1305::new(seal_key.as_ref().into()),
            link_key: derive(master, "link-token v1"),
            link_seal_key: derive(master, "link-seal v1"),
            dashboard_key: derive(master, "dashboard-csrf v1"),
        }
    }
}

impl Vault {
    /// A vault whose only key is `master`.
    pub fn new(master: &MasterKey) -> Self {
        Self::with_previous(master, &[])
    }

    /// A vault that seals with `master` and still opens what `previous` keys sealed.
    pub fn with_previous(master: &MasterKey, previous: &[MasterKey]) -> Self {
        let current = Generation::new(master);
        let mut generations: Vec<Generation> = Vec::new();
        for key in previous {
            let generation = Generation::new(key);
            if generation.id != current.id && generations.iter().all(|g| g.id != generation.id) {
                generations.push(generation);
            }
        }
        Self {
            current,
            previous: generations,
        }
    }

    /// The id of the current key, as stored beside each record.
    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    /// The ids of the previous keys this vault still opens with.
    pub fn previous_key_ids(&self) -> impl Iterator<Item = &str> {
        self.previous.iter().map(|g| g.id.as_str())
    }

    fn generation(&self, key_id: &str) -> Option<&Generation> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|g| g.id == key_id)
    }

    /// Whether this vault can open records sealed with `key_id`.
    pub fn knows(&self, key_id: &str) -> bool {
        self.generation(key_id).is_some()
    }

    /// The key that signs link tokens: the current one for `None`, else the one with that id.
    pub fn link_key(&self, key_id: Option<&str>) -> Option<&[u8; 32]> {
        match key_id {
            None => Some(&self.current.link_key),
            Some(id) => self.generation(id).map(|g| &*g.link_key),
        }
    }

    /// The key that seals link tokens (PASETO v4.local): the current one for `None`, else the
    /// one with that id. Separate from the signing key, so no key serves two algorithms.
    pub fn link_seal_key(&self, key_id: Option<&str>) -> Option<&[u8; 32]> {
        match key_id {
            None => Some(&self.current.link_seal_key),
            Some(id) => self.generation(id).map(|g| &*g.link_seal_key),
        }
    }

    /// Every key the dashboard's CSRF tokens are computed with, current first: a page
    /// rendered just before a master key change still submits.
    pub fn dashboard_keys(&self) -> impl Iterator<Item = &[u8; 32]> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|g| &*g.dashboard_key)
    }

    /// Every link-signing key, current first: what a signature without a key id (a form's
    /// state) is checked against.
    pub fn link_keys(&self) -> impl Iterator<Item = &[u8; 32]> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|g| &*g.link_key)
    }

    fn aad(purpose: Purpose, record: &str) -> Vec<u8> {
        format!("plugboard/{}/{record}", purpose.label()).into_bytes()
    }

    /// Seals `plaintext` for the record `record` (e.g. an integration id).
    pub fn seal(&self, purpose: Purpose, record: &str, plaintext: &[u8]) -> Sealed {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let aad = Self::aad(purpose, record);
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            // Encryption only fails for inputs beyond 256 GiB.
            .expect("plaintext within XChaCha20-Poly1305 limits");
        Sealed {
            key_id: self.current.id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    /// Opens a record sealed by [`Vault::seal`] for the same purpose and record.
    pub fn open(
        &self,
        purpose: Purpose,
        record: &str,
        sealed: &Sealed,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let Some(generation) = self.generation(&sealed.key_id) else {
            return Err(VaultError::UnknownKey(sealed.key_id.clone()));
        };
        if sealed.nonce.len() != 24 {
            return Err(VaultError::Tampered);
        }
        let aad = Self::aad(purpose, record);
        generation
            .cipher
            .decrypt(
                XNonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Tampered)
    }

    /// Opens `sealed` and seals it again under the current key, for the same purpose and record.
    pub fn reseal(
        &self,
        purpose: Purpose,
        record: &str,
        sealed: &Sealed,
    ) -> Result<Sealed, VaultError> {
        let plaintext = self.open(purpose, record, sealed)?;
        Ok(self.seal(purpose, record, &plaintext))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip() {
        let vault = Vault::new(&MasterKey::generate());
        let sealed = vault.seal(
            Purpose::Credentials,
            "personio:abc",
            b"{\"api_key\":\"canary\"}",
        );
        assert!(!sealed.ciphertext.windows(6).any(|w| w == b"canary"));
        let opened = vault
            .open(Purpose::Credentials, "personio:abc", &sealed)
            .expect("open");
        assert_eq!(opened.as_slice(), b"{\"api_key\":\"canary\"}");
    }

    #[test]
    fn ciphertext_is_bound_to_its_record_and_purpose() {
        let vault = Vault::new(&MasterKey::generate());
        let sealed = vault.seal(Purpose::Credentials, "personio:abc", b"secret");
        assert!(matches!(
            vault.open(Purpose::Credentials, "personio:xyz", &sealed),
            Err(VaultError::Tampered)
        ));
        assert!(matches!(
            vault.open(Purpose::WebhookSecret, "personio:abc", &sealed),
            Err(VaultError::Tampered)
        ));
        let mut flipped = sealed.clone();
        flipped.ciphertext[0] ^= 1;
        assert!(matches!(
            vault.open(Purpose::Credentials, "personio:abc", &flipped),
            Err(VaultError::Tampered)
        ));
    }

    #[test]
    fn another_master_key_cannot_open_and_says_why() {
        let sealed = Vault::new(&MasterKey::generate()).seal(Purpose::Credentials, "r", b"secret");
        let other = Vault::new(&MasterKey::generate());
        assert!(!other.knows(&sealed.key_id));
        assert!(matches!(
            other.open(Purpose::Credentials, "r", &sealed),
            Err(VaultError::UnknownKey(_))
        ));
    }

    #[test]
    fn previous_keys_open_and_verify_but_never_seal() {
        let old = MasterKey::new([1; 32]);
        let new = MasterKey::new([2; 32]);
        let before = Vault::new(&old);
        let sealed = before.seal(Purpose::Credentials, "r", b"secret");
        let after = Vault::with_previous(&new, &[old.clone(), new.clone(), old]);
        assert_eq!(
            after.previous_key_ids().collect::<Vec<_>>(),
            [before.key_id()],
            "deduplicated"
        );
        assert_eq!(
            after
                .open(Purpose::Credentials, "r", &sealed)
                .expect("open")
                .as_slice(),
            b"secret"
        );
        let resealed = after
            .reseal(Purpose::Credentials, "r", &sealed)
            .expect("reseal");
        assert_eq!(resealed.key_id, after.key_id());
        assert!(matches!(
            before.open(Purpose::Credentials, "r", &resealed),
            Err(VaultError::UnknownKey(_))
        ));
        assert_eq!(after.link_key(Some(before.key_id())), before.link_key(None));
        assert_eq!(after.link_keys().count(), 2);
        assert_eq!(
            after.link_seal_key(Some(before.key_id())),
            before.link_seal_key(None)
        );
        assert_ne!(after.link_seal_key(None), before.link_seal_key(None));
        assert_ne!(before.link_seal_key(None), before.link_key(None));
        assert!(
            after.reseal(Purpose::WebhookSecret, "r", &sealed).is_err(),
            "purpose still bound"
        );
    }

    #[test]
    fn key_ids_are_stable_per_master_key() {
        let key = MasterKey::new([42; 32]);
        assert_eq!(Vault::new(&key).key_id(), Vault::new(&key.clone()).key_id());
        assert_ne!(
            Vault::new(&key).key_id(),
            Vault::new(&MasterKey::new([43; 32])).key_id()
        );
        assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
    }

    #[test]
    fn generated_key_file_is_private_and_reloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("master.key");
        let (first, created) = MasterKey::load_or_generate(&path).expect("generate");
        assert!(created);
        let (second, created) = MasterKey::load_or_generate(&path).expect("reload");
        assert!(!created);
        assert_eq!(first.bytes(), second.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
