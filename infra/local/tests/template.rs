//! The SAM template: generated from its script, clean under cfn-lint, and with no
//! checkov failure that the template does not suppress with a written reason; the same
//! for its SAM-translated form (what CloudFormation receives).

use std::process::Command;
use testkit::tools::{assert_generated, assert_tool_passes, py, root};

#[test]
fn template_is_the_generators_output() {
    assert_generated("infra/gen_template.py", "infra/template.yaml");
    assert_generated("infra/gen_waf.py", "infra/waf.yaml");
}

#[test]
fn cfn_lint_is_clean() {
    assert_tool_passes("cfn-lint", &["infra/template.yaml", "infra/waf.yaml"]);
}

/// infra/template.yaml translated from SAM as `sam deploy` translates it, in a file of
/// its own; removed on drop.
struct Translated(std::path::PathBuf);

impl Translated {
    fn new() -> Translated {
        let dir = std::env::temp_dir().join(format!("onething-sam-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("translated-{:?}.json", std::thread::current().id()));
        let s = Command::new(py("python"))
            .arg("infra/scripts/sam_translate.py")
            .arg(&file)
            .current_dir(root())
            .output()
            .unwrap();
        assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
        Translated(file)
    }
}

impl Drop for Translated {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn cfn_lint_is_clean_on_the_sam_translated_template() {
    let t = Translated::new();
    let text = std::fs::read_to_string(&t.0).unwrap();
    // The translation made what SAM generates: roles and event source mappings.
    assert!(text.contains("\"AWS::IAM::Role\""), "no role generated");
    assert!(text.contains("\"AWS::Lambda::EventSourceMapping\""));
    assert!(!text.contains("AWS::Serverless::"), "left untranslated");
    assert_tool_passes("cfn-lint", &[t.0.to_str().unwrap()]);
}

#[test]
fn checkov_has_no_failure_on_the_sam_translated_template() {
    let t = Translated::new();
    let text = checkov(t.0.to_str().unwrap());
    assert!(text.contains("Failed checks: 0"), "{text}");
}

/// `checkov -f FILE` (CloudFormation, offline): its report, asserted to pass with no
/// resource failed.
fn checkov(file: &str) -> String {
    let out = Command::new(py("checkov"))
        .args([
            "-f",
            file,
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
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "checkov {file}:\n{text}");
    assert!(!text.contains("FAILED for resource"), "{file}: {text}");
    text
}

#[test]
fn checkov_has_no_unexplained_failure() {
    for file in ["infra/template.yaml", "infra/waf.yaml"] {
        checkov(file);
        // Every skip carries a comment in the template.
        let template = std::fs::read_to_string(root().join(file)).unwrap();
        let skips = template.matches("- id: CKV").count();
        let comments = template.matches("comment: ").count();
        assert!(
            skips > 0 && skips == comments,
            "{file}: {skips} skips, {comments} reasons"
        );
    }
}

/// The edge firewall limits each caller, not only the stage: rate-based rules per client
/// IP and per Authorization header, and the main stack puts it in front of the API.
#[test]
fn the_edge_firewall_limits_each_caller() {
    let waf = std::fs::read_to_string(root().join("infra/waf.yaml")).unwrap();
    for needle in [
        "AggregateKeyType: IP",
        "AggregateKeyType: CUSTOM_KEYS",
        "Name: authorization",
        "Scope: CLOUDFRONT",
    ] {
        assert!(waf.contains(needle), "waf.yaml lacks {needle}");
    }
    let main = std::fs::read_to_string(root().join("infra/template.yaml")).unwrap();
    assert!(main.contains("WebACLId:") && main.contains("EdgeWebAclArn"));
}

/// The alarms read the metrics the SLA monitor publishes (embedded metric format): same
/// namespace, names and dimension.
#[test]
fn the_sla_alarms_read_what_the_monitor_publishes() {
    let t = sla_monitor::emf_line("prod", &Default::default(), chrono::Utc::now());
    let template = std::fs::read_to_string(root().join("infra/template.yaml")).unwrap();
    for metric in ["OverdueSteps", "SlaFailures"] {
        assert!(t.contains(&format!("\"Name\":\"{metric}\"")), "{t}");
        assert!(
            template.contains(&format!("MetricName: {metric}")),
            "no alarm on {metric}"
        );
    }
    assert!(template.contains(&format!("Namespace: {}", sla_monitor::METRIC_NAMESPACE)));
    assert!(t.contains("\"Dimensions\":[[\"Stage\"]]"));
}

/// What moto and cfn-lint do not check (infra/scripts/check_template.py): each function's
/// queues in its environment match its permissions, readers may list (404, not 403), no
/// partition-specific domain, bucket names fit, the key is retained, event sources bound
/// their concurrency, visibility timeouts cover the functions' timeouts, a prod stack
/// needs real data sharing.
#[test]
fn the_template_wires_each_function_to_what_it_may_use() {
    let out = Command::new(py("python"))
        .args(["infra/scripts/check_template.py", "infra/template.yaml"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
