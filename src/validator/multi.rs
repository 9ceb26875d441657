//! [`MultiIssuer`]: one validator per issuer, chosen by the token's `iss`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::{Readiness, ValidationFuture, Validator};
use crate::jose::{Compact, IssuerTemplate};
use crate::{error::TokenError, BuildError};

/// Default for [`MultiIssuerBuilder::max_token_bytes`]: 8 KiB, as for
/// [`JwtValidator`](crate::JwtValidator).
const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Validates tokens of several issuers, each with its own validator chosen by the token's
/// `iss` (see the [module docs](super#several-issuers-multiissuer)). Cheap to clone.
#[derive(Clone)]
pub struct MultiIssuer {
    inner: Arc<Inner>,
}

struct Inner {
    validators: HashMap<String, Box<dyn Validator>>,
    /// Validators with an issuer template, tried in the order configured when no exact
    /// issuer matches.
    templates: Vec<(IssuerTemplate, Box<dyn Validator>)>,
    max_token_bytes: usize,
}

impl fmt::Debug for MultiIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut issuers: Vec<&str> = self.issuers().collect();
        issuers.sort_unstable();
        f.debug_struct("MultiIssuer")
            .field("issuers", &issuers)
            .field("max_token_bytes", &self.inner.max_token_bytes)
            .finish()
    }
}

/// Configures a [`MultiIssuer`]. Made by [`MultiIssuer::builder`].
pub struct MultiIssuerBuilder {
    validators: Vec<(String, Box<dyn Validator>)>,
    templates: Vec<(IssuerTemplate, Box<dyn Validator>)>,
    max_token_bytes: usize,
}

impl fmt::Debug for MultiIssuerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiIssuerBuilder")
            .field(
                "issuers",
                &self
                    .validators
                    .iter()
                    .map(|(i, _)| i.as_str())
                    .chain(self.templates.iter().map(|(t, _)| t.as_str()))
                    .collect::<Vec<_>>(),
            )
            .field("max_token_bytes", &self.max_token_bytes)
            .finish()
    }
}

impl MultiIssuer {
    /// Starts configuring a multi-issuer validator.
    pub fn builder() -> MultiIssuerBuilder {
        MultiIssuerBuilder {
            validators: Vec::new(),
            templates: Vec::new(),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }

    /// The configured issuers, in no particular order (issuer templates as configured,
    /// placeholder included).
    pub fn issuers(&self) -> impl Iterator<Item = &str> {
        self.routes().map(|(issuer, _)| issuer)
    }

    /// Every configured issuer (or issuer template) with its validator.
    fn routes(&self) -> impl Iterator<Item = (&str, &dyn Validator)> {
        let exact = self
            .inner
            .validators
            .iter()
            .map(|(i, v)| (i.as_str(), &**v));
        let templates = self.inner.templates.iter().map(|(t, v)| (t.as_str(), &**v));
        exact.chain(templates)
    }
}

impl MultiIssuerBuilder {
    /// Sends JWTs whose `iss` is exactly `issuer` to `validator`, which may be any
    /// [`Validator`] (e.g. an [`IntrospectionValidator`](crate::IntrospectionValidator) for a
    /// tenant whose tokens must be introspected).
    ///
    /// The validator must itself make sure the token comes from `issuer` (a
    /// [`JwtValidator`](crate::JwtValidator)
    /// for that issuer does, by its signature and `iss` checks; an introspection validator
    /// does, by asking that issuer): `iss` is read here before any signature is checked and
    /// only chooses the validator.
    pub fn validator(mut self, issuer: impl Into<String>, validator: impl Validator) -> Self {
        self.validators.push((issuer.into(), Box::new(validator)));
        self
    }

    /// Sends JWTs whose `iss` has the shape of `template` to `validator` (see
    /// [`issuer`](Self::issuer)).
    pub(crate) fn template(mut self, template: IssuerTemplate, validator: impl Validator) -> Self {
        self.templates.push((template, Box::new(validator)));
        self
    }

    /// Largest token accepted, in bytes (default 8 KiB). Longer tokens are refused before
    /// anything is decoded.
    pub fn max_token_bytes(mut self, n: usize) -> Self {
        self.max_token_bytes = n;
        self
    }

