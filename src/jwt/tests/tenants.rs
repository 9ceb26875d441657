//! A validator with an issuer template (one per tenant, as Entra ID multi-tenant apps see
//! them) behind [`MultiIssuer`], beside a validator of one exact issuer.

use bearer_guard_testkit::TestServer;
use serde_json::json;

use crate::error::TokenError;
use crate::{JwtValidator, MultiIssuer, Validator};

#[tokio::test]
async fn a_template_validator_gets_the_tokens_of_its_tenants() {
    let server = TestServer::start().await;
    let template = format!("{}/{{tenant}}/v2.0", server.issuer());
    let tenants = JwtValidator::builder(&template)
        .audience(server.audience())
        .tenant_claim("tid")
        .tenants(["t1", "t2"])
        .key_set(super::key_set_of(&server).await)
        .build()
        .await
        .unwrap();
    let exact = JwtValidator::builder(server.issuer())
        .audience(server.audience())
        .key_set(super::key_set_of(&server).await)
        .build()
        .await
        .unwrap();
    let m = MultiIssuer::builder()
        .issuer(exact)
        .issuer(tenants)
        .build()
        .unwrap();
    let token = |iss_tenant: &str, tid: &str| {
        let iss = format!("{}/{iss_tenant}/v2.0", server.issuer());
        server.mint().issuer(iss).claim("tid", json!(tid)).sign()
    };
    assert!(m.validate(&token("t1", "t1")).await.is_ok());
    assert!(m.validate(&token("t2", "t2")).await.is_ok());
    assert!(
        m.validate(&server.mint().sign()).await.is_ok(),
        "the exact issuer"
    );
    // Routed to the template's validator, which refuses a tenant off its list and an `iss`
    // of another tenant than `tid`.
    for (iss_tenant, tid) in [("t3", "t3"), ("t1", "t2")] {
        let refused = m.validate(&token(iss_tenant, tid)).await.unwrap_err();
        assert_eq!(
            refused,
            TokenError::WrongIssuer.into(),
            "{iss_tenant} {tid}"
        );
    }
    let mut issuers: Vec<_> = m.issuers().collect();
    issuers.sort_unstable();
    assert_eq!(issuers, [server.issuer(), template.as_str()]);
}
