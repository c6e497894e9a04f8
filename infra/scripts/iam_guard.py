"""IAM as AWS evaluates it, in front of moto, for requests signed with an assumed role.

moto answers every request whatever the credentials (and its optional IAM enforcement
ignores `Condition` blocks and checks most actions against `*`). AWS does not: each
request is authorized against the caller's identity policies, with the request's
resource ARN and condition keys, and some requests need more than one permission (an
object written to an SSE-KMS bucket also needs `kms:GenerateDataKey` on the bucket's key;
a message sent to an SSE-KMS queue needs `kms:GenerateDataKey` and `kms:Decrypt`). A
missing S3 object answers 404 only to a caller allowed `s3:ListBucket` on the bucket,
403 to everyone else.

This middleware does that for every request signed with credentials that moto's STS
issued by `AssumeRole` (the tests assume each function's role from the deployed stack
and give the function those credentials, as Lambda does). Requests signed with any other
key (the test harness, the deploy script) pass as before. Each authorization is logged;
`GET /_onething/iam` returns the log (the requests, the decision, and for an allowed
request which policy statements allowed it), `POST /_onething/iam/evaluate` evaluates a
request that the Lambda service makes with a function's role (its log writes, its event
source mapping's reads), and `DELETE /_onething/iam` empties the log. `GET /_onething/transactions` lists the keys of
every DynamoDB transaction's items. `POST /_onething/fault` makes a role's
sends to one queue fail (the relay's parking is tested with it).

What is evaluated: the role's inline and attached managed policies (Allow / Deny,
Action / NotAction, Resource / NotResource, Condition with the string, ARN, bool, null,
numeric operators, `...IfExists`, `ForAllValues:` and `ForAnyValue:`; a missing key
fails a condition except for negated operators, `...IfExists`, `Null` and
`ForAllValues:`, as the IAM reference says). Not evaluated: resource policies (the
template's key policies delegate to IAM; its bucket policies only deny insecure
transport, and Lambda always uses TLS), permission boundaries, SCPs, session policies.
"""
import json
import re
import threading
import urllib.parse

ACCOUNT = "123456789012"
REGION = "us-east-1"
_log = []
_lock = threading.Lock()
# Faults the tests inject (`POST /_onething/fault {"lost_queue": NAME}`): sends to that
# queue by any role fail as if it had been deleted.
_faults = {}
_conditional = threading.Lock()
# The keys of every DynamoDB transaction's items, in order (`GET /_onething/transactions`;
# `DELETE` empties it): the tests read which items two cases' commits both write.
_transactions = []


# ---------------------------------------------------------------- policy evaluation

def _listify(x):
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def _wild(pattern, value, case=True):
    """IAM wildcards: `*` any run of characters (`:` and `/` included), `?` one."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, 0 if case else re.IGNORECASE) is not None


def _cond_values_match(op, policy_values, value):
    """One request value against a condition's values, for a base operator."""
    pv = [str(v) for v in policy_values]
    if op in ("StringEquals", "ArnEquals"):
        return value in pv
    if op == "StringEqualsIgnoreCase":
        return value.lower() in [v.lower() for v in pv]
    if op in ("StringLike", "ArnLike"):
        return any(_wild(p, value) for p in pv)
    if op == "Bool":
        return value.lower() in [v.lower() for v in pv]
    if op.startswith("Numeric"):
        try:
            a = float(value)
        except ValueError:
            return False
        cmp = {"NumericEquals": lambda a, b: a == b, "NumericLessThan": lambda a, b: a < b,
               "NumericLessThanEquals": lambda a, b: a <= b, "NumericGreaterThan": lambda a, b: a > b,
               "NumericGreaterThanEquals": lambda a, b: a >= b}[op]
        return any(cmp(a, float(b)) for b in pv)
    raise ValueError(f"condition operator {op} is not modelled")


NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
           "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
           "NumericNotEquals": "NumericEquals"}


