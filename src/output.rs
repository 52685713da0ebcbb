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
        .with_writer(std::io::stderr)
        .with_ansi(color_for(std::io::stderr().is_terminal()))
        .with_target(true)
        .try_init();
}

/// Writes a file atomically: a temp file beside it, then rename. A crash leaves the old file or
/// the new one, never half of one.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(name);
    let result = (|| {
        let mut file = fs_err::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs_err::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
