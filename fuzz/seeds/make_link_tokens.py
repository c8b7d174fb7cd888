#!/usr/bin/env python3
"""Writes the link-token seeds with the fuzz targets' master key ([0x42] * 32,
`fuzz/src/lib.rs`), computed here from the schemes in crates/server/src/{vault,tokens}.rs, so
the fuzzer's mutations start from tokens that pass the authentication check:

- sealed links (what Plugboard issues): PASETO v4.local, XChaCha20 and BLAKE2b written out from
  the PASETO specification (chacha20 is not in Python's standard library), with fixed nonces;
- links signed before sealing (compact JWS, HS256), which Plugboard still accepts until they
  expire, and an unsigned one (`alg: none`).

Standard library only.

    python3 fuzz/seeds/make_link_tokens.py    # rewrites fuzz/seeds/link_token/
"""
import base64, hashlib, hmac, json, os, struct

MASTER = bytes([0x42] * 32)
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def derive(info):  # HKDF-SHA256, salt "plugboard", 32 bytes
    prk = hmac.new(b"plugboard", MASTER, hashlib.sha256).digest()
    return hmac.new(prk, info.encode() + b"\x01", hashlib.sha256).digest()


def bs58(data):
    n, out = int.from_bytes(data, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(value):  # serde_json's compact output for plain ASCII strings and integers
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


KID = bs58(derive("key-id v1")[:9])
LINK_KEY = derive("link-token v1")
SEAL_KEY = derive("link-seal v1")
ASSERTION = b"plugboard link v1"


# --- ChaCha20 (RFC 8439) and XChaCha20 (draft-irtf-cfrg-xchacha) -------------------------------

def _rounds(state):
    def qr(a, b, c, d):
        s = state
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] ^= s[a]; s[d] = ((s[d] << 16) | (s[d] >> 16)) & 0xFFFFFFFF
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] ^= s[c]; s[b] = ((s[b] << 12) | (s[b] >> 20)) & 0xFFFFFFFF
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] ^= s[a]; s[d] = ((s[d] << 8) | (s[d] >> 24)) & 0xFFFFFFFF
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] ^= s[c]; s[b] = ((s[b] << 7) | (s[b] >> 25)) & 0xFFFFFFFF
    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)


CONSTANTS = list(struct.unpack("<4I", b"expand 32-byte k"))


def hchacha20(key, nonce16):
    state = CONSTANTS + list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    _rounds(state)
    return struct.pack("<8I", *(state[0:4] + state[12:16]))


def chacha20_xor(key, nonce12, data, counter=0):
    out = bytearray()
    for block in range(0, len(data), 64):
        initial = CONSTANTS + list(struct.unpack("<8I", key)) + [counter + block // 64] + list(
            struct.unpack("<3I", nonce12))
        state = list(initial)
        _rounds(state)
        stream = struct.pack("<16I", *((s + i) & 0xFFFFFFFF for s, i in zip(state, initial)))
        out += bytes(a ^ b for a, b in zip(data[block:block + 64], stream))
    return bytes(out)


def xchacha20_xor(key, nonce24, data):
    return chacha20_xor(hchacha20(key, nonce24[:16]), b"\0\0\0\0" + nonce24[16:], data)


# --- PASETO v4.local ----------------------------------------------------------------------------

def pae(*pieces):
    out = struct.pack("<Q", len(pieces))
    for piece in pieces:
        out += struct.pack("<Q", len(piece)) + piece
    return out


def seal(claims, nonce):
    footer = compact({"kid": KID})
    tmp = hashlib.blake2b(b"paseto-encryption-key" + nonce, key=SEAL_KEY, digest_size=56).digest()
    enc_key, n2 = tmp[:32], tmp[32:]
    auth_key = hashlib.blake2b(b"paseto-auth-key-for-aead" + nonce, key=SEAL_KEY,
                               digest_size=32).digest()
    ciphertext = xchacha20_xor(enc_key, n2, compact(claims))
    header = b"v4.local."
    tag = hashlib.blake2b(pae(header, nonce, ciphertext, footer, ASSERTION), key=auth_key,
                          digest_size=32).digest()
    return f"v4.local.{b64(nonce + ciphertext + tag)}.{b64(footer)}"


def sign(claims):
    header = {"alg": "HS256", "typ": "JWT", "kid": KID}
    signing_input = f"{b64(compact(header))}.{b64(compact(claims))}"
    signature = hmac.new(LINK_KEY, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


# Sealed claims: field order and one-letter keys as in `LinkClaims`; optional fields left out
# when absent, as serde skips them ("k" only for a relink).
SEALED = {
    "sealed-connect-embedded": {"j": "8kJ2nVqR4tYw6zXc3mLp9sHd", "e": "env", "c": "HRIS",
                                "t": "personio", "l": "de", "y": "EMBEDDED", "m": "a@b.example",
                                "o": "Acme", "x": 1795568400},
    "sealed-relink-magic": {"j": "Q7wE3rT9yU2iO5pA8sD4fG6h", "e": "env", "k": "relink",
                            "i": "personio:CBNMt7dSNCzBdnRTx87dev4E", "c": "ATS", "t": "personio",
                            "r": "sandbox", "y": "MAGIC_LINK", "o": "Acme, Inc.", "u": "36123",
                            "s": "scope", "x": 1827100800},
    "sealed-expired": {"j": "Z9xC8vB7nM6aS5dF4gH3jK2L", "e": "env", "c": "LMS", "l": "fr",
                       "y": "EMBEDDED", "o": "Old", "x": 3600},
}

# Links signed before sealing, as the previous version wrote them (long names, `lang` and `kind`
# always present, `iat` one lifetime before `exp`).
SIGNED = {
    "connect-embedded": {"jti": "8kJ2nVqR4tYw6zXc3mLp9sHd", "env": "env", "kind": "connect",
                         "cat": "HRIS", "tool": "personio", "lang": "de", "typ": "EMBEDDED",
                         "email": "a@b.example", "org": "Acme", "iat": 1795564800,
                         "exp": 1795568400},
    "relink-magic": {"jti": "Q7wE3rT9yU2iO5pA8sD4fG6h", "env": "env", "kind": "relink",
                     "iid": "personio:CBNMt7dSNCzBdnRTx87dev4E", "cat": "ATS", "tool": "personio",
                     "renv": "sandbox", "lang": "en", "typ": "MAGIC_LINK", "org": "Acme, Inc.",
                     "oid": "36123", "scope": "scope", "iat": 1795564800, "exp": 1827100800},
    "expired": {"jti": "Z9xC8vB7nM6aS5dF4gH3jK2L", "env": "env", "kind": "connect", "cat": "LMS",
                "lang": "fr", "typ": "EMBEDDED", "org": "Old", "iat": 0, "exp": 3600},
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "link_token")
    os.makedirs(out, exist_ok=True)
    for name, claims in SEALED.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(seal(claims, hashlib.sha256(name.encode()).digest()))
    for name, claims in SIGNED.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(sign(claims))
    unsigned = f"{b64(compact({'alg': 'none', 'typ': 'JWT', 'kid': KID}))}.{b64(compact(SIGNED['expired']))}."
    with open(os.path.join(out, "alg-none"), "w") as f:
        f.write(unsigned)
