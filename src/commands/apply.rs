//! `intsync apply`: show the plan, refuse what must be refused, write, verify (design §8).

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use intsync_apply::{Done, Provider, Secret, holds};
use intsync_plan::{Action, Observed, ObservedIntegration, Plan, render};

use crate::cli::ApplyArgs;
use crate::commands::plan::{compute, load_desired, runtime};
use crate::config::Config;
use crate::{Exit, output};

pub fn run(config: Option<&Path>, args: &ApplyArgs) -> anyhow::Result<Exit> {
    let config = Config::load(config)?;
    let target = config.target(args.target.as_deref())?;
    let desired = match &args.plan {
        Some(_) => None,
        None => match load_desired(&args.paths) {
            Some(desired) => Some(desired),
            None => return Ok(Exit::Error),
        },
    };
    let provider = Arc::new(target.provider()?);
    let runtime = runtime()?;

    // 1. The plan: computed now, or a saved one checked against live state.
    let plan = match (&args.plan, &desired) {
        (Some(file), _) => {
            let text = fs_err::read_to_string(file)
                .with_context(|| format!("cannot read the saved plan `{}`", file.display()))?;
            let saved: Plan = serde_json::from_str(&text)
                .with_context(|| format!("`{}` is not an intsync plan", file.display()))?;
            if saved.format_version != 1 {
                anyhow::bail!(
                    "`{}` has plan format {}; this intsync reads format 1",
                    file.display(),
                    saved.format_version
                );
            }
            if saved.target != target.name {
                anyhow::bail!(
                    "`{}` was planned for target `{}`, not `{}`; pass --target {}",
                    file.display(),
                    saved.target,
                    target.name,
                    saved.target
                );
            }
            eprintln!(
                "Checking the saved plan against live state of target `{}`...",
                target.name
            );
            let observed = runtime.block_on(provider.observe()).with_context(|| {
                format!(
                    "cannot read the live integrations of target `{}`",
                    target.name
                )
            })?;
            match recheck(saved, &observed) {
                Ok(plan) => plan,
                Err(moved) => {
                    eprintln!(
                        "error: live state moved since the plan was made; nothing was written:"
                    );
                    for line in &moved {
                        eprintln!("  - {line}");
                    }
                    eprintln!("Run `intsync plan` again and review the new plan.");
                    return Ok(Exit::Stale);
                }
            }
        }
        (None, Some(desired)) => match runtime.block_on(compute(target, &provider, desired))? {
            Some(plan) => plan,
            None => return Ok(Exit::Error),
        },
        (None, None) => unreachable!("desired is loaded when there is no saved plan"),
    };

    // 2. Show it.
    output::print_stdout(&render::text(
        &plan,
        render::Style {
            color: output::stdout_color(),
        },
    ))?;

    // 3. Refuse blocked changes, unless told to skip them.
    let blocked: Vec<&Action> = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Blocked { .. }))
        .collect();
    if !blocked.is_empty() {
        if !args.skip_blocked {
            eprintln!(
                "error: {} change{} blocked (Ada only lets integrations in development change); nothing was written. Use --skip-blocked to apply the rest.",
                blocked.len(),
                if blocked.len() == 1 { " is" } else { "s are" }
            );
            return Ok(Exit::Blocked);
        }
        eprintln!(
            "Skipping {} blocked change{}:",
            blocked.len(),
            output::plural(blocked.len())
        );
        for action in &blocked {
            eprintln!(
                "  - {} {:?} ({})",
                action.kind(),
                action.name().unwrap_or("(unnamed)"),
                action.id().unwrap_or("-")
            );
        }
    }
    let writes: Vec<Action> = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Create { .. } | Action::Update { .. }))
        .cloned()
        .collect();
    if writes.is_empty() {
        eprintln!("Nothing to apply.");
        return Ok(Exit::Ok);
    }

    // 4. Confirm.
    if !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: not on a terminal, so there is no one to confirm; pass --auto-approve to apply without asking"
            );
            return Ok(Exit::Error);
        }
        eprint!(
            "Apply {} change{} to target `{}`? Only `yes` continues: ",
            writes.len(),
            output::plural(writes.len()),
            target.name
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            eprintln!("Cancelled; nothing was written.");
            return Ok(Exit::Ok);
        }
    }

    // 5. Write.
    let total = writes.len();
    // A progress bar on a terminal; plain lines otherwise (CI logs).
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut done = 0usize;
    let results = runtime.block_on(intsync_apply::apply(
        Arc::clone(&provider),
        writes.clone(),
        usize::from(args.parallelism),
        |action, result| {
            done += 1;
            let what = format!(
                "{} {:?}",
                action.kind(),
                action.name().unwrap_or("(unnamed)")
            );
            let line = match result {
                Ok(Done::Created {
                    observed,
                    adopted: false,
                    ..
                }) => format!("created {what} ({})", observed.id),
                Ok(Done::Created {
                    observed,
                    adopted: true,
                    ..
                }) => format!(
                    "created {what} ({}), found by listing after its answer was lost",
                    observed.id
                ),
                Ok(Done::Updated { observed }) => format!("updated {what} ({})", observed.id),
                Err(_) => format!("FAILED {what}"),
            };
            match &bar {
                Some(bar) => {
                    bar.println(&line);
                    bar.inc(1);
                }
                None => eprintln!("[{done}/{total}] {line}"),
            }
        },
    ));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    // 6. Secrets, then the summary and the failures.
    let mut failures = Vec::new();
    let (mut created, mut updated) = (0, 0);
    for applied in &results {
        let action = &writes[applied.index];
        match &applied.result {
            Ok(Done::Created {
                observed,
                client_secret,
                adopted,
            }) => {
                created += 1;
                match client_secret {
                    Some(secret) => match save_secret(&args.secrets_dir, observed, secret) {
                        Ok(path) => eprintln!("Saved the client secret of {:?} to {} (mode 0600).", observed.name().unwrap_or("(unnamed)"), path.display()),
                        Err(e) => failures.push(format!("{} {:?}: created ({}), but its client secret could not be saved: {e:#}", action.kind(), action.name().unwrap_or("(unnamed)"), observed.id)),
                    },
                    None if *adopted && action.kind() == intsync_manifest::Kind::AdaPlatformIntegration => eprintln!(
                        "warning: the client secret of {:?} ({}) was in the answer that was lost; rotate it in Ada's dashboard",
                        observed.name().unwrap_or("(unnamed)"),
                        observed.id
                    ),
                    None => {}
                }
            }
            Ok(Done::Updated { .. }) => updated += 1,
            Err(message) => failures.push(format!(
                "{} {:?}: {message}",
                action.kind(),
                action.name().unwrap_or("(unnamed)")
            )),
        }
    }

    // 7. Verify: every applied action must now be a noop.
    eprintln!("Verifying...");
    match runtime.block_on(provider.observe()) {
        Ok(observed) => failures.extend(verify(&writes, &results, &observed)),
        Err(e) => failures.push(format!("cannot read live state to verify: {e}")),
    }
    eprintln!(
        "Apply: {created} created, {updated} updated, {} failed.",
        failures.len()
    );
    if let Err(e) = provider_checkpoint(&provider) {
        failures.push(e);
    }
    if failures.is_empty() {
        return Ok(Exit::Ok);
    }
    eprintln!("Failures:");
    for failure in &failures {
        eprintln!("  - {failure}");
    }
    eprintln!(
        "Run `intsync apply` again to finish: it plans from live state and never creates duplicates."
    );
    Ok(Exit::Error)
}

