//! One run of intsync against one target, as library calls.
//!
//! The binary is flags, one prompt, rendering and one exit-code mapping; everything between
//! reading `intsync.toml` and the report of a run is here:
//!
//! - [`config`]: `intsync.toml` → validated [`config::Target`]s; a target connects to a
//!   [`intsync_provider::Provider`] (the `local` one to the embedded emulator, [`local`]).
//! - [`pipeline`]: live state read *while* the manifests load ([`pipeline::Observing`]), then
//!   the plan ([`pipeline::compute`]), drift against a git baseline ([`baseline`],
//!   [`pipeline::classify`]) and a saved plan read back ([`pipeline::read_saved_plan`]).
//! - [`writer`]: the promises between runs: one writer per target, and the creates an earlier
//!   run left in flight, reported by readers and settled by writers.
//! - [`export`]: live integrations → manifest files, never replacing another integration's file.
//! - [`pull`]: a plan's drift → comment-preserving edits of the manifests it came from.
//! - [`watch`]: one watch cycle: plan, and with `--apply` write what the saves changed.
//! - [`words`]: how an apply's results read, for `apply` and `watch --apply` alike.
//! - [`targets`]: what each target is and receives (`intsync targets`).
//! - [`many`]: several targets in one run, at once, each failing alone; verdicts fold
//!   ([`Verdict::fold`]).
//!
//! Contracts: nothing here prints, prompts or exits the process. What a person must be told
//! while a run goes on (a wait, a note on a create left in flight) goes to a [`Talk`] the caller
//! gives; what a run found comes back as data, ending in a [`Verdict`]. Nothing is global:
//! every function takes the target and provider it works on, so several targets can run at
//! once, each with its own `Arc<Provider>`.

pub mod apply;
pub mod baseline;
pub mod config;
pub mod control;
pub mod export;
pub mod files;
pub mod local;
pub mod many;
pub mod pipeline;
pub mod pull;
pub mod targets;
pub mod vars;
pub mod watch;
pub mod words;
pub mod writer;

use intsync_provider::StopReason;

/// How a run ended (design §6): every command returns one, and the binary maps it to an exit
/// code in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Success, no changes.
    Ok,
    /// Bad input, API failure, partial apply, a refusal.
    Failed,
    /// Changes present (`plan --detailed-exitcode`, `drift`).
    Changes,
    /// A change targets an integration that is not in `development`.
    Blocked,
    /// Live state moved since the saved plan (`apply --plan`), or every failure of an apply
    /// was a Truto version conflict.
    Stale,
    /// Stopped by a signal: writes in flight finished, nothing new started.
    Stopped(StopReason),
}

impl Verdict {
    /// This verdict once something failed that did not stop the run (live integrations that
    /// could not be read, reported after the rest was done): `Failed`, unless a signal ended
    /// the run (what was in flight finished, and that is what it says).
    #[must_use]
    pub fn failed_if(self, failed: bool) -> Verdict {
        match self {
            Verdict::Stopped(_) => self,
            _ if failed => Verdict::Failed,
            _ => self,
        }
    }

    /// The verdict of a run over several targets, from each target's (issue #24): a signal
    /// outranks everything (what was in flight finished, and that is what it says), then a
    /// failure (the others were still reported), then stale, blocked, changes, and `Ok` only
    /// when every target ended `Ok` (or there was none).
    #[must_use]
    pub fn fold(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts
            .into_iter()
            .max_by_key(|verdict| verdict.rank())
            .unwrap_or(Verdict::Ok)
    }

    /// How much a verdict weighs in [`Verdict::fold`].
    fn rank(self) -> u8 {
        match self {
            Verdict::Ok => 0,
            Verdict::Changes => 1,
            Verdict::Blocked => 2,
            Verdict::Stale => 3,
            Verdict::Failed => 4,
            Verdict::Stopped(_) => 5,
        }
    }
}

/// A run's end: its verdict, and the live integrations of its target that could not be read,
/// said last (after `rest`, what became of everything else: "the rest was planned"), which
/// fail the run.
#[derive(Debug)]
pub struct Ended {
    pub verdict: Verdict,
    pub target: String,
    pub unreadable: Vec<intsync_plan::Unreadable>,
    pub rest: &'static str,
}

impl Ended {
    /// The lines that say what could not be read (none when all was).
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        intsync_plan::render::unreadable_report(&self.target, &self.unreadable, self.rest)
    }

    /// The verdict, failed when something could not be read.
    #[must_use]
    pub fn verdict(&self) -> Verdict {
        self.verdict.failed_if(!self.unreadable.is_empty())
    }
}

/// Where what a run has to tell goes while it runs: the binary writes lines for a person to
/// stderr (with a time in `watch`) and data to stdout.
pub trait Talk: Sync {
    /// A line for a person (a wait, a note, a warning), whole, without its newline.
    fn say(&self, line: &str);
    /// Data a long run produces as it goes (`watch`'s plans), whole lines.
    fn show(&self, data: &str);
    /// The diagnostics of the manifests just loaded (errors and warnings).
    fn diagnostics(&self, diagnostics: &[intsync_manifest::Diagnostic]);
}

/// What a run about one of several targets tells (they run at once): each line to `talk`,
/// headed by the target's name (inert: names come from the configuration).
pub struct About<'a> {
    pub target: &'a str,
    pub talk: &'a dyn Talk,
}

impl Talk for About<'_> {
    fn say(&self, line: &str) {
        self.talk.say(&format!(
            "[{}] {line}",
            intsync_plan::inert::visible(self.target)
        ));
    }

    fn show(&self, data: &str) {
        self.talk.show(data);
    }

    fn diagnostics(&self, diagnostics: &[intsync_manifest::Diagnostic]) {
        self.talk.diagnostics(diagnostics);
    }
}

/// Tells no one: for callers that only want the data.
pub struct Quiet;

impl Talk for Quiet {
    fn say(&self, _line: &str) {}
    fn show(&self, _data: &str) {}
    fn diagnostics(&self, _diagnostics: &[intsync_manifest::Diagnostic]) {}
}

/// `"s"` unless `n` is 1.
#[must_use]
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_outranks_a_later_failure() {
        assert_eq!(Verdict::Ok.failed_if(true), Verdict::Failed);
        assert_eq!(Verdict::Changes.failed_if(false), Verdict::Changes);
        let stopped = Verdict::Stopped(StopReason::Terminate);
        assert_eq!(stopped.failed_if(true), stopped);
    }

    #[test]
    fn several_targets_fold_failed_then_blocked_then_changes() {
        use Verdict::{Blocked, Changes, Failed, Ok};
        assert_eq!(Verdict::fold([]), Ok);
        assert_eq!(Verdict::fold([Ok, Ok]), Ok);
        assert_eq!(Verdict::fold([Ok, Changes, Ok]), Changes);
        assert_eq!(Verdict::fold([Changes, Blocked]), Blocked);
        assert_eq!(Verdict::fold([Blocked, Changes]), Blocked);
        assert_eq!(Verdict::fold([Blocked, Failed, Changes]), Failed);
        assert_eq!(Verdict::fold([Failed, Ok]), Failed);
        assert_eq!(Verdict::fold([Verdict::Stale, Blocked]), Verdict::Stale);
        assert_eq!(Verdict::fold([Failed, Verdict::Stale]), Failed);
        let stopped = Verdict::Stopped(StopReason::Interrupt);
        assert_eq!(Verdict::fold([Failed, stopped, Ok]), stopped);
    }
}
