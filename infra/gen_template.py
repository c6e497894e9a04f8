"""Writes infra/template.yaml (AWS SAM). Edit here, run `python3 infra/gen_template.py`
(any Python 3 with PyYAML); a test checks the committed template is this script's output.

Design: see infra/README.md. One least-privilege role per function; one SQS queue + DLQ
per function that consumes a queue; one DynamoDB table; two S3 buckets; one KMS key for
the data, one (asymmetric) that signs certificates."""
import json, os, sys, yaml

# The flow's names come from the domain's table (`onething flow --json`, committed as
# infra/flow.json; a test checks the file is that command's output).
FLOW = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "flow.json")))
# The API's routes and who may call them, as `onething routes --json` prints the API's
# route table (infra/routes.json; a test checks the file is that command's output).
ROUTES = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "routes.json")))["routes"]
QUEUES = FLOW["queues"]
STEP_QUEUES = FLOW["step_queues"]
# Seconds and MB per function, from what it does: acceptance asks data sharing up to five
# times (5 s each); archive copies materials; the monitor sweeps; the rest write a case.
SIZES = {"api": (29, 256), "accept": (40, 256), "archive": (120, 512), "sla-monitor": (300, 512), "notify": (15, 128), "relay": (30, 128),
         # render parses a 5 MB font and subsets it for up to six PDFs.
         "render": (60, 512)}
def size(binary): return SIZES.get(binary, (20, 256))
# A queue's visibility timeout: six times its consumer's timeout (AWS's advice for SQS
# event sources), so a batch is never redelivered while it still runs.
def visibility(q): return 6 * size(q)[0] + window(q)
# How long an event source gathers a batch: the render queue waits, so that the four
# rendering requests of a case handled automatically (one per step that issues
# certificates, within seconds) arrive in one batch and the case is read once.
WINDOWS = {"render": 10}
def window(q): return WINDOWS.get(q, 0)
# Event source concurrency: pollers per queue (at least 2), instead of reserved
# concurrency, which a new account's quota (10 units) cannot grant.
MAX_CONCURRENCY = 5

def camel(q): return "".join(w.capitalize() for w in q.split("-"))
def key(q): return q.replace("-", "_").upper()
def ref(x): return {"Ref": x}
def att(x, a): return {"Fn::GetAtt": [x, a]}
def sub(s): return {"Fn::Sub": s}

# The steps whose results are documents sign their certificates (kms:Sign on the
# certificate key); the API publishes the public keys and verifies (kms:GetPublicKey).
CERT_ISSUERS = [s["queue"] for s in FLOW["steps"] if s["signs"]]
# The steps that gather the family's records hold the data-sharing platform's key.
RECORD_GATHERERS = [s["queue"] for s in FLOW["steps"] if s["gathers_records"]]
# The functions that take numbers (certificates, ID sequence, household numbers, the
# hand-over numbers of an officer's rejection in the API): they read the counters and
# their owners with one BatchGetItem.
ALLOCATORS = ["api"] + [s["queue"] for s in FLOW["steps"] if s["takes_numbers"]]
# function logical id → (binary, consumed queue or None, queues it sends to, extra).
# A commit's messages go out through the table's stream (the relay function), so the
# functions that only commit send nothing themselves; notify sends the archive message
# and the SLA monitor re-sends lost notifications and archives.
FUNCTIONS = {
    "ApiFunction": ("api", None, [], {"s3_materials": "rw", "audit": True, "cert": "verify", "documents": "r", "secret": True}),
    # A step that gathers records writes its lookups to the audit trail.
    **{f"{camel(q)}Function": (q, q, [], {"secret": q in RECORD_GATHERERS, "audit": q in RECORD_GATHERERS, "cert": "sign" if q in CERT_ISSUERS else None}) for q in STEP_QUEUES},
    "NotifyFunction": ("notify", "notify", ["archive"], {}),
    "ArchiveFunction": ("archive", "archive", [], {"s3_materials": "r", "s3_archive": "rw", "documents": "r"}),
    # Certificates' PDFs: the font does not fit the other functions' packages.
    "RenderFunction": ("render", "render", [], {"cert": "sign", "documents": "rw"}),
    "SlaMonitorFunction": ("sla-monitor", None, ["notify", "archive"], {"schedule": True}),
    "RelayFunction": ("relay", None, STEP_QUEUES + ["notify", "render"], {"stream": True}),
}

# Partition keys only the API writes (`shared/aws/src/dynamo/mod.rs`'s item table).
API_ONLY_KEYS = ["BIRTH#*", "IDEM#*", "RESP#*", "BREAKGLASS#*", "CATALOGUE"]

def checkov_skip(*pairs):
    return {"checkov": {"skip": [{"id": i, "comment": c} for i, c in pairs]}}

