//! Issuer profiles: [`JwtValidatorBuilder`] presets for the issuers people use, where their
//! tokens differ from RFC 9068 (no `typ: at+jwt`, no `aud`, one issuer per tenant). Each
//! returns a builder with the usual checks set for that issuer's token shape, taken from its
//! public documentation; refine it further (more audiences, [`claim_values`], a
//! [`metadata_url`] of your own) before [`build`](JwtValidatorBuilder::build). Nothing here
//! is a second validation path: these are the builder's own settings.
//!
//! | issuer | preset | what it sets |
//! |---|---|---|
//! | Microsoft Entra ID v2.0, one tenant | [`entra`] | `iss` = `https://login.microsoftonline.com/{tenant}/v2.0`, `ver` = `2.0`, any `typ` |
//! | Microsoft Entra ID v1.0 | [`entra_v1`] | `iss` = `https://sts.windows.net/{tenant}/` (metadata at `login.microsoftonline.com`), `ver` = `1.0` |
//! | Microsoft Entra ID, multi-tenant app | [`entra_multi_tenant`] | `iss` = the template with the token's `tid` (any tenant; restrict with [`tenants`](JwtValidatorBuilder::tenants)), `ver` = `2.0` |
//! | AWS Cognito access tokens | [`cognito`] | no `aud`: `token_use` = `access` and `client_id` on your list |
//! | Keycloak | [`keycloak`] | `iss` = the realm URL, any `typ` |
//! | Auth0 | [`auth0`] | `iss` = `https://{domain}/` (trailing slash) |
//! | Okta custom authorization server | [`okta`] | `iss` = `https://{domain}/oauth2/{server}`, any `typ` |
//! | Google ID tokens (service-to-service) | [`google_id_tokens`] | `iss` = `https://accounts.google.com`, `aud` = your URL, `email_verified` = `true` |
//! | SPIFFE JWT-SVIDs | [`spiffe_jwt_svid`] | keys from the trust bundle (`use: "jwt-svid"`), `aud` = you, `sub` required, any `typ`, the JWT-SVID algorithms |
//!
//! Where their scopes and roles are: Entra `scp` (a string, read by [`Claims::scopes`]) and
//! `roles` (app roles, `/roles`); Keycloak `scope`, realm roles at `/realm_access/roles`,
//! client roles at `/resource_access/{client}/roles`, the client at `azp`; Auth0 `scope` and
//! `permissions` (RBAC); Okta `scp` (an array, read by [`Claims::scopes`]); Cognito `scope`
//! and `cognito:groups`. Require them with [`Requirement::claim_any`](crate::Requirement::claim_any) on the
//! JSON Pointer.
//!
//! ```
//! # async fn demo() -> Result<(), bearer_guard::BuildError> {
//! use bearer_guard::profiles;
//!
//! // A multi-tenant app of two customer tenants.
//! let builder = profiles::entra_multi_tenant("api://my-api")
//!     .tenants(["9188040d-6c67-4c5b-b112-36a304b66dad", "72f988bf-86f1-41af-91ab-2d7cd011db47"]);
//! # let _ = builder;
//! // let validator = builder.build().await?; // fetches Entra's metadata
//! # Ok(()) }
//! ```
//!
//! [`claim_values`]: JwtValidatorBuilder::claim_values
//! [`metadata_url`]: JwtValidatorBuilder::metadata_url
//! [`Claims::scopes`]: crate::Claims::scopes

use crate::{jwt::JwtValidatorBuilder, JwtValidator};

/// The Entra ID login host (the global cloud).
pub const ENTRA_AUTHORITY: &str = "https://login.microsoftonline.com";

/// The issuer template of Entra ID v2.0 tokens: `{tenantid}` stands for the token's `tid`.
pub const ENTRA_ISSUER_TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

/// Microsoft Entra ID v2.0 access tokens of one tenant, for `audience` (your API's client id
/// or application ID URI, as the tokens' `aud` says). Entra writes `typ: JWT`, so the header's
/// `typ` is not required; `ver` must be `2.0`.
///
/// ```
/// let b = bearer_guard::profiles::entra("9188040d-6c67-4c5b-b112-36a304b66dad", "api://my-api");
/// # let _ = b;
/// ```
pub fn entra(tenant_id: &str, audience: &str) -> JwtValidatorBuilder {
    JwtValidator::builder(format!("{ENTRA_AUTHORITY}/{tenant_id}/v2.0"))
        .audience(audience)
        .require_typ(false)
        .claim_values("ver", ["2.0"])
}

