"""The sample events of events/ for each function, and what each must get back: shared by
infra/scripts/arm64_run.py (the arm64 zips under qemu) and infra/scripts/smoke --invoke (a
deployed stack), as tests/tests/events.rs checks the handlers in process."""
import json, os, re


def function_of_output(name):
    """`CertifyBirthFunctionName` (a stack output) -> `certify-birth`."""
    return "-".join(w.lower() for w in re.findall(r"[A-Z][a-z0-9]*", name[: -len("FunctionName")]))


events_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "events")


def _unrelayable(record):
    """A stream record whose every message names a queue that does not exist."""
    outbox = json.loads(record["dynamodb"]["NewImage"]["outbox"]["S"])
    return all(m["queue"] == "no-such-queue" for m in outbox)


def events_for(fn, deployed=False):
    """(file name, event bytes) for `fn`. `deployed`: for a real stack, whose queues the
    relay's sample would feed with messages for a case that does not exist (they would end
    as dead letters): only its records that name no queue of the stack are kept."""
    out = []
    for f in sorted(os.listdir(events_dir)):
        q = f[len("sqs-"):-len(".json")] if f.startswith("sqs-") else None
        if (q == fn) or (fn == "api" and f.startswith("apigw-")) or (fn == "sla-monitor" and f.startswith("schedule-")) \
                or (fn == "relay" and f.startswith("dynamodb-")):
            event = open(os.path.join(events_dir, f), "rb").read()
            if deployed and fn == "relay":
                ev = json.loads(event)
                ev["Records"] = [r for r in ev["Records"] if _unrelayable(r)]
                event = json.dumps(ev).encode()
            out.append((f, event))
    return out

def check(fn, name, event, answer):
    """What the sample event must get from its function (as tests/tests/events.rs checks)."""
    if answer is None: return "no answer"
    kind, body = answer
    ev = json.loads(event)
    if name.startswith("sqs-") and kind == "error":
        # Every record failed (no such case; not a message): the invocation fails, so that
        # Lambda backs off the source (lambda::run_sqs).
        n = len(ev["Records"])
        msg = json.loads(body).get("errorMessage", "")
        return None if msg == f"all {n} records of the batch failed" else f"error: {msg}"
    if kind != "response": return f"{kind}: {body[:300]!r}"
    doc = json.loads(body or b"null")
    if name.startswith("sqs-"):
        ids = [r["messageId"] for r in ev["Records"]]
        got = [f["itemIdentifier"] for f in doc.get("batchItemFailures", [])]
        return None if got == ids else f"batchItemFailures {got}, expected {ids} (no such case; not a message)"
    if name.startswith("apigw-"):
        return None if doc.get("statusCode") == 200 else f"status {doc.get('statusCode')}: {doc.get('body', '')[:200]}"
    if name.startswith("dynamodb-"):
        got = [f["itemIdentifier"] for f in doc.get("batchItemFailures", [])]
        # The relay reports the first change it could not relay (the stream is read again from it).
        want = [r["dynamodb"]["SequenceNumber"] for r in ev["Records"] if _unrelayable(r)][:1]
        return None if got == want else f"batchItemFailures {got}, expected {want}"
    return None
