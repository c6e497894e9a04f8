"""Footprint of every Lambda function: zipped bootstrap size, init time (process start to
its first Runtime API `next` call, against a local stand-in for the Runtime API) and peak
RSS at that moment, next to a bare lambda_runtime hello world built with the same profile.

usage: python3 infra/scripts/footprint.py [--sizes DIR] [--run DIR]
  --sizes DIR  where the zips to weigh are (default target/lambda: the arm64 build of
               infra/scripts/build-lambdas)
  --run DIR    where the zips to start are; they must be for this machine's architecture
               (default target/lambda-x86_64: infra/scripts/build-lambdas --x86-64)
Each DIR holds <function>/bootstrap.zip and hello/bootstrap.zip.
"""
import http.server, io, os, shutil, tempfile, socketserver, statistics, subprocess, sys, threading, time, zipfile

import json
FUNCTIONS = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "flow.json")))["functions"]
args = sys.argv[1:]
def opt(name, default):
    return args[args.index(name) + 1] if name in args else default
sizes_dir = opt("--sizes", "target/lambda")
run_dir = opt("--run", "target/lambda-x86_64")
RUNS = 15
tmp = tempfile.mkdtemp()

first_next = {}
class RuntimeApi(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next"):
            first_next.setdefault("t", time.perf_counter())
            ev = threading.Event()
            ev.wait(5)  # hold the long poll; the process is killed meanwhile
        self.send_response(404); self.end_headers()
    def log_message(self, *a): pass

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

srv = Server(("127.0.0.1", 0), RuntimeApi)
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]

env = dict(os.environ,
    AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}", AWS_LAMBDA_FUNCTION_NAME="f", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
    AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_LOG_STREAM_NAME="s", AWS_LAMBDA_LOG_GROUP_NAME="g",
    AWS_REGION="cn-north-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
    ONETHING_BACKEND="aws", TABLE_NAME="t", MATERIALS_BUCKET="m", ARCHIVE_BUCKET="a", RUST_LOG="warn")
for q in ["ACCEPT", "CERTIFY_BIRTH", "REGISTER_HOUSEHOLD", "ENROL_INSURANCE", "ISSUE_CARD", "UNIFY_ISSUANCE", "NOTIFY", "ARCHIVE"]:
    env[f"QUEUE_URL_{q}"] = f"https://sqs.cn-north-1.amazonaws.com.cn/1/{q}"
    env[f"DLQ_URL_{q}"] = f"https://sqs.cn-north-1.amazonaws.com.cn/1/{q}-dlq"

def measure(path):
    times, rss = [], []
    for _ in range(RUNS):
        first_next.clear()
        t0 = time.perf_counter()
        p = subprocess.Popen([path], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while "t" not in first_next and time.perf_counter() - t0 < 10:
            time.sleep(0.0002)
        if "t" in first_next:
            times.append((first_next["t"] - t0) * 1000)
            try:
                for line in open(f"/proc/{p.pid}/status"):
                    if line.startswith("VmHWM:"):
                        rss.append(int(line.split()[1]) / 1024)
            except OSError:
                pass
        p.kill(); p.wait()
    return statistics.median(times) if times else float("nan"), max(rss) if rss else float("nan")

def zip_size(d, f):
    p = os.path.join(d, f, "bootstrap.zip")
    if not os.path.exists(p):
        return float("nan"), float("nan")
    with zipfile.ZipFile(p) as z:
        raw = z.getinfo("bootstrap").file_size
    return os.path.getsize(p) / 1e6, raw / 1e6

def unpacked(d, f):
    """The bootstrap inside d/f/bootstrap.zip, extracted to run it."""
    with zipfile.ZipFile(os.path.join(d, f, "bootstrap.zip")) as z:
        out = os.path.join(tmp, f)
        os.makedirs(out, exist_ok=True)
        path = z.extract("bootstrap", out)
    os.chmod(path, 0o755)
    return path

h_ms, h_rss = measure(unpacked(run_dir, "hello"))
print(f"sizes from {sizes_dir}, init and RSS from {run_dir} (median of {RUNS} starts)")
print(f"{'function':<22} {'zip MB':>7} {'raw MB':>7} {'init ms':>8} {'x floor':>8} {'RSS MB':>7}")
z, r = zip_size(sizes_dir, "hello")
print(f"{'(hello world floor)':<22} {z:>7.2f} {r:>7.2f} {h_ms:>8.2f} {1.0:>8.2f} {h_rss:>7.1f}")
for f in FUNCTIONS:
    if not os.path.exists(os.path.join(run_dir, f, "bootstrap.zip")):
        print(f"{f:<22} (not built in {run_dir})")
        continue
    ms, rss = measure(unpacked(run_dir, f))
    z, r = zip_size(sizes_dir, f)
    print(f"{f:<22} {z:>7.2f} {r:>7.2f} {ms:>8.2f} {ms / h_ms:>8.2f} {rss:>7.1f}")
srv.shutdown()
shutil.rmtree(tmp)
