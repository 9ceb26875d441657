//! Issuer profiles over the real layer, each with tokens in that issuer's exact shape (header,
//! claims) signed by the testkit, and its metadata document served on loopback with the
//! issuer's real `issuer` value. Shapes from the issuers' public documentation: Microsoft
//! Entra ID access token claims reference (v1.0, v2.0) and its `organizations` metadata, AWS
//! Cognito "Understanding the access token", Keycloak's default access token, Auth0 access
//! tokens with RBAC, Okta custom authorization server access tokens, Google's service-to-service
//! ID tokens.

use crate::support;

use axum::{routing::get, Json, Router};
use bearer_guard::{error::DiscoveryError, jwt::JwtValidatorBuilder, profiles, BuildError};
use bearer_guard_testkit::TestServer;
use serde_json::{json, Value};
use support::{call, me_url, serve};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
const APP: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

fn now() -> u64 {
    support::now()
}

/// A token signed by `server` with exactly this header `typ` (`None`: none) and these claims
/// (the testkit's defaults removed; `iat`, `nbf` and `exp` set around now).
fn shaped(server: &TestServer, typ: Option<&str>, claims: Value) -> String {
    let mut mint = server.mint().typ(typ);
    for name in [
        "iss",
        "sub",
        "aud",
        "client_id",
        "scope",
        "jti",
        "iat",
        "exp",
    ] {
        mint = mint.remove(name);
    }
    let t = now();
    let mut claims = claims;
    let obj = claims.as_object_mut().unwrap();
    obj.insert("iat".into(), json!(t));
    obj.insert("nbf".into(), json!(t));
    obj.insert("exp".into(), json!(t + 3600));
    for (name, value) in obj.clone() {
        mint = mint.claim(name, value);
    }
    mint.sign()
}

/// Serves `doc` (with `jwks_uri` pointing at the testkit's keys) and returns its URL.
async fn metadata(server: &TestServer, mut doc: Value) -> String {
    doc["jwks_uri"] = json!(server.jwks_uri());
    let app = Router::new().route("/doc", get(move || async move { Json(doc) }));
    format!("{}/doc", serve(app).await)
}

/// The `/me` URL of an API behind `builder`, whose metadata is `doc`.
async fn api(server: &TestServer, builder: JwtValidatorBuilder, doc: Value) -> String {
    let url = metadata(server, doc).await;
    me_url(builder.metadata_url(url).build().await.unwrap()).await
}

fn entra_v2(tenant: &str, iss_tenant: &str) -> Value {
    json!({
        "aud": APP,
        "iss": format!("https://login.microsoftonline.com/{iss_tenant}/v2.0"),
        "aio": "AXQAi/8IAAAA",
        "azp": "6e74172b-be56-4843-9ff4-e66a39bb12e3",
        "azpacr": "0",
        "name": "Abe Lincoln",
        "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474",
        "preferred_username": "abeli@microsoft.com",
        "rh": "I",
        "roles": ["Reports.Read"],
        "scp": "access_as_user",
        "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ",
        "tid": tenant,
        "uti": "fqiBqXLPj0eQa82S-IYFAA",
        "ver": "2.0"
    })
}

/// Entra's `organizations` v2.0 metadata: the issuer is a template.
fn entra_organizations_doc() -> Value {
    json!({
        "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
        "token_endpoint": "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
        "authorization_endpoint": "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
        "id_token_signing_alg_values_supported": ["RS256"],
        "tenant_region_scope": null,
        "cloud_instance_name": "microsoftonline.com"
    })
}

