//! Puts the versions of the compared crates, as locked, into `SCALE_VERSIONS` for the report.

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let wanted = [
        "bearer-guard",
        "jwt-authorizer",
        "tower-oauth2-resource-server",
        "axum-jwt-auth",
        "jsonwebtoken",
        "aws-lc-rs",
        "ring",
        "rsa",
        "axum",
        "tokio",
        "moka",
        "quick_cache",
    ];
    let mut found: Vec<(String, Vec<String>)> =
        wanted.iter().map(|w| (w.to_string(), Vec::new())).collect();
    let mut name: Option<String> = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take() {
                if let Some((_, vs)) = found.iter_mut().find(|(w, _)| *w == n) {
                    vs.push(v.trim_matches('"').to_string());
                }
            }
        }
    }
    let text: Vec<String> = found
        .into_iter()
        .filter(|(_, vs)| !vs.is_empty())
        .map(|(n, vs)| format!("{n} {}", vs.join(" / ")))
        .collect();
    println!("cargo:rustc-env=SCALE_VERSIONS={}", text.join(", "));
}
