//! The real `onething serve` binary: started on a free 127.0.0.1 port, its URL read from
//! the first line it prints, killed when dropped.

use std::ffi::OsStr;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Serve {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A data directory of its own, removed with it (see [`Serve::start_fresh`]).
    _data: Option<tempfile::TempDir>,
}

impl Serve {
    /// [`Serve::start`] on a fresh data directory that is removed when it stops.
    pub fn start_fresh<K, V>(
        bin: &Path,
        args: &[&str],
        envs: impl IntoIterator<Item = (K, V)>,
    ) -> Serve
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let dir = tempfile::tempdir().expect("a temporary data directory");
        // `serve` creates the data directory itself, owner-only (it refuses a shared one).
        let mut s = Self::start(bin, &dir.path().join("data"), args, envs);
        s._data = Some(dir);
        s
    }

    /// Start `bin serve --addr 127.0.0.1:0 --data-dir DIR` with `args` and `envs` added
    /// (logs at warn unless `RUST_LOG` is among `envs`; stderr discarded).
    pub fn start<K, V>(
        bin: &Path,
        data_dir: &Path,
        args: &[&str],
        envs: impl IntoIterator<Item = (K, V)>,
    ) -> Serve
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        Self::start_with(bin, data_dir, args, envs, Stdio::null())
    }

    /// [`Serve::start`] with stderr (the logs) going where the caller says.
    pub fn start_with<K, V>(
        bin: &Path,
        data_dir: &Path,
        args: &[&str],
        envs: impl IntoIterator<Item = (K, V)>,
        stderr: Stdio,
    ) -> Serve
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        Self::start_limited(bin, data_dir, args, envs, stderr, None)
    }

    /// [`Serve::start_with`] in a process allowed at most `nofile` open descriptors
    /// (soft and hard limit), as on a small host.
    pub fn start_limited<K, V>(
        bin: &Path,
        data_dir: &Path,
        args: &[&str],
        envs: impl IntoIterator<Item = (K, V)>,
        stderr: Stdio,
        nofile: Option<u64>,
    ) -> Serve
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let mut cmd = Command::new(bin);
        if let Some(n) = nofile {
            use std::os::unix::process::CommandExt;
            // SAFETY: only setrlimit, which is async-signal-safe, runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let rl = libc::rlimit {
                        rlim_cur: n as libc::rlim_t,
                        rlim_max: n as libc::rlim_t,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &rl) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        cmd.args(["serve", "--addr", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .env("RUST_LOG", "warn")
            .envs(envs)
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = cmd.spawn().expect("spawn onething serve");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the listening line");
        let base = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(
            base.starts_with("http://"),
            "onething serve printed {line:?}"
        );
        Serve {
            child,
            base,
            _data: None,
        }
    }

    /// Stop it now (`kill -9`), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}
