#!/usr/bin/env python3
"""Writes the link-token seeds: tokens signed with the fuzz targets' master key ([0x42] * 32,
`fuzz/src/lib.rs`), computed here from the scheme in crates/server/src/{vault,tokens}.rs, so
the fuzzer's mutations start from tokens that pass the signature check. Standard library only.

    python3 fuzz/seeds/make_link_tokens.py    # rewrites fuzz/seeds/link_token/
"""
import base64, hashlib, hmac, json, os

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


def sign(claims):
    header = {"alg": "HS256", "typ": "JWT", "kid": KID}
    signing_input = f"{b64(compact(header))}.{b64(compact(claims))}"
    signature = hmac.new(LINK_KEY, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


# Field order as in `LinkClaims`; optional fields left out when absent, as serde skips them.
SEEDS = {
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
    for name, claims in SEEDS.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(sign(claims))
    unsigned = f"{b64(compact({'alg': 'none', 'typ': 'JWT', 'kid': KID}))}.{b64(compact(SEEDS['expired']))}."
    with open(os.path.join(out, "alg-none"), "w") as f:
        f.write(unsigned)
