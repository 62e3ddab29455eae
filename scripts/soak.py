#!/usr/bin/env python3
"""Soak test: N concurrent multi-turn chat streams for M minutes against a `ppd up` cluster
(1 prefill, 2 decode nodes), with a fault F seconds after the previous one ended, in turn: a decode node killed
(`ppd up` restarts it), a decode node stopped for 10 s (SIGSTOP, then SIGCONT), a decode node
drained for 10 s, the prefill node killed. Standard library only.

Reports errors by kind, TTFT percentiles, and the resident memory of every process over time
(CSV), and checks:
  - no request runs past the client's timeout (a hang);
  - every request that had seen no byte when a fault began completes (retries cover it);
  - no KV block is leaked or pinned on any node at the end (after the load stops);
  - the router's RSS over the last 5 minutes stays within 10% (max over min).
Exits 1 when a check fails. Usage: scripts/soak.sh [--streams 100] [--minutes 10] ...
"""
import argparse
import http.client
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time

WORDS = ("once upon a time there was a little girl who liked to play in the park with her dog "
         "and one day they found a big red ball under the old tree near the river").split()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = os.environ.get("PPD_SHARED_DIR")
    default_model = os.path.join(shared, "models/tinystories-656k") if shared else "tiny"
    p.add_argument("--ppd", default="build/release/ppd", help="the ppd binary (default: %(default)s)")
    p.add_argument("--model", default=default_model, help="model directory or preset (default: %(default)s)")
    p.add_argument("--streams", type=int, default=100, help="concurrent conversations (default: %(default)s)")
    p.add_argument("--minutes", type=float, default=10, help="length of the run (default: %(default)s)")
    p.add_argument("--fault-every-s", type=float, default=60,
                   help="seconds from the end of one fault to the next; 0: none (default: %(default)s)")
    p.add_argument("--max-tokens", type=int, default=24, help="output tokens per turn (default: %(default)s)")
    p.add_argument("--timeout-s", type=float, default=120, help="client deadline of one request (default: %(default)s)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="ppd up --threads (default: %(default)s)")
    p.add_argument("--out", default="soak-out", help="directory for the log, rss.csv and summary.json (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="seed of the conversations' texts (default: %(default)s)")
    p.add_argument("--router-flags", default="", help="extra flags for the router, e.g. "
                   "\"--conversation-store-tokens 2000000\" so that its bounded answer store fills early")
    a = p.parse_args()
    for name in ("streams", "max_tokens", "threads"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')}: must be >= 1; got {getattr(a, name)}")
    if a.minutes <= 0 or a.timeout_s <= 0 or a.fault_every_s < 0:
        p.error("--minutes and --timeout-s must be > 0, --fault-every-s >= 0")
    return a


class Cluster:
    """`ppd up` with a known cluster secret, and its children."""

    def __init__(self, a):
        self.secret = secrets.token_hex(32)
        env = dict(os.environ, PPD_CLUSTER_SECRET=self.secret)
        self.log = open(os.path.join(a.out, "up.log"), "w")
        self.proc = subprocess.Popen(
            [a.ppd, "up", "--model", a.model, "--prefill", "1", "--decode", "2", "--port", "0",
             "--threads", str(a.threads), "--kv-cache-mib", "256", "--log-dir", os.path.join(a.out, "logs"),
             "--router-flags",
             "--node-timeout-ms 2000 --first-token-timeout-ms 60000 --token-timeout-ms 20000 " + a.router_flags],
            stdout=subprocess.PIPE, stderr=self.log, env=env, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ppd up ready"):
            sys.exit(f"soak: ppd up did not start; see {self.log.name}")
        fields = dict(w.split("=", 1) for w in line.split() if "=" in w)
        self.host, port = fields["http"].rsplit(":", 1)
        self.port = int(port)
        models = get_json(self.host, self.port, "/v1/models") or {}
        self.model = (models.get("data") or [{}])[0].get("id", "")

    def child(self, name):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    args = f.read().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            if ppid != self.proc.pid:
                continue
            if name == "router" and len(args) > 1 and args[1] == b"router":
                return int(pid)
            if b"--name" in args and args[args.index(b"--name") + 1] == name.encode():
                return int(pid)
        return None

    def nodes(self):
        """(name, kind, port) of the nodes, from the router's /health."""
        body = get_json(self.host, self.port, "/health")
        out = []
        for n in (body or {}).get("nodes", []):
            out.append((n["name"], n["kind"], int(n["name"].rsplit(":", 1)[1])))
        return out

    def node_call(self, port, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.secret}", "Content-Type": "application/json"}
        return call(self.host, port, method, path, body, headers, 10)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def call(host, port, method, path, body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException) as e:
        return 0, str(e).encode()
    finally:
        conn.close()


def get_json(host, port, path, headers=None):
    status, body = call(host, port, "GET", path, headers=headers)
    try:
        return json.loads(body) if status else None
    except ValueError:
        return None


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.records = []  # (start, first_byte or None, end, outcome)
        self.faults = []   # (start, end, what)

    def add(self, rec):
        with self.lock:
            self.records.append(rec)

    def fault(self, start, end, what):
        with self.lock:
            self.faults.append((start, end, what))


def one_request(cluster, messages, a):
    """Streams one chat turn. Returns (start, first_byte, end, outcome, text)."""
    body = json.dumps({"model": cluster.model, "messages": messages, "max_tokens": a.max_tokens, "stream": True,
                       "temperature": 0.8, "ignore_eos": True})
    start = time.monotonic()
    first = None
    text = []
    conn = http.client.HTTPConnection(cluster.host, cluster.port, timeout=a.timeout_s)
    try:
        conn.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        if r.status != 200:
            r.read()
            return start, first, time.monotonic(), f"http_{r.status}", ""
        outcome = "no_done"
        while True:
            if time.monotonic() - start > a.timeout_s:
                return start, first, time.monotonic(), "timeout", ""
            line = r.readline()
            if not line:
                break
            if first is None:
                first = time.monotonic()
            line = line.strip()
            if not line.startswith(b"data: "):
                continue
            data = line[6:]
            if data == b"[DONE]":
                outcome = outcome if outcome.startswith("stream_error") else "ok"
                break
            event = json.loads(data)
            if "error" in event:
                outcome = "stream_error"
                continue
            for choice in event.get("choices", []):
                text.append(choice.get("delta", {}).get("content") or "")
        return start, first, time.monotonic(), outcome, "".join(text)
    except TimeoutError:
        return start, first, time.monotonic(), "timeout", ""
    except (OSError, http.client.HTTPException, ValueError) as e:
        return start, first, time.monotonic(), f"client_{type(e).__name__}", ""
    finally:
        conn.close()


def stream_loop(cluster, a, stats, stop, index):
    rng = random.Random(a.seed * 100003 + index)
    while not stop.is_set():
        messages = [{"role": "system", "content": "You tell short stories."}]
        for _ in range(rng.randint(2, 5)):
            if stop.is_set():
                return
            messages.append({"role": "user", "content": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30)))})
            start, first, end, outcome, text = one_request(cluster, messages, a)
            stats.add((start, first, end, outcome))
            if outcome != "ok":
                break
            messages.append({"role": "assistant", "content": text})
            time.sleep(rng.uniform(0, 1))


def fault_loop(cluster, a, stats, stop):
    kinds = ["kill decode-0", "stop decode-1", "drain decode-0", "kill prefill-0"]
    k = 0
    while not stop.wait(a.fault_every_s):
        what = kinds[k % len(kinds)]
        k += 1
        start = time.monotonic()
        verb, name = what.split()
        pid = cluster.child(name)
        if verb == "kill" and pid:
            os.kill(pid, signal.SIGKILL)
        elif verb == "stop" and pid:
            os.kill(pid, signal.SIGSTOP)
            stop.wait(10)
            os.kill(pid, signal.SIGCONT)
        elif verb == "drain":
            port = next((p for n, kind, p in cluster.nodes() if kind == "decode"), None)
            if port:
                cluster.node_call(port, "POST", "/drain", "{}")
                stop.wait(10)
                cluster.node_call(port, "POST", "/drain", '{"draining": false}')
        stats.fault(start, time.monotonic(), what)
        print(f"soak: t={start - T0:.0f}s fault: {what}", flush=True)


def rss_loop(cluster, a, stop, samples):
    with open(os.path.join(a.out, "rss.csv"), "w") as out:
        out.write("t_s,process,rss_kib\n")
        while not stop.wait(10):
            t = time.monotonic() - T0
            for name in ("router", "prefill-0", "decode-0", "decode-1"):
                pid = cluster.child(name)
                try:
                    with open(f"/proc/{pid}/status") as f:
                        kib = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
                except (OSError, StopIteration, TypeError):
                    continue
                samples.append((t, name, kib))
                out.write(f"{t:.0f},{name},{kib}\n")
            tokens = store_tokens(cluster)
            if tokens is not None:
                out.write(f"{t:.0f},router_store_tokens,{tokens}\n")
            out.flush()


def store_tokens(cluster):
    """The router's ppd:router_conversation_store_tokens gauge (its bounded answer store)."""
    status, body = call(cluster.host, cluster.port, "GET", "/metrics")
    for line in body.decode(errors="replace").splitlines() if status == 200 else []:
        if line.startswith("ppd:router_conversation_store_tokens"):
            return int(float(line.rsplit(" ", 1)[1]))
    return None


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))]


