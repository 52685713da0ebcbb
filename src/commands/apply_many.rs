//! `intsync apply` against several targets (design §11): each target locked, read and planned
//! at once (`intsync_run::many`), every plan shown, blocked changes refused for all (nothing is
//! written anywhere, unless `--skip-blocked`), one confirmation for all, then each target
//! written at once through the engine (`intsync_run::apply::write`); verdicts folded.

use std::path::Path;

use intsync_apply::{Outcome, SecretStore, engine};
use intsync_plan::inert::visible;
use intsync_plan::{Action, Plan};
use intsync_run::apply::{Ready, Source};
use intsync_run::config::{Config, Selection, Target};
use intsync_run::many::{self, Each, Failure, Writes};
use intsync_run::pipeline::{Connected, Saved, runtime};
use intsync_run::{Ended, Verdict, words};

use crate::cli::{ApplyArgs, PlanFormat};
use crate::commands::apply::{blocked_error, say_skipped};
use crate::commands::{Stderr, end};
use crate::output::{self, plural};
use crate::signals::{self, Idle};

/// The plans of `saved` (read from `file`), one for each of the `selected` targets and no
/// other, or why not.
pub fn saved_plans(file: &Path, saved: Saved, selected: &[&Target]) -> anyhow::Result<Vec<Plan>> {
    let plans = match saved {
        Saved::Several(plans) => plans,
        Saved::One(plan) => vec![plan],
    };
    let mut planned: Vec<&str> = plans.iter().map(|p| p.target.as_str()).collect();
    let mut wanted: Vec<&str> = selected.iter().map(|t| t.name.as_str()).collect();
    planned.sort_unstable();
    wanted.sort_unstable();
    if planned != wanted {
        anyhow::bail!(
            "`{}` was planned for target{} {}, not {}; pass --target {}",
            file.display(),
            plural(planned.len()),
            quoted(&planned),
            quoted(&wanted),
            planned.join(",")
        );
    }
    Ok(plans)
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", visible(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn run(
    config: &Config,
    selection: &Selection,
    saved: Option<Vec<Plan>>,
    args: &ApplyArgs,
) -> anyhow::Result<Verdict> {
    let runtime = runtime()?;
    let all = many::connect(config, selection)?;
    // One writer per target, from before live state is read until the writes are verified.
    let (all, _locks) = runtime.block_on(many::lock(all, "apply", args.lock_timeout, &Stderr));
    let secrets = SecretStore::new(&args.secrets_dir);
    let sources = match saved {
        Some(plans) => with_saved(all, plans),
        None => {
            let Some((desired, reading)) =
                many::read_while_loading(&runtime, all, &args.paths, &Stderr)
            else {
                return Ok(Verdict::Failed);
            };
            map_ok(reading, |(connected, observing)| {
                (connected, Source::Manifests(desired.clone(), observing))
            })
        }
    };
    // From here on a signal is ours: before the writes it exits at once (nothing written).
    let control = signals::listen(&runtime, Idle::Exit)?;
    let readied = runtime.block_on(many::ready(sources, &secrets, &Stderr));
    let shown: Vec<Each<Plan>> = readied
        .iter()
        .map(|each| Each {
            target: each.target.clone(),
            outcome: each
                .outcome
                .as_ref()
                .map(|(_, ready)| ready.plan.clone())
                .map_err(Clone::clone),
        })
        .collect();
    output::print_stdout(&crate::commands::many::rendered(
        &shown,
        PlanFormat::Text,
        "plan",
    ))?;
    let (mut verdicts, writes) = prepare(readied, args.skip_blocked);
    if verdicts.contains(&Verdict::Blocked) {
        eprintln!("error: changes are blocked (above); nothing was written to any target.");
        return Ok(Verdict::fold(verdicts));
    }
    let count: usize = writes.iter().map(|w| w.batch.writes.len()).sum();
    let planned = "the rest was planned (above)";
    if count == 0 {
        eprintln!("Nothing to apply.");
        verdicts.extend(writes.iter().map(|w| finish(w, Verdict::Ok, planned)));
        return Ok(Verdict::fold(verdicts));
    }
    if !args.auto_approve {
        let targets: Vec<&str> = writes
            .iter()
            .map(|w| w.connected.target.name.as_str())
            .collect();
        let question = format!(
            "Apply {count} change{} to {} target{} ({})?",
            plural(count),
            targets.len(),
            plural(targets.len()),
            quoted(&targets)
        );
        let declined = match output::confirm(&question, "--auto-approve", "nothing was written")? {
            output::Answer::Yes => None,
            output::Answer::No => Some(Verdict::Ok),
            output::Answer::NoOneToAsk => Some(Verdict::Failed),
        };
        if let Some(verdict) = declined {
            verdicts.extend(writes.iter().map(|w| finish(w, verdict, planned)));
            return Ok(Verdict::fold(verdicts));
        }
    }
    verdicts.extend(write(&runtime, writes, args, &control));
    Ok(Verdict::fold(verdicts))
}

