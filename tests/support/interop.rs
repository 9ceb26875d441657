//! What the interoperability projects under `tests/interop/` share, whatever their language
//! (Node.js in [`super::node`], Python in [`super::python`]): each is installed from its lock
//! file in its own directory under the cargo target directory, reused while the lock file is
//! unchanged, by commands that run with a time limit and a log that a failure shows.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest one install command may take.
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

/// `tests/interop/<project>` and the directory it is installed in,
/// `<target tmp>/<area>/<project>`.
pub struct Project {
    src: PathBuf,
    /// Where it is installed and its scripts run.
    pub dir: PathBuf,
}

impl Project {
    pub fn new(area: &str, project: &str) -> Project {
        Project {
            src: Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/interop")
                .join(project),
            dir: Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(area)
                .join(project.replace('/', "-")),
        }
    }

    /// Copies `lock` and `files` into [`dir`](Self::dir), then runs `commands` there one after
    /// the other unless the same lock file was installed there before and `marker` (a path in
    /// the directory that an install leaves) exists. Serialized across the tests of one
    /// binary; any failure panics with the command's output.
    pub fn install(&self, lock: &str, files: &[&str], marker: &str, commands: Vec<Command>) {
        static LOCK: Mutex<()> = Mutex::new(());
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        fs::create_dir_all(&self.dir).unwrap();
        let locked = fs::read(self.src.join(lock)).unwrap();
        for file in std::iter::once(&lock).chain(files) {
            fs::copy(self.src.join(file), self.dir.join(file)).unwrap();
        }
        let stamp = self.dir.join("installed.stamp");
        if fs::read(&stamp).is_ok_and(|s| s == locked) && self.dir.join(marker).exists() {
            return;
        }
        // An install that fails half-way must not pass for a complete one next time.
        let _ = fs::remove_file(&stamp);
        for (n, mut command) in commands.into_iter().enumerate() {
            self.run(n, &mut command);
        }
        fs::write(&stamp, &locked).unwrap();
    }

    /// Runs `command` in the directory, its output in `install-<n>.log`.
    fn run(&self, n: usize, command: &mut Command) {
        let what = format!("{command:?}");
        let log_path = self.dir.join(format!("install-{n}.log"));
        let log = fs::File::create(&log_path).unwrap();
        let mut child = command
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{what} could not be started: {e}"));
        let log = || fs::read_to_string(&log_path).unwrap_or_default();
        let deadline = Instant::now() + INSTALL_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{what} took longer than {INSTALL_TIMEOUT:?}; log:\n{}",
                    log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(
            status.success(),
            "{what} failed ({status}); log:\n{}",
            log()
        );
    }
}
