//! The request URI a proof's `htu` must name (RFC 9449 §4.3), and the authorities plain enough
//! to build it from.

use http::header::HOST;
use http::Request;
use url::Url;

use super::DpopVerifier;

impl DpopVerifier {
    /// The absolute URI the request was sent to, as far as `htu` is concerned.
    pub(super) fn request_uri<B>(&self, req: &Request<B>) -> Option<Url> {
        let path = req.uri().path();
        let text = if let Some(base) = &self.config.base_url {
            let mut base = base.clone();
            base.set_query(None);
            base.set_fragment(None);
            format!("{}{}", base.as_str().trim_end_matches('/'), path)
        } else if let (Some(scheme), Some(authority)) = (req.uri().scheme(), req.uri().authority())
        {
            if !plain_authority(authority.as_str()) {
                return None;
            }
            format!("{scheme}://{authority}{path}")
        } else {
            let mut hosts = req.headers().get_all(HOST).iter();
            let host = hosts.next()?.to_str().ok()?;
            if hosts.next().is_some() || !plain_authority(host) {
                return None;
            }
            format!("{}://{host}{path}", self.config.default_scheme)
        };
        Url::parse(&text).ok()
    }
}

/// Whether `authority` (untrusted: a `Host` header or a request URI's authority) is a plain
/// `host[:port]` that URL parsing takes as it is (RFC 3986 §3.2.2, §3.2.3, without userinfo):
/// a host of ASCII letters, digits, `-`, `.` and `_` (DNS names, IPv4 addresses) or an IPv6
/// address in brackets, and an optional port of 1 to 5 digits, at most 65535. Everything else is
/// refused: `\` (a `/` to URL parsing), `/`, `?`, `#`, `@`, `%`, spaces and control characters
/// (dropped by URL parsing), an empty host or port.
fn plain_authority(authority: &str) -> bool {
    /// Longest DNS name (253) with room for a trailing dot and some slack.
    const MAX_HOST: usize = 255;
    let (host_ok, port) = match authority.strip_prefix('[') {
        Some(literal) => match literal.split_once(']') {
            Some((ip, rest)) => (ip.parse::<std::net::Ipv6Addr>().is_ok(), rest),
            None => return false,
        },
        None => {
            let end = authority.find(':').unwrap_or(authority.len());
            let (host, port) = (
                authority.get(..end).unwrap_or_default(),
                authority.get(end..).unwrap_or_default(),
            );
            let ok = !host.is_empty()
                && host.len() <= MAX_HOST
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
            (ok, port)
        }
    };
    let port_ok = match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => {
            (1..=5).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && digits.parse::<u16>().is_ok()
        }
    };
    host_ok && port_ok
}

/// Whether `htu` names `uri` (RFC 9449 §4.3 point 9): both parsed and normalised as URLs, then
/// scheme, host, port and path compared; query and fragment ignored.
pub(super) fn same_target(htu: &str, uri: &Url) -> bool {
    let Ok(htu) = Url::parse(htu) else {
        return false;
    };
    htu.scheme() == uri.scheme()
        && htu.host_str().is_some()
        && htu.host_str() == uri.host_str()
        && htu.port_or_known_default() == uri.port_or_known_default()
        && htu.path() == uri.path()
        && htu.username() == uri.username()
        && htu.password() == uri.password()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DpopConfig;

    #[test]
    fn htu_comparison_normalises() {
        let uri = Url::parse("https://api.example/a/b").unwrap();
        assert!(same_target("https://api.example/a/b", &uri));
        assert!(same_target("HTTPS://API.example:443/a/b?x=1#f", &uri));
        assert!(!same_target("https://api.example/a/b/", &uri));
        assert!(!same_target("http://api.example/a/b", &uri));
        assert!(!same_target("https://api.example:8443/a/b", &uri));
        assert!(!same_target("https://other.example/a/b", &uri));
        assert!(!same_target("/a/b", &uri));
    }

    #[test]
    fn request_uri_sources() {
        let v = DpopVerifier::new(DpopConfig::new());
        let req = Request::get("/p?q=1")
            .header(HOST, "api.example:8443")
            .body(())
            .unwrap();
        assert_eq!(
            v.request_uri(&req).unwrap().as_str(),
            "https://api.example:8443/p"
        );
        let req = Request::get("http://h.example/p").body(()).unwrap();
        assert_eq!(v.request_uri(&req).unwrap().as_str(), "http://h.example/p");
        let v = DpopVerifier::new(
            DpopConfig::new().base_url(Url::parse("https://ext.example/api/").unwrap()),
        );
        assert_eq!(
            v.request_uri(&req).unwrap().as_str(),
            "https://ext.example/api/p"
        );
        let v = DpopVerifier::new(DpopConfig::new());
        let req = Request::get("/p").header(HOST, "evil/x").body(()).unwrap();
        assert!(v.request_uri(&req).is_none());
        for host in [
            r"api.example\admin",
            "",
            "api.example:99999",
            "u@api.example",
        ] {
            let req = Request::get("/p").header(HOST, host).body(()).unwrap();
            assert!(v.request_uri(&req).is_none(), "{host:?}");
        }
        // The authority of an absolute request URI is held to the same rule.
        for uri in [
            "https://u@api.example/p",
            "https://api.example:x/p",
            "https://h:/p",
        ] {
            let req = Request::get(uri).body(()).unwrap();
            assert!(req.uri().authority().is_some(), "{uri}");
            assert!(v.request_uri(&req).is_none(), "{uri}");
        }
        let req = Request::get("https://[::1]:8443/p").body(()).unwrap();
        assert_eq!(
            v.request_uri(&req).unwrap().as_str(),
            "https://[::1]:8443/p"
        );
    }

    #[test]
    fn only_plain_authorities_make_a_request_uri() {
        for good in [
            "api.example",
            "API.Example:443",
            "api.example.",
            "my_service:8080",
            "127.0.0.1",
            "10.0.0.1:65535",
            "localhost:1",
            "[::1]",
            "[2001:db8::1]:8443",
            "a:00080",
        ] {
            assert!(plain_authority(good), "{good:?}");
        }
        for bad in [
            "",
            ":443",
            r"api.example\admin",
            r"api.example:443\admin",
            "api.example/admin",
            "api.example?x",
            "api.example#x",
            "user@api.example",
            "user:pw@api.example",
            "api.example%2Fadmin",
            "api%2eexample",
            "api example",
            " api.example",
            "api.example\t",
            "api.example\0",
            "api.example\r\nX-Evil: 1",
            "api.example\u{7f}",
            "api.exämple",
            "api.example:",
            "api.example:65536",
            "api.example:99999",
            "api.example:123456",
            "api.example:-1",
            "api.example:+80",
            "api.example:8a",
            "api.example: 80",
            "api.example:80:80",
            "[::1",
            "[::1]x",
            "[::1]:",
            "[::1]:99999",
            "[v1.x]",
            "[fe80::1%25eth0]",
            "[127.0.0.1]",
            "::1",
            &"a".repeat(256),
        ] {
            assert!(!plain_authority(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_http_crate_authority_parser_is_not_strict_enough() {
        // Why `plain_authority` exists: `http::uri::Authority` takes these.
        for lax in ["u@h", "h:99999", "h:abc", "h:", "[v1.x]"] {
            assert!(lax.parse::<http::uri::Authority>().is_ok(), "{lax}");
            assert!(!plain_authority(lax), "{lax}");
        }
    }
}