def samples_of(samples, name):
    return [kib for _, n, kib in samples if n == name]


def check_nodes(cluster):
    """Each node's leftovers after the load: pinned handles, running requests, held blocks."""
    problems = []
    for name, kind, port in cluster.nodes():
        status, body = cluster.node_call(port, "GET", "/health")
        if status != 200:
            problems.append(f"{name}: /health answered {status}")
            continue
        h = json.loads(body)
        pool = (256 << 20) // h["engine"]["block_bytes"]
        if h["num_pinned_handles"] or h["num_running"] or h["num_waiting"]:
            problems.append(f"{name}: {h['num_pinned_handles']} pinned handles, {h['num_running']} running, "
                            f"{h['num_waiting']} waiting")
        if h["num_free_blocks"] != pool:
            problems.append(f"{name}: {h['num_free_blocks']} of {pool} blocks allocatable (leak)")
        if h["invariants"] != "ok":
            problems.append(f"{name}: invariants: {h['invariants']}")
    return problems


def main():
    global T0
    a = parse_args()
    os.makedirs(a.out, exist_ok=True)
    print(f"soak: {a.streams} streams for {a.minutes} min, a fault {a.fault_every_s} s after the last; machine: "
          f"{os.cpu_count()} cores, {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}",
          flush=True)
    cluster = Cluster(a)
    T0 = time.monotonic()
    stats, stop, samples = Stats(), threading.Event(), []
    threads = [threading.Thread(target=stream_loop, args=(cluster, a, stats, stop, i)) for i in range(a.streams)]
    threads.append(threading.Thread(target=rss_loop, args=(cluster, a, stop, samples)))
    if a.fault_every_s > 0:
        threads.append(threading.Thread(target=fault_loop, args=(cluster, a, stats, stop)))
    for t in threads:
        t.start()
    deadline = T0 + a.minutes * 60
    while time.monotonic() < deadline:
        time.sleep(min(30, max(0.1, deadline - time.monotonic())))
        with stats.lock:
            n, ok = len(stats.records), sum(r[3] == "ok" for r in stats.records)
        print(f"soak: t={time.monotonic() - T0:.0f}s requests={n} ok={ok}", flush=True)
    stop.set()
    for t in threads:
        t.join()
    time.sleep(5)  # let the nodes finish and release what the last requests held
    node_problems = check_nodes(cluster)
    cluster.stop()

    kinds = {}
    for r in stats.records:
        kinds[r[3]] = kinds.get(r[3], 0) + 1
    ttft = [r[1] - r[0] for r in stats.records if r[3] == "ok" and r[1] is not None]
    hangs = [r for r in stats.records if r[3] == "timeout" or r[2] - r[0] > a.timeout_s]
    # A request that had seen no byte when a fault began must complete.
    unretried = [r for r in stats.records
                 if r[3] != "ok" and r[1] is None and any(r[0] <= f[0] <= r[2] for f in stats.faults)]
    router = [(t, kib) for t, name, kib in samples if name == "router" and t >= a.minutes * 60 - 300]
    router_growth = (max(k for _, k in router) / min(k for _, k in router) - 1) if len(router) >= 2 else float("nan")
    summary = {
        "streams": a.streams, "minutes": a.minutes, "faults": [f[2] for f in stats.faults],
        "requests": len(stats.records), "outcomes": kinds,
        "ttft_s (to the first SSE line)": {"p50": pct(ttft, 50), "p90": pct(ttft, 90), "p99": pct(ttft, 99),
                   "mean": statistics.fmean(ttft) if ttft else None},
        "hangs": len(hangs), "failed_before_first_byte_during_fault": len(unretried),
        "node_problems": node_problems, "router_rss_growth_last_5_min": router_growth,
        "router_rss_kib_first_last": [samples_of(samples, "router")[0], samples_of(samples, "router")[-1]]
        if samples_of(samples, "router") else None,
    }
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    failed = []
    if hangs:
        failed.append(f"{len(hangs)} requests ran past {a.timeout_s} s")
    if unretried:
        failed.append(f"{len(unretried)} requests failed before their first byte while a fault was on")
    if node_problems:
        failed.append("; ".join(node_problems))
    if not router_growth <= 0.10:
        failed.append(f"router RSS grew {router_growth:.1%} over the last 5 minutes")
    for line in failed:
        print(f"soak: FAIL: {line}")
    print("soak: PASS" if not failed else "soak: FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
