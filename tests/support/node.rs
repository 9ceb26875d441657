//! Node.js projects of the interoperability tests (`tests/interop/…`): installed with `npm ci`
//! from their lock file under the cargo target directory (reused while the lock file is
//! unchanged, see [`super::interop`]), and their scripts run with `node`.
//!
//! A test skips, with a message, only where `node` or `npm` is not installed (`.ci/run` installs
//! them); any other problem (install, start-up) fails it.

use std::path::PathBuf;
use std::process::Command;

use super::interop::{available, Project};

/// The Node project `tests/interop/<project>` installed (if needed) in its own directory under
/// the target directory, with its `files` copied next to `package.json`; `None` (after saying
/// why, naming `test`) where node or npm is missing. `marker` is a package the project depends
/// on, whose presence tells that an earlier install completed.
pub fn project(test: &str, project: &str, files: &[&str], marker: &str) -> Option<PathBuf> {
    if !available("node") || !available("npm") {
        eprintln!("SKIPPED {test}: node and npm are required and not installed");
        return None;
    }
    let installed = Project::new("interop-node", project);
    let mut npm = Command::new("npm");
    npm.args([
        "ci",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--ignore-scripts",
    ]);
    let files: Vec<&str> = std::iter::once("package.json")
        .chain(files.iter().copied())
        .collect();
    installed.install(
        "package-lock.json",
        &files,
        &format!("node_modules/{marker}/package.json"),
        vec![npm],
    );
    Some(installed.dir)
}
