//! Several targets in one command (design §11): `plan` and `drift` run through [`run`], which
//! plans every target at once (`intsync_run::many`) and renders one section per target,
//! targets with blocked changes first, then in selection order; JSON is one envelope. Target
//! names come from the configuration: every heading shows them inert.

use intsync_manifest::Receivers;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use intsync_apply::SecretStore;
use intsync_plan::inert::{code_span, longest_backtick_run, visible};
use intsync_plan::{DesiredIntegration, Plan, render};
use intsync_run::config::{Config, Selection};
use intsync_run::many::{Each, Failure};
use intsync_run::{Ended, Verdict};

use crate::cli::{DEFAULT_SECRETS_DIR, PlanFormat};
use crate::commands::{Stderr, end};
use crate::output;

/// What a command of several targets prints and writes.
pub struct Report<'a> {
    pub paths: &'a [PathBuf],
    pub format: PlanFormat,
    pub out: Option<&'a Path>,
    /// `plan` or `drift`: the markdown heading's word.
    pub what: &'static str,
    /// What became of everything else when live integrations could not be read.
    pub rest: &'static str,
}

/// Plans every target `selection` picks, at once; each plan made final by `finish` (which
/// also gives its verdict), then rendered per target; the verdicts folded.
pub fn run(
    config: &Config,
    selection: &Selection,
    report: &Report,
    finish: impl Fn(Plan, &[DesiredIntegration], &Receivers) -> anyhow::Result<(Plan, Verdict)>,
) -> anyhow::Result<Verdict> {
    // What a baseline's manifests are loaded for (each target's own, by `classify`).
    let receivers = config.receivers();
    let secrets = SecretStore::new(DEFAULT_SECRETS_DIR);
    let runtime = intsync_run::pipeline::runtime()?;
    let Some((desired, planned)) = intsync_run::many::load_and_plan(
        &runtime,
        config,
        selection,
        report.paths,
        &secrets,
        &Stderr,
    )?
    else {
        return Ok(Verdict::Failed);
    };
    let finished: Vec<Each<(Plan, Verdict)>> = planned
        .into_iter()
        .map(|Each { target, outcome }| Each {
            target,
            outcome: outcome.and_then(|planned| {
                finish(planned.plan, &desired, &receivers).map_err(|e| Failure::of(&e))
            }),
        })
        .collect();
    let plans: Vec<Each<Plan>> = finished
        .iter()
        .map(|each| Each {
            target: each.target.clone(),
            outcome: each.outcome.clone().map(|(plan, _)| plan),
        })
        .collect();
    output::print_stdout(&rendered(&plans, report.format, report.what))?;
    if let Some(out) = report.out {
        write_plans_file(&plans, out)?;
    }
    Ok(Verdict::fold(
        finished.into_iter().map(|each| verdict(each, report.rest)),
    ))
}

/// One target's verdict, what it could not read or why it failed said (on stderr).
pub fn verdict(each: Each<(Plan, Verdict)>, rest: &'static str) -> Verdict {
    match each.outcome {
        Ok((plan, verdict)) => end(&Ended {
            verdict,
            target: plan.target,
            unreadable: plan.unreadable,
            rest,
        }),
        Err(failure) => {
            for line in failure_lines(&each.target, &failure) {
                eprintln!("{line}");
            }
            failure.verdict
        }
    }
}

/// `error: target `NAME` failed:` then each reason, indented, inert.
fn failure_lines(target: &str, failure: &Failure) -> Vec<String> {
    let mut lines = vec![format!("error: target `{}` failed:", visible(target))];
    lines.extend(
        failure
            .lines
            .iter()
            .map(|line| format!("  {}", visible(line))),
    );
    lines
}

/// The sections in the order they are shown: targets with blocked changes first, then the
/// others, each group in selection order.
pub fn in_order(plans: &[Each<Plan>]) -> Vec<&Each<Plan>> {
    let mut ordered: Vec<&Each<Plan>> = plans.iter().collect();
    ordered.sort_by_key(|each| !each.outcome.as_ref().is_ok_and(Plan::has_blocked));
    ordered
}

/// Every target's plan in `format`: a section each (text; markdown, the whole within GitHub's
/// limit on a comment), or the JSON envelope of the plans made, in selection order.
pub fn rendered(plans: &[Each<Plan>], format: PlanFormat, what: &str) -> String {
    match format {
        PlanFormat::Json => render::json_envelope(&made(plans)),
        PlanFormat::Text => in_order(plans).into_iter().map(text_section).collect(),
        PlanFormat::Markdown => markdown(plans, what),
    }
}

fn made(plans: &[Each<Plan>]) -> Vec<&Plan> {
    plans
        .iter()
        .filter_map(|each| each.outcome.as_ref().ok())
        .collect()
}