r = {}
P = {
    "Stage": {"Type": "String", "Default": "prod", "AllowedPattern": "^[a-z0-9-]{1,16}$", "Description": "Name suffix for this deployment"},
    "JwtIssuer": {"Type": "String", "Description": "Issuer (iss) of the portal's JWTs, e.g. https://auth.zjzwfw.gov.cn"},
    "JwtAudience": {"Type": "String", "Description": "Audience (aud) of the portal's JWTs"},
    "DataSharingBaseUrl": {"Type": "String", "Default": "", "Description": "Base URL of the provincial data-sharing platform (required unless UseFixture is true)"},
    "UseFixture": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                   "Description": "true: the built-in data-sharing fixture of sample people instead of the platform (test stacks only; refused on prod)"},
    "PublicBaseUrl": {"Type": "String", "Default": "", "AllowedPattern": "^(https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?)?$",
                      "Description": "The service's public https address on its own (ICP-filed) domain, e.g. https://bsyjs.zjzwfw.gov.cn: every certificate's verify_url and QR code is built on it and kept for 30 years (required unless UseFixture is true)"},
    "DataSharingSecretArn": {"Type": "String", "Default": "", "Description": "Secrets Manager secret with {\"api_key\": ...} for data sharing"},
    "ManualDepartments": {"Type": "String", "Default": "", "Description": "Comma-separated departments on manual review (hospital,police,medical_insurance,hrss,service_center)"},
    "AlarmEmail": {"Type": "String", "Default": "", "Description": "Optional e-mail subscribed to the alarm topic"},
    "LogRetentionDays": {"Type": "Number", "Default": 365, "AllowedValues": [30, 90, 180, 365, 731, 1827, 3653]},
    "EdgeWebAclArn": {"Type": "String", "Default": "",
                      "Description": "Optional: the WebAclArn of infra/waf.yaml (deployed in us-east-1); puts a CloudFront distribution with that AWS WAF web ACL (per-IP and per-caller rate limits) in front of the API"},
    "AuditRetentionDays": {"Type": "Number", "Default": 1827, "AllowedValues": [365, 731, 1827, 3653],
                           "Description": "Retention of the personal-data audit trail (its own log group)"},
    "ArchiveRetentionYears": {"Type": "Number", "Default": 30, "MinValue": 1,
                              "Description": "Object Lock retention of archives in the prod stage (years, COMPLIANCE mode: IRREVERSIBLE, nobody can delete an archive or the bucket before it ends, not even the account root). Other stages lock for 1 day in GOVERNANCE mode"},
    "CertificateKeyArn": {"Type": "String", "Default": "",
                          "Description": "Optional: an existing AWS KMS key (KeySpec ECC_NIST_P256, KeyUsage SIGN_VERIFY) that signs electronic certificates; empty: the stack creates one (retained when the stack is deleted)"},
    "RetiredCertificateKeyArns": {"Type": "CommaDelimitedList", "Default": "",
                                  "Description": "After a key rotation: the earlier certificate keys, still published so the certificates they signed verify; never used to sign"},
    "AllowedOrigins": {"Type": "CommaDelimitedList", "Default": "",
                       "Description": "Browser origins allowed to call the API and upload materials (CORS), e.g. https://www.zjzwfw.gov.cn; empty: none"},
}
C = {
    "IsProd": {"Fn::Equals": [ref("Stage"), "prod"]},
    "HasOrigins": {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", ref("AllowedOrigins")]}, ""]}]},
    "HasSecret": {"Fn::Not": [{"Fn::Equals": [ref("DataSharingSecretArn"), ""]}]},
    "HasPublicBaseUrl": {"Fn::Not": [{"Fn::Equals": [ref("PublicBaseUrl"), ""]}]},
    "HasEdge": {"Fn::Not": [{"Fn::Equals": [ref("EdgeWebAclArn"), ""]}]},
    "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [ref("AlarmEmail"), ""]}]},
    "CreateCertificateKey": {"Fn::Equals": [ref("CertificateKeyArn"), ""]},
    "HasRetiredCertificateKeys": {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", ref("RetiredCertificateKeyArns")]}, ""]}]},
}
CERT_KEY = {"Fn::If": ["CreateCertificateKey", att("CertificateKey", "Arn"), ref("CertificateKeyArn")]}
RETIRED_CERT_KEYS = {"Fn::Join": [",", ref("RetiredCertificateKeyArns")]}

r["Key"] = {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
    "Description": "onething: cases, materials, archives, queues, logs",
    "EnableKeyRotation": True,
    "KeyPolicy": {"Version": "2012-10-17", "Statement": [
        {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": sub("logs.${AWS::Region}.${AWS::URLSuffix}")},
         "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"], "Resource": "*"},
        {"Sid": "Alarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
    ]}}}
# The certificate signing key: asymmetric, its private part never leaves KMS. Asymmetric
# keys cannot rotate automatically: a rotation is a new key, the old one named in
# RetiredCertificateKeyArns (still published for verification). Retained like the data.
r["CertificateKey"] = {"Type": "AWS::KMS::Key", "Condition": "CreateCertificateKey", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
    "Metadata": checkov_skip(("CKV_AWS_7", "Asymmetric signing keys have no automatic rotation in KMS; rotation is a new key, the old one kept for verification (RetiredCertificateKeyArns)")),
    "Properties": {
    "Description": "onething: signs electronic certificates (JWS ES256)",
    "KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY",
    "KeyPolicy": {"Version": "2012-10-17", "Statement": [
        {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")}, "Action": "kms:*", "Resource": "*"},
    ]}}}
r["KeyAlias"] = {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": sub("alias/onething-${Stage}"), "TargetKeyId": ref("Key")}}

attrs = [{"AttributeName": n, "AttributeType": t} for n, t in
         [("pk", "S"), ("sk", "S"), ("gsi1pk", "S"), ("gsi1sk", "N"), ("gsi2pk", "S"), ("gsi2sk", "S"), ("gsi3pk", "S"), ("gsi3sk", "N"), ("gsi4pk", "S"), ("gsi4sk", "S"), ("gsi5pk", "S"), ("gsi5sk", "S"), ("gsi6pk", "S"), ("gsi6sk", "S")]]
# Projected read models (see shared/aws/src/dynamo/mod.rs): lists never read cases one by one.
projected = {2: ["task"], 3: ["queue", "body", "status"], 4: ["row", "submitted"], 5: ["entry"], 6: ["escalations"]}
gsis = [{"IndexName": f"gsi{i}", "KeySchema": [{"AttributeName": f"gsi{i}pk", "KeyType": "HASH"}, {"AttributeName": f"gsi{i}sk", "KeyType": "RANGE"}],
         "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": projected[i]} if i in projected
                       else {"ProjectionType": "KEYS_ONLY"}} for i in range(1, 7)]
r["Table"] = {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
    "TableName": sub("onething-${Stage}"),
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": attrs,
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "GlobalSecondaryIndexes": gsis,
    # Kept POST answers (RESP# items) expire; nothing else carries expires_at.
    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
    # Each case commit's messages ride in its item (`outbox`); the relay function sends them.
    "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": ref("Key")},
    "DeletionProtectionEnabled": True,
}}

