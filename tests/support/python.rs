//! Python projects of the interoperability tests (`tests/interop/…`): a virtual environment
//! (`python3 -m venv`) under the cargo target directory, into which `pip` installs the
//! project's `requirements.txt`, every package pinned with its hashes (`--require-hashes`);
//! reused while that file is unchanged (see [`super::interop`]). Their scripts run with the
//! environment's own interpreter.
//!
//! A test skips, with a message, only where `python3` or its `venv` module (Debian's
//! `python3-venv`) is not installed (`.ci/run` installs them); any other problem (install,
//! start-up) fails it.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::interop::{available, Project};

/// An installed Python project.
pub struct Installed {
    /// Where its files are; its scripts run here.
    pub dir: PathBuf,
    /// The interpreter of its virtual environment.
    pub python: PathBuf,
}

/// The Python project `tests/interop/<project>` installed (if needed) in its own directory
/// under the target directory, with its `files` copied next to `requirements.txt`; `None`
/// (after saying why, naming `test`) where python3 or its venv module is missing.
pub fn project(test: &str, project: &str, files: &[&str]) -> Option<Installed> {
    if !available("python3") {
        eprintln!("SKIPPED {test}: python3 is required and not installed");
        return None;
    }
    // Debian's python3 has the venv module but not the ensurepip it needs to put pip in a new
    // environment; both come with python3-venv.
    let venv = Command::new("python3")
        .args(["-c", "import ensurepip, venv"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    if !venv.success() {
        eprintln!("SKIPPED {test}: python3 has no venv module (install python3-venv)");
        return None;
    }
    let installed = Project::new("interop-python", project);
    let python = installed.dir.join("venv/bin/python");
    let mut create = Command::new("python3");
    create.args(["-m", "venv", "--clear", "venv"]);
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--require-hashes",
        "--no-input",
        "--disable-pip-version-check",
        "--quiet",
        "-r",
        "requirements.txt",
    ]);
    installed.install(
        "requirements.txt",
        files,
        "venv/bin/python",
        vec![create, pip],
    );
    Some(Installed {
        dir: installed.dir,
        python,
    })
}