/// Each target of `all` with its plan from `plans`, to re-check and write.
fn with_saved(all: Vec<Each<Connected>>, mut plans: Vec<Plan>) -> Vec<Each<(Connected, Source)>> {
    map_ok(all, |connected| {
        let at = plans
            .iter()
            .position(|plan| plan.target == connected.target.name)
            .expect("a plan for every selected target (saved_plans)");
        eprintln!(
            "Checking the saved plan against live state of target `{}`...",
            visible(&connected.target.name)
        );
        let plan = plans.swap_remove(at);
        (connected, Source::Saved(plan))
    })
}

fn map_ok<T, U>(all: Vec<Each<T>>, mut f: impl FnMut(T) -> U) -> Vec<Each<U>> {
    all.into_iter()
        .map(|Each { target, outcome }| Each {
            target,
            outcome: outcome.map(&mut f),
        })
        .collect()
}

/// The verdicts of the targets that will not be written (failed, refused), and the writes of
/// the others; blocked changes refused (said) unless `skip_blocked`.
fn prepare(
    readied: Vec<Each<(Connected, Ready)>>,
    skip_blocked: bool,
) -> (Vec<Verdict>, Vec<Writes>) {
    let mut verdicts = Vec::new();
    let mut writes = Vec::new();
    for Each { target, outcome } in readied {
        let prefix = format!("[{}] ", visible(&target));
        match outcome {
            Err(failure) => verdicts.push(failed(&target, &failure)),
            Ok((connected, ready)) => match engine::prepare(&ready.plan, skip_blocked) {
                Err(refused) => {
                    eprintln!("{prefix}{}", blocked_error(&refused));
                    verdicts.push(Verdict::Blocked);
                }
                Ok(batch) => {
                    say_skipped(&batch, &prefix);
                    writes.push(Writes {
                        connected,
                        batch,
                        ready,
                    });
                }
            },
        }
    }
    (verdicts, writes)
}

fn failed(target: &str, failure: &Failure) -> Verdict {
    eprintln!("error: target `{}` failed:", visible(target));
    for line in &failure.lines {
        eprintln!("  {}", visible(line));
    }
    failure.verdict
}

/// One target's verdict: `verdict`, failed when an earlier run lost a client secret or live
/// integrations could not be read (said, after `rest`).
fn finish(writes: &Writes, verdict: Verdict, rest: &'static str) -> Verdict {
    let verdict = match verdict {
        Verdict::Ok if writes.ready.secret_lost => Verdict::Failed,
        verdict => verdict,
    };
    end(&Ended {
        verdict,
        target: writes.connected.target.name.clone(),
        unreadable: writes.ready.plan.unreadable.clone(),
        rest,
    })
}

/// Every target's writes at once, one line per write headed by its target, then each
/// target's summary and verdict. A signal now stops new writes and lets these finish.
fn write(
    runtime: &tokio::runtime::Runtime,
    writes: Vec<Writes>,
    args: &ApplyArgs,
    control: &intsync_run::control::Control,
) -> Vec<Verdict> {
    let all: Vec<Each<Writes>> = writes
        .into_iter()
        .map(|w| Each {
            target: w.connected.target.name.clone(),
            outcome: Ok(w),
        })
        .collect();
    let done = |target: &str, action: &Action, outcome: &Outcome| {
        if matches!(outcome, Outcome::NotDone) {
            return; // listed once, in the report
        }
        let mut text = format!(
            "[{}] {}\n",
            visible(target),
            words::item_line(action, outcome)
        );
        if let Some(line) = words::secret_line(action, outcome) {
            text.push_str(&format!("[{}] {line}\n", visible(target)));
        }
        eprint!("{text}");
    };
    let written = runtime.block_on(many::write(
        all,
        usize::from(args.parallelism),
        &args.secrets_dir,
        control,
        &done,
    ));
    written
        .into_iter()
        .filter_map(|each| each.outcome.ok())
        .map(|(writes, report)| {
            let name = visible(&writes.connected.target.name).into_owned();
            for line in words::summary(&report) {
                eprintln!("[{name}] {line}");
            }
            let verdict = intsync_run::apply::verdict(&report);
            finish(
                &writes,
                verdict,
                "the writes of the rest are reported above",
            )
        })
        .collect()
}
