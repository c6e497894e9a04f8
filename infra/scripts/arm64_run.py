"""Run every arm64 Lambda zip (infra/scripts/build-lambdas) under qemu-user-static, with
the arm64 Debian root's loader and libraries, against a local stand-in for the Lambda
Runtime API and a moto stack deployed from infra/template.yaml: each function gets its
environment from the deployed template and the sample events of events/ for it, and its
responses are checked. Init time (process start to its first `next`) is compared with
the hello world's (a current-thread lambda_runtime function, the floor). Then the
post-deployment smoke check (`infra/scripts/smoke --invoke`) runs against the same binaries,
through a stand-in for the Lambda API and API Gateway.

usage: arm64_run.py ROOT [ZIPDIR]
  ROOT    an arm64 Debian root (debootstrap --arch=arm64 --foreign --variant=minbase
          bookworm ROOT: stage one is enough, nothing in it is executed but the loader)
  ZIPDIR  default target/lambda
Needs qemu-aarch64-static (Debian: qemu-user-static) and the test tools' Python (moto).
"""
import base64, http.server, json, os, urllib.parse, shutil, socket, socketserver, statistics, subprocess, sys, tempfile, threading, time, zipfile

root = os.path.abspath(sys.argv[1])
zips = sys.argv[2] if len(sys.argv) > 2 else "target/lambda"
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import sample_events
from sample_events import events_for, check
qemu = shutil.which("qemu-aarch64-static") or sys.exit("qemu-aarch64-static not found (Debian: qemu-user-static)")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