def _condition_holds(full_op, key, policy_values, context):
    """One operator/key pair of a Condition block against the request context."""
    ctx = {k.lower(): v for k, v in context.items()}
    present = key.lower() in ctx
    values = _listify(ctx.get(key.lower()))
    op = full_op
    qualifier = None
    if ":" in op:
        qualifier, op = op.split(":", 1)
    if_exists = op.endswith("IfExists")
    if if_exists:
        op = op[: -len("IfExists")]
    if op == "Null":
        want_null = str(_listify(policy_values)[0]).lower() == "true"
        return (not present) == want_null
    if not present:
        if if_exists or qualifier == "ForAllValues":
            return True
        return op in NEGATED
    negated = op in NEGATED
    base = NEGATED.get(op, op)
    pv = _listify(policy_values)
    if qualifier == "ForAllValues":
        ok = all(_cond_values_match(base, pv, str(v)) for v in values)
        return (not ok) if negated else ok
    # ForAnyValue and single-valued keys: any request value matches.
    ok = any(_cond_values_match(base, pv, str(v)) for v in values)
    return (not ok) if negated else ok


def _statement_matches(st, action, resource, context):
    if "Action" in st:
        if not any(_wild(a, action, case=False) for a in _listify(st["Action"])):
            return False
    elif "NotAction" in st:
        if any(_wild(a, action, case=False) for a in _listify(st["NotAction"])):
            return False
    if "Resource" in st:
        if not any(_wild(r, resource) for r in _listify(st["Resource"])):
            return False
    elif "NotResource" in st:
        if any(_wild(r, resource) for r in _listify(st["NotResource"])):
            return False
    for op, pairs in (st.get("Condition") or {}).items():
        for key, pv in pairs.items():
            if not _condition_holds(op, key, pv, context):
                return False
    return True


def evaluate(policies, action, resource, context):
    """`policies`: [(policy name, document)]. (allowed, [statement ids that allow])."""
    allows, denied = [], False
    for name, doc in policies:
        for i, st in enumerate(_listify(doc.get("Statement"))):
            if not _statement_matches(st, action, resource, context):
                continue
            if st.get("Effect") == "Deny":
                denied = True
            else:
                allows.append(f"{name}#{st.get('Sid') or i}")
    return (not denied and bool(allows)), allows


# ---------------------------------------------------------------- moto's state

def _sts():
    from moto.sts.models import sts_backends
    return sts_backends[ACCOUNT]["global"]


def _iam():
    from moto.iam.models import iam_backends
    return iam_backends[ACCOUNT]["global"]


def role_of(access_key):
    """The role whose AssumeRole issued `access_key`, or None."""
    if not access_key:
        return None
    try:
        for r in _sts().assumed_roles:
            if r.access_key_id == access_key:
                return r.role_arn
    except Exception:
        return None
    return None


def _doc(d):
    if isinstance(d, str):
        d = json.loads(urllib.parse.unquote(d)) if d.strip().startswith(("{", "%7B")) else json.loads(d)
    return d


def policies_of(role_arn):
    role_name = role_arn.split("/")[-1]
    role = _iam().get_role(role_name)
    out = [(n, _doc(d)) for n, d in role.policies.items()]
    for arn, p in role.managed_policies.items():
        out.append((arn, _doc(p.document if hasattr(p, "document") else p.default_version.document)))
    return out


def _kms_key_arn(key_id):
    """A key id, key ARN, alias name or alias ARN as the key's ARN (moto's key store)."""
    from moto.kms.models import kms_backends
    kms = kms_backends[ACCOUNT][REGION]
    try:
        kid = kms.get_key_id(key_id)
        if kid.startswith("alias/") or ":alias/" in kid:
            kid = kms.get_key_id_from_alias(kid.split(":")[-1] if ":alias/" in kid else kid)
        return kms.keys[kid].arn
    except Exception:
        return key_id if key_id.startswith("arn:") else f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"


# ---------------------------------------------------------------- requests → authorizations

