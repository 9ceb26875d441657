//! A DPoP client for the tests: an EC P-256 key pair (aws-lc-rs) and the proofs it signs,
//! with its RFC 7638 thumbprint computed independently of the crate.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::jwt::b64;

/// A DPoP client: an EC P-256 key pair and the proofs it signs.
pub struct DpopClient {
    key: EcdsaKeyPair,
    jwk: Value,
}

impl DpopClient {
    pub fn new() -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = key.public_key().as_ref().to_vec();
        assert_eq!(point.len(), 65);
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        });
        DpopClient { key, jwk }
    }

    /// RFC 7638 thumbprint, computed here independently of the crate.
    pub fn jkt(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().unwrap(),
            self.jwk["y"].as_str().unwrap()
        );
        b64(Sha256::digest(canonical.as_bytes()))
    }

    /// The key pair (for tests that put its private part where it must not be).
    pub fn key(&self) -> &EcdsaKeyPair {
        &self.key
    }

    /// The proof header: `typ`, `alg` and this client's public key.
    pub fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk})
    }

    /// Valid claims for `htm` `htu` with a fresh `jti`, and `ath` for `token` if given.
    pub fn claims(&self, htm: &str, htu: &str, token: Option<&str>) -> Value {
        let mut jti = [0u8; 16];
        aws_lc_rs::rand::fill(&mut jti).unwrap();
        let mut claims = json!({"jti": b64(jti), "htm": htm, "htu": htu, "iat": super::now()});
        if let Some(token) = token {
            claims["ath"] = Value::String(ath(token));
        }
        claims
    }

    /// Signs exactly `header` and `claims` with this client's key.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let sig = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }

    /// A valid proof for `htm` `htu`, for `token` if given.
    pub fn proof_for(&self, htm: &str, htu: &str, token: Option<&str>) -> String {
        self.sign(&self.header(), &self.claims(htm, htu, token))
    }

    /// A proof with a fresh `jti` for GET `htu`, for `token`.
    pub fn proof(&self, htu: &str, token: &str) -> String {
        self.proof_for("GET", htu, Some(token))
    }

    /// A proof with `jti` for GET `htu`, for `token`.
    pub fn proof_with_jti(&self, jti: &str, htu: &str, token: &str) -> String {
        let mut claims = self.claims("GET", htu, Some(token));
        claims["jti"] = Value::String(jti.to_owned());
        self.sign(&self.header(), &claims)
    }
}

/// The `ath` of `token`: base64url of its SHA-256.
pub fn ath(token: &str) -> String {
    b64(Sha256::digest(token.as_bytes()))
}
