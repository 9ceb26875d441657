//! The request URI a proof's `htu` must name (RFC 9449 §4.3): the request paths that can name
//! one, the authorities plain enough to build it from, and the allow-list they must be on.

use http::header::HOST;
use http::Request;
use url::{Host, Url};

use super::DpopConfig;
use crate::{error::DpopError, BuildError};

/// An entry of [`DpopConfig::allowed_hosts`](super::DpopConfig::allowed_hosts), parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AllowedHost {
    /// Parsed as URL parsing parses the host of an `http(s)` URL (lower case, addresses).
    host: Host<String>,
    /// `None`: the default port of the request's scheme.
    port: Option<u16>,
}

impl AllowedHost {
    /// Whether `uri` (an `http(s)` URL) is on this host and port.
    fn matches(&self, uri: &Url) -> bool {
        let port = match self.port {
            Some(port) => uri.port_or_known_default() == Some(port),
            // URL parsing drops a port that is the scheme's default.
            None => uri.port().is_none(),
        };
        port && uri.host().map(|h| h.to_owned()).as_ref() == Some(&self.host)
    }
}

/// Parses the [`allowed_hosts`](super::DpopConfig::allowed_hosts) entries; an entry that is not
/// a plain `host[:port]` is a [`BuildError::Invalid`].
pub(super) fn allowed_hosts(entries: &[String]) -> Result<Vec<AllowedHost>, BuildError> {
    entries
        .iter()
        .map(|entry| {
            split_authority(entry)
                .and_then(|(host, port)| {
                    let host = Host::parse(host).ok()?;
                    Some(AllowedHost { host, port })
                })
                .ok_or(BuildError::Invalid(
                    "a DpopConfig::allowed_hosts entry is not a plain host or host:port",
                ))
        })
        .collect()
}

/// The absolute URI the request was sent to, as far as `htu` is concerned, or why no proof
/// can name it: a path with dot segments or a backslash ([`DpopError::AmbiguousPath`]);
/// without `base_url`, an authority that is not plain or not on the allow-list `hosts`
/// ([`DpopError::WrongUri`]).
pub(super) fn request_uri<B>(
    config: &DpopConfig,
    hosts: &[AllowedHost],
    req: &Request<B>,
) -> Result<Url, DpopError> {
    let path = req.uri().path();
    if !plain_path(path) {
        return Err(DpopError::AmbiguousPath);
    }
    if let Some(base) = &config.base_url {
        let mut base = base.clone();
        base.set_query(None);
        base.set_fragment(None);
        let text = format!("{}{}", base.as_str().trim_end_matches('/'), path);
        return Url::parse(&text).map_err(|_| DpopError::WrongUri);
    }
    let text = if let (Some(scheme), Some(authority)) = (req.uri().scheme(), req.uri().authority())
    {
        if !plain_authority(authority.as_str()) {
            return Err(DpopError::WrongUri);
        }
        format!("{scheme}://{authority}{path}")
    } else {
        let mut host_headers = req.headers().get_all(HOST).iter();
        let host = host_headers.next().and_then(|h| h.to_str().ok());
        match host {
            Some(host) if host_headers.next().is_none() && plain_authority(host) => {
                format!("{}://{host}{path}", config.default_scheme)
            }
            _ => return Err(DpopError::WrongUri),
        }
    };
    let uri = Url::parse(&text).map_err(|_| DpopError::WrongUri)?;
    if !hosts.iter().any(|allowed| allowed.matches(&uri)) {
        return Err(DpopError::WrongUri);
    }
    Ok(uri)
}

