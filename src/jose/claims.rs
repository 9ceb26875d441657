//! The registered claims that name who a token is from and for: `iss` and `aud` (RFC 7519
//! §4.1.1, §4.1.3).

use serde_json::{Map, Value};

use crate::error::TokenError;

/// A claim value as shown in a DEBUG event: its JSON, cut at 200 characters. Only for claims
/// that are not secret (`iss`, `aud`, `typ`), of tokens whose signature (or introspection
/// answer) was already checked.
pub(crate) fn shown(value: &Value) -> String {
    value.to_string().chars().take(200).collect()
}

/// Whether a claim must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// Missing is [`TokenError::MissingClaim`].
    Required,
    /// Missing passes; present, it is checked.
    Optional,
}

/// Checks that `iss` is the string `issuer`, compared exactly: anything else is
/// [`TokenError::WrongIssuer`].
pub(crate) fn check_issuer(
    claims: &Map<String, Value>,
    issuer: &str,
    presence: Presence,
) -> Result<(), TokenError> {
    match claims.get("iss") {
        None if presence == Presence::Optional => Ok(()),
        None => {
            tracing::debug!(
                check = "iss",
                expected = issuer,
                "token refused: no iss claim"
            );
            Err(TokenError::MissingClaim)
        }
        Some(Value::String(iss)) if iss == issuer => Ok(()),
        Some(found) => {
            tracing::debug!(check = "iss", expected = issuer, found = %shown(found), "token refused: another issuer");
            Err(TokenError::WrongIssuer)
        }
    }
}

/// Checks `aud` (a string or an array of strings) against the accepted audiences; with none
/// configured, any audience passes.
pub(crate) fn check_audience(
    claims: &Map<String, Value>,
    audiences: &[String],
) -> Result<(), TokenError> {
    if audiences.is_empty() {
        return Ok(());
    }
    let refuse = |found: Option<&Value>, error: TokenError| {
        tracing::debug!(
            check = "aud",
            expected = ?audiences,
            found = %found.map(shown).unwrap_or_else(|| "nothing".to_owned()),
            "token refused: not for this audience"
        );
        Err(error)
    };
    let aud = claims.get("aud");
    let ok = match aud {
        None => return refuse(aud, TokenError::MissingClaim),
        Some(Value::String(aud)) => audiences.contains(aud),
        Some(Value::Array(auds)) => {
            let mut ok = false;
            for one in auds {
                match one {
                    Value::String(a) => ok |= audiences.contains(a),
                    _ => return refuse(aud, TokenError::InvalidClaim),
                }
            }
            ok
        }
        Some(_) => return refuse(aud, TokenError::InvalidClaim),
    };
    if ok {
        Ok(())
    } else {
        refuse(aud, TokenError::WrongAudience)
    }
}

/// An issuer that differs per tenant (Microsoft Entra ID multi-tenant apps): a template with
/// one `{…}` placeholder (e.g. `https://login.microsoftonline.com/{tenantid}/v2.0`) that
/// stands for a claim of the token (`tid`). `iss` must equal the template with the token's
/// value in place, and that value must be on the allow-list, if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuerTemplate {
    template: String,
    prefix: String,
    suffix: String,
    claim: String,
    tenants: Vec<String>,
}

impl IssuerTemplate {
    /// `template` with exactly one `{…}` placeholder, filled from `claim`; `None` otherwise.
    pub(crate) fn new(template: &str, claim: String, tenants: Vec<String>) -> Option<Self> {
        let (prefix, rest) = template.split_once('{')?;
        let (_, suffix) = rest.split_once('}')?;
        if [prefix, suffix].iter().any(|s| s.contains(['{', '}'])) || claim.is_empty() {
            return None;
        }
        Some(IssuerTemplate {
            template: template.to_owned(),
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
            claim,
            tenants,
        })
    }

    /// The template as configured, placeholder included.
    pub(crate) fn as_str(&self) -> &str {
        &self.template
    }

    /// Whether `iss` has the template's shape: its prefix, a tenant name, its suffix. This
    /// only routes a token to the validator of the template ([`MultiIssuer`]); that validator
    /// then checks `iss` against the token's own tenant claim.
    ///
    /// [`MultiIssuer`]: crate::MultiIssuer
    pub(crate) fn shapes(&self, iss: &str) -> bool {
        self.filling(iss).is_some_and(is_tenant_name)
    }

    /// What stands in `iss` where the template has its placeholder, if `iss` has the
    /// template's prefix and suffix.
    fn filling<'a>(&self, iss: &'a str) -> Option<&'a str> {
        iss.strip_prefix(self.prefix.as_str())?
            .strip_suffix(self.suffix.as_str())
    }
}