def bucket(name, versioned, lock, logs_to):
    props = {
        # At most 63 characters: 9 + name (<= 9) + 16 (Stage) + 12 (account) + 14 (region) + 3.
        "BucketName": sub(f"onething-{name}-${{Stage}}-${{AWS::AccountId}}-${{AWS::Region}}"),
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": ref("Key")}, "BucketKeyEnabled": True}]},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "VersioningConfiguration": {"Status": "Enabled" if versioned else "Suspended"},
    }
    if logs_to:
        props["LoggingConfiguration"] = {"DestinationBucketName": ref(logs_to), "LogFilePrefix": f"{name}/"}
    if lock:
        props["ObjectLockEnabled"] = True
        props["ObjectLockConfiguration"] = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Fn::If": ["IsProd",
            {"Mode": "COMPLIANCE", "Years": ref("ArchiveRetentionYears")}, {"Mode": "GOVERNANCE", "Days": 1}]}}}
    return props

def tls_only(bucket_id):
    return {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": ref(bucket_id), "PolicyDocument": {"Version": "2012-10-17", "Statement": [
        {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [att(bucket_id, "Arn"), {"Fn::Join": ["", [att(bucket_id, "Arn"), "/*"]]}],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}}

r["AccessLogBucket"] = {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
    "Metadata": checkov_skip(("CKV_AWS_18", "This is the access-log bucket itself; logging it into itself would loop")),
    "Properties": {**bucket("logs", True, False, None),
                   "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                   "LifecycleConfiguration": {"Rules": [{"Id": "expire", "Status": "Enabled", "ExpirationInDays": 731, "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}}}
