//! A moto server (AWS emulator) for the tests: started on a free 127.0.0.1 port, stopped
//! on drop. The Python tools live in the virtualenv that `scripts/test` prepares
//! (`ONETHING_VENV`, default `<workspace>/.venv`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub endpoint: String,
    root: PathBuf,
}

pub use crate::tools::venv;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Moto {
    /// `root` is the workspace root.
    pub fn start(root: &Path) -> Moto {
        let bin = venv(root).join("bin/moto_server");
        assert!(
            bin.exists(),
            "{} is missing: run scripts/test (it installs the Python test tools)",
            bin.display()
        );
        let port = free_port();
        // moto with DynamoDB requests serialized: see infra/scripts/moto_server.py.
        let child = Command::new(venv(root).join("bin/python"))
            .arg(root.join("infra/scripts/moto_server.py"))
            .args(["127.0.0.1", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            root: root.to_path_buf(),
        }
    }

    /// Deploy infra/template.yaml (translated from SAM) as `stack`; its outputs.
    pub fn deploy(&self, stack: &str) -> HashMap<String, String> {
        self.deploy_with(stack, &[])
    }

    /// As [`Moto::deploy`], with options of `moto_stack.py` (`data_sharing_url`,
    /// `data_sharing_key`: the stack reads data sharing over HTTP, its key from a secret).
    pub fn deploy_with(&self, stack: &str, options: &[(&str, &str)]) -> HashMap<String, String> {
        let options: HashMap<&str, &str> = options.iter().copied().collect();
        let out = Command::new(venv(&self.root).join("bin/python"))
            .arg("infra/scripts/moto_stack.py")
            .args([&self.endpoint, stack])
            .env(
                "ONETHING_STACK_OPTIONS",
                serde_json::to_string(&options).expect("options"),
            )
            .current_dir(&self.root)
            .output()
            .expect("run moto_stack.py");
        assert!(
            out.status.success(),
            "deploy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("stack outputs")
    }

    /// The standard AWS environment pointing at this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ]
    }

    /// An SDK configuration for this emulator (without touching the process environment).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "testing", "testing", None, None, "moto",
            ))
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
