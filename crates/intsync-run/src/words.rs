//! How the engine's results read, for `apply` and `watch --apply` alike.

use intsync_apply::{Outcome, Report, SecretSaved};
use intsync_plan::Action;
use intsync_plan::inert::visible;

use crate::plural;

/// `AdaPlatformIntegration "Cool Shop"`.
pub fn label(action: &Action) -> String {
    format!(
        "{} {:?}",
        action.kind(),
        action.name().unwrap_or("(unnamed)")
    )
}

/// One line per finished write. Ids come from the vendor: shown [`visible`], as names are by
/// `{:?}`, so that none can write a terminal escape.
pub fn item_line(action: &Action, outcome: &Outcome) -> String {
    let what = label(action);
    match outcome {
        Outcome::Created {
            observed,
            adopted: false,
            ..
        } => format!("created {what} ({})", visible(&observed.id)),
        Outcome::Created {
            observed,
            adopted: true,
            ..
        } => format!(
            "created {what} ({}), read from live state as its answer was incomplete",
            visible(&observed.id)
        ),
        Outcome::Updated { observed } => format!("updated {what} ({})", visible(&observed.id)),
        Outcome::NotDone => format!("not done {what}: stopped before it was sent"),
        Outcome::Failed(_) => format!("FAILED {what}"),
    }
}

/// Where a created integration's client secret went, if it has one.
pub fn secret_line(action: &Action, outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Created {
            secret: SecretSaved::At(path),
            ..
        } => Some(format!(
            "Saved the client secret of {:?} to {} (mode 0600).",
            action.name().unwrap_or("(unnamed)"),
            path.display()
        )),
        _ => None,
    }
}

/// The summary, what was not done, and every failure: the lines of an apply's report.
#[must_use]
pub fn summary(report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    let created = report.count(|o| matches!(o, Outcome::Created { .. }));
    let updated = report.count(|o| matches!(o, Outcome::Updated { .. }));
    let not_done = report.count(|o| matches!(o, Outcome::NotDone));
    let failed = report.count(|o| matches!(o, Outcome::Failed(_))) + report.problems.len();
    let not_done_text = if not_done > 0 {
        format!(", {not_done} not done")
    } else {
        String::new()
    };
    lines.push(format!(
        "Apply: {created} created, {updated} updated, {failed} failed{not_done_text}."
    ));
    if let Some(reason) = report.stopped {
        let signal = match reason {
            intsync_provider::StopReason::Interrupt => "SIGINT",
            intsync_provider::StopReason::Terminate => "SIGTERM",
        };
        lines.push(format!(
            "Stopped by {signal}: the writes in flight finished and were saved; {not_done} write{} not started{}",
            plural(not_done),
            if not_done > 0 { ":" } else { "." }
        ));
        for (action, _) in report
            .items
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::NotDone))
        {
            lines.push(format!(
                "  - {} ({})",
                label(action),
                visible(action.manifest())
            ));
        }
        lines.push(
            "Not verified. Run `intsync apply` again to finish: it plans from live state and never creates duplicates.".to_owned()
        );
    }
    if failed == 0 {
        return lines;
    }
    lines.push("Failures:".to_owned());
    for (action, outcome) in &report.items {
        if let Outcome::Failed(error) = outcome {
            // A failure may quote the vendor's answer.
            lines.push(format!(
                "  - {}: {}",
                label(action),
                visible(&error.to_string())
            ));
        }
    }
    for problem in &report.problems {
        lines.push(format!("  - {}", visible(&problem.to_string())));
    }
    if report.stopped.is_none() {
        lines.push(
            "Run `intsync apply` again to finish: it plans from live state and never creates duplicates.".to_owned()
        );
    }
    lines
}
