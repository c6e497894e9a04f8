//! The OpenAPI document: generated from its script, valid OpenAPI, clean under Redocly's
//! strict rules, and accepted whole by a client generator (every response and request body becomes a model, none dropped).

use std::process::Command;
use testkit::tools::{assert_generated, assert_tool_passes, py, root};

#[test]
fn openapi_json_is_the_generators_output() {
    assert_generated("docs/gen_openapi.py", "functions/api/openapi.json");
}

#[test]
fn openapi_json_is_valid_openapi() {
    assert_tool_passes("openapi-spec-validator", &["functions/api/openapi.json"]);
}

#[test]
fn redocly_lint_passes_with_every_warning_an_error() {
    let dir = root().join("docs/openapi-lint");
    let out = std::process::Command::new(dir.join("node_modules/.bin/redocly"))
        .args([
            "lint",
            "--config",
            "redocly.yaml",
            "../../functions/api/openapi.json",
        ])
        .current_dir(&dir)
        .output()
        .expect("redocly (scripts/test installs it)");
    assert!(
        out.status.success(),
        "redocly lint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_python_client_generates_with_no_warning_and_every_model() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        "post_hooks: []\nproject_name_override: onething_client\npackage_name_override: onething_client\n",
    )
    .unwrap();
    let out = Command::new(py("openapi-python-client"))
        .args(["generate", "--meta", "none", "--path"])
        .arg(root().join("functions/api/openapi.json"))
        .arg("--config")
        .arg(&cfg)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "generator failed:\n{log}");
    assert!(
        !log.contains("Warning") && !log.contains("WARNING"),
        "the generator warned (something would be missing from clients):\n{log}"
    );
    let models = dir.path().join("onething_client/models");
    for model in [
        "case.py",
        "case_results.py",
        "guide_response_200.py",
        "report_response_200.py",
        "task.py",
        "error.py",
    ] {
        assert!(models.join(model).exists(), "no model {model}:\n{log}");
    }
}

/// The catalogue's JSON Schema (for operators' editors and tools) says what the server's
/// reader says: the shipped catalogue passes it; a unit the server does not know, an
/// unknown field and a zero time limit fail it, as `onething catalogue check` fails them.
#[test]
fn the_shipped_catalogue_passes_its_json_schema_and_faults_do_not() {
    let script = r#"
import json, sys, copy, jsonschema
schema = json.load(open("shared/domain/catalogue/schema.json"))
good = json.load(open("shared/domain/catalogue/catalogue.json"))
jsonschema.validate(good, schema)
faults = []
for edit in ("unit", "field", "limit"):
    bad = copy.deepcopy(good)
    item = bad["bundles"][0]["situations"][0]["items"][2]
    if edit == "unit": item["unit"] = "nobody"
    if edit == "field": item["colour"] = "red"
    if edit == "limit": item["working_days"] = 0
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError:
        faults.append(edit)
print(" ".join(faults))
"#;
    let out = Command::new(py("python"))
        .args(["-c", script])
        .current_dir(root())
        .output()
        .expect("python from the test venv (scripts/test installs it)");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(said.trim(), "unit field limit");
    for (edit, path) in [
        ("unit", "unit"),
        ("field", "colour"),
        ("limit", "working_days"),
    ] {
        let mut c: serde_json::Value =
            serde_json::from_str(domain::catalogue::BUILTIN_JSON).unwrap();
        let item = &mut c["bundles"][0]["situations"][0]["items"][2];
        item[path] = match edit {
            "unit" => "nobody".into(),
            "field" => "red".into(),
            _ => 0.into(),
        };
        assert!(
            domain::catalogue::Catalogue::parse(&c.to_string()).is_err(),
            "the server's reader refuses the {edit} fault too"
        );
    }
}
