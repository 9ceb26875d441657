//! "Why was my token refused?": reads an access token (argument or stdin), prints its header
//! and claims, fetches the issuer's metadata and keys, and prints each check with PASS or FAIL
//! and the reason; the last line is the verdict of a real `JwtValidator` configured the same way,
//! so it is exactly what bearer-guard decides.
//!
//! ```text
//! cargo run --example inspect -- --issuer https://issuer.example --audience api "$TOKEN"
//! echo "$TOKEN" | cargo run --example inspect -- --issuer https://issuer.example --audience api
//! ```
//!
//! The token is never printed back (only its decoded header and claims, which are not secret to
//! whoever holds the token). Exit code 0 when the validator accepts the token, 1 when it does not,
//! 2 for bad arguments.

use std::io::Read as _;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bearer_guard::{discovery::IssuerMetadata, jwks::KeySet, JwtValidator, Validator};
use clap::Parser;
use serde_json::Value;

/// Explains, check by check, whether bearer-guard accepts an access token.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// The issuer identifier (discovery, and the expected `iss`).
    #[arg(long)]
    issuer: String,
    /// The audience the token must be for (without it, any audience is accepted).
    #[arg(long)]
    audience: Option<String>,
    /// JWKS URL (skips discovery of `jwks_uri`).
    #[arg(long, value_name = "URL")]
    jwks_uri: Option<String>,
    /// Accept JWTs without `typ: at+jwt`.
    #[arg(long)]
    no_typ_check: bool,
    /// Allowed clock skew, in seconds.
    #[arg(long, default_value_t = 60)]
    leeway: u64,
    /// The token; read from stdin when absent.
    token: Option<String>,
}

fn report(ok: bool, check: &str, detail: impl std::fmt::Display) -> bool {
    println!("{} {check}: {detail}", if ok { "PASS" } else { "FAIL" });
    ok
}

fn decode(segment: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).ok()?).ok()
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let token = match &args.token {
        Some(t) => t.trim().to_owned(),
        None => {
            let mut input = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut input) {
                eprintln!("cannot read the token from stdin: {e}");
                return ExitCode::from(2);
            }
            input.trim().to_owned()
        }
    };

    // The token itself, decoded without any check.
    let segments: Vec<&str> = token.split('.').collect();
    let (header, claims) = match segments.as_slice() {
        [h, p, _] => (decode(h), decode(p)),
        _ => (None, None),
    };
    let looks_like_jwt = report(
        header.is_some() && claims.is_some(),
        "format",
        match segments.len() {
            3 => "a compact JWS (JWT)".to_owned(),
            5 => "an encrypted JWT (JWE): not accepted".to_owned(),
            _ => "not a JWT: if your issuer issues opaque tokens, use IntrospectionValidator"
                .to_owned(),
        },
    );
    let (header, claims) = (header.unwrap_or(Value::Null), claims.unwrap_or(Value::Null));
    if looks_like_jwt {
        println!("header: {header:#}");
        println!("claims: {claims:#}");
    }

    // The issuer's metadata and keys.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    let jwks_uri = match &args.jwks_uri {
        Some(uri) => Some(uri.clone()),
        None => match IssuerMetadata::discover(&client, &args.issuer).await {
            Ok(m) => {
                report(true, "discovery", format!("metadata of {}", m.issuer));
                m.jwks_uri
            }
            Err(e) => {
                report(false, "discovery", e);
                None
            }
        },
    };
    if let Some(uri) = &jwks_uri {
        let keys = match client.get(uri).send().await {
            Ok(res) => res.bytes().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
        .and_then(|body| KeySet::from_json(&body).map_err(|e| e.to_string()));
        match keys {
            Ok(set) => {
                let kids: Vec<&str> = set.kids().collect();
                report(
                    !set.is_empty(),
                    "jwks",
                    format!(
                        "{uri}: {} usable keys {kids:?}, {} skipped",
                        set.len(),
                        set.skipped()
                    ),
                );
                match header["kid"].as_str() {
                    Some(kid) => report(
                        set.contains(kid),
                        "kid",
                        format!(
                            "{kid:?} {}",
                            if set.contains(kid) {
                                "is published"
                            } else {
                                "is not in the key set"
                            }
                        ),
                    ),
                    None => report(
                        true,
                        "kid",
                        "none: the one key that fits the algorithm is used",
                    ),
                };
            }
            Err(e) => {
                report(false, "jwks", format!("{uri}: {e}"));
            }
        }
    }

    if looks_like_jwt {
        let alg = header["alg"].as_str().unwrap_or("(none)");
        report(
            bearer_guard::jwt::DEFAULT_ALGORITHMS.iter().any(|a| {
                format!("{a:?}") == alg || (alg == "Ed25519" && format!("{a:?}") == "EdDSA")
            }),
            "alg",
            format!("{alg} (allowed by default: RS*, PS*, ES256, ES384, EdDSA/Ed25519)"),
        );
        let typ = header["typ"].as_str().unwrap_or("(none)");
        report(
            args.no_typ_check
                || typ.eq_ignore_ascii_case("at+jwt")
                || typ.eq_ignore_ascii_case("application/at+jwt"),
            "typ",
            format!("{typ} (RFC 9068 wants at+jwt; --no-typ-check accepts others)"),
        );
        let iss = claims["iss"].as_str().unwrap_or("(none)");
        report(
            iss == args.issuer,
            "iss",
            format!("{iss}, expected {}", args.issuer),
        );
        match &args.audience {
            Some(expected) => {
                let aud = &claims["aud"];
                let ok = aud.as_str() == Some(expected.as_str())
                    || aud
                        .as_array()
                        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(expected.as_str())));
                report(ok, "aud", format!("{aud}, expected {expected}"));
            }
            None => {
                report(true, "aud", "not checked (no --audience)");
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()) as f64;
        let leeway = args.leeway as f64;
        match claims["exp"].as_f64() {
            Some(exp) => report(
                now < exp + leeway,
                "exp",
                format!("{:+.0} s from now (leeway {leeway} s)", exp - now),
            ),
            None => report(false, "exp", "missing (required)"),
        };
        if let Some(nbf) = claims["nbf"].as_f64() {
            report(
                now + leeway >= nbf,
                "nbf",
                format!("{:+.0} s from now", nbf - now),
            );
        }
        if claims.get("cnf").is_some() {
            println!(
                "NOTE cnf: the token is sender-constrained ({}); the layer checks the binding",
                claims["cnf"]
            );
        }
    }

    // The verdict of the real validator, configured like the checks above.
    let mut builder = JwtValidator::builder(&args.issuer)
        .require_typ(!args.no_typ_check)
        .leeway(Duration::from_secs(args.leeway));
    builder = match &args.audience {
        Some(aud) => builder.audience(aud),
        None => builder.any_audience(),
    };
    if let Some(uri) = jwks_uri.or(args.jwks_uri) {
        builder = builder.jwks_uri(uri);
    }
    let validator = match builder.build().await {
        Ok(v) => v,
        Err(e) => {
            println!("VERDICT cannot build the validator: {e}");
            return ExitCode::from(1);
        }
    };
    match validator.validate(&token).await {
        Ok(_) => {
            println!("VERDICT accepted");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("VERDICT refused: {} ({})", e.description(), e.status());
            ExitCode::from(1)
        }
    }
}
