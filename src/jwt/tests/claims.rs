//! The claims checked once the signature holds, through a validator with fixed keys.

use bearer_guard_testkit::TestServer;

use crate::error::TokenError;
use crate::Validator;

#[tokio::test]
async fn required_claims_must_be_present() {
    let server = TestServer::start().await;
    let v = super::with_keys_of(&server)
        .await
        .required_claims(["client_id", "sub"])
        .build()
        .await
        .unwrap();
    assert!(v.validate(&server.mint().sign()).await.is_ok());
    for missing in ["client_id", "sub"] {
        let token = server.mint().remove(missing).sign();
        assert_eq!(
            v.validate(&token).await.unwrap_err(),
            TokenError::MissingClaim.into(),
            "{missing}"
        );
    }
}
