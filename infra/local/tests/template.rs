//! The SAM template: generated from its script, clean under cfn-lint, and with no
//! checkov failure that the template does not suppress with a written reason.

use std::process::Command;
use testkit::tools::{assert_generated, assert_tool_passes, py, root};

#[test]
fn template_is_the_generators_output() {
    assert_generated("infra/gen_template.py", "infra/template.yaml");
}

#[test]
fn cfn_lint_is_clean() {
    assert_tool_passes("cfn-lint", &["infra/template.yaml"]);
}

#[test]
fn checkov_has_no_unexplained_failure() {
    let out = Command::new(py("checkov"))
        .args([
            "-f",
            "infra/template.yaml",
            "--framework",
            "cloudformation",
            "--skip-download",
            "--compact",
            "--quiet",
        ])
        .env("BC_SKIP_MAPPING", "TRUE")
        .current_dir(root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "checkov:\n{text}");
    assert!(!text.contains("FAILED for resource"), "{text}");
    // Every skip carries a comment in the template.
    let template = std::fs::read_to_string(root().join("infra/template.yaml")).unwrap();
    let skips = template.matches("- id: CKV_").count();
    let comments = template.matches("comment: ").count();
    assert!(
        skips > 0 && skips == comments,
        "{skips} skips, {comments} reasons"
    );
}
