//! jsonwebtoken 11's process-wide crypto provider, chosen per guard.
//!
//! jsonwebtoken 11 is one crate in this build, with both backend features on: bearer-guard and
//! the testkit turn on `aws_lc_rs`, tower-oauth2-resource-server's default features turn on
//! `rust_crypto`. With both on, jsonwebtoken's `decode` cannot pick a provider by itself and
//! panics unless one is installed. bearer-guard and the testkit name their provider
//! explicitly and never use that default; tower-oauth2-resource-server and the `floor` call
//! plain `jsonwebtoken::decode`, which does.
//!
//! So that each of them runs on the backend it would have in a build of its own, this installs
//! a provider whose factories delegate to `aws_lc::DEFAULT_PROVIDER` or
//! `rust_crypto::DEFAULT_PROVIDER` as the thread-local [`Jwt11`] says, and [`Scoped`] sets that
//! thread-local while a guard's response future is polled. The delegation costs one
//! thread-local read per `decode`. Other jsonwebtoken versions (9 in jwt-authorizer, 10 in
//! axum-jwt-auth) are separate crates with their own single backend and are not affected.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use jsonwebtoken::crypto::{aws_lc, rust_crypto, CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

/// Which jsonwebtoken 11 backend `jsonwebtoken::decode` uses while a guard runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jwt11 {
    /// The guard does not use jsonwebtoken 11's default provider (calls are counted as
    /// unscoped and go to aws-lc-rs).
    Unused,
    /// aws-lc-rs (`aws_lc::DEFAULT_PROVIDER`).
    AwsLc,
    /// RustCrypto (`rust_crypto::DEFAULT_PROVIDER`: the `rsa` crate for RS256).
    RustCrypto,
}

thread_local! {
    static CURRENT: Cell<Jwt11> = const { Cell::new(Jwt11::Unused) };
}

/// Counting is on only during the correctness checks, so that the measured passes do not
/// share a contended counter.
static COUNTING: AtomicBool = AtomicBool::new(false);
static CALLS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

fn index(b: Jwt11) -> usize {
    match b {
        Jwt11::Unused => 0,
        Jwt11::AwsLc => 1,
        Jwt11::RustCrypto => 2,
    }
}

fn current() -> &'static CryptoProvider {
    let b = CURRENT.with(Cell::get);
    if COUNTING.load(Ordering::Relaxed) {
        CALLS[index(b)].fetch_add(1, Ordering::Relaxed);
    }
    match b {
        Jwt11::RustCrypto => &rust_crypto::DEFAULT_PROVIDER,
        Jwt11::AwsLc | Jwt11::Unused => &aws_lc::DEFAULT_PROVIDER,
    }
}

fn signer(alg: &Algorithm, key: &EncodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    (current().signer_factory)(alg, key)
}

fn verifier(
    alg: &Algorithm,
    key: &DecodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    (current().verifier_factory)(alg, key)
}

type Components = jsonwebtoken::errors::Result<(Vec<u8>, Vec<u8>)>;

fn rsa_priv(der: &[u8]) -> Components {
    (current().key_utils.rsa_pub_components_from_private_key)(der)
}

fn rsa_pub(der: &[u8]) -> Components {
    (current().key_utils.rsa_pub_components_from_public_key)(der)
}

fn ec_priv(
    der: &[u8],
    alg: Algorithm,
) -> jsonwebtoken::errors::Result<(EllipticCurve, Vec<u8>, Vec<u8>)> {
    (current().key_utils.ec_pub_components_from_private_key)(der, alg)
}

fn ed_priv(der: &[u8], curve: &EllipticCurve) -> jsonwebtoken::errors::Result<Vec<u8>> {
    (current().key_utils.ed_pub_components_from_private_key)(der, curve)
}

fn digest(data: &[u8], hash: ThumbprintHash) -> jsonwebtoken::errors::Result<Vec<u8>> {
    (current().key_utils.compute_digest)(data, hash)
}

static DISPATCH: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: rsa_priv,
        rsa_pub_components_from_public_key: rsa_pub,
        ec_pub_components_from_private_key: ec_priv,
        ed_pub_components_from_private_key: ed_priv,
        compute_digest: digest,
    },
};

/// Installs the delegating provider as jsonwebtoken 11's process default. Call once, before
/// any guard is built.
pub fn install() -> Result<(), String> {
    DISPATCH
        .install_default()
        .map_err(|_| "a jsonwebtoken 11 crypto provider was already installed".to_string())
}

/// Starts counting provider calls per backend (for the correctness checks).
pub fn start_counting() -> [u64; 3] {
    COUNTING.store(true, Ordering::SeqCst);
    counts()
}

/// Stops counting; returns the counts so far (unscoped, aws-lc, RustCrypto).
pub fn stop_counting() -> [u64; 3] {
    COUNTING.store(false, Ordering::SeqCst);
    counts()
}

fn counts() -> [u64; 3] {
    [
        CALLS[0].load(Ordering::SeqCst),
        CALLS[1].load(Ordering::SeqCst),
        CALLS[2].load(Ordering::SeqCst),
    ]
}

/// Checks that the calls counted between `before` and `after` all went to `expected`
/// (none at all for [`Jwt11::Unused`]).
pub fn check_calls(expected: Jwt11, before: [u64; 3], after: [u64; 3]) -> Result<(), String> {
    let d: Vec<u64> = (0..3).map(|i| after[i] - before[i]).collect();
    let ok = match expected {
        Jwt11::Unused => d.iter().all(|&n| n == 0),
        b => d[index(b)] > 0 && (0..3).all(|i| i == index(b) || d[i] == 0),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "jsonwebtoken 11 default-provider calls (unscoped, aws-lc, rust-crypto) = {d:?}, expected only {expected:?}"
        ))
    }
}

/// A future polled with [`CURRENT`] set to `backend`.
pub struct Scoped<'a, F> {
    backend: Jwt11,
    fut: Pin<&'a mut F>,
}

impl<'a, F> Scoped<'a, F> {
    /// Wraps a pinned future.
    pub fn new(backend: Jwt11, fut: Pin<&'a mut F>) -> Self {
        Scoped { backend, fut }
    }
}

impl<F: Future> Future for Scoped<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let prev = CURRENT.with(|c| c.replace(this.backend));
        let out = this.fut.as_mut().poll(cx);
        CURRENT.with(|c| c.set(prev));
        out
    }
}
