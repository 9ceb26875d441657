//! In process, without sockets: the replay cache when full, the request URI without a base URL,
//! and `dpop::ProofVerifier` outside the layer (with nonces: `nonces.rs`).

use super::*;

/// Accepts every token as one bound to the key with thumbprint `.0` (`cnf.jkt`).
struct BoundTo(String);

impl Validator for BoundTo {
    fn validate(&self, _token: &str) -> ValidationFuture {
        let claims = json!({"sub": "alice", "cnf": {"jkt": self.0}});
        ValidationFuture::ready(Ok(Claims::from_value(claims).unwrap()))
    }
}

const TOKEN: &str = "an-opaque-token";

/// `/me` and `/delete` behind a layer (realm "test") with `dpop`, whose tokens are bound to
/// `client`'s key.
fn in_process(client: &DpopClient, dpop: DpopConfig) -> Router {
    let ok = || async { "ok" };
    Router::new()
        .route("/me", get(ok))
        .route("/delete", get(ok))
        .layer(
            AuthLayer::new(BoundTo(client.jkt()))
                .realm("test")
                .dpop(dpop)
                .unwrap(),
        )
}

/// GETs `path` (origin-form) from `app` with `Host: host`, [`TOKEN`] and `proof`.
async fn send(
    app: &Router,
    path: &str,
    host: &str,
    proof: &str,
) -> http::Response<axum::body::Body> {
    let req = http::Request::get(path)
        .header(
            "host",
            http::HeaderValue::from_bytes(host.as_bytes()).unwrap(),
        )
        .header("authorization", format!("DPoP {TOKEN}"))
        .header("dpop", proof)
        .body(axum::body::Body::empty())
        .unwrap();
    app.clone().oneshot(req).await.unwrap()
}

fn challenge_of(res: &http::Response<axum::body::Body>) -> String {
    res.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_full_replay_cache_refuses_new_proofs_and_still_knows_the_old_ones() {
    let (logs, _guard) = support::logs::capture();
    let client = DpopClient::new();
    let app = in_process(
        &client,
        DpopConfig::new()
            .allowed_hosts(["api.example"])
            .cache_capacity(3),
    );
    let htu = "https://api.example/me";
    let accepted: Vec<String> = (0..3)
        .map(|_| client.proof_for("GET", htu, Some(TOKEN)))
        .collect();
    for proof in &accepted {
        let res = send(&app, "/me", "api.example", proof).await;
        assert_eq!(res.status(), 200, "{}", challenge_of(&res));
    }
    // Full of entries that can still pass the iat window: a new proof is refused (fail closed),
    // not accepted and forgotten. 503: the server's limit, not the client's fault.
    let new = client.proof_for("GET", htu, Some(TOKEN));
    for _ in 0..2 {
        let res = send(&app, "/me", "api.example", &new).await;
        assert_eq!(res.status(), 503, "{}", challenge_of(&res));
        assert!(res.headers().get("www-authenticate").is_none());
        assert_eq!(res.headers()["retry-after"], "5");
    }
    // Every accepted proof is still remembered.
    for proof in &accepted {
        let res = send(&app, "/me", "api.example", proof).await;
        assert_eq!(res.status(), 401);
        assert!(
            challenge_of(&res).contains("the DPoP proof was already used"),
            "{}",
            challenge_of(&res)
        );
    }
    // Logged as a warning, without the jti or the token.
    let text = logs.text();
    assert!(
        text.lines()
            .any(|l| l.contains("WARN") && l.contains("DPoP replay cache is full")),
        "{text}"
    );
    for proof in accepted.iter().chain([&new]) {
        let (_, claims) = decode(proof);
        assert!(!text.contains(claims["jti"].as_str().unwrap()), "{text}");
    }
    assert!(!text.contains(TOKEN), "{text}");
}

#[tokio::test]
async fn without_base_url_only_a_plain_host_header_makes_the_request_uri() {
    let client = DpopClient::new();
    let hosts = ["api.example", "api.example:8443", "127.0.0.1:8080", "[::1]"];
    let app = in_process(&client, DpopConfig::new().allowed_hosts(hosts));
    for (host, htu) in [
        ("api.example", "https://api.example/delete"),
        ("API.example:8443", "https://api.example:8443/delete"),
        ("127.0.0.1:8080", "https://127.0.0.1:8080/delete"),
        ("[::1]", "https://[::1]/delete"),
    ] {
        let proof = client.proof_for("GET", htu, Some(TOKEN));
        let res = send(&app, "/delete", host, &proof).await;
        assert_eq!(res.status(), 200, "{host}: {}", challenge_of(&res));
    }
    // Each hostile Host with a proof for the URI it would be normalised into.
    for (host, htu) in [
        // `\` is `/` to URL parsing: GET /delete would pass as GET /admin/delete.
        (r"api.example\admin", "https://api.example/admin/delete"),
        (r"api.example:443\admin", "https://api.example/admin/delete"),
        // Dropped by URL parsing.
        ("api.example\t", "https://api.example/delete"),
        // The path becomes the host.
        ("", "https://delete/"),
        ("api.example:", "https://api.example/delete"),
    ] {
        let proof = client.proof_for("GET", htu, Some(TOKEN));
        let res = send(&app, "/delete", host, &proof).await;
        assert_eq!(res.status(), 401, "{host:?}");
        assert!(
            challenge_of(&res).contains("the DPoP proof is for another URI"),
            "{host:?}: {}",
            challenge_of(&res)
        );
    }
}

/// `dpop::ProofVerifier` checks proofs outside the layer (as at a token endpoint): a valid proof
/// yields its key's thumbprint, and its replay, another method or URL, or no proof are refused.
#[test]
fn proof_verifier_outside_the_layer() {
    use bearer_guard::dpop::{ProofVerifier, DPOP_HEADER};
    use bearer_guard::{error::DpopError, AuthError};
    use http::{HeaderMap, Method};

    fn with_proof(proof: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(DPOP_HEADER, proof.parse().unwrap());
        headers
    }
    let verifier = ProofVerifier::new(DpopConfig::new()).unwrap();
    let client = DpopClient::new();
    let endpoint = url::Url::parse("https://as.example/token").unwrap();
    let verify = |headers: &HeaderMap| verifier.verify_proof(headers, &Method::POST, &endpoint);

    let valid = with_proof(&client.proof_for("POST", endpoint.as_str(), None));
    let proof = verify(&valid).unwrap();
    assert_eq!(proof.jkt(), client.jkt());
    assert_eq!(proof.fresh_nonce(), None);
    assert_eq!(verify(&valid), Err(AuthError::Dpop(DpopError::Replayed)));

    let get = with_proof(&client.proof_for("GET", endpoint.as_str(), None));
    assert_eq!(verify(&get), Err(AuthError::Dpop(DpopError::WrongMethod)));
    let other = with_proof(&client.proof_for("POST", "https://as.example/other", None));
    assert_eq!(verify(&other), Err(AuthError::Dpop(DpopError::WrongUri)));
    assert_eq!(
        verify(&HeaderMap::new()),
        Err(AuthError::Dpop(DpopError::Missing))
    );
    // There is no token here: a proof that has an `ath` anyway is not refused for it.
    let with_ath = with_proof(&client.proof_for("POST", endpoint.as_str(), Some("some-token")));
    assert_eq!(verify(&with_ath).unwrap().jkt(), client.jkt());
}