/// The local target keeps its state as one readable file after a run.
fn provider_checkpoint(provider: &Provider) -> Result<(), String> {
    provider
        .checkpoint()
        .map_err(|e| format!("cannot save the local state: {e}"))
}

/// A saved plan against live state: pending actions stay, actions already applied (the plan was
/// applied before) become noops, anything else that moved makes it stale.
fn recheck(mut plan: Plan, observed: &Observed) -> Result<Plan, Vec<String>> {
    let find = |kind, id: &str| {
        observed
            .integrations
            .iter()
            .find(|o| o.kind == kind && o.id == id)
    };
    let mut moved = Vec::new();
    for action in &mut plan.actions {
        match action.clone() {
            Action::Update {
                kind,
                id,
                name,
                manifest,
                patch,
                fingerprint,
                ..
            } => match find(kind, &id) {
                None => moved.push(format!("{kind} {name:?} ({id}) no longer exists")),
                Some(live) if intsync_plan::fingerprint(live) == fingerprint => {}
                Some(live) if holds(kind, live, &patch) => {
                    *action = Action::Noop {
                        kind,
                        id,
                        name,
                        manifest,
                        fingerprint: intsync_plan::fingerprint(live),
                    };
                }
                Some(live) => moved.push(format!(
                    "{kind} {name:?} ({id}) changed: {}",
                    changed_fields(live, action)
                )),
            },
            Action::Create {
                kind,
                name,
                manifest,
                body,
            } => {
                let existing: Vec<&ObservedIntegration> = observed
                    .integrations
                    .iter()
                    .filter(|o| o.kind == kind && o.name() == name.as_deref())
                    .collect();
                match existing.as_slice() {
                    [] => {}
                    [live] if holds(kind, live, &body) => {
                        *action = Action::Noop {
                            kind,
                            id: live.id.clone(),
                            name,
                            manifest,
                            fingerprint: intsync_plan::fingerprint(live),
                        };
                    }
                    _ => moved.push(format!(
                        "{kind} {name:?} now exists live; the plan would create it again"
                    )),
                }
            }
            Action::Noop {
                kind,
                id,
                name,
                fingerprint,
                ..
            }
            | Action::Blocked {
                kind,
                id,
                name,
                fingerprint,
                ..
            } => match find(kind, &id) {
                None => moved.push(format!("{kind} {name:?} ({id}) no longer exists")),
                Some(live) if intsync_plan::fingerprint(live) != fingerprint => {
                    moved.push(format!("{kind} {name:?} ({id}) changed"))
                }
                Some(_) => {}
            },
        }
    }
    if moved.is_empty() {
        Ok(plan)
    } else {
        Err(moved)
    }
}