/// Whether `tenant` may stand in an issuer URL: a non-empty name of letters, digits, `-`,
/// `.` and `_` (Entra tenant ids are GUIDs), so that it cannot reach into another path.
fn is_tenant_name(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// Checks `iss` against an [`IssuerTemplate`]: the tenant claim is a string, a tenant name,
/// allowed (when there is an allow-list), and `iss` is the template filled with it.
pub(crate) fn check_issuer_template(
    claims: &Map<String, Value>,
    rule: &IssuerTemplate,
) -> Result<(), TokenError> {
    let template = rule.template.as_str();
    let tenant = match claims.get(&rule.claim) {
        Some(Value::String(t)) if is_tenant_name(t) => t,
        found => {
            tracing::debug!(
                check = %rule.claim,
                template,
                found = %found.map(shown).unwrap_or_else(|| "nothing".to_owned()),
                "token refused: no tenant for the issuer template"
            );
            return Err(match found {
                None => TokenError::MissingClaim,
                Some(_) => TokenError::InvalidClaim,
            });
        }
    };
    if !rule.tenants.is_empty() && !rule.tenants.contains(tenant) {
        tracing::debug!(check = %rule.claim, expected = ?rule.tenants, found = %tenant, "token refused: a tenant not allowed");
        return Err(TokenError::WrongIssuer);
    }
    match claims.get("iss") {
        Some(Value::String(iss)) if rule.filling(iss) == Some(tenant.as_str()) => Ok(()),
        found => {
            tracing::debug!(
                check = "iss",
                template,
                tenant = %tenant,
                found = %found.map(shown).unwrap_or_else(|| "nothing".to_owned()),
                "token refused: iss is not the issuer template with the token's tenant"
            );
            Err(match found {
                None => TokenError::MissingClaim,
                Some(_) => TokenError::WrongIssuer,
            })
        }
    }
}

/// Checks that claim `name` is present and one of `allowed` (JSON values compared exactly):
/// Cognito's `token_use` and `client_id`, Entra's `ver`, Google's `email_verified`.
pub(crate) fn check_claim_value(
    claims: &Map<String, Value>,
    name: &str,
    allowed: &[Value],
) -> Result<(), TokenError> {
    match claims.get(name) {
        Some(found) if allowed.contains(found) => Ok(()),
        found => {
            tracing::debug!(
                check = name,
                expected = ?allowed,
                found = %found.map(shown).unwrap_or_else(|| "nothing".to_owned()),
                "token refused: a claim value not accepted"
            );
            Err(match found {
                None => TokenError::MissingClaim,
                Some(_) => TokenError::InvalidClaim,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    const ENTRA: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
    const TID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

    #[test]
    fn templates_have_one_placeholder() {
        assert!(IssuerTemplate::new(ENTRA, "tid".into(), vec![]).is_some());
        for bad in [
            "https://a.example/",
            "https://a.example/{a}/{b}",
            "https://a.example/{",
        ] {
            assert!(
                IssuerTemplate::new(bad, "tid".into(), vec![]).is_none(),
                "{bad}"
            );
        }
        assert!(IssuerTemplate::new(ENTRA, String::new(), vec![]).is_none());
    }

    /// The routing test of `MultiIssuer`: prefix, a tenant name, suffix.
    #[test]
    fn an_issuer_has_the_template_shape_with_a_tenant_name_in_place() {
        let t = IssuerTemplate::new(ENTRA, "tid".into(), vec![]).unwrap();
        assert_eq!(t.as_str(), ENTRA);
        assert!(t.shapes(&format!("https://login.microsoftonline.com/{TID}/v2.0")));
        for iss in [
            "https://login.microsoftonline.com//v2.0",
            "https://login.microsoftonline.com/a/b/v2.0",
            "https://login.microsoftonline.com/a/v2.0/",
            "https://login.microsoftonline.com/a%2Fb/v2.0",
            "https://login.example.com/a/v2.0",
            "https://login.microsoftonline.com/a/v1.0",
        ] {
            assert!(!t.shapes(iss), "{iss}");
        }
    }

    #[test]
    fn iss_must_be_the_template_with_the_tokens_tenant() {
        let any = IssuerTemplate::new(ENTRA, "tid".into(), vec![]).unwrap();
        let iss = format!("https://login.microsoftonline.com/{TID}/v2.0");
        let ok = map(json!({"iss": iss, "tid": TID}));
        assert_eq!(check_issuer_template(&ok, &any), Ok(()));
        let other = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        for (claims, error) in [
            // Another tenant's issuer with this tid: the tenant is not who signed for it.
            (
                json!({"iss": format!("https://login.microsoftonline.com/{other}/v2.0"), "tid": TID}),
                TokenError::WrongIssuer,
            ),
            (json!({"iss": ENTRA, "tid": TID}), TokenError::WrongIssuer),
            (
                json!({"iss": "https://login.microsoftonline.com/a/b/v2.0", "tid": "a/b"}),
                TokenError::InvalidClaim,
            ),
            (
                json!({"iss": "https://login.microsoftonline.com//v2.0", "tid": ""}),
                TokenError::InvalidClaim,
            ),
            (json!({"iss": iss}), TokenError::MissingClaim),
            (json!({"tid": TID}), TokenError::MissingClaim),
            (json!({"iss": iss, "tid": 7}), TokenError::InvalidClaim),
        ] {
            assert_eq!(
                check_issuer_template(&map(claims.clone()), &any),
                Err(error),
                "{claims}"
            );
        }
        let listed = IssuerTemplate::new(ENTRA, "tid".into(), vec![other.into()]).unwrap();
        assert_eq!(
            check_issuer_template(&ok, &listed),
            Err(TokenError::WrongIssuer)
        );
    }

    #[test]
    fn claim_values_are_compared_as_json() {
        let claims = map(json!({"token_use": "access", "email_verified": true}));
        assert_eq!(
            check_claim_value(&claims, "token_use", &[json!("access")]),
            Ok(())
        );
        assert_eq!(
            check_claim_value(&claims, "email_verified", &[json!(true)]),
            Ok(())
        );
        assert_eq!(
            check_claim_value(&claims, "email_verified", &[json!("true")]),
            Err(TokenError::InvalidClaim)
        );
        assert_eq!(
            check_claim_value(&claims, "client_id", &[json!("app")]),
            Err(TokenError::MissingClaim)
        );
    }
}
