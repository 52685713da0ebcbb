//! The generated corpus shared by the benchmarks: 10,000 manifests, 3 Ada (with a three-level
//! installer form) for every Truto one, written once to `target/bench-manifests/`.
//!
//! Every Ada form differs from every other (a property name, a `pattern` and an `enum` value
//! depend on the manifest's number), as users' forms do: a cache that pays off only on
//! identical forms must not flatter the figures.

#![allow(dead_code)] // reason: each bench uses part of it

use std::path::{Path, PathBuf};

pub const MANIFESTS: usize = 10_000;

pub fn ada_manifest(i: usize) -> String {
    format!(
        r#"# yaml-language-server: $schema=../schemas/intsync-manifest.schema.json
apiVersion: intsync/v1
kind: AdaPlatformIntegration
spec:
  name: Generated Knowledge Hub {i}
  description: Sync articles from generated knowledge hub number {i} into your AI Agent
  author: Bench Corp
  contact: support+{i}@bench.example.com
  identifier_field_path: connection.workspace.slug
  oauth_callback_url: https://hub{i}.bench.example.com/oauth/callback
  uninstallation_url: https://hub{i}.bench.example.com/uninstall
  icon_url: https://cdn.bench.example.com/icons/{i}.png
  call_to_action: Connect hub {i}
  tags: [knowledge]
  scopes: [articles:read, articles:write, knowledge_sources:write]
  error_codes:
    error_401: The API key was rejected
    error_429: Too many requests, try again later
  configuration_fields:
    title: Connect hub {i}
    type: object
    required: [connection, sync]
    properties:
      connection:
        type: object
        required: [workspace, apiKey]
        properties:
          workspace:
            type: object
            required: [slug, region]
            properties:
              slug: {{ type: string, title: Workspace slug, pattern: "^hub{i}-[a-z0-9-]+$" }}
              region: {{ type: string, enum: [us, eu, ap, zone-{i}], default: us }}
          apiKey: {{ type: string, title: API key, format: password, minLength: 32 }}
      sync:
        type: object
        required: [languages]
        properties:
          languages:
            type: array
            minItems: 1
            items: {{ type: string, enum: [en, fr, de, es] }}
          schedule_{i}: {{ type: string, enum: [hourly, daily], default: hourly }}
"#
    )
}

pub fn truto_manifest(i: usize) -> String {
    format!(
        r#"apiVersion: intsync/v1
kind: TrutoIntegration
spec:
  name: bench_crm_{i}
  category: crm
  is_beta: false
  sharing: allow
  config:
    label: Bench CRM {i}
    base_url: https://api.crm{i}.bench.example.com/v2
    headers: {{ Accept: application/json }}
    authorization: {{ format: bearer, config: {{ value: "{{{{oauth.token.access_token}}}}" }} }}
    pagination: {{ format: cursor, config: {{ cursor_field: meta.next_cursor }} }}
    resources:
      contacts:
        list: {{ method: get, path: /contacts, response_path: data }}
        get: {{ method: get, path: "/contacts/{{{{id}}}}", response_path: data }}
"#
    )
}

/// 10,000 Ada manifests only (`target/bench-manifests-ada/`), for the plan benchmark: one
/// target serves one vendor.
pub fn ada_corpus() -> PathBuf {
    ada_corpus_in("target/bench-manifests-ada", MANIFESTS)
}

/// The first `n` Ada manifests in `target/bench-manifests-ada-N/`.
pub fn ada_corpus_of(n: usize) -> PathBuf {
    ada_corpus_in(&format!("target/bench-manifests-ada-{n}"), n)
}

fn ada_corpus_in(relative: &str, n: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    // Bump the suffix when the generated text changes, so stale corpora are rewritten.
    let marker = dir.join(format!(".complete-{n}-v2"));
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..n {
            std::fs::write(
                dir.join(format!("integration-{i:05}.yaml")),
                ada_manifest(i),
            )
            .unwrap();
        }
        std::fs::write(&marker, "").unwrap();
    }
    dir
}

/// Writes the corpus once; later runs reuse it.
pub fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-manifests");
    // Bump the suffix when the generated text changes, so stale corpora are rewritten.
    let marker = dir.join(format!(".complete-{MANIFESTS}-v2"));
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        for i in 0..MANIFESTS {
            let sub = dir.join(format!("team-{:02}", i % 50));
            std::fs::create_dir_all(&sub).unwrap();
            let text = if i % 4 == 3 {
                truto_manifest(i)
            } else {
                ada_manifest(i)
            };
            std::fs::write(sub.join(format!("integration-{i:05}.yaml")), text).unwrap();
        }
        std::fs::write(&marker, "").unwrap();
    }
    dir
}