    /// Builds the validator. Fails if no issuer is configured, or one (or one issuer
    /// template) is configured twice.
    pub fn build(self) -> Result<MultiIssuer, BuildError> {
        if self.validators.is_empty() && self.templates.is_empty() {
            return Err(BuildError::Invalid("no issuer configured"));
        }
        const TWICE: BuildError = BuildError::Invalid("the same issuer is configured twice");
        let mut validators = HashMap::with_capacity(self.validators.len());
        for (issuer, validator) in self.validators {
            if validators.insert(issuer, validator).is_some() {
                return Err(TWICE);
            }
        }
        let mut templates = HashSet::with_capacity(self.templates.len());
        if !self
            .templates
            .iter()
            .all(|(t, _)| templates.insert(t.as_str()))
        {
            return Err(TWICE);
        }
        Ok(MultiIssuer {
            inner: Arc::new(Inner {
                validators,
                templates: self.templates,
                max_token_bytes: self.max_token_bytes,
            }),
        })
    }
}

impl Validator for MultiIssuer {
    fn validate(&self, token: &str) -> ValidationFuture {
        let issuer = match unverified_issuer(token, self.inner.max_token_bytes) {
            Ok(issuer) => issuer,
            Err(e) => return ValidationFuture::ready(Err(e.into())),
        };
        let by_template = || {
            let mut templates = self.inner.templates.iter();
            templates.find_map(|(template, v)| template.shapes(&issuer).then_some(v))
        };
        match self.inner.validators.get(&issuer).or_else(by_template) {
            Some(validator) => validator.validate(token),
            None => {
                // The issuer is not logged: it is text from an unverified token.
                tracing::debug!("token names an issuer that is not configured");
                ValidationFuture::ready(Err(TokenError::WrongIssuer.into()))
            }
        }
    }

