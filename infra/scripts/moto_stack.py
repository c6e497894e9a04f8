"""Deploy infra/template.yaml to an AWS emulator (moto) the way `sam deploy` would deploy it
to AWS: translate the SAM template to CloudFormation (aws-sam-translator), point every
function's code at an uploaded artifact, create the stack, print its outputs as JSON.

moto cannot run Lambda code, so the emulated stack leaves out the SQS event source
mappings: `onething serve --backend aws --stack NAME` plays their part (batches, partial
batch failures). Everything else is deployed as written.

usage: moto_stack.py ENDPOINT STACK [TEMPLATE]
"""
import io, json, sys, zipfile
import os
import boto3, yaml
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
from samtranslator.translator.transform import transform
from samtranslator.public.translator import ManagedPolicyLoader

endpoint, stack = sys.argv[1], sys.argv[2]
template_path = sys.argv[3] if len(sys.argv) > 3 else "infra/template.yaml"
region = "us-east-1"
kw = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
s3, cfn, iam = boto3.client("s3", **kw), boto3.client("cloudformation", **kw), boto3.client("iam", **kw)

# The functions' code: a placeholder bootstrap (moto stores it; it never runs it).
artifacts = f"onething-artifacts-{stack}".lower()
s3.create_bucket(Bucket=artifacts)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("bootstrap", "#!/bin/sh\necho placeholder\n")
s3.put_object(Bucket=artifacts, Key="bootstrap.zip", Body=buf.getvalue())

sam = yaml.safe_load(open(template_path))
for r in sam["Resources"].values():
    if r["Type"] == "AWS::Serverless::Function":
        r["Properties"]["CodeUri"] = {"Bucket": artifacts, "Key": "bootstrap.zip"}
params = {"Stage": "test", "JwtIssuer": "https://issuer.test", "JwtAudience": "onething-test", "UseFixture": "true"}
# moto's CloudFormation makes every AWS::KMS::Key symmetric (it ignores KeySpec), so the
# certificate key comes in through the template's bring-your-own-key parameter, made with
# the KMS API as an operator would; a second one stands for a key retired by a rotation.
kms = boto3.client("kms", **kw)
def signing_key(what):
    meta = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description=what)["KeyMetadata"]
    return meta["Arn"]
params["CertificateKeyArn"] = signing_key(f"{stack}: signs certificates")
params["RetiredCertificateKeyArns"] = signing_key(f"{stack}: retired certificate key")
# Data sharing over HTTP with its API key in Secrets Manager, as on a real stage
# (ONETHING_STACK_OPTIONS: {"data_sharing_url", "data_sharing_key"}); else the fixture.
options = json.loads(os.environ.get("ONETHING_STACK_OPTIONS") or "{}")
if options.get("data_sharing_url"):
    secret = boto3.client("secretsmanager", **kw).create_secret(
        Name=f"onething-data-sharing-{stack}", SecretString=json.dumps({"api_key": options.get("data_sharing_key", "")}))
    params["DataSharingBaseUrl"] = options["data_sharing_url"]
    params["DataSharingSecretArn"] = secret["ARN"]
    params["UseFixture"] = "false"
    params["PublicBaseUrl"] = "https://onething.test"
cfn_template = transform(sam, params, ManagedPolicyLoader(iam))
sam_mappings = {k: v for k, v in cfn_template["Resources"].items() if v["Type"] == "AWS::Lambda::EventSourceMapping"}
cfn_template["Resources"] = {k: v for k, v in cfn_template["Resources"].items() if v["Type"] != "AWS::Lambda::EventSourceMapping"}

cfn.create_stack(
    StackName=stack,
    TemplateBody=json.dumps(cfn_template),
    Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
    Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
)
desc = cfn.describe_stacks(StackName=stack)["Stacks"][0]
if desc["StackStatus"] != "CREATE_COMPLETE":
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    failed = [e for e in events if "FAILED" in e.get("ResourceStatus", "")]
    sys.exit(f"stack {stack}: {desc['StackStatus']}: {failed[:3]}")
outputs = {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}
# Each function's environment as the stack resolved it (`Env:<logical id>`, JSON), so
# tests wire every function from the template itself, not from a list of their own.
lam = boto3.client("lambda", **kw)
sts = boto3.client("sts", **kw)
for res in cfn.describe_stack_resources(StackName=stack)["StackResources"]:
    if res.get("ResourceType", res.get("Type")) == "AWS::Lambda::Function":
        conf = lam.get_function_configuration(FunctionName=res["PhysicalResourceId"])
        outputs[f"Env:{res['LogicalResourceId']}"] = json.dumps(conf.get("Environment", {}).get("Variables", {}))
        # The function's own credentials, as Lambda gives them: its execution role,
        # assumed. Requests signed with them are authorized by infra/scripts/iam_guard.py
        # against that role's policies, conditions included.
        creds = sts.assume_role(RoleArn=conf["Role"], RoleSessionName=res["LogicalResourceId"])["Credentials"]
        outputs[f"Creds:{res['LogicalResourceId']}"] = json.dumps(
            {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")} | {"RoleArn": conf["Role"]})
# What the Lambda service itself does with each function's role (`Service:<logical id>`,
# JSON [{action, resource}]): write the function's logs to its log group, and read its
# event source (the queue, or the table's stream) for its event source mapping, which
# the emulated stack leaves out. The tests evaluate these against the role too.
physical = {r.get("LogicalResourceId"): r.get("PhysicalResourceId")
            for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
ddb = boto3.client("dynamodb", **kw)
def arn_of(x):
    (logical, attr), = [x["Fn::GetAtt"]]
    if attr == "StreamArn":
        return ddb.describe_table(TableName=physical[logical])["Table"]["LatestStreamArn"]
    return f"arn:aws:sqs:{region}:123456789012:{physical[logical].rstrip('/').split('/')[-1]}"
service = {}
for name, r in cfn_template["Resources"].items():
    if r["Type"] == "AWS::Lambda::Function":
        group = physical.get(r["Properties"]["LoggingConfig"]["LogGroup"]["Ref"])
        service.setdefault(name, []).extend(
            {"action": a, "resource": f"arn:aws:logs:{region}:123456789012:log-group:{group}:log-stream:2026/12/07/[$LATEST]0123"}
            for a in ("logs:CreateLogStream", "logs:PutLogEvents"))
for name, r in sam_mappings.items():
    fn = r["Properties"]["FunctionName"]["Ref"]
    src = arn_of(r["Properties"]["EventSourceArn"])
    acts = (["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
            if ":dynamodb:" in src else
            ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"])
    service.setdefault(fn, []).extend({"action": a, "resource": src} for a in acts)
    on_failure = ((r["Properties"].get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if on_failure:
        # The mapping's failure destination, written by the Lambda service with the role.
        service[fn].append({"action": "sqs:SendMessage", "resource": arn_of(on_failure)})
    if ":sqs:" in src:
        # An SSE-KMS queue's consumer also needs kms:Decrypt on its key.
        url = physical[r["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]]
        key = boto3.client("sqs", **kw).get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"].get("KmsMasterKeyId")
        if key:
            service[fn].append({"action": "kms:Decrypt", "resource": key if key.startswith("arn:") else f"arn:aws:kms:{region}:123456789012:key/{key}"})
for fn, reqs in service.items():
    outputs[f"Service:{fn}"] = json.dumps(reqs)
print(json.dumps(outputs))