/// Microsoft Entra ID v1.0 access tokens of one tenant (APIs whose app registration has
/// `accessTokenAcceptedVersion` 1 or null): `iss` is `https://sts.windows.net/{tenant}/`,
/// the metadata document is under `login.microsoftonline.com`, `ver` must be `1.0`.
///
/// ```
/// let b = bearer_guard::profiles::entra_v1("9188040d-6c67-4c5b-b112-36a304b66dad", "api://my-api");
/// # let _ = b;
/// ```
pub fn entra_v1(tenant_id: &str, audience: &str) -> JwtValidatorBuilder {
    JwtValidator::builder(format!("https://sts.windows.net/{tenant_id}/"))
        .metadata_url(format!(
            "{ENTRA_AUTHORITY}/{tenant_id}/.well-known/openid-configuration"
        ))
        .audience(audience)
        .require_typ(false)
        .claim_values("ver", ["1.0"])
}

/// Microsoft Entra ID v2.0 access tokens of a multi-tenant app: the metadata of the
/// `organizations` endpoint names the issuer template [`ENTRA_ISSUER_TEMPLATE`], and each
/// token's `iss` must be that template with the token's own `tid`. Any tenant passes — anyone
/// can create one — unless restricted with [`tenants`](JwtValidatorBuilder::tenants).
///
/// ```
/// let b = bearer_guard::profiles::entra_multi_tenant("api://my-api")
///     .tenants(["9188040d-6c67-4c5b-b112-36a304b66dad"]);
/// # let _ = b;
/// ```
pub fn entra_multi_tenant(audience: &str) -> JwtValidatorBuilder {
    JwtValidator::builder(ENTRA_ISSUER_TEMPLATE)
        .tenant_claim("tid")
        .metadata_url(format!(
            "{ENTRA_AUTHORITY}/organizations/v2.0/.well-known/openid-configuration"
        ))
        .audience(audience)
        .require_typ(false)
        .claim_values("ver", ["2.0"])
}

/// AWS Cognito access tokens of a user pool: they have no `aud`, so `client_id` must be one
/// of `client_ids` (your app clients) and `token_use` must be `access` (which refuses
/// Cognito's ID tokens). The issuer is `https://cognito-idp.{region}.amazonaws.com/{pool}`.
///
/// ```
/// let b = bearer_guard::profiles::cognito("eu-west-1", "eu-west-1_AbCdEf123", ["1example23456789"]);
/// # let _ = b;
/// ```
pub fn cognito<I, S>(region: &str, user_pool_id: &str, client_ids: I) -> JwtValidatorBuilder
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let client_ids: Vec<String> = client_ids.into_iter().map(Into::into).collect();
    JwtValidator::builder(format!(
        "https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
    ))
    .any_audience()
    .require_typ(false)
    .claim_values("token_use", ["access"])
    .claim_values("client_id", client_ids)
}

/// Keycloak access tokens of a realm: `realm_url` is the issuer,
/// `https://{host}/realms/{realm}` (before Keycloak 17: `…/auth/realms/{realm}`). Keycloak
/// writes `typ: JWT`. Its default `aud` is `account`: add an audience mapper for your API,
/// or restrict the client with `.claim_values("azp", [...])`.
///
/// ```
/// let b = bearer_guard::profiles::keycloak("https://sso.example/realms/acme", "orders-api")
///     .claim_values("azp", ["orders-web"]);
/// # let _ = b;
/// ```
pub fn keycloak(realm_url: &str, audience: &str) -> JwtValidatorBuilder {
    JwtValidator::builder(realm_url)
        .audience(audience)
        .require_typ(false)
}

