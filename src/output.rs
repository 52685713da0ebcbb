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