    /// Ready when every issuer's validator is; the reason names the first issuer (in
    /// alphabetical order) that is not. Every validator is asked, so that each starts its
    /// own first fetch.
    fn readiness(&self) -> Readiness {
        let mut issuers: Vec<_> = self.routes().collect();
        issuers.sort_unstable_by(|a, b| a.0.cmp(b.0));
        issuers
            .into_iter()
            .map(|(issuer, validator)| validator.readiness().context(issuer))
            .fold(Readiness::Ready, Readiness::and)
    }
}

/// Reads `iss` from the payload of a compact JWS without verifying anything else.
fn unverified_issuer(token: &str, max_token_bytes: usize) -> Result<String, TokenError> {
    let mut claims = Compact::split(token, max_token_bytes)?.payload_object()?;
    match claims.remove("iss") {
        Some(Value::String(iss)) => Ok(iss),
        None => Err(TokenError::MissingClaim),
        Some(_) => Err(TokenError::WrongIssuer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuthError, Claims};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    /// Accepts every token and says which tenant it was routed to: shows the routing alone,
    /// without the second `iss` check a real validator makes.
    struct Tenant(&'static str);

    impl Validator for Tenant {
        fn validate(&self, _token: &str) -> ValidationFuture {
            ValidationFuture::ready(Ok(Claims::from_value(
                serde_json::json!({ "tenant": self.0 }),
            )
            .unwrap()))
        }
    }

    fn token(payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    fn multi() -> MultiIssuer {
        MultiIssuer::builder()
            .validator("https://a.example", Tenant("a"))
            .validator("https://b.example/tenant", Tenant("b"))
            .build()
            .unwrap()
    }

    async fn outcome(m: &MultiIssuer, token: &str) -> Result<String, AuthError> {
        let claims = m.validate(token).await?;
        Ok(claims.get("tenant").unwrap().as_str().unwrap().to_owned())
    }

    fn refused(e: TokenError) -> Result<String, AuthError> {
        Err(AuthError::InvalidToken(e))
    }

    #[tokio::test]
    async fn routes_by_exact_issuer() {
        let m = multi();
        let a = token(r#"{"iss":"https://a.example"}"#);
        let b = token(r#"{"iss":"https://b.example/tenant","aud":"x"}"#);
        assert_eq!(outcome(&m, &a).await.unwrap(), "a");
        assert_eq!(outcome(&m, &b).await.unwrap(), "b");
        for near in [
            "https://a.example/",
            "https://A.example",
            "https://a.example ",
            "https://b.example",
            "https://b.example/tenant/",
            "https://b.example/TENANT",
            "https://c.example",
            "",
        ] {
            let t = token(&serde_json::json!({ "iss": near }).to_string());
            assert_eq!(
                outcome(&m, &t).await,
                refused(TokenError::WrongIssuer),
                "{near:?}"
            );
        }
    }

    #[tokio::test]
    async fn issuer_must_be_one_string() {
        let m = multi();
        let cases = [
            (r#"{"sub":"x"}"#, TokenError::MissingClaim),
            (r#"{"iss":["https://a.example"]}"#, TokenError::WrongIssuer),
            (r#"{"iss":null}"#, TokenError::WrongIssuer),
            (
                r#"{"iss":"https://c.example","iss":"https://a.example"}"#,
                TokenError::DuplicateMember,
            ),
            (
                r#"{"iss":"https://a.example","iss":"https://a.example"}"#,
                TokenError::DuplicateMember,
            ),
            (r#"["https://a.example"]"#, TokenError::Malformed),
        ];
        for (payload, error) in cases {
            assert_eq!(
                outcome(&m, &token(payload)).await,
                refused(error),
                "{payload}"
            );
        }
    }

    #[tokio::test]
    async fn shape_and_size_are_checked_before_decoding() {
        let m = multi();
        let good = token(r#"{"iss":"https://a.example"}"#);
        assert_eq!(
            outcome(&m, &format!("{good}.x.y")).await,
            refused(TokenError::Encrypted)
        );
        assert_eq!(
            outcome(&m, &format!("{good}.x")).await,
            refused(TokenError::Malformed)
        );
        assert_eq!(outcome(&m, "a.b").await, refused(TokenError::Malformed));
        assert_eq!(
            outcome(&m, "opaque-token").await,
            refused(TokenError::Malformed)
        );
        let (h, rest) = good.split_once('.').unwrap();
        let (p, _) = rest.split_once('.').unwrap();
        assert_eq!(
            outcome(&m, &format!("{h}.{p}.")).await,
            refused(TokenError::Malformed)
        );
        assert_eq!(
            outcome(&m, &format!("{h}.{p}=.c2ln")).await,
            refused(TokenError::Malformed)
        );

        let padded = token(&format!(
            r#"{{"iss":"https://a.example","pad":"{}"}}"#,
            "x".repeat(200)
        ));
        let small = MultiIssuer::builder()
            .validator("https://a.example", Tenant("a"))
            .max_token_bytes(padded.len() - 1)
            .build()
            .unwrap();
        assert_eq!(
            outcome(&small, &padded).await,
            refused(TokenError::TooLarge)
        );
        assert_eq!(outcome(&small, &good).await.unwrap(), "a");
        assert_eq!(outcome(&m, &padded).await.unwrap(), "a");
    }

    #[test]
    fn configuration_is_checked() {
        assert!(matches!(
            MultiIssuer::builder().build(),
            Err(BuildError::Invalid(_))
        ));
        assert!(matches!(
            MultiIssuer::builder()
                .validator("https://a.example", Tenant("a"))
                .validator("https://a.example", Tenant("b"))
                .build(),
            Err(BuildError::Invalid(_))
        ));
        let m = multi();
        let mut issuers: Vec<_> = m.issuers().collect();
        issuers.sort_unstable();
        assert_eq!(issuers, ["https://a.example", "https://b.example/tenant"]);
        assert!(format!("{m:?}").contains("https://a.example"));
        assert!(matches!(
            MultiIssuer::builder()
                .template(template("https://t.example/{t}"), Tenant("t"))
                .template(template("https://t.example/{t}"), Tenant("u"))
                .build(),
            Err(BuildError::Invalid(_))
        ));
    }

    fn template(text: &str) -> IssuerTemplate {
        IssuerTemplate::new(text, "tid".into(), Vec::new()).unwrap()
    }

    /// Exact issuers first, then the templates in the order configured; a shape no template
    /// has is refused without reaching any validator.
    #[tokio::test]
    async fn issuer_templates_route_what_no_exact_issuer_takes() {
        let m = MultiIssuer::builder()
            .validator("https://t.example/exact", Tenant("exact"))
            .template(template("https://t.example/{t}"), Tenant("first"))
            .template(template("https://t.example/{t}/v2"), Tenant("v2"))
            .template(template("https://{t}.example/x"), Tenant("second"))
            .build()
            .unwrap();
        let iss = |iss: &str| token(&serde_json::json!({ "iss": iss }).to_string());
        for (named, routed_to) in [
            ("https://t.example/exact", "exact"),
            ("https://t.example/one", "first"),
            ("https://t.example/one/v2", "v2"),
            ("https://u.example/x", "second"),
            // The shape of two templates: the first configured wins.
            ("https://t.example/x", "first"),
        ] {
            assert_eq!(
                outcome(&m, &iss(named)).await.unwrap(),
                routed_to,
                "{named}"
            );
        }
        for other in [
            "https://t.example/",
            "https://t.example/a/b",
            "https://x.example/a",
        ] {
            let refusal = outcome(&m, &iss(other)).await;
            assert_eq!(refusal, refused(TokenError::WrongIssuer), "{other}");
        }
        let mut issuers: Vec<_> = m.issuers().collect();
        issuers.sort_unstable();
        assert_eq!(
            issuers,
            [
                "https://t.example/exact",
                "https://t.example/{t}",
                "https://t.example/{t}/v2",
                "https://{t}.example/x"
            ]
        );
    }
}
