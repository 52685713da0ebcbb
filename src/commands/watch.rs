//! `intsync watch`: re-validate and re-plan on every save, against live state read once at start
//! and refreshed after each apply and every `--refresh` seconds (never on every keystroke).

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use intsync_apply::{Done, Provider};
use intsync_plan::{Action, DesiredIntegration, Observed, render};
use notify::{EventKind, RecursiveMode};

use crate::cli::WatchArgs;
use crate::commands::apply::save_secret;
use crate::commands::plan::runtime;
use crate::config::{Config, Target};
use crate::{Exit, output};

fn now() -> String {
    intsync_emulator::ids::truto_timestamp(SystemTime::now())
}

/// Whether a file event can change the plan: a manifest written, or something removed or a
/// directory changed. Reads (ours included) are not changes.
fn changes_manifests(event: &notify::Event) -> bool {
    !matches!(event.kind, EventKind::Access(_))
        && event
            .paths
            .iter()
            .any(|p| intsync_manifest::is_manifest_file(p) || !p.exists() || p.is_dir())
}

fn print_stdout(text: &str) {
    let _ = output::print_stdout(text);
    let _ = std::io::stdout().flush();
}

/// Validate, plan, print; with `apply`, write the development changes and refresh live state.
async fn cycle(
    args: &WatchArgs,
    target: &Target,
    provider: &Arc<Provider>,
    observed: &mut Observed,
) {
    let (paths, apply) = (&args.paths, args.apply);
    let loaded = intsync_manifest::load(paths);
    output::eprint_diagnostics(&loaded.diagnostics);
    if loaded.has_errors() {
        eprintln!(
            "[{}] {} manifest error{}; waiting for the next save",
            now(),
            loaded.error_count(),
            output::plural(loaded.error_count())
        );
        return;
    }
    let desired: Vec<DesiredIntegration> = loaded
        .manifests
        .into_iter()
        .map(DesiredIntegration::from_manifest)
        .collect();
    let plan = match intsync_plan::plan(&target.name, &desired, observed) {
        Ok(plan) => plan,
        Err(errors) => {
            for error in &errors {
                eprintln!("[{}] error: {error}", now());
            }
            return;
        }
    };
    print_stdout(&format!(
        "[{}] plan for target `{}`\n{}",
        now(),
        target.name,
        render::text(
            &plan,
            render::Style {
                color: output::stdout_color()
            }
        )
    ));
    if !apply {
        return;
    }
    let writes: Vec<Action> = plan
        .actions
        .into_iter()
        .filter(|a| matches!(a, Action::Create { .. } | Action::Update { .. }))
        .collect();
    if writes.is_empty() {
        return;
    }
    let results = intsync_apply::apply(Arc::clone(provider), writes.clone(), 4, |_, _| {}).await;
    for applied in &results {
        let action = &writes[applied.index];
        let what = format!(
            "{} {:?}",
            action.kind(),
            action.name().unwrap_or("(unnamed)")
        );
        match &applied.result {
            Ok(Done::Created {
                observed,
                client_secret,
                ..
            }) => {
                eprintln!("[{}] created {what} ({})", now(), observed.id);
                if let Some(secret) = client_secret {
                    match save_secret(&args.secrets_dir, observed, secret) {
                        Ok(path) => eprintln!("  client secret saved to {}", path.display()),
                        Err(e) => eprintln!(
                            "warning: the client secret of {} could not be saved ({e:#}); Ada shows it only once: rotate it in Ada's dashboard",
                            observed.id
                        ),
                    }
                }
            }
            Ok(Done::Updated { observed }) => {
                eprintln!("[{}] updated {what} ({})", now(), observed.id)
            }
            Err(message) => eprintln!("[{}] FAILED {what}: {message}", now()),
        }
    }
    match provider.observe().await {
        Ok(fresh) => *observed = fresh,
        Err(e) => eprintln!(
            "[{}] warning: cannot re-read live state after applying: {e}",
            now()
        ),
    }
    let _ = provider.checkpoint();
    let failed = results.iter().filter(|r| r.result.is_err()).count();
    let applied = results.len() - failed;
    let failures = if failed == 0 {
        String::new()
    } else {
        format!(", {failed} failed")
    };
    eprintln!(
        "[{}] applied {applied} change{}{failures}",
        now(),
        output::plural(applied)
    );
}

/// Ctrl-C (SIGINT), listened for from the moment this exists.
struct Interrupt {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupt {
    fn new() -> anyhow::Result<Interrupt> {
        Ok(Interrupt {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .context("cannot listen for Ctrl-C")?,
        })
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        self.signal.recv().await;
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub fn run(config: Option<&Path>, args: &WatchArgs) -> anyhow::Result<Exit> {
    let config = Config::load(config)?;
    let target = config.target(args.target.as_deref())?;
    let provider = Arc::new(target.provider()?);
    for path in &args.paths {
        anyhow::ensure!(
            path.exists(),
            "cannot watch `{}`: it does not exist",
            path.display()
        );
    }
    let runtime = runtime()?;
    runtime.block_on(async {
        // Registered before anything else, so a Ctrl-C during the first plan (or an apply) is
        // not fatal: the cycle in progress finishes, then the watcher stops and exits 0.
        let mut interrupt = Interrupt::new()?;
        let mut observed = provider.observe().await.with_context(|| {
            format!(
                "cannot read the live integrations of target `{}`",
                target.name
            )
        })?;
        // notify calls back on its own thread; bridge to this task with a channel.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut debouncer = notify_debouncer_full::new_debouncer(
            Duration::from_millis(args.debounce_ms),
            None,
            move |result| {
                let _ = tx.send(result);
            },
        )
        .context("cannot watch files")?;
        for path in &args.paths {
            debouncer
                .watch(path, RecursiveMode::Recursive)
                .with_context(|| format!("cannot watch `{}`", path.display()))?;
        }
        // Watching starts before the first plan, so a save during it is not missed.
        eprintln!(
            "[{}] watching {} (Ctrl-C to stop)",
            now(),
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        cycle(args, target, &provider, &mut observed).await;
        let mut refresh = tokio::time::interval(Duration::from_secs(args.refresh.max(1)));
        refresh.tick().await; // the first tick is immediate; live state was just read
        loop {
            tokio::select! {
                events = rx.recv() => {
                    let Some(events) = events else { break };
                    let relevant = match events {
                        Ok(events) => events.iter().any(|e| changes_manifests(e)),
                        Err(errors) => {
                            for e in errors {
                                eprintln!("[{}] warning: file watching: {e}", now());
                            }
                            false
                        }
                    };
                    if relevant {
                        cycle(args, target, &provider, &mut observed).await;
                    }
                }
                _ = refresh.tick() => match provider.observe().await {
                    Ok(fresh) => observed = fresh,
                    Err(e) => eprintln!("[{}] warning: cannot refresh live state: {e}", now()),
                },
                () = interrupt.recv() => break,
            }
        }
        anyhow::Ok(())
    })?;
    let _ = provider.checkpoint();
    eprintln!("[{}] stopped", now());
    Ok(Exit::Ok)
}
