//! RFC 8707 resource indicators: which `resource` values a request may name, and the
//! narrowing of a grant's resources at the token endpoint.

use super::*;

/// Whether `resource` is an absolute URI without fragment (RFC 8707 §2).
pub(crate) fn resource_syntax_ok(resource: &str) -> bool {
    !resource.contains('#')
        && !resource
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        && url::Url::parse(resource).is_ok()
}

fn invalid_target(description: &'static str) -> OAuthError {
    OAuthError::new("invalid_target", description)
}

/// The `resource` parameters of a request (RFC 8707 §2), in order, without repeats: each must
/// be an absolute URI without fragment that this server serves (exact string comparison),
/// else `invalid_target`. Empty when the request names none.
pub(super) fn requested(inner: &Inner, params: &Params) -> Result<Vec<String>, OAuthError> {
    let mut out: Vec<String> = Vec::new();
    for r in &params.resources {
        if !resource_syntax_ok(r) {
            return Err(invalid_target(
                "a resource is not an absolute URI without fragment",
            ));
        }
        if !inner.resources.iter().any(|served| served == r) {
            return Err(invalid_target(
                "a requested resource is not served by this authorization server",
            ));
        }
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    Ok(out)
}

/// The resources of a token issued under a grant for `granted` (empty: the grant is not
/// restricted to resources) when the token request names `requested`: those must be among
/// the granted ones (RFC 8707 §2.2), else `invalid_target`; none named means all granted.
pub(super) fn narrow(
    requested: Vec<String>,
    granted: &[String],
) -> Result<Vec<String>, OAuthError> {
    if requested.is_empty() {
        return Ok(granted.to_vec());
    }
    if !granted.is_empty() && requested.iter().any(|r| !granted.contains(r)) {
        return Err(invalid_target(
            "a requested resource was not part of the authorization grant",
        ));
    }
    Ok(requested)
}