#[tokio::test]
async fn entra_multi_tenant_accepts_any_tenant_with_its_own_issuer() {
    let server = TestServer::start().await;
    let url = api(
        &server,
        profiles::entra_multi_tenant(APP),
        entra_organizations_doc(),
    )
    .await;
    for tenant in [TENANT, OTHER_TENANT] {
        let token = shaped(&server, Some("JWT"), entra_v2(tenant, tenant));
        let (status, _, body) = call(&url, &token).await;
        assert_eq!(status, 200, "{body}");
        let claims: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(claims["scp"], "access_as_user");
        assert_eq!(claims["roles"], json!(["Reports.Read"]));
    }
    // A token of one tenant claiming another tenant's issuer.
    let crossed = shaped(&server, Some("JWT"), entra_v2(OTHER_TENANT, TENANT));
    assert_eq!(call(&url, &crossed).await.0, 401);
    // The template itself is no issuer.
    let mut literal = entra_v2(TENANT, TENANT);
    literal["iss"] = json!("https://login.microsoftonline.com/{tenantid}/v2.0");
    assert_eq!(
        call(&url, &shaped(&server, Some("JWT"), literal)).await.0,
        401
    );
    // No tid, or one that reaches into the path.
    let mut no_tid = entra_v2(TENANT, TENANT);
    no_tid.as_object_mut().unwrap().remove("tid");
    assert_eq!(
        call(&url, &shaped(&server, Some("JWT"), no_tid)).await.0,
        401
    );
    let path = format!("{TENANT}/v2.0/x");
    let sneaky = entra_v2(&path, &path);
    assert_eq!(
        call(&url, &shaped(&server, Some("JWT"), sneaky)).await.0,
        401
    );
    // A v1.0 token is not a v2.0 one.
    let mut v1 = entra_v2(TENANT, TENANT);
    v1["ver"] = json!("1.0");
    assert_eq!(call(&url, &shaped(&server, Some("JWT"), v1)).await.0, 401);
}

#[tokio::test]
async fn entra_multi_tenant_with_an_allow_list_refuses_other_tenants() {
    let server = TestServer::start().await;
    let builder = profiles::entra_multi_tenant(APP).tenants([TENANT]);
    let url = api(&server, builder, entra_organizations_doc()).await;
    let ours = shaped(&server, Some("JWT"), entra_v2(TENANT, TENANT));
    assert_eq!(call(&url, &ours).await.0, 200);
    let theirs = shaped(&server, Some("JWT"), entra_v2(OTHER_TENANT, OTHER_TENANT));
    assert_eq!(call(&url, &theirs).await.0, 401);
}

