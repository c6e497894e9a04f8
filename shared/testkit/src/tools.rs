//! Where things are: the workspace, and the virtualenv `scripts/test` prepares.

use std::path::{Path, PathBuf};

/// The workspace root (this crate lives in `shared/testkit`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python tools' virtualenv: `ONETHING_VENV`, default `<workspace>/.venv`.
pub fn venv(root: &Path) -> PathBuf {
    std::env::var("ONETHING_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join(".venv"))
}

/// A tool installed in the virtualenv (`python`, `cfn-lint`, `schemathesis`, …).
pub fn py(tool: &str) -> PathBuf {
    venv(&root()).join("bin").join(tool)
}

/// `python SCRIPT OUT` writes exactly the committed `file` (a generated file is never
/// edited by hand, nor left stale).
pub fn assert_generated(script: &str, file: &str) {
    let out = std::env::temp_dir().join(format!(
        "onething-generated-{}-{}",
        std::process::id(),
        file.replace('/', "_")
    ));
    let s = std::process::Command::new(py("python"))
        .arg(script)
        .arg(&out)
        .current_dir(root())
        .status()
        .expect("run the generator");
    assert!(s.success(), "{script} failed");
    let fresh = std::fs::read_to_string(&out).expect("generated output");
    let _ = std::fs::remove_file(&out);
    let committed = std::fs::read_to_string(root().join(file)).expect("committed file");
    assert!(fresh == committed, "{file} is stale: run python3 {script}");
}

/// Run a tool of the virtualenv in the workspace; its output, or a panic showing it
/// when the tool fails.
pub fn assert_tool_passes(tool: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(py(tool))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (run scripts/test, which installs it)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool}:\n{text}");
    text
}
