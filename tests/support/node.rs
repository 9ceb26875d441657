//! Node.js projects of the interoperability tests (`tests/interop/…`): installed with `npm ci`
//! from their lock file under the cargo target directory (reused while the lock file is
//! unchanged), and their scripts run with `node`.
//!
//! A test skips, with a message, only where `node` or `npm` is not installed (`.ci/run` installs
//! them); any other problem (install, start-up) fails it.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const INSTALL_TIMEOUT: Duration = Duration::from_secs(300);

/// Whether `program --version` runs; `false` only if it is not installed.
pub fn available(program: &str) -> bool {
    match Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) => {
            assert!(status.success(), "`{program} --version` failed: {status}");
            true
        }
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => panic!("cannot run `{program}`: {e}"),
    }
}

/// The Node project `tests/interop/<project>` installed (if needed) in its own directory under
/// the target directory, with its `files` copied next to `package.json`; `None` (after saying
/// why, naming `test`) where node or npm is missing. `marker` is a package the project depends
/// on, whose presence tells that an earlier install completed.
pub fn project(test: &str, project: &str, files: &[&str], marker: &str) -> Option<PathBuf> {
    if !available("node") || !available("npm") {
        eprintln!("SKIPPED {test}: node and npm are required and not installed");
        return None;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(project);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("interop-node")
        .join(project.replace('/', "-"));
    install(&src, &dir, files, marker);
    Some(dir)
}

/// Runs `npm ci` in `dir` unless the same lock file was installed there before. Serialized
/// across the tests of one binary.
fn install(src: &Path, dir: &Path, files: &[&str], marker: &str) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    fs::create_dir_all(dir).unwrap();
    let lock = fs::read(src.join("package-lock.json")).unwrap();
    for file in ["package.json", "package-lock.json"].iter().chain(files) {
        fs::copy(src.join(file), dir.join(file)).unwrap();
    }
    let stamp = dir.join("installed.stamp");
    if fs::read(&stamp).is_ok_and(|s| s == lock)
        && dir
            .join("node_modules")
            .join(marker)
            .join("package.json")
            .exists()
    {
        return;
    }
    let log_path = dir.join("npm-ci.log");
    let log = fs::File::create(&log_path).unwrap();
    let mut child = Command::new("npm")
        .args([
            "ci",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--ignore-scripts",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("npm could not be started");
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "npm ci took longer than {INSTALL_TIMEOUT:?}; log:\n{}",
                fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "npm ci failed ({status}); log:\n{}",
        fs::read_to_string(&log_path).unwrap_or_default()
    );
    fs::write(&stamp, &lock).unwrap();
}