/// Whether the request `path` means the same to URL parsing as to a router that takes it
/// literally: no dot segment (`.` or `..`, also with the dots written `%2e` or `%2E`), which URL
/// parsing resolves, and no `\` (also `%5c`, `%5C`), which URL parsing may take as `/` or a
/// router may decode into one. Otherwise a proof captured for `/public/x` would name
/// `/admin/%2e%2e/public/x` as well.
fn plain_path(path: &str) -> bool {
    let lower = |b: &u8| b.to_ascii_lowercase();
    let backslash = path.contains('\\')
        || path
            .as_bytes()
            .windows(3)
            .any(|w| w.iter().map(lower).eq(*b"%5c"));
    !backslash && !path.split('/').any(is_dot_segment)
}

/// Whether `segment` is `.` or `..`, each dot possibly written `%2e` or `%2E` (WHATWG URL
/// "single-dot" and "double-dot" path segments).
fn is_dot_segment(segment: &str) -> bool {
    let mut rest = segment.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() {
        rest = if let Some(after) = rest.strip_prefix(b".") {
            after
        } else if rest
            .get(..3)
            .is_some_and(|encoded| encoded.eq_ignore_ascii_case(b"%2e"))
        {
            rest.get(3..).unwrap_or_default()
        } else {
            return false;
        };
        dots += 1;
        if dots > 2 {
            return false;
        }
    }
    dots > 0
}

/// Whether `authority` (untrusted: a `Host` header or a request URI's authority) is a plain
/// `host[:port]`; see [`split_authority`].
fn plain_authority(authority: &str) -> bool {
    split_authority(authority).is_some()
}