/// Which of an update's fields differ from what the plan saw.
fn changed_fields(live: &ObservedIntegration, action: &Action) -> String {
    let Action::Update { live: seen, .. } = action else {
        return String::new();
    };
    let fields: Vec<&str> = seen
        .iter()
        .filter(|(field, value)| {
            !intsync_plan::normalize::field_equal(live.kind, field, value, live.fields.get(*field))
        })
        .map(|(field, _)| field.as_str())
        .collect();
    if fields.is_empty() {
        "fields it does not change, or its status or version".to_owned()
    } else {
        fields.join(", ")
    }
}

fn verify(
    writes: &[Action],
    results: &[intsync_apply::Applied],
    observed: &Observed,
) -> Vec<String> {
    let mut problems = Vec::new();
    for applied in results {
        let Ok(done) = &applied.result else { continue };
        let (id, wanted) = match (done, &writes[applied.index]) {
            (Done::Created { observed, .. }, Action::Create { body, .. }) => {
                (observed.id.clone(), body)
            }
            (Done::Updated { observed }, Action::Update { patch, .. }) => {
                (observed.id.clone(), patch)
            }
            _ => continue,
        };
        let kind = writes[applied.index].kind();
        match observed
            .integrations
            .iter()
            .find(|o| o.kind == kind && o.id == id)
        {
            Some(live) if holds(kind, live, wanted) => {}
            Some(_) => problems.push(format!(
                "{kind} ({id}) was written but live state does not show the change"
            )),
            None => problems.push(format!("{kind} ({id}) was written but is not listed")),
        }
    }
    problems
}

/// `<dir>/<id>.json`, mode 0600 from the moment it exists. The secret is never printed.
pub fn save_secret(
    dir: &Path,
    observed: &ObservedIntegration,
    secret: &Secret,
) -> anyhow::Result<PathBuf> {
    fs_err::create_dir_all(dir)?;
    #[cfg(unix)]
    fs_err::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let safe: String = observed
        .id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{safe}.json"));
    let body = serde_json::json!({
        "id": observed.id,
        "name": observed.name(),
        "kind": observed.kind.as_str(),
        "client_secret": secret.expose(),
    });
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    // An existing file keeps its old mode through `open`: set it explicitly.
    let mut file = file;
    file.write_all(serde_json::to_string_pretty(&body)?.as_bytes())?;
    file.sync_all()?;
    Ok(path)
}
