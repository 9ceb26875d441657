//! DPoP at the edges, over the real layer in process (`tower::ServiceExt::oneshot`): what the
//! request URI may be built from (`base_url` or an allow-list of hosts, else no layer), nonce
//! secrets too short to build with, refused bindings that must not use up the replay cache, and
//! request paths that URL normalisation would turn into another path than the one routed.

use crate::support;

use axum::body::Body;
use axum::{routing::get, Router};
use bearer_guard::dpop::ProofVerifier;
use bearer_guard::store::MemoryStore;
use bearer_guard::{
    dpop::DpopConfig, validator::ValidationFuture, AuthLayer, BuildError, Claims, Validator,
};
use http::{Request, Response};
use serde_json::json;
use support::dpop::DpopClient;
use tower::ServiceExt as _;

/// The token bound to the client's key.
const BOUND: &str = "token-bound-to-the-client";
/// A token bound to another key.
const ELSEWHERE: &str = "token-bound-to-another-key";
/// A token without `cnf`.
const UNBOUND: &str = "token-not-bound";

/// Accepts [`BOUND`], [`ELSEWHERE`] and [`UNBOUND`] (as a validator would whose audience
/// covers this server and others), each with its binding.
#[derive(Debug)]
struct Tokens {
    client: String,
    other: String,
}

impl Validator for Tokens {
    fn validate(&self, token: &str) -> ValidationFuture {
        let claims = match token {
            BOUND => json!({"sub": "alice", "cnf": {"jkt": self.client}}),
            ELSEWHERE => json!({"sub": "alice", "cnf": {"jkt": self.other}}),
            _ => json!({"sub": "alice"}),
        };
        ValidationFuture::ready(Ok(Claims::from_value(claims).unwrap()))
    }
}

fn tokens(client: &DpopClient) -> Tokens {
    Tokens {
        client: client.jkt(),
        other: DpopClient::new().jkt(),
    }
}

/// `/public/x` ("public") and `/admin/{*rest}` ("admin") behind a layer with `dpop`.
fn app(client: &DpopClient, dpop: DpopConfig) -> Router {
    Router::new()
        .route("/public/x", get(|| async { "public" }))
        .route("/admin/{*rest}", get(|| async { "admin" }))
        .layer(AuthLayer::new(tokens(client)).dpop(dpop).unwrap())
}

/// GETs `uri` from `app` with `Host: host` (unless empty), `token` (DPoP scheme) and `proof`.
async fn send(app: &Router, uri: &str, host: &str, token: &str, proof: &str) -> Response<Body> {
    let mut req = Request::get(uri)
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof);
    if !host.is_empty() {
        req = req.header("host", host);
    }
    app.clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

