//! Hostile tokens, each sent as a real request through `AuthLayer` over loopback to an API
//! protected by a `JwtValidator` that takes its keys from the bundled authorization server.
//! Every one must be refused with `401 invalid_token` and the exact description of the rule
//! that stops it (a few are refused earlier, by the RFC 6750 header grammar, with 400).
//!
//! Cases already covered by `tests/integration/jwt.rs` (alg `none` spellings with a dummy
//! signature, tampered signature and claims, HS256 with the RSA key, `jku`/`x5u`, unknown
//! `crit`, `iss` with a trailing slash or upper case, `aud` as a number, `typ: JWT` with
//! `nonce`, oversized tokens) are not repeated here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use bearer_guard::{crypto::Backend, jwks::KeySet};
use bearer_guard_testkit::{KeyAlg, TestServer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::jwt::{b64, hs256_input, segments, unb64};
use support::{assert_invalid, call, jwks, jwt_api, me_url, now};

const MALFORMED: &str = "the token is malformed";
const NOT_ALLOWED: &str = "the signing algorithm is not allowed";
const BAD_SIGNATURE: &str = "the signature is invalid";
const KEY_MISMATCH: &str = "the signing key does not fit the token";
const UNKNOWN_KEY: &str = "the signing key is unknown";
const DUPLICATE: &str = "the token has duplicate members";
const INVALID_CLAIM: &str = "the token has an invalid claim";
const CRITICAL: &str = "the token uses an unsupported critical extension";
const ENCRYPTED: &str = "encrypted tokens are not accepted";
const WRONG_TYPE: &str = "the token type is not an access token";
const WRONG_ISSUER: &str = "the token issuer is not accepted";
const WRONG_AUDIENCE: &str = "the token audience is not accepted";
const EXPIRED: &str = "the token has expired";

/// The shared secret of the HMAC-only API, used where raw bytes (not UTF-8) must be signed.
const HMAC_SECRET: &[u8] = b"attack-suite-hmac-secret-0123456789abcdef";

/// The victim: an authorization server with an RSA (active), an EC P-256 and an Ed25519 key,
/// and an API that trusts it.
struct Env {
    server: TestServer,
    url: String,
    rsa: String,
    ec: String,
    ed: String,
}

async fn setup() -> Env {
    let server = TestServer::start().await;
    let rsa = server.active_kid();
    let ec = server.add_key(KeyAlg::Es256);
    let ed = server.add_key(KeyAlg::EdDsa);
    let url = me_url(support::validator(&server).await).await;
    Env {
        server,
        url,
        rsa,
        ec,
        ed,
    }
}

impl Env {
    /// Signs exactly `header` and `claims` with key `kid` (the key's algorithm, whatever the
    /// header says).
    fn sign(&self, kid: &str, header: &Value, claims: &str) -> String {
        self.server.sign_raw(kid, &header.to_string(), claims)
    }

    /// Signs with the RSA key, header `{"alg":"RS256","typ":"at+jwt","kid":…}`.
    fn rs256(&self, claims: &str) -> String {
        self.sign(&self.rsa, &header("RS256", &self.rsa), claims)
    }

    /// Good claims as a JSON text, for editing.
    fn claims(&self) -> Value {
        let now = now();
        json!({"iss": self.server.issuer(), "aud": "api", "sub": "alice",
               "iat": now, "exp": now + 300, "scope": "read"})
    }

    /// Good claims with `name` set to `value`, signed with the RSA key.
    fn rs256_with(&self, name: &str, value: Value) -> String {
        let mut claims = self.claims();
        claims[name] = value;
        self.rs256(&claims.to_string())
    }

    /// The JWK the server publishes for `kid`.
    async fn jwk(&self, kid: &str) -> Value {
        jwks(&self.server).await["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .unwrap()
            .clone()
    }
}

fn header(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "typ": "at+jwt", "kid": kid})
}

/// `header.payload.signature` from raw parts (signature as bytes).
fn assemble(header: &str, payload: &str, signature: &[u8]) -> String {
    format!("{header}.{payload}.{}", b64(signature))
}

/// An API protected by a validator that only knows an HMAC secret, so that tests can sign
/// any bytes at all.
async fn hmac_api(issuer: &str) -> String {
    jwt_api(issuer, |b| {
        b.algorithms([bearer_guard::jwt::Algorithm::HS256])
            .hmac_secret(HMAC_SECRET)
    })
    .await
}

fn hs256(secret: &[u8], header: &[u8], claims: &[u8]) -> String {
    hs256_input(secret, &format!("{}.{}", b64(header), b64(claims)))
}

/// Converts a raw `r || s` ECDSA signature into ASN.1 DER (`SEQUENCE { INTEGER r, INTEGER s }`).
fn der_signature(raw: &[u8]) -> Vec<u8> {
    fn int(bytes: &[u8]) -> Vec<u8> {
        let start = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        let mut v = bytes[start..].to_vec();
        if v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

mod claims;
mod encoding;
mod signatures;
