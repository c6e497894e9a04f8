//! The SAM template: generated from its script, clean under cfn-lint, and with no
//! checkov failure that the template does not suppress with a written reason.

#[path = "../../../tests/support/moto.rs"]
mod moto;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn py(tool: &str) -> PathBuf {
    moto::venv(&root()).join("bin").join(tool)
}

#[test]
fn template_is_the_generators_output() {
    let out = tempfile::NamedTempFile::new().unwrap();
    let s = Command::new(py("python"))
        .arg("infra/gen_template.py")
        .arg(out.path())
        .current_dir(root())
        .status()
        .unwrap();
    assert!(s.success());
    let fresh = std::fs::read_to_string(out.path()).unwrap();
    let committed = std::fs::read_to_string(root().join("infra/template.yaml")).unwrap();
    assert!(
        fresh == committed,
        "infra/template.yaml is stale: run python3 infra/gen_template.py"
    );
}

#[test]
fn cfn_lint_is_clean() {
    let out = Command::new(py("cfn-lint"))
        .arg("infra/template.yaml")
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
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