fn challenge(res: &Response<Body>) -> String {
    res.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Asserts a 401 whose challenge carries `description`.
fn refused(res: &Response<Body>, description: &str, what: &str) {
    assert_eq!(res.status(), 401, "{what}: {}", challenge(res));
    assert!(
        challenge(res).contains(&format!(r#"error_description="{description}""#)),
        "{what}: {}",
        challenge(res)
    );
}

fn base_url() -> url::Url {
    url::Url::parse("https://api.example").unwrap()
}

fn never() -> Tokens {
    Tokens {
        client: String::new(),
        other: String::new(),
    }
}

// 1. The request URI source.

/// Rule: DPoP without `base_url` or `allowed_hosts` is a build error that says so, and so is
/// an allow-list entry that is not a plain `host[:port]`; `ProofVerifier`, which is given its
/// URIs, needs neither.
#[test]
fn dpop_needs_base_url_or_allowed_hosts_to_build() {
    let no_source = [
        DpopConfig::new(),
        DpopConfig::new().allowed_hosts(Vec::<String>::new()),
        DpopConfig::new()
            .cache_capacity(10)
            .nonces(std::time::Duration::from_secs(60)),
    ];
    for config in no_source {
        let Err(BuildError::Invalid(text)) = AuthLayer::new(never()).dpop(config) else {
            panic!("a DPoP layer without a request URI source was built");
        };
        assert!(
            text.contains("DpopConfig::base_url")
                && text.contains("DpopConfig::allowed_hosts")
                && text.contains("Host header"),
            "{text}"
        );
    }
    for bad in [
        "api.example/admin",
        r"api.example\admin",
        "u@api.example",
        "api.example:99999",
    ] {
        let config = DpopConfig::new().allowed_hosts(["api.example", bad]);
        let error = AuthLayer::new(never()).dpop(config).unwrap_err();
        assert!(
            error.to_string().contains("allowed_hosts entry"),
            "{bad}: {error}"
        );
    }
    assert!(AuthLayer::new(never())
        .dpop(DpopConfig::new().base_url(base_url()))
        .is_ok());
    let hosts = DpopConfig::new().allowed_hosts(["api.example".to_owned()]);
    assert!(AuthLayer::new(never()).dpop(hosts).is_ok());
    assert!(ProofVerifier::new(DpopConfig::new()).is_ok());
}

/// Rule: without `base_url`, a request whose authority is not on the allow-list gets its proof
/// refused. A token whose audience covers this server and `other.example`, with a proof made
/// for `other.example`, cannot be replayed here with `Host: other.example`.
#[tokio::test]
async fn a_proof_for_another_resource_server_is_refused_here() {
    let client = DpopClient::new();
    let app = app(&client, DpopConfig::new().allowed_hosts(["api.example"]));
    let wrong_uri = "the DPoP proof is for another URI";
    for (uri, host, htu) in [
        (
            "/public/x",
            "other.example",
            "https://other.example/public/x",
        ),
        (
            "/public/x",
            "api.example:8443",
            "https://api.example:8443/public/x",
        ),
        (
            "https://other.example/public/x",
            "",
            "https://other.example/public/x",
        ),
        (
            "https://other.example/public/x",
            "api.example",
            "https://other.example/public/x",
        ),
    ] {
        let proof = client.proof(htu, BOUND);
        let res = send(&app, uri, host, BOUND, &proof).await;
        refused(&res, wrong_uri, &format!("{uri} {host}"));
    }
    // This server's own names pass: hosts without case, the scheme's default port.
    for (uri, host) in [
        ("/public/x", "api.example"),
        ("/public/x", "API.Example:443"),
        ("https://api.example/public/x", ""),
    ] {
        let proof = client.proof("https://api.example/public/x", BOUND);
        let res = send(&app, uri, host, BOUND, &proof).await;
        assert_eq!(res.status(), 200, "{uri} {host}: {}", challenge(&res));
    }
}

// 4. Nonce secrets.

/// Rule: a nonce secret under 32 bytes is a build error, for the layer and `ProofVerifier`.
#[test]
fn a_nonce_secret_under_32_bytes_is_a_build_error() {
    let config = |secret: &[u8]| {
        DpopConfig::new()
            .base_url(base_url())
            .nonces(std::time::Duration::from_secs(60))
            .nonce_secret(secret)
    };
    for short in [&b""[..], b"hunter2", &[7; 31]] {
        let Err(BuildError::Invalid(text)) = AuthLayer::new(never()).dpop(config(short)) else {
            panic!("a layer with a {}-byte nonce secret was built", short.len());
        };
        assert!(text.contains("at least 32 bytes"), "{text}");
        assert!(ProofVerifier::new(config(short)).is_err());
    }
    assert!(AuthLayer::new(never()).dpop(config(&[7; 32])).is_ok());
    assert!(ProofVerifier::new(config(&[7; 32])).is_ok());
}

// 2. Refused bindings and the replay cache.

/// Rule: the binding is checked before the proof's `jti` is recorded. Proofs with an unbound
/// token, or with a token bound to another key, use up no room in the replay cache (in
/// process or shared), and the `jti` of a refused attempt is still free for the real client.
#[tokio::test]
async fn refused_bindings_use_up_neither_replay_room_nor_jtis() {
    const CAPACITY: u64 = 2;
    let client = DpopClient::new();
    let htu = "https://api.example/public/x";
    for dpop in [
        DpopConfig::new().cache_capacity(CAPACITY),
        DpopConfig::new().shared_store(MemoryStore::new(CAPACITY)),
    ] {
        let app = app(&client, dpop.base_url(base_url()));
        // Anyone with an unbound token (or one bound elsewhere) and a key of their own.
        for _ in 0..=CAPACITY {
            let proof = client.proof(htu, UNBOUND);
            let res = send(&app, "/public/x", "", UNBOUND, &proof).await;
            refused(&res, "the token is not bound to a DPoP key", "unbound");
            let proof = client.proof(htu, ELSEWHERE);
            let res = send(&app, "/public/x", "", ELSEWHERE, &proof).await;
            refused(
                &res,
                "the DPoP proof key does not match the token binding",
                "bound elsewhere",
            );
        }
        // The jti of an attempt refused for its binding is not used up...
        let jti = "the-jti-of-a-refused-attempt";
        let res = send(
            &app,
            "/public/x",
            "",
            UNBOUND,
            &client.proof_with_jti(jti, htu, UNBOUND),
        )
        .await;
        refused(
            &res,
            "the token is not bound to a DPoP key",
            "unbound, fixed jti",
        );
        // ...and the cache still has all its room for the real client.
        let res = send(
            &app,
            "/public/x",
            "",
            BOUND,
            &client.proof_with_jti(jti, htu, BOUND),
        )
        .await;
        assert_eq!(res.status(), 200, "{}", challenge(&res));
        let res = send(&app, "/public/x", "", BOUND, &client.proof(htu, BOUND)).await;
        assert_eq!(res.status(), 200, "{}", challenge(&res));
        // Now it is full (of the two accepted proofs): the capacity was the one configured.
        let res = send(&app, "/public/x", "", BOUND, &client.proof(htu, BOUND)).await;
        assert_eq!(res.status(), 503, "{}", challenge(&res));
    }
}

// 3. Request paths URL normalisation would change.

/// Rule: a request path with a dot segment or a backslash, plain or percent-encoded, is refused
/// before `htu` is compared, whatever the request URI source. Each proof below names exactly
/// what URL normalisation makes of the request's URI (`/public/x`): without the rule, a proof
/// captured for `/public/x` would open `/admin/…`.
#[tokio::test]
async fn paths_with_dot_segments_or_backslashes_are_refused_before_htu() {
    let client = DpopClient::new();
    let ambiguous = "the request path has dot segments or a backslash";
    for dpop in [
        DpopConfig::new().base_url(base_url()),
        DpopConfig::new().allowed_hosts(["api.example"]),
    ] {
        let app = app(&client, dpop);
        let captured = client.proof("https://api.example/public/x", BOUND);
        for path in [
            "/admin/%2e%2e/public/x",
            "/admin/%2E%2E/public/x",
            "/admin/.%2e/public/x",
            "/admin/%2e./public/x",
            "/admin/../public/x",
            "/admin/./../public/x",
            "/admin/%2e/../public/x",
            "/admin/x/../../public/x",
            "/public/./x",
            "/public/%2e/x",
            "/public/x/.",
            "/public/x/y/..",
            "/public/x/y/%2e%2e",
            r"/admin\..\public\x",
            r"/public\x",
            "/public%5cx",
            "/admin%5C..%5Cpublic/x",
        ] {
            let res = send(&app, path, "api.example", BOUND, &captured).await;
            refused(&res, ambiguous, path);
        }
        // The refusals did not use up the captured proof: it still opens `/public/x`.
        let res = send(&app, "/public/x", "api.example", BOUND, &captured).await;
        assert_eq!(res.status(), 200, "{}", challenge(&res));
        // Dots that are not whole segments are plain path characters.
        let proof = client.proof("https://api.example/admin/a..b/.well-known/...", BOUND);
        let res = send(
            &app,
            "/admin/a..b/.well-known/...",
            "api.example",
            BOUND,
            &proof,
        )
        .await;
        assert_eq!(res.status(), 200, "{}", challenge(&res));
    }
}
