"""Static checks of infra/template.yaml that moto and cfn-lint do not make; exits non-zero
with one line per finding. Run by infra/local/tests/template.rs.

- each function's environment names exactly the queues its role may send to (and its own);
- a role that reads objects of a bucket may list it (else a missing object is 403, not 404);
- no hard-coded `amazonaws.com` but the global service principals, which are the same in
  every partition (regional ones use ${AWS::URLSuffix});
- bucket names fit 63 characters with the longest Stage and region;
- the KMS key outlives the stack like the data it encrypts;
- every SQS event source has a MaximumConcurrency, and no function reserves concurrency;
- every queue's visibility timeout is at least six times its consumer's timeout;
- a stack on real data (UseFixture false) is refused without the data-sharing URL and secret
  and the public domain;
- several CORS origins reach the HTTP API as a list once SAM has translated the template;
- the certificate key: a function has CERT_KEY_ARN exactly when its code attaches the key
  (`with_certificates()` in its code, or `for_step` for a step whose flow entry signs); kms:Sign only for those that consume a step
  queue (they issue), kms:GetPublicKey for the API (it publishes and verifies); the key
  is asymmetric (ECC_NIST_P256, SIGN_VERIFY) and retained.
"""
import json, os, re, sys, yaml
FLOW = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "flow.json")))

class Loader(yaml.SafeLoader):
    pass