def _table_arn(name):
    if name.startswith("arn:"):
        return name
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def _attr_value(v):
    if isinstance(v, dict) and v:
        t, x = next(iter(v.items()))
        return x if isinstance(x, str) else json.dumps(x)
    return str(v)


def _hash_key(table_name, index=None):
    from moto.dynamodb.models import dynamodb_backends
    try:
        t = dynamodb_backends[ACCOUNT][REGION].get_table(table_name.split("/")[-1])
        if index:
            for ix in t.global_indexes + t.indexes:
                if ix.name == index:
                    return next(k["AttributeName"] for k in ix.schema if k["KeyType"] == "HASH")
        return t.hash_key_attr
    except Exception:
        return "pk"


def _leading(table, item_or_key):
    hk = _hash_key(table)
    if item_or_key and hk in item_or_key:
        return {"dynamodb:LeadingKeys": [_attr_value(item_or_key[hk])]}
    return {}


def dynamodb(target, body):
    op = target.split(".", 1)[1]
    out = []
    if op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        t = body["TableName"]
        out.append((f"dynamodb:{op}", _table_arn(t), _leading(t, body.get("Item") or body.get("Key"))))
    elif op == "Query":
        t = body["TableName"]
        arn = _table_arn(t) + (f"/index/{body['IndexName']}" if body.get("IndexName") else "")
        ctx = {}
        hk = _hash_key(t, body.get("IndexName"))
        names = body.get("ExpressionAttributeNames") or {}
        for lhs, rhs in re.findall(r"([#\w]+)\s*=\s*(:\w+)", body.get("KeyConditionExpression", "")):
            if names.get(lhs, lhs) == hk and rhs in (body.get("ExpressionAttributeValues") or {}):
                ctx = {"dynamodb:LeadingKeys": [_attr_value(body["ExpressionAttributeValues"][rhs])]}
        out.append(("dynamodb:Query", arn, ctx))
    elif op == "Scan":
        t = body["TableName"]
        out.append(("dynamodb:Scan", _table_arn(t) + (f"/index/{body['IndexName']}" if body.get("IndexName") else ""), {}))
    elif op in ("BatchGetItem", "BatchWriteItem"):
        for t, req in (body.get("RequestItems") or {}).items():
            keys = []
            if op == "BatchGetItem":
                keys = req.get("Keys", [])
            else:
                for w in req:
                    keys.append((w.get("PutRequest") or {}).get("Item") or (w.get("DeleteRequest") or {}).get("Key"))
            hk = _hash_key(t)
            lead = sorted({_attr_value(k[hk]) for k in keys if k and hk in k})
            out.append((f"dynamodb:{op}", _table_arn(t), {"dynamodb:LeadingKeys": lead} if lead else {}))
    elif op == "TransactWriteItems":
        kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
        for it in body.get("TransactItems", []):
            kind, x = next(iter(it.items()))
            t = x["TableName"]
            out.append((f"dynamodb:{kinds[kind]}", _table_arn(t), _leading(t, x.get("Item") or x.get("Key"))))
    elif op == "TransactGetItems":
        for it in body.get("TransactItems", []):
            x = it["Get"]
            out.append(("dynamodb:GetItem", _table_arn(x["TableName"]), _leading(x["TableName"], x.get("Key"))))
    else:
        t = body.get("TableName") or body.get("TableArn") or "*"
        out.append((f"dynamodb:{op}", _table_arn(t) if t != "*" else "*", {}))
    return out


