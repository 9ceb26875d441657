//! The RFC 9728 document, its well-known URL and its service.

use super::*;

#[test]
fn well_known_locations() {
    let cases = [
        (
            "https://resource.example.com",
            "https://resource.example.com/.well-known/oauth-protected-resource",
        ),
        (
            "https://resource.example.com/",
            "https://resource.example.com/.well-known/oauth-protected-resource",
        ),
        (
            "https://resource.example.com/resource1",
            "https://resource.example.com/.well-known/oauth-protected-resource/resource1",
        ),
        (
            "https://resource.example.com/a/b/",
            "https://resource.example.com/.well-known/oauth-protected-resource/a/b/",
        ),
        (
            "https://resource.example.com:443/x",
            "https://resource.example.com/.well-known/oauth-protected-resource/x",
        ),
        (
            "http://127.0.0.1:8080/mcp",
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp",
        ),
    ];
    for (resource, expected) in cases {
        assert_eq!(well_known_url(resource).unwrap(), expected, "{resource}");
    }
    for bad in [
        "http://resource.example.com/",
        "https://resource.example.com/#x",
        "ftp://resource.example.com/",
        "/relative",
        "",
    ] {
        assert!(ResourceMetadata::new(bad).is_err(), "{bad}");
    }
}

#[test]
fn absent_fields_are_left_out_and_round_trip() {
    let mut doc = ResourceMetadata::new("https://api.example/mcp").unwrap();
    doc.authorization_servers = vec!["https://as1.example".into(), "https://as2.example".into()];
    doc.scopes_supported = vec!["a".into(), "b".into()];
    doc.resource_name = Some("API".into());
    doc.dpop_bound_access_tokens_required = Some(false);
    let json = doc.to_json();
    assert_eq!(
        json,
        r#"{"resource":"https://api.example/mcp","authorization_servers":["https://as1.example","https://as2.example"],"scopes_supported":["a","b"],"bearer_methods_supported":["header"],"resource_name":"API","dpop_bound_access_tokens_required":false}"#
    );
    let back: ResourceMetadata = serde_json::from_str(&json).unwrap();
    assert_eq!(back, doc);
    let mut none = ResourceMetadata::new("https://api.example").unwrap();
    none.bearer_methods_supported.clear();
    assert_eq!(none.to_json(), r#"{"resource":"https://api.example"}"#);
}

#[tokio::test]
async fn service_answers_get_and_head_only() {
    let doc = ResourceMetadata::new("https://api.example").unwrap();
    let mut svc = doc.service();
    let res = svc
        .call(Request::get("/anything").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(res.body(), &doc.to_json());
    let res = svc
        .call(Request::head("/").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.body().is_empty());
    let res = svc
        .call(Request::post("/").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()[header::ALLOW], "GET, HEAD");
}
