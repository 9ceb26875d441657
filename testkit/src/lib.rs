//! A small, real OAuth 2.0 authorization server for **tests and demos**.
//!
//! **Not for production.** It keeps everything in memory, generates fresh
//! keys at every start, has no rate limiting, no consent storage, no TLS and
//! only the features needed to exercise a resource server end to end. Use a
//! real identity provider for anything else.
//!
//! It speaks plain HTTP on loopback like any authorization server (it knows
//! nothing about the [`bearer_guard`] middleware; it only borrows its DPoP proof
//! check, [`bearer_guard::dpop::ProofVerifier`]):
//!
//! | endpoint | path |
//! | --- | --- |
//! | discovery (RFC 8414 / OIDC) | `GET /.well-known/oauth-authorization-server`, `GET /.well-known/openid-configuration` |
//! | JWKS | `GET /jwks` |
//! | token (`client_credentials`, `authorization_code` + PKCE S256, `refresh_token` with rotation, RFC 8693 token exchange; RFC 8707 `resource`; ID tokens) | `POST /token` |
//! | userinfo (OpenID Connect, [see below](#openid-connect)) | `GET`/`POST /userinfo` |
//! | authorization (HTML login form; POST it to approve; or [auto-approval](TestServerBuilder::auto_approve)) | `GET`/`POST /authorize` |
//! | dynamic client registration (RFC 7591, off by default, [see below](#dynamic-client-registration)) | `POST /register` |
//! | introspection (RFC 7662) | `POST /introspect` |
//! | revocation (RFC 7009) | `POST /revoke` |
//! | control API (test-only, off by default, [see below](#the-http-control-api)) | `/_testkit/...` |
//!
//! Token, introspection and revocation requests must be
//! `application/x-www-form-urlencoded`; bodies over 1 MiB get `413` (JSON
//! `invalid_request`, `Connection: close`). Error descriptions are fixed texts, never client
//! input. Loopback redirect URIs (`http://127.0.0.1/...`, `http://[::1]/...`) match with any
//! port (RFC 8252 §7.3). Refresh tokens rotate; replaying a rotated-out one revokes its whole
//! family (RFC 9700 §4.14.2). [`TestServerBuilder::auto_approve`] lets a test follow the
//! authorization-code flow without the HTML form: `GET /authorize` answers `302` to the
//! redirect URI with `code`, `state` and `iss`. Every authorization response, success or
//! error, carries `iss` (RFC 9207).
//!
//! Resource indicators (RFC 8707): authorization and token requests (all three grants) may
//! name one or several `resource`s among those the server serves
//! ([`TestServerBuilder::resources`], by default the audience alone), compared as exact
//! strings; the access token's `aud` is then that resource (several: an array). Without
//! `resource`, `aud` is the audience. An unknown resource, or one that is not an absolute URI
//! without fragment, is `invalid_target` (at the authorization endpoint, in the redirect). The
//! resources of the authorization request (or, if it named none, of the first token request)
//! are the grant's: a token or refresh request may name a subset of them (else
//! `invalid_target`) and gets all of them when it names none.
//!
//! A token request that carries a valid `DPoP` proof header (RFC 9449 §5: signed by its
//! `jwk`, `htm` `POST`, `htu` the token endpoint, fresh `iat`, unused `jti`) gets a
//! DPoP-bound access token: `cnf.jkt` is the proof key's thumbprint and `token_type` is
//! `"DPoP"`. An invalid proof is answered with `400 invalid_dpop_proof`.
//!
//! Access tokens are RFC 9068 JWTs (`typ: at+jwt`) signed with the active key,
//! or opaque strings for clients configured with [`Client::opaque_tokens`].
//! Tests can also mint arbitrary (including malformed or hostile) tokens
//! directly with [`Issuer::mint`] and [`Issuer::sign_raw`], take tokens apart and forge HMAC
//! ones by hand with [`jwt`], rotate keys, count requests and inject [`Fault`]s per
//! [`Endpoint`].
//!
//! Introspection reports a token active only if it was issued or minted by
//! this server (opaque, or a JWT signed by a key still published in the JWKS
//! with the `alg` of that key), has a numeric `exp` in the future, no `nbf`
//! in the future, `iss` equal to the issuer and was not revoked. Refresh
//! tokens are never reported active. The audience is not checked: that is the
//! resource server's job.
//!
//! Defaults: audience `"api"`; clients `demo-client`/`demo-secret` (scopes
//! `read write admin`, redirect URI `http://127.0.0.1/callback`) and the
//! resource server `api`/`api-secret` (no scopes, may introspect); user
//! `alice`/`password`; token lifetime 300 s; authorization codes live 60 s; one RS256 key.
//!
//! ## OpenID Connect
//!
//! The server is a small OpenID provider. `scope=openid` (which every client may request at
//! the authorization endpoint) on the authorization-code flow adds an `id_token` to the token
//! answer: signed with the active key (`typ: JWT`), with `iss`, `sub`, `aud` (the client id
//! alone, so no `azp`), `exp`, `iat`, `auth_time`, `acr` (when the user has levels), `nonce`
//! (echoed from the authorization request), `at_hash` (SHA-256, or SHA-512 for EdDSA) and the
//! user's claims. A refresh with `openid` in the grant's scope gets a new ID token with the
//! same `auth_time` and no `nonce`. `GET`/`POST {issuer}/userinfo` answers an active,
//! unbound access token with the `openid` scope (`Authorization: Bearer`) with `sub` and the
//! user's claims (`401 invalid_token` or `403 insufficient_scope` otherwise). Discovery has
//! OpenID Connect Discovery §3's members: `userinfo_endpoint`, `subject_types_supported`
//! (`public`), `id_token_signing_alg_values_supported` (the published keys' algorithms),
//! `claims_supported`, `acr_values_supported` (the users' levels), `prompt_values_supported`,
//! and `false` for `request_uri_parameter_supported` and the like.
//!
//! [`User`]s carry claims ([`email`](User::email), [`name`](User::name),
//! [`groups`](User::groups), [`roles`](User::roles), any [`claim`](User::claim)) and the
//! authentication levels they can sign in at ([`acr_values`](User::acr_values), the default
//! first); their claims, `auth_time` and `acr` are in the access tokens of the code flow too.
//!
//! Step-up (RFC 9470): the authorization request's `acr_values` (the user signs in at the
//! first one they have), `max_age` and `prompt=login` decide whether the user signs in anew
//! (fresh `auth_time`); the auto-approved user's last sign-in is reused otherwise, and
//! [`Issuer::set_sign_in`] backdates it for `max_age` tests. `prompt=none` when a new sign-in
//! is needed is `login_required`.
//!
//! Token exchange (RFC 8693): a confidential client posts `grant_type=
//! urn:ietf:params:oauth:grant-type:token-exchange`, `subject_token` (an active access token
//! of this issuer), `subject_token_type` (`...:token-type:access_token` or `...:jwt`), and
//! optionally `audience` (the audience or a resource of this server), `resource` and `scope`
//! (a subset of the subject token's). The answer's token keeps `sub`, `auth_time`, `acr` and
//! the user's claims, expires no later than the subject token, and has `client_id` the
//! exchanging client. An inactive subject token or an actor token is `invalid_request`, an
//! unknown audience `invalid_target`, a wider scope `invalid_scope`.
//!
//! ## Several issuers
//!
//! [`TestServerBuilder::issuer_path`] and [`TestServer::add_issuer`] serve more issuers under
//! paths of the root one (`http://127.0.0.1:PORT/tenant-a`), each an [`Issuer`] with its own
//! keys, grants, sign-ins, counters and faults, and its discovery (also at RFC 8414's
//! `/.well-known/oauth-authorization-server/tenant-a`), JWKS, token, authorization, userinfo
//! and control routes under its path; they share the root's configuration and listener.
//!
//! ## Dynamic client registration
//!
//! **Off by default.** [`TestServerBuilder::dynamic_registration`]`(true)` (the binary's
//! `--dynamic-registration`) serves RFC 7591 registration at `POST {issuer}/register` and
//! advertises it as `registration_endpoint` in both discovery documents, with `none` among
//! the token endpoint's auth methods. With it, resource-metadata discovery (RFC 9728, served by
//! the resource server), resource indicators and [auto-approval](TestServerBuilder::auto_approve),
//! MCP clients (the official SDKs) can sign in knowing nothing but the MCP server's URL.
//!
//! The body is a JSON object of client metadata (`null` members count as absent, unknown ones
//! are ignored):
//!
//! - `token_endpoint_auth_method`: `none` (a [public](Client::public) client, no secret),
//!   `client_secret_basic` (the default) or `client_secret_post` (a generated `client_secret`
//!   that does not expire); either secret method is accepted afterwards.
//! - `grant_types`: among `authorization_code` (the default), `refresh_token` and
//!   `client_credentials` (not for a public client); the client may use only these, and gets
//!   refresh tokens only with `refresh_token`. `response_types`: `["code"]` with
//!   `authorization_code`, else none.
//! - `redirect_uris`: required with `authorization_code`; each an `https` URI, or `http` on
//!   `127.0.0.1`, `[::1]` or `localhost`, without fragment or credentials. At the
//!   authorization endpoint, the IP literals match with any port (RFC 8252 §7.3); `localhost`
//!   and `https` URIs match exactly.
//! - `scope`: the scopes the client may request, each among `scopes_supported` (the scopes of
//!   the configured clients); without it, all of those.
//!
//! The answer is `201` with `client_id`, `client_id_issued_at`, `client_secret` and
//! `client_secret_expires_at: 0` (confidential clients), `redirect_uris`, `grant_types`,
//! `response_types`, `token_endpoint_auth_method`, and `scope` and `client_name` when given.
//! Errors are `400` JSON `invalid_redirect_uri` or `invalid_client_metadata` (RFC 7591
//! §3.2.2); once [`max_registrations`](TestServerBuilder::max_registrations) clients (default
//! 1000) are registered, `403 access_denied`. Registered clients never introspect; they revoke
//! their own tokens. [`Issuer::registered_clients`] (control API: `GET /_testkit/clients`)
//! lists them.
//!
//! ## The HTTP control API
//!
//! **Test-only, off by default.** [`TestServerBuilder::control_api`]`(true)` (or the
//! binary's `--control-api`) mounts a small JSON API under `/_testkit/`, so that a test
//! suite in any language, or in another process, can do over HTTP what Rust tests do with
//! [`TestServer`]'s methods. It has no authentication: anyone who can reach the server can
//! mint tokens and break it. When it is off, every `/_testkit/` path is a `404`. So it is
//! served on a loopback bind address only, and answers only a loopback `Host` (`127.0.0.1`,
//! `localhost`, `[::1]`, any port; else `403`, against DNS rebinding), unless
//! [`TestServerBuilder::allow_remote_control`] (`--allow-remote-control`) is set; and every
//! request but `GET` must be `Content-Type: application/json` (else `415`, against CSRF).
//!
//! Bodies are JSON objects (an empty body is `{}`); unknown members are refused. Errors are
//! `{"error": "invalid_request" | "not_found" | "access_denied" | "server_error",
//! "error_description": "..."}` with `400`, `404`, `403`, `415` or `500`.
//!
//! | route | body | does | answer |
//! | --- | --- | --- | --- |
//! | `POST /_testkit/tokens` | see below | [`Issuer::mint`] | `{"access_token", "header", "claims"}` |
//! | `GET /_testkit/keys` | | [`Issuer::kids`] | `{"active": kid, "keys": [{"kid", "alg", "published", "active"}]}` |
//! | `POST /_testkit/keys` | `{"alg": "RS256"\|"PS256"\|"ES256"\|"EdDSA", "activate": bool}` (defaults RS256, false) | [`Issuer::add_key`] (+ [`use_key`](Issuer::use_key)) | `201 {"kid", "alg", "active"}` |
//! | `POST /_testkit/keys/{kid}/activate` | | [`Issuer::use_key`]: new tokens are signed with it | the key list |
//! | `POST /_testkit/keys/{kid}/retire` | | [`Issuer::retire_key`]: out of the JWKS | the key list |
//! | `GET /_testkit/faults` | | | `{"jwks": {"fault": "none"}, ...}`, one member per endpoint |
//! | `PUT /_testkit/faults/{endpoint}` | `{"fault": "unavailable"}`, `{"fault": "hang"}`, `{"fault": "garbage"}`, `{"fault": "huge", "bytes": N}`, `{"fault": "status", "status": N}`, `{"fault": "delay", "millis": N}`, `{"fault": "none"}` | [`Issuer::set_fault`] (see [`Fault`]) | the fault list |
//! | `DELETE /_testkit/faults/{endpoint}` | | clears that fault | the fault list |
//! | `DELETE /_testkit/faults` | | [`Issuer::clear_faults`] | the fault list |
//! | `GET /_testkit/counts` | | [`Issuer::count`] | `{"discovery": N, "jwks": N, "token": N, "introspection": N, "revocation": N, "authorize": N, "registration": N}` |
//! | `DELETE /_testkit/counts` | | [`Issuer::reset_counts`] | the (zeroed) counts |
//! | `GET /_testkit/clients` | | [`Issuer::registered_clients`] | `{"registered": [{"client_id", "public", "redirect_uris", "scope"}]}` |
//! | `POST /_testkit/users` | `{"username", "password", "claims": {...}, "acr_values": [...]}` | [`Issuer::add_user`] | `201 {"username", "claims"}` |
//! | `PUT /_testkit/users/{username}/sign-in` | `{"auth_time": UNIX_SECONDS, "acr": "..."}` (defaults now, none) | [`Issuer::set_sign_in`] | `{"username", "auth_time", "acr"}` |
//! | `GET /_testkit/issuers` | | [`TestServer::issuers_by_path`] | `{"issuers": [{"name", "issuer"}]}` |
//! | `POST /_testkit/issuers` | `{"name": "tenant-a", "alg": "ES256"}` (root issuer only) | [`TestServer::add_issuer`] | `201 {"name", "issuer"}` |
//!
//! An issuer by path has the same routes under `{issuer}/{name}/_testkit/` (but `issuers`).
//!
//! `{endpoint}` is one of `discovery`, `jwks`, `token`, `introspection`, `revocation`,
//! `authorize`, `registration` ([`Endpoint::as_str`]).
//!
//! The body of `POST /_testkit/tokens` (every member optional) starts from the
//! [`TokenBuilder`] defaults:
//!
//! | member | meaning | Rust |
//! | --- | --- | --- |
//! | `"claims": {...}` | claims to set; `null` removes one (`{"exp": null}`); applied after the members below, so an explicit `exp` wins | [`claim`](TokenBuilder::claim), [`remove`](TokenBuilder::remove) |
//! | `"lifetime": SECONDS` | `exp` = `iat` + this | [`lifetime`](TokenBuilder::lifetime) |
//! | `"expired": true` | `iat` 20 minutes ago, `exp` 10 minutes ago | [`expired`](TokenBuilder::expired) |
//! | `"not_before": SECONDS` | `nbf` = now + this | [`not_before`](TokenBuilder::not_before) |
//! | `"kid": "..."` | sign with that key (published or retired); a kid the server does not know is written in the header as is | [`kid`](TokenBuilder::kid) |
//! | `"alg": "ES256"` | sign with the newest key of that algorithm (add one first) | [`alg`](TokenBuilder::alg) |
//! | `"typ": "..." \| null` | header `typ` (default `at+jwt`); `null` leaves it out | [`typ`](TokenBuilder::typ) |
//! | `"header": {...}` | extra header members, applied last (can override `alg`, `kid`...) | [`header`](TokenBuilder::header) |
//! | `"defect": "alg_none" \| "tampered_signature" \| "foreign_key" \| "unknown_kid"` | a deliberately bad token ([`Defect`]) | [`defect`](TokenBuilder::defect) |
//! | `"opaque": true` | an opaque token, known to introspection only (answer `{"access_token", "claims"}`) | [`opaque`](TokenBuilder::opaque) |
//!
//! ```text
//! JSON='Content-Type: application/json'
//! curl -s -H "$JSON" -X POST $ISSUER/_testkit/tokens -d '{"claims": {"sub": "bob", "aud": "other"}}'
//! curl -s -H "$JSON" -X POST $ISSUER/_testkit/tokens -d '{"defect": "alg_none"}'
//! curl -s -H "$JSON" -X POST $ISSUER/_testkit/keys -d '{"alg": "ES256", "activate": true}'
//! curl -s -H "$JSON" -X PUT $ISSUER/_testkit/faults/jwks -d '{"fault": "status", "status": 500}'
//! curl -s $ISSUER/_testkit/counts
//! ```
//!
//! The server also runs as a program for test suites in any language: the
//! `bearer-guard-testkit` binary of this crate (`cargo run -p bearer-guard-testkit --
//! --help`), which prints the issuer URL on the first line of its standard output.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use bearer_guard_testkit::{Client, Endpoint, Fault, KeyAlg, TestServer, User};
//!
//! let server = TestServer::builder()
//!     .audience("api")
//!     .client(
//!         Client::new("my-client", "my-secret")
//!             .scopes(["read", "write"])
//!             .redirect_uri("http://127.0.0.1:9999/callback"),
//!     )
//!     .user(User::new("bob", "hunter2"))
//!     .token_lifetime(Duration::from_secs(60))
//!     .key(KeyAlg::Es256)
//!     .start()
//!     .await?;
//!
//! // Point the code under test at the issuer / JWKS URI.
//! println!("issuer {} jwks {}", server.issuer(), server.jwks_uri());
//!
//! // Mint tokens directly...
//! let token = server.mint().sub("bob").scope("read").sign();
//! let expired = server.mint().expired().sign();
//! # let _ = (token, expired);
//!
//! // ...rotate keys...
//! let new_kid = server.add_key(KeyAlg::Rs256);
//! server.use_key(&new_kid);
//!
//! // ...and break things on purpose.
//! server.set_fault(Endpoint::Jwks, Fault::Unavailable);
//! assert_eq!(server.count(Endpoint::Jwks), 0);
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

mod body;
mod builder;
mod config;
mod control;
mod endpoints;
mod issuer;
pub mod jwt;
mod keys;
mod mint;
mod registry;
mod routes;
mod server;
mod state;
mod tenants;
mod user;
mod util;

pub use builder::TestServerBuilder;
pub use config::{Client, Endpoint, Fault};
pub use issuer::Issuer;
pub use keys::KeyAlg;
pub use mint::{Defect, TokenBuilder};
pub use server::TestServer;
pub use user::User;