# moto, with the stack deployed as the tests deploy it.
moto_port = free_port()
moto = subprocess.Popen([sys.executable, os.path.join(here, "moto_server.py"), "127.0.0.1", str(moto_port)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
endpoint = f"http://127.0.0.1:{moto_port}"
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", moto_port), 0.1).close(); break
    except OSError:
        time.sleep(0.05)
env_aws = dict(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1")
out = subprocess.run([sys.executable, os.path.join(here, "moto_stack.py"), endpoint, "arm64"], capture_output=True, text=True,
                     env={**os.environ, **env_aws})
if out.returncode != 0:
    moto.kill(); sys.exit(f"moto_stack.py failed: {out.stderr[-2000:]}")
outputs = json.loads(out.stdout)

def camel(name): return "".join(w.capitalize() for w in name.split("-")) + "Function"

# The Runtime API stand-in: hands out the queued events one by one, records the answers.
class State:
    events, answers, first_next = [], {}, None
    lock = threading.Condition()

class RuntimeApi(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, code, body=b"{}", headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        if not self.path.endswith("/runtime/invocation/next"):
            return self.reply(404)
        with State.lock:
            if State.first_next is None: State.first_next = time.perf_counter()
            while not State.events: State.lock.wait(1)
            rid, ev = State.events.pop(0)
        self.reply(200, ev, [("Lambda-Runtime-Aws-Request-Id", rid), ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60000)),
                             ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:f"),
                             ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")])
    def do_POST(self):
        n = int(self.headers.get("content-length", 0)); body = self.rfile.read(n)
        parts = self.path.split("/")
        if "invocation" in parts:
            rid, kind = parts[-2], parts[-1]
            with State.lock:
                State.answers[rid] = (kind, body); State.lock.notify_all()
        self.reply(202)
    def log_message(self, *a): pass

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address):
        pass  # a function killed during its long poll resets the connection
api = Server(("127.0.0.1", 0), RuntimeApi)
threading.Thread(target=api.serve_forever, daemon=True).start()

def run(binary, fenv, events, timeout=60):
    """Start binary under qemu, feed it events, return (init ms, answers)."""
    State.events, State.answers, State.first_next = [], {}, None
    env = {"PATH": "/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.server_address[1]}", "AWS_LAMBDA_FUNCTION_NAME": "f",
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_FUNCTION_VERSION": "1", "AWS_LAMBDA_LOG_STREAM_NAME": "s",
           "AWS_LAMBDA_LOG_GROUP_NAME": "g", "AWS_ENDPOINT_URL": endpoint, **env_aws, **fenv}
    ids = [f"req-{i}" for i in range(len(events))]
    t0 = time.perf_counter()
    p = subprocess.Popen([qemu, "-L", root, binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with State.lock:
        State.events = list(zip(ids, events)); State.lock.notify_all()
        deadline = time.time() + timeout
        while len(State.answers) < len(ids) and time.time() < deadline and p.poll() is None:
            State.lock.wait(0.2)
    init = (State.first_next - t0) * 1000 if State.first_next else None
    p.kill(); err = p.stderr.read().decode(errors="replace"); p.wait()
    return init, [State.answers.get(i) for i in ids], err

tmp = tempfile.mkdtemp()
def bootstrap(name):
    d = os.path.join(tmp, name); os.makedirs(d, exist_ok=True)
    with zipfile.ZipFile(os.path.join(zips, name, "bootstrap.zip")) as z: z.extractall(d)
    b = os.path.join(d, "bootstrap"); os.chmod(b, 0o755); return b

# Every function, from the flow's table (infra/flow.json).
functions = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "flow.json")))["functions"]
failures, inits = [], {}
hello_inits = [run(bootstrap("hello"), {}, [b"{}"], timeout=5)[0] for _ in range(3)]
hello = statistics.median([x for x in hello_inits if x is not None])
print(f"{'function':<20} {'events':>6} {'init ms':>8} {'× hello':>8}  result")
print(f"{'hello (floor)':<20} {1:>6} {hello:>8.0f} {1:>8.2f}  ok")
for fn in functions:
    fenv = json.loads(outputs[f"Env:{camel(fn)}"])
    # Lambda unpacks the zip in LAMBDA_TASK_ROOT (the render function's font is there).
    fenv["LAMBDA_TASK_ROOT"] = os.path.dirname(bootstrap(fn))
    evs = events_for(fn)
    init, answers, err = run(bootstrap(fn), fenv, [e for _, e in evs])
    # Init: the median of three starts (the first run also answered the events).
    more = [run(bootstrap(fn), fenv, [b"{}"], timeout=5)[0] for _ in range(2)]
    init = statistics.median([x for x in [init, *more] if x is not None] or [float("nan")])
    problems = [f"{n}: {p}" for (n, e), a in zip(evs, answers) if (p := check(fn, n, e, a))]
    inits[fn] = init
    ratio = init / hello if init and hello else float("nan")
    print(f"{fn:<20} {len(evs):>6} {init or float('nan'):>8.0f} {ratio:>8.2f}  {'ok' if not problems else '; '.join(problems)}")
    if problems:
        failures.append(fn)
        sys.stderr.write(err[-1500:] + "\n")

# The post-deployment smoke check (infra/scripts/smoke --invoke) against these binaries: a
# stand-in for the Lambda API (function configuration, RequestResponse invocation) and for
# API Gateway (an HTTP request becomes a payload 2.0 event for the `api` function), each
# call running the function under qemu as above.
names = {v: sample_events.function_of_output(k) for k, v in outputs.items() if k.endswith("FunctionName")}
run_lock = threading.Lock()

def invoke(fn, payload):
    fenv = json.loads(outputs[f"Env:{camel(fn)}"])
    fenv["LAMBDA_TASK_ROOT"] = os.path.dirname(bootstrap(fn))
    with run_lock:
        _, [answer], _ = run(bootstrap(fn), fenv, [payload])
    return answer

class Standin(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def lambda_api(self, body):
        parts = self.path.split("?")[0].split("/")  # /2015-03-31/functions/NAME/...
        fn = names.get(urllib.parse.unquote(parts[3]))
        if fn is None:
            return self.reply(404, json.dumps({"Type": "User", "message": "Function not found"}).encode(),
                              [("x-amzn-ErrorType", "ResourceNotFoundException")])
        if parts[4] == "configuration":
            return self.reply(200, json.dumps({"FunctionName": parts[3], "State": "Active",
                                               "LastUpdateStatus": "Successful"}).encode())
        answer = invoke(fn, body)
        if answer is None:
            return self.reply(200, b'{"errorMessage":"no answer"}', [("X-Amz-Function-Error", "Unhandled")])
        kind, out = answer
        self.reply(200, out, [("X-Amz-Function-Error", "Unhandled")] if kind == "error" else [])
    def api_gateway(self, method, body):
        path, _, query = self.path.partition("?")
        ev = json.load(open(os.path.join(sample_events.events_dir, "apigw-v2-guide.json")))
        ev.update(routeKey="$default", rawPath=path, rawQueryString=query, body=body.decode() or None)
        ev["headers"] = {k.lower(): v for k, v in self.headers.items()}
        ev["requestContext"].update(routeKey="$default")
        ev["requestContext"]["http"].update(method=method, path=path)
        # No JWT authorizer here: the function sees an unauthenticated request as it is.
        ev["requestContext"].pop("authorizer", None)
        answer = invoke("api", json.dumps(ev).encode())
        if answer is None or answer[0] != "response":
            return self.reply(502, repr(answer).encode())
        doc = json.loads(answer[1])
        out = doc.get("body") or ""
        out = base64.b64decode(out) if doc.get("isBase64Encoded") else out.encode()
        headers = [(k, v) for k, v in (doc.get("headers") or {}).items() if k.lower() != "content-length"]
        self.reply(doc.get("statusCode", 200), out, headers)
    def handle_any(self, method):
        n = int(self.headers.get("content-length", 0)); body = self.rfile.read(n)
        if self.path.startswith("/2015-03-31/functions/"):
            return self.lambda_api(body)
        return self.api_gateway(method, body)
    def do_GET(self): self.handle_any("GET")
    def do_POST(self): self.handle_any("POST")
    def log_message(self, *a): pass

standin = Server(("127.0.0.1", 0), Standin)
threading.Thread(target=standin.serve_forever, daemon=True).start()
standin_url = f"http://127.0.0.1:{standin.server_address[1]}"
smoke = subprocess.run([sys.executable, os.path.join(here, "smoke"), "arm64", "--api-url", standin_url, "--invoke"],
                       capture_output=True, text=True, timeout=900,
                       env={**os.environ, **env_aws, "AWS_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL_LAMBDA": standin_url})
print("\ninfra/scripts/smoke arm64 --invoke, against these binaries:")
print(smoke.stdout + smoke.stderr[-2000:])
if smoke.returncode != 0:
    failures.append("smoke")
moto.kill()
if failures:
    sys.exit(f"failed: {', '.join(failures)}")
