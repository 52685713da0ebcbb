//! Terminal facts the commands need: whether to colour, how wide to wrap. stdout carries data;
//! everything meant for a person alone (summaries, progress, prompts) goes to stderr.

use std::io::IsTerminal as _;

/// Colour only for a terminal, and never when `NO_COLOR` is set to anything non-empty
/// (https://no-color.org).
pub fn color_for(stream_is_terminal: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    stream_is_terminal && !no_color
}

pub fn stdout_color() -> bool {
    color_for(std::io::stdout().is_terminal())
}

/// How a plan printed to stdout looks.
pub fn plan_style() -> intsync_plan::render::Style {
    intsync_plan::render::Style {
        color: stdout_color(),
    }
}

/// Wrap width for reports: `COLUMNS` when set, else 100.
pub fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}

/// Writes to stdout, treating a closed pipe (`intsync validate | head`) as success.
pub fn print_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `RUST_LOG` logging to stderr (default: warnings only). Logs never carry tokens: the HTTP
/// layer logs method, path, status and latency, never headers.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| RedactingStderr(Vec::new()))
        .with_ansi(color_for(std::io::stderr().is_terminal()))
        .with_target(true)
        .try_init();
}

/// Prints manifest diagnostics to stderr as miette's report (colour only on a terminal).
pub fn eprint_diagnostics(diagnostics: &[intsync_manifest::Diagnostic]) {
    if diagnostics.is_empty() {
        return;
    }
    let style = intsync_manifest::render::HumanStyle {
        color: color_for(std::io::stderr().is_terminal()),
        width: width(),
    };
    eprint!("{}", intsync_manifest::render::human(diagnostics, style));
}

/// Lets go of `value` without freeing it: for what a command holds when it is about to end,
/// since the process exit frees everything at once. Freeing 1,000 integrations' worth of JSON,
/// allocated on other threads, took ~60 ms at the end of `apply` (issue #16).
pub fn keep_until_exit<T>(value: T) {
    std::mem::forget(value);
}

pub use intsync_run::plural;

/// One log event's bytes, written to stderr when dropped with every known secret scrubbed
/// ([`intsync_provider::redact`]): a second line of defence under the `Secret` type, for what
/// dependencies log at `RUST_LOG=trace`.
struct RedactingStderr(Vec<u8>);

impl std::io::Write for RedactingStderr {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactingStderr {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            intsync_provider::redact(&text).as_bytes(),
        );
    }
}

/// Replaces the default panic message with one that says it is a bug, and scrubs secrets from
/// it (a panic message can quote anything).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let _ = std::io::Write::write_all(&mut std::io::stderr(), panic_report(info).as_bytes());
    }));
}

fn panic_report(info: &std::panic::PanicHookInfo<'_>) -> String {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned());
    let location = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let report = format!(
        "error: intsync crashed{location}: {message}\nThis is a bug in intsync, not in your manifests. Live state is safe to re-plan: run `intsync plan` to see where things stand, and please report this message.\n"
    );
    intsync_provider::redact(&report).into_owned()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    static REPORT: Mutex<String> = Mutex::new(String::new());

    #[test]
    fn panic_reports_scrub_secrets() {
        let token = intsync_provider::Secret::new("panic-test-token-5e6f");
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| {
            *REPORT.lock().unwrap() = super::panic_report(info);
        }));
        let secret = token.expose().to_owned();
        let caught =
            std::panic::catch_unwind(move || panic!("request with Bearer {secret} failed"));
        std::panic::set_hook(previous);
        assert!(caught.is_err());
        let report = REPORT.lock().unwrap().clone();
        assert!(
            report.contains("request with Bearer *** failed"),
            "{report}"
        );
        assert!(report.contains("This is a bug in intsync"), "{report}");
        assert!(!report.contains(token.expose()), "{report}");
    }
}

/// What the person at the terminal answered to [`confirm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `yes`: go on.
    Yes,
    /// Anything else: nothing is done (already said on stderr).
    No,
    /// No terminal to ask on (already said on stderr, naming `flag`): an error.
    NoOneToAsk,
}

/// Asks `question` on stderr and reads the answer from a terminal; only `yes` goes on. Without
/// a terminal on standard input, says that `flag` goes on without asking. `cancelled` is what
/// a refusal leaves done ("nothing was written").
pub fn confirm(question: &str, flag: &str, cancelled: &str) -> anyhow::Result<Answer> {
    use std::io::{BufRead as _, IsTerminal as _, Write as _};
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "error: not on a terminal, so there is no one to confirm; pass {flag} to go on without asking"
        );
        return Ok(Answer::NoOneToAsk);
    }
    eprint!("{question} Only `yes` continues: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() == "yes" {
        Ok(Answer::Yes)
    } else {
        eprintln!("Cancelled; {cancelled}.");
        Ok(Answer::No)
    }
}