def _stream_of_iterator(iterator):
    try:
        from moto.dynamodbstreams.models import dynamodbstreams_backends
        it = dynamodbstreams_backends[ACCOUNT][REGION].shard_iterators[iterator]
        return it.stream_shard.table.table_arn + "/stream/" + it.stream_shard.table.latest_stream_label
    except Exception:
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*/stream/*"


def dynamodb_streams(target, body):
    op = target.split(".", 1)[1]
    if op == "ListStreams":
        return [("dynamodb:ListStreams", "*", {})]
    if op == "GetRecords":
        return [("dynamodb:GetRecords", _stream_of_iterator(body.get("ShardIterator")), {})]
    return [(f"dynamodb:{op}", body.get("StreamArn", "*"), {})]


def _queue_arn(url_or_name):
    name = url_or_name.rstrip("/").split("/")[-1]
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def _queue_key(name):
    try:
        from moto.sqs.models import sqs_backends
        q = sqs_backends[ACCOUNT][REGION].queues[name]
        return getattr(q, "kms_master_key_id", None)
    except Exception:
        return None


SQS_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
               "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def sqs(op, params):
    action = SQS_ACTIONS.get(op, op)
    if op == "GetQueueUrl":
        arn = _queue_arn(params.get("QueueName", ""))
    elif "QueueUrl" in params:
        arn = _queue_arn(params["QueueUrl"])
    else:
        arn = "*"
    out = [(f"sqs:{action}", arn, {})]
    key = _queue_key(arn.split(":")[-1]) if arn != "*" else None
    if key:
        # SSE-KMS queues: a producer needs GenerateDataKey and Decrypt on the queue's key,
        # a consumer Decrypt (the SQS developer guide, "Key management").
        k = _kms_key_arn(key)
        if action == "SendMessage":
            out += [("kms:GenerateDataKey", k, {}), ("kms:Decrypt", k, {})]
        elif action == "ReceiveMessage":
            out.append(("kms:Decrypt", k, {}))
    return out


def _bucket_key(bucket):
    try:
        from moto.s3.models import s3_backends
        b = s3_backends[ACCOUNT]["global"].get_bucket(bucket)
        enc = b.encryption or {}
        rule = enc.get("Rule") or {}
        if isinstance(rule, list):
            rule = rule[0] if rule else {}
        d = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if d.get("SSEAlgorithm") == "aws:kms" and d.get("KMSMasterKeyID"):
            return _kms_key_arn(d["KMSMasterKeyID"])
    except Exception:
        pass
    return None


def object_exists(bucket, key):
    try:
        from moto.s3.models import s3_backends
        b = s3_backends[ACCOUNT]["global"].get_bucket(bucket)
        return b.keys.get(key) is not None
    except Exception:
        return True


def s3(method, path, query, headers):
    """(authorizations, (bucket, key) for an object read, where a missing key answers 403
    unless s3:ListBucket is allowed)."""
    parts = urllib.parse.unquote(path).lstrip("/").split("/", 1)
    bucket = parts[0]
    key = parts[1] if len(parts) > 1 else ""
    q = {k: v[0] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
    barn = f"arn:aws:s3:::{bucket}"
    out, read = [], None
    kms = _bucket_key(bucket)
    if not key:
        if method in ("GET", "HEAD") and not (set(q) - {"list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "encoding-type", "fetch-owner", "x-id"}):
            ctx = {}
            for k in ("prefix", "delimiter", "max-keys"):
                if k in q:
                    ctx[f"s3:{k}"] = q[k]
            out.append(("s3:ListBucket", barn, ctx))
        elif "versions" in q:
            out.append(("s3:ListBucketVersions", barn, {"s3:prefix": q["prefix"]} if "prefix" in q else {}))
        elif method == "POST" and "delete" in q:
            out.append(("s3:DeleteObject", barn + "/*", {}))
        else:
            sub = next(iter(q), "")
            out.append((f"s3:{method.title()}Bucket{sub.title()}", barn, {}))
        return out, None
    oarn = f"{barn}/{key}"
    hdr = {k.lower(): v for k, v in headers.items()}
    if method in ("GET", "HEAD"):
        if "tagging" in q:
            out.append(("s3:GetObjectTagging", oarn, {}))
        elif "retention" in q:
            out.append(("s3:GetObjectRetention", oarn, {}))
        else:
            out.append(("s3:GetObjectVersion" if "versionId" in q else "s3:GetObject", oarn, {}))
            if kms and method == "GET":
                out.append(("kms:Decrypt", kms, {}))
            read = (bucket, key)
    elif method in ("PUT", "POST"):
        ctx = {}
        if "if-none-match" in hdr:
            ctx["s3:if-none-match"] = hdr["if-none-match"]
        if "retention" in q:
            out.append(("s3:PutObjectRetention", oarn, {}))
        elif "tagging" in q:
            out.append(("s3:PutObjectTagging", oarn, {}))
        else:
            out.append(("s3:PutObject", oarn, ctx))
            if "x-amz-object-lock-mode" in hdr or "x-amz-object-lock-retain-until-date" in hdr:
                out.append(("s3:PutObjectRetention", oarn, {}))
            src = hdr.get("x-amz-copy-source")
            if src:
                src = urllib.parse.unquote(src.split("?")[0]).lstrip("/")
                out.append(("s3:GetObject", f"arn:aws:s3:::{src}", {}))
                skms = _bucket_key(src.split("/", 1)[0])
                if skms:
                    out.append(("kms:Decrypt", skms, {}))
            if kms:
                out.append(("kms:GenerateDataKey", kms, {}))
    elif method == "DELETE":
        out.append(("s3:DeleteObjectVersion" if "versionId" in q else "s3:DeleteObject", oarn, {}))
    return out, read


def kms(target, body):
    op = target.split(".", 1)[1]
    key = body.get("KeyId")
    arn = _kms_key_arn(key) if key else "*"
    ctx = {}
    if "SigningAlgorithm" in body:
        ctx["kms:SigningAlgorithm"] = body["SigningAlgorithm"]
    if "MessageType" in body:
        ctx["kms:MessageType"] = body["MessageType"]
    return [(f"kms:{op}", arn, ctx)]


def _secret_arn(sid):
    if sid.startswith("arn:"):
        return sid
    try:
        from moto.secretsmanager.models import secretsmanager_backends
        return secretsmanager_backends[ACCOUNT][REGION].describe_secret(sid).arn
    except Exception:
        return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{sid}"


def secretsmanager(target, body):
    op = target.split(".", 1)[1]
    return [(f"secretsmanager:{op}", _secret_arn(body.get("SecretId", "*")), {})]


def logs(target, body):
    op = target.split(".", 1)[1]
    group = body.get("logGroupName", "*")
    base = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"
    if "logStreamName" in body:
        return [(f"logs:{op}", f"{base}:log-stream:{body['logStreamName']}", {})]
    return [(f"logs:{op}", base, {})]


def authorizations(environ, body):
    """The IAM authorizations one request needs: [(action, resource, context)], plus the
    object an S3 read names (see `s3`)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    try:
        payload = json.loads(body) if body and body[:1] in (b"{", "{") else {}
    except ValueError:
        payload = {}
    if target.startswith("DynamoDBStreams_"):
        return dynamodb_streams(target, payload), None
    if target.startswith("DynamoDB_"):
        return dynamodb(target, payload), None
    if target.startswith("AmazonSQS."):
        return sqs(target.split(".", 1)[1], payload), None
    if target.startswith("TrentService."):
        return kms(target, payload), None
    if target.startswith("secretsmanager."):
        return secretsmanager(target, payload), None
    if target.startswith("Logs_"):
        return logs(target, payload), None
    service = _service_of(environ)
    if service == "sqs":
        params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode() if isinstance(body, bytes) else body).items()}
        params.update({k: v[0] for k, v in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()})
        return sqs(params.get("Action", ""), params), None
    if service == "s3":
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        return s3(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", ""), headers)
    return [(f"{service}:*", "*", {})], None


def _credential(environ):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=([^/,\s]+)/\d{8}/[^/]+/([^/]+)/", auth)
    if m:
        return m.group(1), m.group(2)
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "X-Amz-Credential" in q:
        c = q["X-Amz-Credential"][0].split("/")
        return c[0], c[3] if len(c) > 3 else None
    return None, None


def _service_of(environ):
    return _credential(environ)[1] or "s3"


# ---------------------------------------------------------------- the middleware

def _denied(environ, service, role, action, resource):
    msg = (f"User: {role} is not authorized to perform: {action} on resource: {resource} "
           f"because no identity-based policy allows the {action} action")
    if service == "s3":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code>"
                f"<Message>{msg}</Message></Error>").encode()
        return "403 Forbidden", [("Content-Type", "application/xml")], b"" if environ["REQUEST_METHOD"] == "HEAD" else body
    if service == "sqs":
        body = json.dumps({"__type": "com.amazon.coral.access#AccessDeniedException", "message": msg}).encode()
        return "403 Forbidden", [("Content-Type", "application/x-amz-json-1.0"),
                                 ("x-amzn-query-error", "AccessDenied;Sender")], body
    body = json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException", "Message": msg, "message": msg}).encode()
    return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")], body


def _record(role, action, resource, context, allowed, allows, source):
    with _lock:
        _log.append({"role": role, "action": action, "resource": resource, "context": context,
                     "allowed": allowed, "statements": allows, "source": source})


def check(role, action, resource, context, source="request"):
    allowed, allows = evaluate(policies_of(role), action, resource, context)
    _record(role, action, resource, context, allowed, allows, source)
    return allowed


def _copy_precondition(environ, service):
    """S3's conditional copy, which moto ignores: `CopyObject` with `If-None-Match: *`
    onto an existing key answers 412 and writes nothing (S3 API reference, CopyObject)."""
    if (service or "s3") != "s3" or environ["REQUEST_METHOD"] != "PUT":
        return None
    if "HTTP_X_AMZ_COPY_SOURCE" not in environ or environ.get("HTTP_IF_NONE_MATCH") != "*":
        return None
    parts = urllib.parse.unquote(environ.get("PATH_INFO", "/")).lstrip("/").split("/", 1)
    if len(parts) < 2 or not object_exists(parts[0], parts[1]):
        return None
    body = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PreconditionFailed</Code>"
            b"<Message>At least one of the pre-conditions you specified did not hold</Message>"
            b"<Condition>If-None-Match</Condition></Error>")

    def reply(start_response):
        start_response("412 Precondition Failed", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
        return [body]
    return reply


class IamGuard:
    def __init__(self, app):
        self.app = app

    def _control(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        if method == "GET":
            roles = {}
            try:
                for r in _sts().assumed_roles:
                    roles[r.role_arn] = [{"name": n,
                                          "statements": [st.get("Sid") or str(i) for i, st in enumerate(_listify(d.get("Statement")))],
                                          "effects": [st.get("Effect") for st in _listify(d.get("Statement"))],
                                          "resources": [_listify(st.get("Resource")) for st in _listify(d.get("Statement"))]}
                                         for n, d in policies_of(r.role_arn)]
            except Exception:
                pass
            with _lock:
                body = json.dumps({"log": _log, "roles": roles}).encode()
        elif method == "DELETE":
            with _lock:
                _log.clear()
            body = b"{}"
        else:
            n = int(environ.get("CONTENT_LENGTH") or 0)
            req = json.loads(environ["wsgi.input"].read(n))
            allowed = check(req["role"], req["action"], req["resource"], req.get("context") or {}, "lambda-service")
            body = json.dumps({"allowed": allowed}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def _fault(self, environ, start_response):
        n = int(environ.get("CONTENT_LENGTH") or 0)
        _faults["lost_queue"] = json.loads(environ["wsgi.input"].read(n) or b"{}").get("lost_queue")
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]

    def _transactions(self, environ, start_response):
        with _lock:
            if environ["REQUEST_METHOD"] == "DELETE":
                _transactions.clear()
            body = json.dumps(_transactions).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _note_transaction(environ):
        """Record the keys of a DynamoDB transaction's items (whoever signed it)."""
        if not environ.get("HTTP_X_AMZ_TARGET", "").endswith(".TransactWriteItems"):
            return
        import io
        n = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(n) if n else b""
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            items = json.loads(body).get("TransactItems", [])
        except ValueError:
            return
        keys = []
        for it in items:
            _, x = next(iter(it.items()))
            k = x.get("Item") or x.get("Key") or {}
            keys.append([_attr_value(k.get("pk", {})), _attr_value(k.get("sk", {}))])
        with _lock:
            _transactions.append(keys)

    @staticmethod
    def _checksum(environ):
        """S3 checks an object's `x-amz-checksum-sha256` against the bytes (400 BadDigest
        when they differ) and keeps it, returning it to `ChecksumMode=ENABLED` reads; moto
        keeps it only beside the SDK's own algorithm header and checks nothing."""
        given = environ.get("HTTP_X_AMZ_CHECKSUM_SHA256")
        if environ["REQUEST_METHOD"] != "PUT" or not given or "HTTP_X_AMZ_COPY_SOURCE" in environ:
            return None
        if environ.get("HTTP_X_AMZ_CONTENT_SHA256", "").startswith("STREAMING-"):
            return None  # chunked with a trailer: moto reads the trailer itself
        import base64
        import hashlib
        import io
        n = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(n) if n else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if base64.b64encode(hashlib.sha256(body).digest()).decode() != given:
            out = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>BadDigest</Code>'
                   b'<Message>The SHA256 you specified did not match the calculated checksum.</Message></Error>')

            def reply(start_response):
                start_response("400 Bad Request", [("Content-Type", "application/xml"), ("Content-Length", str(len(out)))])
                return [out]
            return reply
        environ.setdefault("HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM", "SHA256")
        return None

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_onething/iam"):
            return self._control(environ, start_response)
        if environ.get("PATH_INFO", "").startswith("/_onething/transactions"):
            return self._transactions(environ, start_response)
        self._note_transaction(environ)
        refused = self._checksum(environ)
        if refused is not None:
            return refused(start_response)
        if environ.get("PATH_INFO", "").startswith("/_onething/fault"):
            return self._fault(environ, start_response)
        akid, service = _credential(environ)
        if environ["REQUEST_METHOD"] == "PUT" and environ.get("HTTP_IF_NONE_MATCH") == "*" and (service or "s3") == "s3":
            # A conditional write is atomic on S3: check and write under one lock here
            # (moto checks, then writes, on concurrent threads).
            with _conditional:
                refused = _copy_precondition(environ, service)
                if refused is not None:
                    return refused(start_response)
                return list(self._authorized(environ, start_response, akid, service))
        return self._authorized(environ, start_response, akid, service)

    def _authorized(self, environ, start_response, akid, service):
        role = role_of(akid)
        if role is None:
            return self.app(environ, start_response)
        n = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(n) if n else b""
        import io
        environ["wsgi.input"] = io.BytesIO(body)
        auths, read = authorizations(environ, body)
        lost = _faults.get("lost_queue")
        if lost and any(a in ("sqs:SendMessage",) and r.endswith(":" + lost) for a, r, _ in auths):
            # A fault the tests inject: the queue is gone (SQS answers QueueDoesNotExist).
            out = json.dumps({"__type": "com.amazonaws.sqs#QueueDoesNotExist",
                              "message": "The specified queue does not exist."}).encode()
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"),
                                               ("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"),
                                               ("Content-Length", str(len(out)))])
            return [out]
        for action, resource, context in auths:
            context = dict(context)
            context.setdefault("aws:SecureTransport", "true")
            if not check(role, action, resource, context):
                status, headers, out = _denied(environ, service or "s3", role, action, resource)
                start_response(status, headers + [("Content-Length", str(len(out)))])
                return [out]
        if read is not None and not object_exists(*read):
            # A missing object: 404 only for a caller who may list the bucket.
            bucket, key = read
            if not check(role, "s3:ListBucket", f"arn:aws:s3:::{bucket}", {"aws:SecureTransport": "true"}, "missing-object"):
                status, headers, out = _denied(environ, "s3", role, "s3:ListBucket", f"arn:aws:s3:::{bucket}")
                start_response(status, headers + [("Content-Length", str(len(out)))])
                return [out]
        return self.app(environ, start_response)