r["AccessLogBucketPolicy"] = tls_only("AccessLogBucket")
r["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"].append(
    {"Sid": "S3ServerAccessLogs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
     "Resource": {"Fn::Join": ["", [att("AccessLogBucket", "Arn"), "/*"]]}, "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}})
r["MaterialsBucket"] = {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
    "Properties": {**bucket("materials", True, False, "AccessLogBucket"),
                   "LifecycleConfiguration": {"Rules": [{"Id": "abort-uploads", "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                                                         "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}}}
r["MaterialsBucket"]["Properties"]["CorsConfiguration"] = {"Fn::If": ["HasOrigins", {"CorsRules": [
    {"AllowedOrigins": ref("AllowedOrigins"), "AllowedMethods": ["PUT", "GET"], "AllowedHeaders": ["*"],
     "ExposedHeaders": ["ETag"], "MaxAge": 600}]}, ref("AWS::NoValue")]}
r["MaterialsBucketPolicy"] = tls_only("MaterialsBucket")
r["ArchiveBucket"] = {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
    "Properties": bucket("archives", True, True, "AccessLogBucket")}
r["ArchiveBucketPolicy"] = tls_only("ArchiveBucket")
# S3 checks, when a bucket's logging is set, that the target's policy lets the logging
# service write: the log bucket's policy must exist first.
for b in ("MaterialsBucket", "ArchiveBucket"):
    r[b]["DependsOn"] = ["AccessLogBucketPolicy"]

r["AlarmTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": sub("onething-alarms-${Stage}"), "KmsMasterKeyId": ref("Key")}}
r["AlarmEmailSubscription"] = {"Type": "AWS::SNS::Subscription", "Condition": "HasAlarmEmail",
    "Properties": {"TopicArn": ref("AlarmTopic"), "Protocol": "email", "Endpoint": ref("AlarmEmail")}}

for q in QUEUES:
    c = camel(q)
    r[f"{c}Dlq"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": sub(f"onething-{q}-dlq-${{Stage}}"),
        "MessageRetentionPeriod": 1209600, "KmsMasterKeyId": ref("Key")}}
    r[f"{c}Queue"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": sub(f"onething-{q}-${{Stage}}"),
        "VisibilityTimeout": visibility(q), "MessageRetentionPeriod": 1209600, "KmsMasterKeyId": ref("Key"),
        "RedrivePolicy": {"deadLetterTargetArn": att(f"{c}Dlq", "Arn"), "maxReceiveCount": 5}}}
    r[f"{c}DlqDepthAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": f"Messages dead-lettered from {q}: inspect with `onething dlq show {q}`, fix, then redrive",
        "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": [{"Name": "QueueName", "Value": att(f"{c}Dlq", "QueueName")}],
        "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching", "AlarmActions": [ref("AlarmTopic")]}}
    r[f"{c}AgeAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": f"Oldest message in {q} is older than 5 minutes: the {q} function is failing or throttled",
        "Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage", "Dimensions": [{"Name": "QueueName", "Value": att(f"{c}Queue", "QueueName")}],
        "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 5, "Threshold": 300, "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching", "AlarmActions": [ref("AlarmTopic")]}}
r["OverdueStepsAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
    "AlarmDescription": "Steps past their time limit (published by sla-monitor as onething/OverdueSteps, embedded metric format)",
    "Namespace": "onething", "MetricName": "OverdueSteps", "Dimensions": [{"Name": "Stage", "Value": ref("Stage")}],
    "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching", "AlarmActions": [ref("AlarmTopic")]}}

r["SlaFailuresAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
    "AlarmDescription": "The SLA monitor could not handle some cases (published by sla-monitor as onething/SlaFailures): see its log",
    "Namespace": "onething", "MetricName": "SlaFailures", "Dimensions": [{"Name": "Stage", "Value": ref("Stage")}],
    "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching", "AlarmActions": [ref("AlarmTopic")]}}

# The relay's failures: a batch it could not relay after its retries (the stream record's
# position, not its content; the SLA monitor re-sends what a lost message left undone).
r["RelayFailures"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": sub("onething-relay-failures-${Stage}"),
    "MessageRetentionPeriod": 1209600, "KmsMasterKeyId": ref("Key")}}
r["RelayFailuresAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
    "AlarmDescription": "The relay gave up on stream records: some committed messages were not sent (the SLA monitor re-sends stuck steps; read the failure records)",
    "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": [{"Name": "QueueName", "Value": att("RelayFailures", "QueueName")}],
    "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching", "AlarmActions": [ref("AlarmTopic")]}}
r["RelayLagAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
    "AlarmDescription": "The relay is more than a minute behind the table's stream: committed messages wait",
    "Namespace": "AWS/Lambda", "MetricName": "IteratorAge", "Dimensions": [{"Name": "FunctionName", "Value": ref("RelayFunction")}],
    "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 3, "Threshold": 60000, "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching", "AlarmActions": [ref("AlarmTopic")]}}
# The SLA monitor: a heartbeat (a dead schedule or function is noticed), its errors, and a
# run nearing its timeout (it stops at its time budget and the next run goes on).
r["SlaHeartbeatAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
    "AlarmDescription": "The SLA monitor has not run for 15 minutes (it runs every 5): deadlines are not being watched",
    "Namespace": "AWS/Lambda", "MetricName": "Invocations", "Dimensions": [{"Name": "FunctionName", "Value": ref("SlaMonitorFunction")}],
    "Statistic": "Sum", "Period": 900, "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "LessThanThreshold",
    "TreatMissingData": "breaching", "AlarmActions": [ref("AlarmTopic")]}}
r["SlaErrorsAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
    "AlarmDescription": "The SLA monitor failed (see its log)",
    "Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": ref("SlaMonitorFunction")}],
    "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching", "AlarmActions": [ref("AlarmTopic")]}}
