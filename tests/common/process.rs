//! Processes in the background: a command's output a line at a time, waits with deadlines,
//! signals, and the binary on a pseudo-terminal.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::TOKEN;

/// Polls `check` until it gives a value, at most `timeout`; panics naming `what` when it never
/// does. A wait on a condition, for where a test would otherwise sleep and hope.
pub fn wait_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A child process's output stream, a line at a time, as it is read (on a thread of its own).
pub fn lines(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Sends `SIGNAL` (`INT`, `TERM`, `KILL`) to `pid`, which must exist.
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// A process running in the background, its stdout and stderr read a line at a time; killed
/// when dropped, however the test ends.
pub struct Running {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Lines already taken from the streams.
    seen_stdout: Vec<String>,
    seen_stderr: Vec<String>,
}

impl Running {
    /// Starts `cmd` with its stdout and stderr piped.
    pub fn start(cmd: &mut Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        Running {
            child,
            stdout,
            stderr,
            seen_stdout: Vec::new(),
            seen_stderr: Vec::new(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn still_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Kills it (SIGKILL), as a crash or a power cut would stop it.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends it `SIGNAL` (see [`signal`]).
    pub fn signal(&self, name: &str) {
        signal(self.pid(), name);
    }

    /// The lines of stderr (`stdout: false`) or stdout up to the first for which `found` holds
    /// (the line `what` says), within `timeout`; panics with what both streams said otherwise.
    pub fn wait_line(
        &mut self,
        stdout: bool,
        what: &str,
        timeout: Duration,
        mut found: impl FnMut(&str) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut lines = Vec::new();
        loop {
            let stream = if stdout { &self.stdout } else { &self.stderr };
            match stream.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    let done = found(&line);
                    if stdout {
                        self.seen_stdout.push(line.clone());
                    } else {
                        self.seen_stderr.push(line.clone());
                    }
                    lines.push(line);
                    if done {
                        return lines;
                    }
                }
                Err(e) => {
                    let other: Vec<String> = if stdout {
                        self.stderr.try_iter().collect()
                    } else {
                        self.stdout.try_iter().collect()
                    };
                    panic!(
                        "no {} line {what} within {timeout:?} ({e}); saw {lines:#?}; the other stream: {other:#?}",
                        if stdout { "stdout" } else { "stderr" }
                    );
                }
            }
        }
    }

    /// The lines of stderr up to the first that contains `needle`, within `timeout`.
    pub fn wait_stderr(&mut self, needle: &str, timeout: Duration) -> Vec<String> {
        self.wait_line(false, &format!("with {needle:?}"), timeout, |line| {
            line.contains(needle)
        })
    }

    /// The lines of stdout up to the first that contains `needle`, within `timeout`.
    pub fn wait_stdout(&mut self, needle: &str, timeout: Duration) -> Vec<String> {
        self.wait_line(true, &format!("with {needle:?}"), timeout, |line| {
            line.contains(needle)
        })
    }

    /// The next plan printed on stdout: its lines up to its `Plan: ` summary.
    pub fn next_plan(&mut self, timeout: Duration) -> Vec<String> {
        self.wait_line(true, "ending a plan", timeout, |line| {
            line.starts_with("Plan: ")
        })
    }

    /// The next plan that contains `needle`, within 10 s; plans before it are skipped (a save
    /// can be seen as more than one change).
    pub fn plan_with(&mut self, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let what = format!("ending a plan with {needle:?} (plans before: {skipped:#?})");
            let plan = self.wait_line(true, &what, left, |line| line.starts_with("Plan: "));
            if plan.iter().any(|l| l.contains(needle)) {
                return plan;
            }
            assert!(
                Instant::now() < deadline,
                "no plan with {needle:?} within 10 s; plans: {skipped:#?} then {plan:#?}"
            );
            skipped.push(plan);
        }
    }

    /// Waits for the exit (killing it and failing after `timeout`); the exit code and all of
    /// stdout and stderr, lines joined with `\n`.
    pub fn finish(mut self, timeout: Duration) -> (Option<i32>, String, String) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stderr: Vec<String> = self.stderr.try_iter().collect();
                panic!(
                    "still running after {timeout:?}; stderr: {:#?} {stderr:#?}",
                    self.seen_stderr
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let drain = |rx: &Receiver<String>, seen: &mut Vec<String>| loop {
            match rx.recv_timeout(Duration::from_secs(5)) {
                Ok(line) => seen.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("the output did not end"),
            }
        };
        drain(&self.stdout, &mut self.seen_stdout);
        drain(&self.stderr, &mut self.seen_stderr);
        (
            status.code(),
            self.seen_stdout.join("\n"),
            self.seen_stderr.join("\n"),
        )
    }

    /// Ctrl-C (SIGINT), as a person stops `watch`: it must exit 0 within 10 s.
    pub fn stop(self) {
        self.signal("INT");
        let (code, _, stderr) = self.finish(Duration::from_secs(10));
        assert_eq!(code, Some(0), "Ctrl-C exits 0: {stderr}");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `intsync ARGS` on a pseudo-terminal (`script` from util-linux) in `dir`, with the test
/// tokens and `NO_COLOR=1`, without `RUST_LOG`, its input piped; adjust it, then
/// [`Terminal::start`] it.
pub fn on_a_terminal(dir: &Path, args: &str) -> Command {
    let bin = assert_cmd::cargo::cargo_bin!("intsync")
        .display()
        .to_string();
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("{bin} {args}"), "/dev/null"])
        .current_dir(dir)
        .env("TEST_ADA_TOKEN", TOKEN)
        .env("TEST_TRUTO_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped());
    cmd
}

/// A command running on a pseudo-terminal (see [`on_a_terminal`]): what the terminal shows,
/// as it shows it, prompts without a newline included.
pub struct Terminal {
    child: Child,
    stdin: Option<ChildStdin>,
    transcript: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl Terminal {
    pub fn start(cmd: &mut Command) -> Terminal {
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .expect("`script` from util-linux runs the command on a terminal");
        let transcript = Arc::new(Mutex::new(String::new()));
        let mut stdout = child.stdout.take().unwrap();
        let shared = Arc::clone(&transcript);
        let reader = std::thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n) = stdout.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                shared
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        Terminal {
            stdin: child.stdin.take(),
            child,
            transcript,
            reader,
        }
    }

    /// Waits until the terminal shows `text`.
    pub fn wait_for(&self, text: &str, timeout: Duration) {
        wait_until(&format!("the terminal to show {text:?}"), timeout, || {
            self.transcript.lock().unwrap().contains(text).then_some(())
        });
    }

    /// Types `text` and closes the input.
    pub fn answer(&mut self, text: &str) {
        let mut stdin = self.stdin.take().expect("a terminal with its input piped");
        stdin.write_all(text.as_bytes()).unwrap();
    }

    /// Waits for the exit: whether it succeeded, and all the terminal showed.
    pub fn finish(mut self) -> (bool, String) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        self.reader.join().unwrap();
        let transcript = self.transcript.lock().unwrap().clone();
        (status.success(), transcript)
    }
}
