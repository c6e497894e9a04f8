"""Translate infra/template.yaml from SAM to plain CloudFormation as `sam deploy` would
(after `sam package` put each function's zip in S3), so that cfn-lint and checkov also
check what CloudFormation actually receives: the roles, policies, event source mappings,
permissions and API Gateway resources SAM generates.

usage: sam_translate.py OUT.json [TEMPLATE]
"""
import json, os, sys
import yaml
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """The template names no AWS managed policy by name, so none has to be looked up."""
    def load(self):
        return {}


out = sys.argv[1]
template = sys.argv[2] if len(sys.argv) > 2 else "infra/template.yaml"
sam = yaml.safe_load(open(template, encoding="utf-8"))
for name, r in sam["Resources"].items():
    if r["Type"] == "AWS::Serverless::Function":
        r["Properties"]["CodeUri"] = f"s3://onething-artifacts/{name}.zip"
# A production stack's parameters (the template's rules refuse prod without data sharing).
params = {"Stage": "prod", "JwtIssuer": "https://sso.example.gov.cn", "JwtAudience": "onething",
          "DataSharingBaseUrl": "https://data-sharing.example.gov.cn/api",
          "DataSharingSecretArn": "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:data-sharing",
          "PublicBaseUrl": "https://bsyjs.example.gov.cn"}
with open(out, "w", encoding="utf-8") as f:
    json.dump(transform(sam, params, NoManagedPolicies()), f, indent=1)