t = yaml.load(open(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"), Loader=Loader)
R = t["Resources"]
bad = []

GLOBAL_PRINCIPALS = {"lambda.amazonaws.com", "cloudwatch.amazonaws.com", "logging.s3.amazonaws.com"}
text = json.dumps(t)
for m in re.finditer(r'"([^"]*amazonaws\.com[^"]*)"', text):
    if m.group(1) not in GLOBAL_PRINCIPALS:
        bad.append(f"hard-coded domain: {m.group(1)} (use ${{AWS::URLSuffix}})")

def refs(x):
    """Logical ids referenced by Ref / GetAtt in x."""
    if isinstance(x, dict):
        if "Ref" in x: return {x["Ref"]}
        if "Fn::GetAtt" in x: return {x["Fn::GetAtt"][0]}
        return set().union(*[refs(v) for v in x.values()]) if x else set()
    if isinstance(x, list):
        return set().union(*[refs(v) for v in x]) if x else set()
    return set()

for fid, f in R.items():
    if f["Type"] != "AWS::Serverless::Function":
        continue
    p = f["Properties"]
    if "ReservedConcurrentExecutions" in p:
        bad.append(f"{fid}: reserved concurrency (a new account's quota cannot grant it)")
    env = p["Environment"]["Variables"]
    env_queues = {next(iter(refs(v))) for k, v in env.items() if k.startswith("QUEUE_URL_")}
    role = R[f"{fid}Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    sendable, readable = set(), set()
    consumed = None
    for ev in p.get("Events", {}).values():
        if ev["Type"] == "SQS":
            consumed = next(iter(refs(ev["Properties"]["Queue"])))
            mc = ev["Properties"].get("ScalingConfig", {}).get("MaximumConcurrency", 0)
            if mc < 2:
                bad.append(f"{fid}: SQS event without ScalingConfig.MaximumConcurrency >= 2")
            vis = R[consumed]["Properties"]["VisibilityTimeout"]
            if vis < 6 * p["Timeout"]:
                bad.append(f"{fid}: {consumed} visibility {vis} s < 6 x timeout {p['Timeout']} s")
    for st in role:
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if "sqs:SendMessage" in acts:
            sendable |= {q for q in refs(st["Resource"]) if q.endswith("Queue")}
        if "s3:GetObject" in acts:
            readable |= refs(st["Resource"])
    listable = set()
    for st in role:
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if "s3:ListBucket" in acts:
            listable |= refs(st["Resource"])
    expected = sendable | ({consumed} if consumed else set())
    if env_queues != expected:
        bad.append(f"{fid}: environment queues {sorted(env_queues)} but may send to {sorted(sendable)} (consumes {consumed})")
    for b in readable - listable:
        bad.append(f"{fid}: reads {b} without s3:ListBucket (a missing object would be 403)")
    binary = p["CodeUri"].split("/")[-2]
    src = os.path.join(os.path.dirname(__file__), "..", "..", "functions", binary, "src")
    # The composition root is `compose` in lib.rs (main.rs calls it).
    main = "".join(open(os.path.join(src, f)).read() for f in ("main.rs", "lib.rs") if os.path.exists(os.path.join(src, f)))
    attaches = "with_certificates()" in main
    if "for_step(STEP)" in main:
        # A step function's adapters come from the flow table (`Init::for_step`): its
        # step's `signs` says whether it attaches the key.
        step = re.search(r"pub const STEP: Step = Step::(\w+);", main).group(1)
        snake = re.sub(r"(?<!^)([A-Z])", r"_\1", step).lower()
        spec = next(s for s in FLOW["steps"] if s["step"] == snake)
        attaches = spec["signs"]
    if attaches != ("CERT_KEY_ARN" in env):
        bad.append(f"{fid}: CERT_KEY_ARN in its environment: {'CERT_KEY_ARN' in env}, but its code attaches the key: {attaches}")
    kms = set()
    for st in role:
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        kms |= {a for a in acts if a in ("kms:Sign", "kms:GetPublicKey")}
        if {"kms:Sign", "kms:GetPublicKey"} & set(acts) and "CertificateKey" not in refs(st["Resource"]):
            bad.append(f"{fid}: a certificate-key grant that does not name the certificate key")
    want = set()
    if attaches:
        want = {"kms:Sign"} if consumed else {"kms:GetPublicKey"}
    if kms != want:
        bad.append(f"{fid}: certificate key actions {sorted(kms)}, expected {sorted(want)}")

for rid, r in R.items():
    if r["Type"] == "AWS::S3::Bucket":
        name = r["Properties"]["BucketName"]["Fn::Sub"]
        longest = name.replace("${Stage}", "x" * 16).replace("${AWS::AccountId}", "1" * 12).replace("${AWS::Region}", "cn-northwest-1")
        if len(longest) > 63:
            bad.append(f"{rid}: bucket name can reach {len(longest)} characters")
key = R["Key"]
if key.get("DeletionPolicy") != "Retain" or key.get("UpdateReplacePolicy") != "Retain":
    bad.append("Key: not retained (the data it encrypts is)")
ck = R["CertificateKey"]
if ck.get("DeletionPolicy") != "Retain" or ck.get("UpdateReplacePolicy") != "Retain":
    bad.append("CertificateKey: not retained (certificates it signed must stay verifiable)")
if ck["Properties"].get("KeySpec") != "ECC_NIST_P256" or ck["Properties"].get("KeyUsage") != "SIGN_VERIFY":
    bad.append("CertificateKey: not an ECC_NIST_P256 signing key (JWS ES256)")
lock = R["ArchiveBucket"]["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
if "Fn::If" not in lock or lock["Fn::If"][0] != "IsProd" or lock["Fn::If"][2].get("Mode") != "GOVERNANCE":
    bad.append("ArchiveBucket: COMPLIANCE object lock outside prod")
rule = t.get("Rules", {}).get("ProdUsesRealDataSharing", {})
asserted = json.dumps(rule.get("Assertions", []))
if "DataSharingBaseUrl" not in asserted or "DataSharingSecretArn" not in asserted or "PublicBaseUrl" not in asserted:
    bad.append("Rules: a stack on real data is not refused without data sharing and its public domain")
if json.dumps(rule.get("RuleCondition")) != json.dumps({"Fn::Equals": [{"Ref": "UseFixture"}, "false"]}):
    bad.append("Rules: the data-sharing guard must follow UseFixture, not the stage's name")

# CORS with several origins, as `sam deploy` translates it: the SAM translator resolves a
# list parameter to its comma-joined string, so the HTTP API's allowOrigins must split
# it again (a single string "https://a,https://b" would allow neither origin).
try:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.translator.transform import transform

    class _NoManaged:
        def load(self):
            return {}
    sam = yaml.load(open(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"), Loader=Loader)
    for r in sam["Resources"].values():
        if r["Type"] == "AWS::Serverless::Function":
            r["Properties"]["CodeUri"] = "s3://artifacts/f.zip"
    two = "https://a.example.gov.cn,https://b.example.gov.cn"
    out = transform(sam, {"Stage": "t", "JwtIssuer": "https://i", "JwtAudience": "a", "AllowedOrigins": two,
                          "UseFixture": "true"}, _NoManaged())
    cors = out["Resources"]["HttpApi"]["Properties"]["Body"]["x-amazon-apigateway-cors"]["Fn::If"][1]["allowOrigins"]
    if cors != {"Fn::Split": [",", two]} and cors != two.split(","):
        bad.append(f"HttpApi: two allowed origins translate to {json.dumps(cors)}, not a list of two")
except ImportError:
    bad.append("check_template.py needs aws-sam-translator (the test venv)")

for b in bad:
    print(b)
sys.exit(1 if bad else 0)
