//! Guard rails on input: the loader refuses what it should with a clear diagnostic and never
//! panics, whatever the bytes.

use intsync_manifest::{Code, MAX_FILE_BYTES, load, load_source};
use proptest::prelude::*;

fn codes(loaded: &intsync_manifest::Loaded) -> Vec<Code> {
    loaded.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn file_over_10_mib_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(MAX_FILE_BYTES + 1).unwrap(); // sparse: costs no disk
    let loaded = load(&[dir.path().to_path_buf()]);
    assert_eq!(codes(&loaded), vec![Code::FileTooLarge]);
    assert!(
        loaded.diagnostics[0].message.contains("10485761 bytes"),
        "{}",
        loaded.diagnostics[0].message
    );
}

#[test]
fn non_utf8_is_refused_at_the_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.yaml");
    std::fs::write(
        &path,
        b"apiVersion: intsync/v1\nkind: Ada\nspec:\n  name: caf\xe9\n",
    )
    .unwrap();
    let loaded = load(&[path]);
    assert_eq!(codes(&loaded), vec![Code::NotUtf8]);
    let span = loaded.diagnostics[0].span;
    assert_eq!((span.line, span.column), (4, 12));
}

#[test]
fn missing_path_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = load(&[dir.path().join("nope")]);
    assert_eq!(codes(&loaded), vec![Code::Io]);
    assert!(loaded.diagnostics[0].message.contains("nope"));
}

#[test]
fn empty_directory_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "nothing here").unwrap();
    let loaded = load(&[dir.path().to_path_buf()]);
    assert_eq!(codes(&loaded), vec![Code::NoManifests]);
    assert!(!loaded.has_errors());
}

#[test]
fn byte_order_mark_and_crlf_line_endings() {
    let text = "\u{feff}apiVersion: intsync/v1\r\nkind: TrutoIntegration\r\nspec:\r\n  name: crm\r\n  sharing: allwo\r\n";
    let loaded = load_source("windows.yaml", text);
    let d = &loaded.diagnostics[0];
    assert_eq!(
        (d.code, d.span.line, d.span.column),
        (Code::InvalidEnumValue, 5, 12)
    );
    assert_eq!(&text[d.span.offset..d.span.offset + d.span.len], "allwo");
}

#[test]
fn only_yaml_files_in_directories_and_hidden_dirs_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let ok = "apiVersion: intsync/v1\nkind: TrutoIntegration\nspec: {name: a}\n";
    std::fs::create_dir_all(dir.path().join("sub/.hidden")).unwrap();
    std::fs::write(dir.path().join("sub/a.yml"), ok).unwrap();
    std::fs::write(dir.path().join("sub/.hidden/b.yaml"), "not: [valid").unwrap();
    std::fs::write(dir.path().join("README.md"), "# not yaml: [").unwrap();
    let loaded = load(&[dir.path().to_path_buf()]);
    assert!(loaded.diagnostics.is_empty(), "{:?}", codes(&loaded));
    assert_eq!(loaded.files.len(), 1);
    assert_eq!(loaded.manifests.len(), 1);
}

#[test]
fn billion_laughs_is_refused() {
    let mut yaml = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        yaml.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{p}"); 9].join(", ")
        ));
    }
    let loaded = load_source("laughs.yaml", &yaml);
    assert_eq!(codes(&loaded), vec![Code::YamlTooComplex]);
}

#[test]
fn deep_nesting_is_refused() {
    for yaml in [
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("{}{}", "{a: ".repeat(10_000), "}".repeat(10_000)),
        (0..500)
            .map(|i| format!("{}- \n", "  ".repeat(i)))
            .collect(),
    ] {
        let loaded = load_source("deep.yaml", &yaml);
        assert_eq!(
            codes(&loaded),
            vec![Code::YamlTooComplex],
            "{}",
            &yaml[..40]
        );
    }
}

/// The deepest YAML the limits allow still validates without overflowing a test thread's stack.
#[test]
fn deepest_allowed_form_is_fine() {
    let mut form = String::from("{type: string}");
    for _ in 0..20 {
        form = format!("{{type: object, required: [x], properties: {{x: {form}}}}}");
    }
    let text = format!(
        "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nmetadata: {{id: a}}\nspec:\n  configuration_fields: {form}\n"
    );
    let loaded = load_source("deep-form.yaml", &text);
    assert!(
        loaded.diagnostics.is_empty(),
        "{:?}",
        loaded
            .diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>()
    );
}

const FIELDS: &[&str] = &[
    "name",
    "description",
    "author",
    "contact",
    "identifier_field_path",
    "oauth_callback_url",
    "uninstallation_url",
    "tags",
    "scopes",
    "configuration_fields",
    "icon_url",
    "call_to_action",
    "error_codes",
    "category",
    "is_beta",
    "config",
    "sharing",
    "id",
    "properties",
    "required",
    "type",
];

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_map(|n| serde_json::json!(n)),
        "\\PC{0,12}".prop_map(serde_json::Value::String),
        prop::sample::select(FIELDS).prop_map(|s| serde_json::Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS), inner), 0..6).prop_map(|pairs| {
                serde_json::Value::Object(
                    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                )
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Arbitrary text never panics the loader.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = load_source("fuzz.yaml", &text);
    }

    /// YAML-looking text (indentation, indicators, anchors) never panics the loader.
    #[test]
    fn yaml_like_text_never_panics(lines in prop::collection::vec("[ ]{0,6}[-?:&*!|>'\"%@`#{}\\[\\],a-z0-9 ]{0,30}", 0..30)) {
        let _ = load_source("fuzz.yaml", &lines.join("\n"));
    }

    /// Manifests with arbitrary specs exercise every rule; none panics, and every diagnostic
    /// points inside the text.
    #[test]
    fn arbitrary_specs_never_panic(kind in prop::sample::select(vec!["AdaPlatformIntegration", "TrutoIntegration", "Other"]),
                                   id in prop::option::of("[a-f0-9]{0,6}"),
                                   spec in json_value()) {
        let metadata = id.map(|id| format!("metadata: {{id: \"{id}\"}}\n")).unwrap_or_default();
        let text = format!("apiVersion: intsync/v1\nkind: {kind}\n{metadata}spec: {spec}\n");
        let loaded = load_source("fuzz.yaml", &text);
        let lines = u32::try_from(text.lines().count()).unwrap();
        for d in &loaded.diagnostics {
            prop_assert!(d.span.line >= 1 && d.span.line <= lines, "{:?} outside the text", d.span);
            prop_assert!(d.span.offset + d.span.len <= text.len());
        }
    }
}