r["SlaDurationAlarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
    "AlarmDescription": "An SLA monitor run took over 80% of its timeout: it may be stopping at its time budget with cases still due",
    "Namespace": "AWS/Lambda", "MetricName": "Duration", "Dimensions": [{"Name": "FunctionName", "Value": ref("SlaMonitorFunction")}],
    "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "Threshold": size("sla-monitor")[0] * 800, "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching", "AlarmActions": [ref("AlarmTopic")]}}

table_arns = [att("Table", "Arn"), {"Fn::Join": ["", [att("Table", "Arn"), "/index/*"]]}]
# A log group's streams, written out: a log group's `Arn` attribute ends with `:*` on AWS
# but not in every emulator, and the streams are what CreateLogStream and PutLogEvents
# name.
def log_streams(group): return sub(f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{{group}}}:*")
def role(fid, consumes, sends, extra):
    stmts = [
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": log_streams(f"{fid}Logs")},
        {"Sid": "Key", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": att("Key", "Arn")},
    ]
    if extra.get("stream"):
        stmts.append({"Sid": "Stream", "Effect": "Allow", "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
                      "Resource": att("Table", "StreamArn")})
        stmts.append({"Sid": "Failures", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": att("RelayFailures", "Arn")})
        # A message that cannot be sent is parked whole in its queue's DLQ (replayable).
        stmts.append({"Sid": "ParkedMessages", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [att(f"{camel(q)}Dlq", "Arn") for q in sends]})
    else:
        acts = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"]
        if binary in ALLOCATORS:
            # The number allocator reads counters and owners in one BatchGetItem.
            acts.append("dynamodb:BatchGetItem")
        stmts.insert(1, {"Sid": "Table", "Effect": "Allow", "Action": acts, "Resource": table_arns})
        if binary != "api":
            # Items only the API writes (a birth record a hospital filed, an idempotency
            # key, a kept answer): no other function may write them, whatever its code does.
            stmts.insert(2, {"Sid": "OnlyTheApiWrites", "Effect": "Deny",
                             "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"],
                             "Resource": table_arns,
                             "Condition": {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": API_ONLY_KEYS}}})
        else:
            # The catalogue is the operator's (`onething catalogue apply` with ops
            # credentials): the API reads it for every new case and never writes it.
            stmts.insert(2, {"Sid": "CatalogueIsTheOperators", "Effect": "Deny",
                             "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"],
                             "Resource": table_arns,
                             "Condition": {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["CATALOGUE"]}}})
    if consumes:
        c = camel(consumes)
        stmts.append({"Sid": "OwnQueue", "Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
                      "Resource": att(f"{c}Queue", "Arn")})
    if sends:
        stmts.append({"Sid": "NextQueues", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [att(f"{camel(q)}Queue", "Arn") for q in sends]})
    # Without ListBucket S3 answers 403, not 404, for a missing object. The check S3
    # makes for a GetObject carries no s3:prefix, so the prefix is a condition only where
    # a request names one (IfExists): a plain StringLike would refuse it. One statement
    # per bucket, listing the prefixes the role reads.
    listed = {}
    m = extra.get("s3_materials")
    if m:
        acts = ["s3:GetObject"] + (["s3:PutObject"] if m == "rw" else [])
        stmts.append({"Sid": "Materials", "Effect": "Allow", "Action": acts, "Resource": {"Fn::Join": ["", [att("MaterialsBucket", "Arn"), "/materials/*"]]}})
        listed.setdefault("MaterialsBucket", []).append("materials/*")
    d = extra.get("documents")
    if d:
        acts = ["s3:GetObject"] + (["s3:PutObject"] if d == "rw" else [])
        stmts.append({"Sid": "CertificateDocuments", "Effect": "Allow", "Action": acts, "Resource": {"Fn::Join": ["", [att("MaterialsBucket", "Arn"), "/certificates/*"]]}})
        listed.setdefault("MaterialsBucket", []).append("certificates/*")
    if extra.get("s3_archive"):
        stmts.append({"Sid": "Archive", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": {"Fn::Join": ["", [att("ArchiveBucket", "Arn"), "/archives/*"]]}})
        listed.setdefault("ArchiveBucket", []).append("archives/*")
    for bucket, prefixes in listed.items():
        stmts.append({"Sid": bucket.replace("Bucket", "List"), "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": att(bucket, "Arn"),
                      "Condition": {"StringLikeIfExists": {"s3:prefix": prefixes}}})
    if extra.get("audit"):
        stmts.append({"Sid": "AuditTrail", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": log_streams("AuditLogs")})
    if extra.get("cert") == "sign":
        stmts.append({"Sid": "SignCertificates", "Effect": "Allow", "Action": ["kms:Sign"], "Resource": CERT_KEY})
    if extra.get("cert") == "verify":
        stmts.append({"Sid": "CertificateKeys", "Effect": "Allow", "Action": ["kms:GetPublicKey"],
                      "Resource": {"Fn::If": ["HasRetiredCertificateKeys", {"Fn::Split": [",", {"Fn::Join": [",", [CERT_KEY, RETIRED_CERT_KEYS]]}]}, [CERT_KEY]]}})
    if binary == "api":
        # Behind the edge the API answers only requests carrying the edge's origin secret.
        stmts.append({"Sid": "EdgeOriginSecret", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                      "Resource": {"Fn::If": ["HasEdge", ref("EdgeOriginSecret"), sub("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:onething-none")]}})
    if extra.get("secret"):
        stmts.append({"Sid": "DataSharingSecret", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                      "Resource": {"Fn::If": ["HasSecret", ref("DataSharingSecretArn"), sub("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:onething-none")]}})
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "least-privilege", "PolicyDocument": {"Version": "2012-10-17", "Statement": stmts}}]}}

fn_skip = checkov_skip(
    ("CKV_AWS_116", "SQS-triggered functions use their queue's DLQ (redrive policy, maxReceiveCount 5); API and schedule failures are retried by the caller or the next tick"),
    ("CKV_AWS_117", "No VPC: the functions reach only AWS APIs over TLS and the data-sharing platform's public endpoint"),
    ("CKV_AWS_173", "Environment variables hold only resource names and URLs, no secrets (the data-sharing key is read from Secrets Manager)"),
    ("CKV_AWS_115", "Concurrency is bounded per SQS event source (ScalingConfig.MaximumConcurrency) and by the HTTP API's throttling; reserved concurrency would fail on a new account's quota"),
)
for fid, (binary, consumes, sends, extra) in FUNCTIONS.items():
    env = {"ONETHING_BACKEND": "aws", "TABLE_NAME": ref("Table"), "MATERIALS_BUCKET": ref("MaterialsBucket"), "ARCHIVE_BUCKET": ref("ArchiveBucket"),
           "DATA_SHARING_URL": ref("DataSharingBaseUrl"), "DATA_SHARING_SECRET_ARN": ref("DataSharingSecretArn"), "DATA_SHARING_FIXTURE": ref("UseFixture"),
           "ONETHING_MANUAL": ref("ManualDepartments"),
           "ONETHING_STAGE": ref("Stage"), "RUST_LOG": "info"}
    for q in sorted(set(sends + ([consumes] if consumes else []))):
        env[f"QUEUE_URL_{key(q)}"] = ref(f"{camel(q)}Queue")
    if consumes:
        env[f"DLQ_URL_{key(consumes)}"] = ref(f"{camel(consumes)}Dlq")
    if extra.get("stream"):
        for q in sends:
            env[f"DLQ_URL_{key(q)}"] = ref(f"{camel(q)}Dlq")
    if extra.get("audit"):
        env["AUDIT_LOG_GROUP"] = ref("AuditLogs")
    if extra.get("cert"):
        env["CERT_KEY_ARN"] = CERT_KEY
    if extra.get("cert") == "verify":
        env["CERT_RETIRED_KEY_ARNS"] = RETIRED_CERT_KEYS
    if extra.get("documents") == "rw":
        # Where the PDFs' QR codes point: the public domain; a test stack without one, the
        # edge when there is one, else the HTTP API.
        env["ONETHING_PUBLIC_URL"] = {"Fn::If": ["HasPublicBaseUrl", ref("PublicBaseUrl"), {"Fn::If": ["HasEdge", sub("https://${Edge.DomainName}"),
                                     sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}")]}]}
    elif binary == "api":
        # The verify_url the API lists: the public domain (the API's own address would be
        # a cycle; a test stack without a domain answers with the request's address).
        env["ONETHING_PUBLIC_URL"] = ref("PublicBaseUrl")
        env["EDGE_ORIGIN_SECRET_ARN"] = {"Fn::If": ["HasEdge", ref("EdgeOriginSecret"), ""]}
    props = {"FunctionName": sub(f"onething-{binary}-${{Stage}}"), "CodeUri": f"../target/lambda/{binary}/bootstrap.zip", "Handler": "bootstrap", "Runtime": "provided.al2023",
             "Architectures": ["arm64"], "MemorySize": size(binary)[1], "Timeout": size(binary)[0], "Role": att(f"{fid}Role", "Arn"),
             "KmsKeyArn": att("Key", "Arn"),
             "LoggingConfig": {"LogFormat": "JSON", "LogGroup": ref(f"{fid}Logs")},
             "Environment": {"Variables": env}}
    events = {}
    if consumes:
        events["Queue"] = {"Type": "SQS", "Properties": {"Queue": att(f"{camel(consumes)}Queue", "Arn"), "BatchSize": 10,
                                                          "MaximumBatchingWindowInSeconds": window(consumes), "FunctionResponseTypes": ["ReportBatchItemFailures"],
                                                          "ScalingConfig": {"MaximumConcurrency": MAX_CONCURRENCY}}}
    if extra.get("stream"):
        events["Stream"] = {"Type": "DynamoDB", "Properties": {"Stream": att("Table", "StreamArn"), "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 100, "MaximumBatchingWindowInSeconds": 0, "BisectBatchOnFunctionError": True,
            # Retried until it succeeds (the relay fails a batch only when SQS itself fails:
            # a message it cannot send is parked in its queue's DLQ and the batch goes on).
            "MaximumRetryAttempts": -1,
            # Order holds per case (partition key) at any parallelization factor.
            "ParallelizationFactor": 2, "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "FilterCriteria": {"Filters": [{"Pattern": json.dumps({"dynamodb": {"NewImage": {"outbox": {"S": [{"exists": True}]}}}})}]},
            "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": att("RelayFailures", "Arn")}}}}
    if extra.get("schedule"):
        # No retries: a failed run is followed by the next one five minutes later, and a
        # retried run would overlap it (EventBridge's delivery and Lambda's asynchronous
        # invocation each retry by default).
        events["Every5Minutes"] = {"Type": "Schedule", "Properties": {"Schedule": "rate(5 minutes)", "Enabled": True,
                                                                        "RetryPolicy": {"MaximumRetryAttempts": 0}}}
        props["EventInvokeConfig"] = {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 240}
    if binary == "api":
        events["Api"] = {"Type": "HttpApi", "Properties": {"ApiId": ref("HttpApi"), "Path": "/{proxy+}", "Method": "ANY"}}
        public = [r for r in ROUTES if r["who"] == "public"]
        for i, pub in enumerate(public):
            events[f"Public{i}"] = {"Type": "HttpApi", "Properties": {"ApiId": ref("HttpApi"), "Path": pub["path"], "Method": pub["method"], "Auth": {"Authorizer": "NONE"}}}
    if events:
        props["Events"] = events
    r[f"{fid}Logs"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": sub(f"/onething/${{Stage}}/{binary}"),
                                                                    "RetentionInDays": ref("LogRetentionDays"), "KmsKeyId": att("Key", "Arn")}}
    r[f"{fid}Role"] = role(fid, consumes, sends, extra)
    # The code: the zip infra/scripts/build-lambdas made (one package per build, so each
    # function links only the adapters it uses); `sam deploy` uploads it as it is.
    r[fid] = {"Type": "AWS::Serverless::Function", "Metadata": {**fn_skip}, "Properties": props}

# The personal-data audit trail (PIPL): its own group, kept longer than the application logs.
r["AuditLogs"] = {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                  "Properties": {"LogGroupName": sub("/onething/${Stage}/audit"),
                                 "RetentionInDays": ref("AuditRetentionDays"), "KmsKeyId": att("Key", "Arn")}}
r["ApiAccessLogs"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": sub("/onething/${Stage}/http-api"), "RetentionInDays": ref("LogRetentionDays"), "KmsKeyId": att("Key", "Arn")}}
r["HttpApi"] = {"Type": "AWS::Serverless::HttpApi", "Properties": {
    "StageName": "$default",
    "Auth": {"DefaultAuthorizer": "Jwt", "Authorizers": {"Jwt": {"IdentitySource": "$request.header.Authorization",
             "JwtConfiguration": {"issuer": ref("JwtIssuer"), "audience": [ref("JwtAudience")]}}}},
    "AccessLogSettings": {"DestinationArn": att("ApiAccessLogs", "Arn"),
                          "Format": '{"requestId":"$context.requestId","routeKey":"$context.routeKey","status":"$context.status","latency":"$context.responseLatency","ip":"$context.identity.sourceIp"}'},
    "DefaultRouteSettings": {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100},
    # Preflights are answered by API Gateway itself (never the JWT authorizer).
    "CorsConfiguration": {"Fn::If": ["HasOrigins", {"AllowOrigins": {"Fn::Split": [",", ref("AllowedOrigins")]},
        "AllowHeaders": ["authorization", "content-type", "idempotency-key", "x-request-id"],
        "AllowMethods": ["GET", "POST", "PUT", "DELETE", "OPTIONS"], "ExposeHeaders": ["x-request-id", "retry-after", "idempotent-replayed"],
        "MaxAge": 600}, ref("AWS::NoValue")]}}}

# The edge's origin secret: CloudFront adds it to every request it forwards, and the API
# refuses requests without it, so the HTTP API's own address (which CloudFront needs as
# its origin) does not bypass the WAF.
r["EdgeOriginSecret"] = {"Type": "AWS::SecretsManager::Secret", "Condition": "HasEdge", "Metadata": checkov_skip(
    ("CKV2_AWS_57", "Rotating it needs CloudFront and the API changed together; rotate by updating the stack (a new secret value)")),
    "Properties": {"Description": "onething: the header CloudFront adds so that the API answers only requests through the edge",
                   "KmsKeyId": ref("Key"),
                   "GenerateSecretString": {"PasswordLength": 48, "ExcludePunctuation": True}}}
# The optional edge: CloudFront with the AWS WAF web ACL of infra/waf.yaml, nothing cached.
r["Edge"] = {"Type": "AWS::CloudFront::Distribution", "Condition": "HasEdge", "Metadata": checkov_skip(
    ("CKV_AWS_68", "WAF is the EdgeWebAclArn parameter: the distribution exists only when it is set (condition HasEdge)"),
    ("CKV_AWS_86", "Every request is logged by AWS WAF (Authorization redacted) and by the HTTP API access log"),
    ("CKV_AWS_174", "The default CloudFront certificate; an operator's custom domain sets TLSv1.2_2021"),
    ("CKV_AWS_305", "An API, not a website: there is no root object"),
    ("CKV_AWS_310", "One origin, the regional HTTP API"),
    ("CKV_AWS_374", "Citizens may apply from abroad; no geo restriction"),
), "Properties": {"DistributionConfig": {
    "Enabled": True, "Comment": "onething API behind AWS WAF", "HttpVersion": "http2", "PriceClass": "PriceClass_All",
    "WebACLId": ref("EdgeWebAclArn"),
    "Origins": [{"Id": "api", "DomainName": sub("${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"),
                 "OriginCustomHeaders": [{"HeaderName": "x-onething-edge",
                                          "HeaderValue": sub("{{resolve:secretsmanager:${EdgeOriginSecret}:SecretString}}")}],
                 "CustomOriginConfig": {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}}],
    "DefaultCacheBehavior": {"TargetOriginId": "api", "ViewerProtocolPolicy": "https-only", "Compress": True,
                             "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"], "CachedMethods": ["GET", "HEAD"],
                             # Managed policies: CachingDisabled; AllViewerExceptHostHeader.
                             "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
                             "OriginRequestPolicyId": "b689b0a8-53d0-40ab-baf2-68738e2966ac"},
    "ViewerCertificate": {"CloudFrontDefaultCertificate": True}}}}

O = {
    "TableName": {"Value": ref("Table")}, "MaterialsBucket": {"Value": ref("MaterialsBucket")}, "ArchiveBucket": {"Value": ref("ArchiveBucket")},
    "KeyArn": {"Value": att("Key", "Arn")}, "AlarmTopicArn": {"Value": ref("AlarmTopic")},
    "AuditLogGroup": {"Value": ref("AuditLogs")},
    "CertificateKeyArn": {"Value": CERT_KEY}, "RetiredCertificateKeyArns": {"Value": RETIRED_CERT_KEYS},
    "ApiUrl": {"Value": sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}")},
}
O["EdgeUrl"] = {"Condition": "HasEdge", "Value": sub("https://${Edge.DomainName}")}
O["RelayFailuresUrl"] = {"Value": ref("RelayFailures")}
for q in QUEUES:
    O[f"{camel(q)}QueueUrl"] = {"Value": ref(f"{camel(q)}Queue")}
    O[f"{camel(q)}DlqUrl"] = {"Value": ref(f"{camel(q)}Dlq")}
for fid in FUNCTIONS:
    O[f"{fid}Name"] = {"Value": ref(fid)}

# A stack on real data (UseFixture false, the default, whatever its Stage is called)
# needs the data-sharing platform, its key and the public domain; prod never uses the
# fixture.
RULES = {"ProdUsesRealDataSharing": {"RuleCondition": {"Fn::Equals": [ref("UseFixture"), "false"]}, "Assertions": [
    {"Assert": {"Fn::Not": [{"Fn::Equals": [ref("DataSharingBaseUrl"), ""]}]},
     "AssertDescription": "DataSharingBaseUrl is required (the provincial data-sharing platform); only a test stack with UseFixture=true uses the built-in fixture"},
    {"Assert": {"Fn::Not": [{"Fn::Equals": [ref("DataSharingSecretArn"), ""]}]},
     "AssertDescription": "DataSharingSecretArn is required (the platform's API key in Secrets Manager)"},
    {"Assert": {"Fn::Not": [{"Fn::Equals": [ref("PublicBaseUrl"), ""]}]},
     "AssertDescription": "PublicBaseUrl is required: certificates' QR codes are kept for 30 years and must point at the service's own https domain"}]},
    "ProdNeverUsesTheFixture": {"RuleCondition": {"Fn::Equals": [ref("Stage"), "prod"]}, "Assertions": [
    {"Assert": {"Fn::Equals": [ref("UseFixture"), "false"]}, "AssertDescription": "A prod stack never uses the built-in data-sharing fixture"}]}}

doc = {"AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
       "Description": "onething: Zhejiang birth one-thing (出生一件事) joint handling",
       "Parameters": P, "Rules": RULES, "Conditions": C, "Resources": r, "Outputs": O}

class NoAlias(yaml.SafeDumper):
    def ignore_aliases(self, data): return True
text = "# Generated by infra/gen_template.py: edit that script, not this file.\n" + yaml.dump(doc, Dumper=NoAlias, sort_keys=False, allow_unicode=True, width=200)
out = sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"
open(out, "w").write(text)
print("wrote", out)