/// Auth0 access tokens of a tenant `domain` (`acme.eu.auth0.com`, or your custom domain):
/// the issuer is `https://{domain}/`, with its trailing slash; `audience` is your API's
/// identifier. Either of Auth0's token profiles passes (`typ: JWT` or `at+jwt`).
///
/// ```
/// let b = bearer_guard::profiles::auth0("acme.eu.auth0.com", "https://api.acme.example");
/// # let _ = b;
/// ```
pub fn auth0(domain: &str, audience: &str) -> JwtValidatorBuilder {
    JwtValidator::builder(format!("https://{}/", domain.trim_end_matches('/')))
        .audience(audience)
        .require_typ(false)
}

/// Okta access tokens of a custom authorization server: the issuer is
/// `https://{domain}/oauth2/{server}` (`default` for the default one), the audience is the
/// server's (`api://default`). Okta writes no `typ`; `scp` is an array.
///
/// ```
/// let b = bearer_guard::profiles::okta("https://acme.okta.com/oauth2/default", "api://default");
/// # let _ = b;
/// ```
pub fn okta(issuer: &str, audience: &str) -> JwtValidatorBuilder {
    JwtValidator::builder(issuer)
        .audience(audience)
        .require_typ(false)
}

/// Google-signed ID tokens used for service-to-service calls (Cloud Run, Cloud Functions,
/// the metadata server's identity endpoint): `aud` is your service's URL (`audience`), `iss`
/// is `https://accounts.google.com`, and `email_verified` must be `true`. Accept only the
/// calling service accounts with `.claim_values("email", [...])`: any Google account can
/// get an ID token for any audience.
///
/// ```
/// let b = bearer_guard::profiles::google_id_tokens("https://orders-abc123-ew.a.run.app")
///     .claim_values("email", ["caller@my-project.iam.gserviceaccount.com"]);
/// # let _ = b;
/// ```
pub fn google_id_tokens(audience: &str) -> JwtValidatorBuilder {
    JwtValidator::builder("https://accounts.google.com")
        .audience(audience)
        .require_typ(false)
        .claim_values("email_verified", [true])
}

/// SPIFFE JWT-SVIDs (workload identity tokens) for `audience`: keys from the trust domain's
/// bundle at `bundle_url` (a SPIFFE bundle endpoint, whose keys say `use: "jwt-svid"`:
/// accepted through [`JwksConfig::accept_use`](crate::jwks::JwksConfig::accept_use)), `sub`
/// required, any `typ` (`JWT` or `JOSE`), the algorithms of the JWT-SVID specification (RS,
/// ES and PS). `issuer` is the `iss` your SPIRE server writes (its `jwt_issuer` setting):
/// `iss` is checked like any other token's, so set it there. Replacing the
/// [`jwks_config`](JwtValidatorBuilder::jwks_config) afterwards: keep `accept_use("jwt-svid")`
/// in it.
///
/// The `sub` of a JWT-SVID is the workload's SPIFFE ID (`spiffe://trust-domain/path`);
/// accept the workloads you mean with [`claim_values`](JwtValidatorBuilder::claim_values) on
/// `sub` (or per route with [`Requirement::claim_any`](crate::Requirement::claim_any) on
/// `/sub`). Only the keys of one trust domain's bundle verify, so a token that passes comes
/// from that trust domain.
///
/// ```
/// # async fn demo() -> Result<(), bearer_guard::BuildError> {
/// let validator = bearer_guard::profiles::spiffe_jwt_svid(
///     "https://spire.example.org",
///     "https://spire.example.org:8443/bundle",
///     "spiffe://example.org/api",
/// )
/// .claim_values("sub", ["spiffe://example.org/ns/prod/sa/billing"])
/// .build()
/// .await?;
/// # let _ = validator; Ok(()) }
/// ```
pub fn spiffe_jwt_svid(issuer: &str, bundle_url: &str, audience: &str) -> JwtValidatorBuilder {
    use crate::{jwks::JwksConfig, jwt::Algorithm::*};
    JwtValidator::builder(issuer)
        .audience(audience)
        .jwks_uri(bundle_url)
        .jwks_config(JwksConfig::default().accept_use("jwt-svid"))
        .require_typ(false)
        .required_claims(["sub"])
        .algorithms([RS256, RS384, RS512, ES256, ES384, PS256, PS384, PS512])
}