#[tokio::test]
async fn an_issuer_template_refusal_names_the_check_at_debug() {
    use bearer_guard::Validator;
    let (logs, _guard) = support::logs::capture();
    let server = TestServer::start().await;
    let url = metadata(&server, entra_organizations_doc()).await;
    let validator = profiles::entra_multi_tenant(APP)
        .metadata_url(url)
        .build()
        .await
        .unwrap();
    let crossed = shaped(&server, Some("JWT"), entra_v2(OTHER_TENANT, TENANT));
    assert!(validator.validate(&crossed).await.is_err());
    let cognito = profiles::cognito("eu-west-1", "eu-west-1_AbC", ["app"])
        .jwks_uri(server.jwks_uri())
        .build()
        .await
        .unwrap();
    let no_client = shaped(
        &server,
        None,
        json!({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC", "token_use": "access", "sub": "x"}),
    );
    assert!(cognito.validate(&no_client).await.is_err());
    let text = logs.text();
    assert!(
        text.contains(
            r#"check="iss" template="https://login.microsoftonline.com/{tenantid}/v2.0""#
        ),
        "{text}"
    );
    assert!(text.contains(r#"check="client_id""#), "{text}");
}

#[tokio::test]
async fn entra_discovery_must_name_the_template() {
    let server = TestServer::start().await;
    let mut doc = entra_organizations_doc();
    doc["issuer"] = json!(format!("https://login.microsoftonline.com/{TENANT}/v2.0"));
    let url = metadata(&server, doc).await;
    let error = profiles::entra_multi_tenant(APP)
        .metadata_url(url)
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            BuildError::Discovery(DiscoveryError::IssuerMismatch { .. })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn entra_single_tenant_v2_and_v1() {
    let server = TestServer::start().await;
    let v2_doc = json!({"issuer": format!("https://login.microsoftonline.com/{TENANT}/v2.0")});
    let url = api(&server, profiles::entra(TENANT, APP), v2_doc).await;
    let token = shaped(&server, Some("JWT"), entra_v2(TENANT, TENANT));
    assert_eq!(call(&url, &token).await.0, 200);
    let other = shaped(&server, Some("JWT"), entra_v2(OTHER_TENANT, OTHER_TENANT));
    assert_eq!(call(&url, &other).await.0, 401);

    // v1.0: the metadata under login.microsoftonline.com names the sts.windows.net issuer.
    let v1_doc = json!({"issuer": format!("https://sts.windows.net/{TENANT}/")});
    let url = api(&server, profiles::entra_v1(TENANT, "api://orders"), v1_doc).await;
    let v1 = json!({
        "aud": "api://orders",
        "iss": format!("https://sts.windows.net/{TENANT}/"),
        "acr": "1",
        "aio": "AVQAq/8TAAAA",
        "amr": ["pwd"],
        "appid": "00000002-0000-0000-c000-000000000000",
        "appidacr": "0",
        "family_name": "Lincoln",
        "given_name": "Abe",
        "ipaddr": "131.107.222.22",
        "name": "abeli",
        "oid": "02223b6b-aa1d-42d4-9ec0-1b2bb9194438",
        "rh": "I",
        "scp": "user_impersonation",
        "sub": "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA",
        "tid": TENANT,
        "unique_name": "abeli@microsoft.com",
        "upn": "abeli@microsoft.com",
        "uti": "fqiBqXLPj0eQa82S-IYFAA",
        "ver": "1.0"
    });
    assert_eq!(
        call(&url, &shaped(&server, Some("JWT"), v1.clone()))
            .await
            .0,
        200
    );
    let mut v2_shaped = v1;
    v2_shaped["ver"] = json!("2.0");
    assert_eq!(
        call(&url, &shaped(&server, Some("JWT"), v2_shaped)).await.0,
        401
    );
}

#[tokio::test]
async fn cognito_access_tokens_have_no_aud_but_client_id_and_token_use() {
    let server = TestServer::start().await;
    let iss = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example";
    let doc = json!({"issuer": iss, "token_endpoint": "https://auth.example/oauth2/token"});
    let builder = profiles::cognito("us-west-2", "us-west-2_example", ["1example23456789"]);
    let url = api(&server, builder, doc).await;
    let access = |client: &str, token_use: &str| {
        json!({
            "sub": "aaaaaaaa-bbbb-cccc-dddd-example",
            "cognito:groups": ["admin"],
            "iss": iss,
            "version": 2,
            "client_id": client,
            "origin_jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            "event_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            "token_use": token_use,
            "scope": "phone openid profile email",
            "auth_time": now(),
            "jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            "username": "my-test-user"
        })
    };
    let ok = shaped(&server, None, access("1example23456789", "access"));
    assert_eq!(call(&url, &ok).await.0, 200);
    let other_client = shaped(&server, None, access("another-client", "access"));
    assert_eq!(call(&url, &other_client).await.0, 401);
    // A Cognito ID token: `aud` is the client, `token_use` is `id`.
    let mut id = access("1example23456789", "id");
    id["aud"] = json!("1example23456789");
    assert_eq!(call(&url, &shaped(&server, None, id)).await.0, 401);
    let mut no_client = access("x", "access");
    no_client.as_object_mut().unwrap().remove("client_id");
    assert_eq!(call(&url, &shaped(&server, None, no_client)).await.0, 401);
}

#[tokio::test]
async fn keycloak_realm_tokens_with_roles() {
    let server = TestServer::start().await;
    let iss = "https://sso.example/realms/acme";
    let builder = profiles::keycloak(iss, "orders-api").claim_values("azp", ["orders-web"]);
    let url = api(&server, builder, json!({"issuer": iss})).await;
    let token = |azp: &str| {
        json!({
            "jti": "5d3a4f6e-0000-4000-8000-000000000000",
            "iss": iss,
            "aud": ["orders-api", "account"],
            "sub": "f:2b1c:alice",
            "typ": "Bearer",
            "azp": azp,
            "sid": "1f6c0000-0000-4000-8000-000000000000",
            "acr": "1",
            "allowed-origins": ["https://orders.example"],
            "realm_access": {"roles": ["offline_access", "default-roles-acme"]},
            "resource_access": {"orders-api": {"roles": ["reader"]}, "account": {"roles": ["manage-account"]}},
            "scope": "openid email profile",
            "email_verified": true,
            "preferred_username": "alice"
        })
    };
    let (status, _, body) = call(&url, &shaped(&server, Some("JWT"), token("orders-web"))).await;
    assert_eq!(status, 200, "{body}");
    let claims: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        claims["resource_access"]["orders-api"]["roles"],
        json!(["reader"])
    );
    let other = shaped(&server, Some("JWT"), token("some-other-client"));
    assert_eq!(call(&url, &other).await.0, 401);
}

#[tokio::test]
async fn auth0_issuer_has_its_trailing_slash() {
    let server = TestServer::start().await;
    let iss = "https://acme.eu.auth0.com/";
    let url = api(
        &server,
        profiles::auth0("acme.eu.auth0.com", "https://api.acme.example"),
        json!({"issuer": iss}),
    )
    .await;
    let token = |iss: &str| {
        json!({
            "iss": iss,
            "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
            "aud": ["https://api.acme.example", "https://acme.eu.auth0.com/userinfo"],
            "azp": "my-spa-client-id",
            "scope": "openid profile read:orders",
            "permissions": ["read:orders"]
        })
    };
    let (status, _, body) = call(&url, &shaped(&server, Some("JWT"), token(iss))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["permissions"],
        json!(["read:orders"])
    );
    let no_slash = shaped(&server, Some("JWT"), token("https://acme.eu.auth0.com"));
    assert_eq!(call(&url, &no_slash).await.0, 401);
}

#[tokio::test]
async fn okta_custom_authorization_server_with_an_scp_array() {
    let server = TestServer::start().await;
    let iss = "https://acme.okta.com/oauth2/default";
    let url = api(
        &server,
        profiles::okta(iss, "api://default"),
        json!({"issuer": iss}),
    )
    .await;
    let token = shaped(
        &server,
        None,
        json!({
            "ver": 1,
            "jti": "AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE",
            "iss": iss,
            "aud": "api://default",
            "cid": "0oa1pcmmy8Ag5ZYv30h8",
            "uid": "00uid4BxXw6I6TV4m0g3",
            "scp": ["openid", "email"],
            "auth_time": now(),
            "sub": "alice@acme.example"
        }),
    );
    let (status, _, body) = call(&url, &token).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn google_id_tokens_for_a_service_url() {
    let server = TestServer::start().await;
    let audience = "https://orders-abc123-ew.a.run.app";
    let caller = "caller@my-project.iam.gserviceaccount.com";
    let builder = profiles::google_id_tokens(audience).claim_values("email", [caller]);
    let url = api(
        &server,
        builder,
        json!({"issuer": "https://accounts.google.com"}),
    )
    .await;
    let token = |aud: &str, verified: Value| {
        json!({
            "aud": aud,
            "azp": "113774264463038321964",
            "email": caller,
            "email_verified": verified,
            "iss": "https://accounts.google.com",
            "sub": "113774264463038321964"
        })
    };
    let ok = shaped(&server, Some("JWT"), token(audience, json!(true)));
    assert_eq!(call(&url, &ok).await.0, 200);
    let unverified = shaped(&server, Some("JWT"), token(audience, json!(false)));
    assert_eq!(call(&url, &unverified).await.0, 401);
    let as_text = shaped(&server, Some("JWT"), token(audience, json!("true")));
    assert_eq!(call(&url, &as_text).await.0, 401);
    let other_service = shaped(
        &server,
        Some("JWT"),
        token("https://billing.a.run.app", json!(true)),
    );
    assert_eq!(call(&url, &other_service).await.0, 401);
}