/// The host and port of `authority` if it is a plain `host[:port]` that URL parsing takes as it
/// is (RFC 3986 §3.2.2, §3.2.3, without userinfo): a host of ASCII letters, digits, `-`, `.` and
/// `_` (DNS names, IPv4 addresses) or an IPv6 address in brackets, and an optional port of 1 to
/// 5 digits, at most 65535. Everything else is refused: `\` (a `/` to URL parsing), `/`, `?`,
/// `#`, `@`, `%`, spaces and control characters (dropped by URL parsing), an empty host or port.
fn split_authority(authority: &str) -> Option<(&str, Option<u16>)> {
    /// Longest DNS name (253) with room for a trailing dot and some slack.
    const MAX_HOST: usize = 255;
    let (host, port) = match authority.strip_prefix('[') {
        Some(literal) => {
            let (ip, _) = literal.split_once(']')?;
            ip.parse::<std::net::Ipv6Addr>().ok()?;
            // `[` + the address + `]`.
            authority.split_at_checked(ip.len() + 2)?
        }
        None => {
            let end = authority.find(':').unwrap_or(authority.len());
            let (host, port) = authority.split_at_checked(end)?;
            let ok = !host.is_empty()
                && host.len() <= MAX_HOST
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
            if !ok {
                return None;
            }
            (host, port)
        }
    };
    let port = match port.strip_prefix(':') {
        None if port.is_empty() => None,
        None => return None,
        Some(digits) => {
            if !(1..=5).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(digits.parse::<u16>().ok()?)
        }
    };
    Some((host, port))
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
    use crate::dpop::DpopVerifier;

    impl DpopVerifier {
        fn request_uri<B>(&self, req: &Request<B>) -> Result<Url, DpopError> {
            super::request_uri(&self.config, &self.hosts, req)
        }
    }

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

    /// A verifier that takes the request URI from the request, allowing `hosts`.
    fn from_request(hosts: &[&str]) -> DpopVerifier {
        DpopVerifier::for_layer(DpopConfig::new().allowed_hosts(hosts.iter().copied())).unwrap()
    }

    #[test]
    fn request_uri_sources() {
        let v = from_request(&["api.example:8443", "h.example:80", "[::1]:8443"]);
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
        let with_base = DpopVerifier::for_layer(
            DpopConfig::new().base_url(Url::parse("https://ext.example/api/").unwrap()),
        )
        .unwrap();
        assert_eq!(
            with_base.request_uri(&req).unwrap().as_str(),
            "https://ext.example/api/p"
        );
        let req = Request::get("/p").header(HOST, "evil/x").body(()).unwrap();
        assert_eq!(v.request_uri(&req), Err(DpopError::WrongUri));
        for host in [
            r"api.example\admin",
            "",
            "api.example:99999",
            "u@api.example",
        ] {
            let req = Request::get("/p").header(HOST, host).body(()).unwrap();
            assert_eq!(v.request_uri(&req), Err(DpopError::WrongUri), "{host:?}");
        }
        // The authority of an absolute request URI is held to the same rule.
        for uri in [
            "https://u@api.example/p",
            "https://api.example:x/p",
            "https://h:/p",
        ] {
            let req = Request::get(uri).body(()).unwrap();
            assert!(req.uri().authority().is_some(), "{uri}");
            assert_eq!(v.request_uri(&req), Err(DpopError::WrongUri), "{uri}");
        }
        let req = Request::get("https://[::1]:8443/p").body(()).unwrap();
        assert_eq!(
            v.request_uri(&req).unwrap().as_str(),
            "https://[::1]:8443/p"
        );
    }

    /// Rule: a relative request URI takes the configured default scheme, which also gives
    /// the port that an allowed host without one stands for.
    #[test]
    fn the_default_scheme_names_the_scheme_and_the_default_port() {
        let config = DpopConfig::new()
            .allowed_hosts(["api.example"])
            .default_scheme(http::uri::Scheme::HTTP);
        let v = DpopVerifier::for_layer(config).unwrap();
        let uri = |authority: &str| {
            let req = Request::get("/p").header(HOST, authority).body(()).unwrap();
            v.request_uri(&req).map(|u| u.to_string())
        };
        assert_eq!(uri("api.example").as_deref(), Ok("http://api.example/p"));
        assert_eq!(uri("api.example:80").as_deref(), Ok("http://api.example/p"));
        assert_eq!(uri("api.example:443"), Err(DpopError::WrongUri));
    }

    /// Rule: the `Host` header names the request URI only when there is one and it is a
    /// plain authority, even where URL parsing would turn it into an allowed host.
    #[test]
    fn only_one_plain_host_header_names_the_request_uri() {
        let v = from_request(&["api.example"]);
        let uri = |hosts: &[&str]| {
            let mut req = Request::get("/p");
            for host in hosts {
                req = req.header(HOST, *host);
            }
            v.request_uri(&req.body(()).unwrap()).map(|u| u.to_string())
        };
        assert_eq!(
            uri(&["api.example"]).as_deref(),
            Ok("https://api.example/p")
        );
        assert_eq!(
            uri(&["api.example", "api.example"]),
            Err(DpopError::WrongUri)
        );
        assert_eq!(
            uri(&["api.example", "other.example"]),
            Err(DpopError::WrongUri)
        );
        // Each parses as a URL whose host is api.example.
        for host in [r"api.example\admin", "u@api.example", "api.example/admin"] {
            assert_eq!(uri(&[host]), Err(DpopError::WrongUri), "{host}");
        }
    }

    /// Rule: without `base_url`, the request's authority must be on the allow-list; hosts
    /// compared without case and as addresses, a missing port meaning the scheme's default.
    #[test]
    fn the_request_authority_must_be_an_allowed_host() {
        let v = from_request(&["API.example", "svc.example:8443", "127.0.0.1", "[::1]:8443"]);
        let uri = |authority: &str| {
            let req = Request::get("/p").header(HOST, authority).body(()).unwrap();
            v.request_uri(&req).map(|u| u.to_string())
        };
        for (ok, uri_of) in [
            ("api.example", "https://api.example/p"),
            ("Api.Example:443", "https://api.example/p"),
            ("svc.example:8443", "https://svc.example:8443/p"),
            ("SVC.example:08443", "https://svc.example:8443/p"),
            ("127.0.0.1:443", "https://127.0.0.1/p"),
            ("[::1]:8443", "https://[::1]:8443/p"),
        ] {
            assert_eq!(uri(ok).as_deref(), Ok(uri_of), "{ok}");
        }
        for refused in [
            "other.example",
            "api.example:8443",
            "api.example:80",
            "api.example.",
            "svc.example",
            "svc.example:443",
            "127.0.0.2",
            "[::1]",
            "[::2]:8443",
        ] {
            assert_eq!(uri(refused), Err(DpopError::WrongUri), "{refused}");
        }
        // Over http, an entry without port stands for :80; absolute URIs are held to the list.
        let req = Request::get("http://api.example:80/p").body(()).unwrap();
        assert!(v.request_uri(&req).is_ok());
        let req = Request::get("http://api.example:443/p").body(()).unwrap();
        assert_eq!(v.request_uri(&req), Err(DpopError::WrongUri));
        let req = Request::get("https://other.example/p").body(()).unwrap();
        assert_eq!(v.request_uri(&req), Err(DpopError::WrongUri));
        // A verifier built without the list (only `ProofVerifier` can be) takes no request URI.
        let bare = DpopVerifier::new(DpopConfig::new()).unwrap();
        let req = Request::get("/p")
            .header(HOST, "api.example")
            .body(())
            .unwrap();
        assert_eq!(bare.request_uri(&req), Err(DpopError::WrongUri));
    }

    #[test]
    fn the_layer_needs_base_url_or_allowed_hosts_and_plain_entries() {
        let no_source = [DpopConfig::new(), DpopConfig::new().allowed_hosts([""; 0])];
        for config in no_source {
            let error = DpopVerifier::for_layer(config).unwrap_err().to_string();
            assert!(
                error.contains("base_url") && error.contains("allowed_hosts"),
                "{error}"
            );
        }
        for bad in [
            "",
            "api.example/x",
            "u@api.example",
            "api.example:0x1",
            "[::1",
            "a b",
        ] {
            let config = DpopConfig::new().allowed_hosts([bad]);
            let error = DpopVerifier::for_layer(config).unwrap_err().to_string();
            assert!(error.contains("allowed_hosts entry"), "{bad:?}: {error}");
        }
        assert!(DpopVerifier::for_layer(DpopConfig::new().allowed_hosts(["a", "b:1"])).is_ok());
        let base = Url::parse("https://api.example").unwrap();
        assert!(DpopVerifier::for_layer(DpopConfig::new().base_url(base)).is_ok());
    }

    /// Rule: a path with a dot segment or a backslash, plain or percent-encoded, names no URI.
    #[test]
    fn paths_with_dot_segments_or_backslashes_name_no_uri() {
        for bad in [
            "/.",
            "/..",
            "/./x",
            "/../x",
            "/a/./b",
            "/a/../b",
            "/a/.",
            "/a/..",
            "/a/%2e/b",
            "/a/%2E/b",
            "/a/%2e%2e/b",
            "/a/%2E%2e/b",
            "/a/.%2e/b",
            "/a/%2e./b",
            "/a/%2e%2E",
            r"/a\b",
            r"/a\..\b",
            "/a%5cb",
            "/a%5Cb",
            "/a/%5C..%5C/b",
        ] {
            assert!(!plain_path(bad), "{bad}");
        }
        for good in [
            "/",
            "",
            "/a/b",
            "/a/b/",
            "/.well-known/x",
            "/a/.../b",
            "/a/..b/c",
            "/a/b../c",
            "/a/%2e%2e%2e/b",
            "/a/.x",
            "/a/%2ex",
            "/a/%2f../b",
            "/a/%25/b",
            "/a/%5/b",
        ] {
            assert!(plain_path(good), "{good}");
        }
        let v = from_request(&["api.example"]);
        let req = Request::get("/admin/%2e%2e/public/x")
            .header(HOST, "api.example")
            .body(())
            .unwrap();
        assert_eq!(v.request_uri(&req), Err(DpopError::AmbiguousPath));
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