fn text_section(each: &Each<Plan>) -> String {
    let name = visible(&each.target);
    match &each.outcome {
        Ok(plan) => format!(
            "=== target `{name}` ===\n{}\n",
            crate::commands::plan::rendered(plan, PlanFormat::Text)
        ),
        Err(failure) => format!(
            "=== target `{name}`: failed ===\n{}\n\n",
            failure
                .lines
                .iter()
                .map(|line| visible(line).into_owned())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// One comment: GitHub's limit shared between the plans made, once the failed targets'
/// sections (short) are counted.
fn markdown(plans: &[Each<Plan>], what: &str) -> String {
    let failed: usize = plans
        .iter()
        .filter(|each| each.outcome.is_err())
        .map(|each| failed_markdown(each, what).chars().count())
        .sum();
    let made = made(plans).len().max(1);
    let budget = render::MARKDOWN_LIMIT.saturating_sub(failed + made) / made;
    in_order(plans)
        .into_iter()
        .map(|each| match &each.outcome {
            Ok(plan) => format!("{}\n", render::markdown_within(plan, what, budget)),
            Err(_) => failed_markdown(each, what),
        })
        .collect()
}

fn failed_markdown(each: &Each<Plan>, what: &str) -> String {
    match &each.outcome {
        Ok(_) => String::new(),
        Err(failure) => {
            let body: String = failure
                .lines
                .iter()
                .map(|line| format!("{}\n", visible(line)))
                .collect();
            let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
            let mut out = String::new();
            let _ = writeln!(
                out,
                "### intsync {what} for {}: failed\n",
                code_span(&each.target)
            );
            let _ = writeln!(out, "{fence}text\n{body}{fence}\n");
            out
        }
    }
}

/// Writes the envelope of every target's plan to `path` (for `apply --plan`), and says how to
/// apply it; not when a target has no plan (that apply would miss it).
pub fn write_plans_file(plans: &[Each<Plan>], path: &Path) -> anyhow::Result<()> {
    if plans.iter().any(|each| each.outcome.is_err()) {
        eprintln!(
            "error: the plan was not saved to {}: a target has no plan (above)",
            path.display()
        );
        return Ok(());
    }
    intsync_run::pipeline::write_plans_file(&made(plans), path)?;
    let targets: Vec<String> = plans
        .iter()
        .map(|each| visible(&each.target).into_owned())
        .collect();
    eprintln!(
        "Saved the plans of {} targets to {} (apply them with `intsync apply --plan {} --target {}`).",
        plans.len(),
        path.display(),
        path.display(),
        targets.join(",")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use intsync_manifest::Kind;
    use intsync_plan::testing::creatable;
    use intsync_plan::{DesiredIntegration, Observed};

    use super::*;

    /// A plan of `n` creates for `target`, each with a long description.
    fn creates(target: &str, n: usize) -> Plan {
        let kind = Kind::AdaPlatformIntegration;
        let desired: Vec<DesiredIntegration> = (0..n)
            .map(|i| {
                let spec = creatable(
                    kind,
                    serde_json::json!({"name": format!("Shop {i}"), "description": "x".repeat(400)}),
                );
                DesiredIntegration {
                    kind,
                    id: None,
                    spec: spec.as_object().unwrap().clone().into(),
                    manifest: format!("m{i}.yaml"),
                    origin: intsync_manifest::Origin::default(),
                    routing: Default::default(),
                }
            })
            .collect();
        let observed = Observed {
            kinds: vec![kind],
            ..Observed::default()
        };
        intsync_plan::plan(target, &desired, &observed).unwrap()
    }

    /// Several targets' plans in one comment stay within GitHub's limit together, each saying
    /// what it left out; a failed target keeps its section.
    #[test]
    fn several_plans_share_one_comment_limit() {
        let plans: Vec<Each<Plan>> = ["a", "b", "c"]
            .into_iter()
            .map(|target| Each {
                target: target.to_owned(),
                outcome: Ok(creates(target, 120)),
            })
            .chain(std::iter::once(Each {
                target: "down".to_owned(),
                outcome: Err(Failure {
                    verdict: Verdict::Failed,
                    lines: vec!["error: cannot connect".to_owned()],
                }),
            }))
            .collect();
        let one = render::markdown(plans[0].outcome.as_ref().unwrap());
        assert!(
            one.chars().count() > render::MARKDOWN_LIMIT / 2,
            "big enough"
        );
        let comment = rendered(&plans, PlanFormat::Markdown, "plan");
        assert!(comment.chars().count() <= render::MARKDOWN_LIMIT);
        assert_eq!(comment.matches("**Left out: ").count(), 3, "{comment}");
        assert!(comment.contains("### intsync plan for `down`: failed"));
    }
}
