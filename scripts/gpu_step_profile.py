#!/usr/bin/env python3
"""Measures engine step times of a Llama-3.1-8B-shaped model with random bf16 weights on one
CUDA GPU and writes the simulator's step profile (`ppd sim --profile`, `ppd sim interference
--profile`).

A step is what an engine with continuous batching runs: the linear layers over every token of
the batch at once, attention per sequence (the decode batch against its KV caches, each
prefill chunk causally against its cached prefix and itself), the LM head over the rows that
sample. Each shape is captured in a CUDA graph, as serving engines do for decode, and timed
with CUDA events; the median of the replays is kept.

The shapes: decode-only batches at several context lengths, full prefills, append-prefills on
a cached prefix, and mixed steps (a decode batch plus a prefill chunk), the PPD paper's
interference question among them. The profile is fitted the way `ppd sim calibrate` fits
(fit_profile in src/ppd/sim/profile_cost_model.cc): least squares in relative error with
non-negative coefficients, then scaled by mean(measured / fitted) so that it prices the mean
step, over the features
    1, max(tokens, token_floor), sampled_rows, prefill_pairs / 1e6, decode_context / 1e3
where token_floor is the token count below which the linear layers cost what reading their
weights costs (chosen by scanning). `ppd sim calibrate --refit PROFILE` refits the samples the
profile keeps with the C++ fitter.

Needs PyTorch with CUDA; nothing else. Prints progress on stderr and a summary on stdout.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

MODELS = {
    # name: layers, hidden, heads, kv heads, head dim, intermediate, vocab (as src/ppd/sim/model_shape.cc)
    "llama-3.1-8b": (32, 4096, 32, 8, 128, 14336, 128256),
}

# --- the fit (pure Python, the same algorithm as the C++ fitter) -------------------------------


def features(shape, token_floor):
    decodes, chunks = shape["decode_context_tokens"], shape["prefill_chunks"]
    tokens = len(decodes) + sum(n for n, _, _ in chunks)
    rows = len(decodes) + sum(1 for _, _, s in chunks if s)
    pairs = sum(n * (p + (n + 1) / 2) for n, p, _ in chunks)
    return [1.0, float(max(tokens, token_floor)), float(rows), pairs * 1e-6, sum(decodes) * 1e-3]


def solve_active(xtx, xty, active):
    idx = [i for i in range(5) if active[i]]
    n = len(idx)
    a = [[xtx[idx[r]][idx[c]] for c in range(n)] + [xty[idx[r]]] for r in range(n)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-300:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(n):
            if r != col:
                k = a[r][col] / a[col][col]
                for c in range(col, n + 1):
                    a[r][c] -= k * a[col][c]
    out = [0.0] * 5
    for r in range(n):
        out[idx[r]] = a[r][n] / a[r][r]
    return out


def fit_coefficients(samples, token_floor):
    """Weighted (1/y^2) least squares, coefficients >= 0: the most negative is dropped and the
    rest refitted. Returns (coefficients, weighted squared error) or None."""
    xtx = [[0.0] * 5 for _ in range(5)]
    xty = [0.0] * 5
    rows = []
    for s in samples:
        x, y = features(s, token_floor), s["step_us"]
        rows.append((x, y))
        w = 1 / (y * y)
        for i in range(5):
            for j in range(5):
                xtx[i][j] += w * x[i] * x[j]
            xty[i] += w * x[i] * y
    for i in range(5):
        xtx[i][i] += 1e-9 * xtx[i][i] + 1e-300
    active = [True] * 5
    for _ in range(5):
        c = solve_active(xtx, xty, active)
        if c is None:
            return None
        negative = [i for i in range(5) if active[i] and c[i] < 0]
        if not negative:
            sse = sum((sum(ci * xi for ci, xi in zip(c, x)) / y - 1) ** 2 for x, y in rows)
            return c, sse
        active[min(negative, key=lambda i: c[i])] = False
    return None


def floor_candidates(samples, limit=64):
    counts = sorted({len(s["decode_context_tokens"]) + sum(n for n, _, _ in s["prefill_chunks"]) for s in samples})
    if len(counts) > limit:
        counts = [counts[(i * (len(counts) - 1)) // (limit - 1)] for i in range(limit)]
    return [0] + counts


def fit_profile(samples):
    best = None
    for floor in floor_candidates(samples):
        fit = fit_coefficients(samples, floor)
        if fit is not None and (best is None or fit[1] < best[1] * (1 - 1e-9)):
            best = (fit[0], fit[1], floor)
    if best is None:
        raise RuntimeError("the measured steps do not vary enough to fit the profile")
    c, _, floor = best
    # Scaled to price the mean step: relative least squares alone prices noisy steps low.
    fitted = [sum(ci * xi for ci, xi in zip(c, features(s, floor))) for s in samples]
    if all(f > 0 for f in fitted):
        c = [ci * sum(s["step_us"] / f for s, f in zip(samples, fitted)) / len(samples) for ci in c]
    errors = [abs(sum(ci * xi for ci, xi in zip(c, features(s, floor))) / s["step_us"] - 1) for s in samples]
    return c, floor, sum(errors) / len(errors)


def fitted_us(profile, shape):
    return sum(c * x for c, x in zip(profile["coefficients_us"], features(shape, profile["token_floor"])))


# --- the model ----------------------------------------------------------------------------------


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Model:
    """Random bf16 weights in a Llama layout; only what a step's cost depends on."""

    def __init__(self, torch, dims, device):
        self.torch = torch
        self.layers, self.hidden, self.heads, self.kv_heads, self.head_dim, self.inter, self.vocab = dims
        h, q, kv = self.hidden, self.heads * self.head_dim, self.kv_heads * self.head_dim
        gen = torch.Generator(device=device).manual_seed(1234)

        def weight(*size):
            return torch.empty(*size, device=device, dtype=torch.bfloat16).normal_(0, 0.02, generator=gen)

        self.embed = weight(self.vocab, h)
        self.wqkv = [weight(q + 2 * kv, h) for _ in range(self.layers)]
        self.wo = [weight(h, q) for _ in range(self.layers)]
        self.wgate_up = [weight(2 * self.inter, h) for _ in range(self.layers)]
        self.wdown = [weight(h, self.inter) for _ in range(self.layers)]
        self.norms = [torch.ones(h, device=device, dtype=torch.bfloat16) for _ in range(2 * self.layers + 1)]
        self.lm_head = weight(self.vocab, h)

    def weight_bytes(self):
        ts = [self.embed, self.lm_head] + self.wqkv + self.wo + self.wgate_up + self.wdown
        return sum(t.numel() * t.element_size() for t in ts)


def rms_norm(torch, x, w):
    var = x.float().pow(2).mean(-1, keepdim=True)
    return (x.float() * torch.rsqrt(var + 1e-5)).to(x.dtype) * w


def rope(torch, x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class Step:
    """One batch shape's static inputs (token ids, RoPE tables, KV caches) and its forward."""

    def __init__(self, torch, model, shape, prefill_attention, device):
        self.torch, self.m, self.attend_prefill = torch, model, prefill_attention
        m = model
        self.decode_ctx = shape["decode_context_tokens"]
        self.chunks = shape["prefill_chunks"]
        self.batch = len(self.decode_ctx)
        if self.batch and len(set(self.decode_ctx)) != 1:
            raise ValueError("decode sequences of one step must share a context length here")
        self.tokens = self.batch + sum(n for n, _, _ in self.chunks)
        gen = torch.Generator(device=device).manual_seed(self.tokens)
        self.ids = torch.randint(0, m.vocab, (self.tokens,), device=device, generator=gen)
        positions = torch.arange(self.tokens, device=device, dtype=torch.float32)
        inv = 1.0 / (500000.0 ** (torch.arange(0, m.head_dim, 2, device=device, dtype=torch.float32) / m.head_dim))
        angles = torch.outer(positions, inv)
        angles = torch.cat((angles, angles), dim=-1)[:, None, :]
        self.cos, self.sin = angles.cos().to(torch.bfloat16), angles.sin().to(torch.bfloat16)

        def cache(*size):
            return torch.empty(*size, device=device, dtype=torch.bfloat16).normal_(generator=gen)

        # Per layer: the decode batch's K and V caches, then each chunk's (prefix and itself).
        ctx = self.decode_ctx[0] if self.batch else 0
        self.decode_kv = [(cache(self.batch, m.kv_heads, ctx, m.head_dim), cache(self.batch, m.kv_heads, ctx, m.head_dim))
                          for _ in range(m.layers)] if self.batch else []
        self.chunk_kv = [[(cache(1, m.kv_heads, p + n, m.head_dim), cache(1, m.kv_heads, p + n, m.head_dim))
                          for n, p, _ in self.chunks] for _ in range(m.layers)]
        sampled = list(range(self.batch))
        row = self.batch
        for n, _, samples in self.chunks:
            row += n
            if samples:
                sampled.append(row - 1)
        self.sampled = torch.tensor(sampled, device=device, dtype=torch.long)

    def attention(self, layer, q, k, v):
        torch, m = self.torch, self.m
        group = m.heads // m.kv_heads
        out = torch.empty_like(q)
        b = self.batch
        if b:
            kc, vc = self.decode_kv[layer]
            kc[:, :, -1, :].copy_(k[:b])
            vc[:, :, -1, :].copy_(v[:b])
            # One query token per sequence: the query heads sharing a KV head become its rows.
            qd = q[:b].reshape(b, m.kv_heads, group, m.head_dim)
            out[:b] = torch.nn.functional.scaled_dot_product_attention(qd, kc, vc).reshape(b, m.heads, m.head_dim)
        row = b
        for i, (n, p, _) in enumerate(self.chunks):
            kc, vc = self.chunk_kv[layer][i]
            kc[0, :, p:, :].copy_(k[row:row + n].transpose(0, 1))
            vc[0, :, p:, :].copy_(v[row:row + n].transpose(0, 1))
            qc = q[row:row + n].transpose(0, 1).unsqueeze(0)
            out[row:row + n] = self.attend_prefill(qc, kc, vc, p)[0].transpose(0, 1)
            row += n
        return out

    def forward(self):
        torch, m = self.torch, self.m
        F = torch.nn.functional
        qd, kvd = m.heads * m.head_dim, m.kv_heads * m.head_dim
        x = m.embed[self.ids]
        for layer in range(m.layers):
            h = rms_norm(torch, x, m.norms[2 * layer])
            qkv = F.linear(h, m.wqkv[layer])
            q = qkv[:, :qd].view(self.tokens, m.heads, m.head_dim)
            k = qkv[:, qd:qd + kvd].view(self.tokens, m.kv_heads, m.head_dim)
            v = qkv[:, qd + kvd:].view(self.tokens, m.kv_heads, m.head_dim)
            q, k = rope(torch, q, self.cos, self.sin), rope(torch, k, self.cos, self.sin)
            a = self.attention(layer, q, k, v).reshape(self.tokens, qd)
            x = x + F.linear(a, m.wo[layer])
            h = rms_norm(torch, x, m.norms[2 * layer + 1])
            gate, up = F.linear(h, m.wgate_up[layer]).chunk(2, dim=-1)
            x = x + F.linear(F.silu(gate) * up, m.wdown[layer])
        last = rms_norm(torch, x[self.sampled], m.norms[-1])
        return F.linear(last, m.lm_head)


# --- attention variants, checked against a float32 reference -----------------------------------


def prefill_variants(torch):
    F = torch.nn.functional
    from torch.nn.attention.bias import causal_lower_right

    def gqa_kwarg(q, k, v, p):
        if p == 0:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(q.shape[2], k.shape[2]),
                                              enable_gqa=True)

    def expanded(q, k, v, p):
        g = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        if p == 0:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(q.shape[2], k.shape[2]))

    def explicit_mask(q, k, v, p):
        g = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        n, total = q.shape[2], k.shape[2]
        mask = torch.ones(n, total, dtype=torch.bool, device=q.device).tril(diagonal=total - n)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    return [("sdpa enable_gqa, lower-right causal", gqa_kwarg), ("sdpa on expanded KV heads", expanded),
            ("sdpa with an explicit mask", explicit_mask)]


def reference_attention(torch, q, k, v):
    """float32: q [B, H, n, D] against k, v [B, Hkv, total, D]; query i sees keys <= i + total - n."""
    g = q.shape[1] // k.shape[1]
    q, k, v = q.float(), k.float().repeat_interleave(g, dim=1), v.float().repeat_interleave(g, dim=1)
    n, total = q.shape[2], k.shape[2]
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    mask = torch.ones(n, total, dtype=torch.bool, device=q.device).tril(diagonal=total - n)
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1) @ v


def rel_error(torch, out, ref):
    if not torch.isfinite(out).all():
        return float("inf")
    return ((out.float() - ref).norm() / ref.norm()).item()


def choose_prefill_attention(torch, device):
    gen = torch.Generator(device=device).manual_seed(7)

    def rnd(*size):
        return torch.randn(*size, device=device, dtype=torch.bfloat16, generator=gen)

    for name, fn in prefill_variants(torch):
        worst = 0.0
        try:
            for n, p in ((1, 0), (7, 0), (64, 0), (1, 37), (5, 37), (64, 300)):
                q, k, v = rnd(1, 32, n, 128), rnd(1, 8, p + n, 128), rnd(1, 8, p + n, 128)
                worst = max(worst, rel_error(torch, fn(q, k, v, p), reference_attention(torch, q, k, v)))
        except Exception as e:  # a variant this PyTorch does not support: try the next
            log(f"prefill attention '{name}': unavailable ({type(e).__name__}: {e})")
            continue
        log(f"prefill attention '{name}': worst relative error {worst:.2e}")
        if worst < 2e-2:
            return name, fn
    raise RuntimeError("no prefill attention variant matched the float32 reference")


def check_decode_attention(torch, device):
    gen = torch.Generator(device=device).manual_seed(8)
    b, ctx = 3, 77
    q = torch.randn(b, 32, 1, 128, device=device, dtype=torch.bfloat16, generator=gen)
    k = torch.randn(b, 8, ctx, 128, device=device, dtype=torch.bfloat16, generator=gen)
    v = torch.randn(b, 8, ctx, 128, device=device, dtype=torch.bfloat16, generator=gen)
    out = torch.nn.functional.scaled_dot_product_attention(q.reshape(b, 8, 4, 128), k, v).reshape(b, 32, 1, 128)
    err = rel_error(torch, out, reference_attention(torch, q, k, v))
    log(f"decode attention (query heads folded onto their KV head): relative error {err:.2e}")
    if not err < 2e-2:
        raise RuntimeError(f"decode attention does not match the float32 reference: relative error {err}")
    return err


# --- timing -------------------------------------------------------------------------------------


def time_step(torch, step, min_reps, max_reps, budget_s):
    """Median, min and max of the step's replays in microseconds, the replay count and how it ran."""
    for _ in range(2):
        step.forward()
    torch.cuda.synchronize()
    graph, mode = torch.cuda.CUDAGraph(), "cuda graph"
    try:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            step.forward()
        torch.cuda.current_stream().wait_stream(side)
        with torch.cuda.graph(graph):
            step.forward()
        run = graph.replay
    except Exception as e:  # capture failed: time the eager forward instead, and say so
        log(f"  graph capture failed ({type(e).__name__}: {e}); timing eager")
        graph, mode, run = None, "eager", step.forward
    run()
    torch.cuda.synchronize()
    times, start = [], time.perf_counter()
    while len(times) < max_reps and (len(times) < min_reps or time.perf_counter() - start < budget_s):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        run()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) * 1e3)
    del graph
    return statistics.median(times), min(times), max(times), len(times), mode


def ceilings(torch, device):
    """The card's matrix rate and copy bandwidth as measured here (bf16 8192^3; 2 GiB copy)."""
    n = 8192
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    src = torch.randn(1 << 30, device=device, dtype=torch.bfloat16)
    dst = torch.empty_like(src)

    def timed(fn, reps=10):
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        for _ in range(reps):
            fn()
        e1.record()
        e1.synchronize()
        return e0.elapsed_time(e1) / 1e3 / reps

    gemm_s = timed(lambda: a @ b)
    copy_s = timed(lambda: dst.copy_(src))
    result = {"bf16_gemm_tflops": 2 * n ** 3 / gemm_s / 1e12, "copy_bytes_per_s": 2 * src.numel() * 2 / copy_s}
    del a, b, src, dst
    torch.cuda.empty_cache()
    return result


# --- the shapes ---------------------------------------------------------------------------------


def shape(decodes=0, context=0, chunks=()):
    return {"decode_context_tokens": [context] * decodes, "prefill_chunks": [list(c) for c in chunks]}


def grid(interference):
    """(label, shape) pairs. KV of a decode batch stays under 2^18 tokens (34 GB for this model)."""
    out = []
    for context in (256, 1024, 4096):
        for b in (1, 8, 32, 64, 128, 200, 256):
            if b * context <= 1 << 18:
                out.append((f"decode {b} at {context}", shape(b, context)))
    for n in (16, 64, 128, 256, 512, 1024, 2048, 4096, 8192):
        out.append((f"prefill {n}", shape(chunks=[(n, 0, True)])))
    for p in (2048, 8192):
        for n in (16, 64, 256, 1024):
            out.append((f"append {n} on {p}", shape(chunks=[(n, p, True)])))
    b, ctx, cached = interference
    if all(s != shape(b, ctx) for _, s in out):
        out.append((f"decode {b} at {ctx}", shape(b, ctx)))
    for n, p in ((1024, 0), (1024, cached), (1024 + cached, 0), (16, cached), (64, cached), (256, cached)):
        out.append((f"decode {b} at {ctx} + {'append' if p else 'prefill'} {n}" + (f" on {p}" if p else ""),
                    shape(b, ctx, [(n, p, True)])))
    for b, ctx, n, p in ((32, 1024, 512, 0), (64, 2048, 256, 4096), (16, 4096, 2048, 0), (128, 1024, 64, 0)):
        out.append((f"decode {b} at {ctx} + {'append' if p else 'prefill'} {n}" + (f" on {p}" if p else ""),
                    shape(b, ctx, [(n, p, True)])))
    return out


def interference_table(measured, profile, interference):
    b, ctx, cached = interference
    base = shape(b, ctx)
    rows = [("full prefill of 1024 tokens", shape(b, ctx, [(1024, 0, True)])),
            (f"append-prefill of 1024 tokens on {cached} cached", shape(b, ctx, [(1024, cached, True)])),
            (f"full prefill of the whole {1024 + cached} tokens", shape(b, ctx, [(1024 + cached, 0, True)]))]
    rows += [(f"append of {n} tokens on {cached} cached", shape(b, ctx, [(n, cached, True)])) for n in (16, 64, 256)]
    key = json.dumps
    lines = [f"decode batch {b} at {ctx} tokens of context: {measured[key(base)] / 1e3:.2f} ms measured, "
             f"{fitted_us(profile, base) / 1e3:.2f} ms in the profile",
             f"{'+ in the same step':<46} {'measured':>17} {'profile':>17}"]
    for what, s in rows:
        if key(s) not in measured:
            lines.append(f"+ {what:<44} not measured")
            continue
        m, f = measured[key(s)], fitted_us(profile, s)
        lines.append(f"+ {what:<44} {m / 1e3:7.2f} ms {100 * (m / measured[key(base)] - 1):+6.1f}% "
                     f"{f / 1e3:7.2f} ms {100 * (f / fitted_us(profile, base) - 1):+6.1f}%")
    return "\n".join(lines)


def describe_device(torch):
    props = torch.cuda.get_device_properties(0)
    info = {"name": props.name, "multiprocessors": props.multi_processor_count,
            "memory_bytes": props.total_memory, "torch": torch.__version__, "cuda": torch.version.cuda}
    try:
        info["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit",
             "--format=csv,noheader"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        info["nvidia_smi"] = f"unavailable: {e}"
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", default="llama-3.1-8b", choices=sorted(MODELS), help="model shape (default %(default)s)")
    ap.add_argument("--out", required=True, help="profile file to write (kind ppd-step-profile)")
    ap.add_argument("--raw", help="also write every shape's timings, the checks and the card's ceilings here")
    ap.add_argument("--min-reps", type=int, default=5, help="timed replays per shape, at least (default %(default)s)")
    ap.add_argument("--max-reps", type=int, default=50, help="timed replays per shape, at most (default %(default)s)")
    ap.add_argument("--budget-s", type=float, default=0.4,
                    help="seconds of replays per shape once --min-reps are done (default %(default)s)")
    ap.add_argument("--interference", default="200,1024,2048",
                    help="decode batch, its context and the cached tokens of the interference steps "
                         "(default %(default)s, the PPD paper's question)")
    ap.add_argument("--quick", action="store_true", help="a few shapes only, to try the script out")
    args = ap.parse_args()
    try:
        interference = tuple(int(v) for v in args.interference.split(","))
        if len(interference) != 3 or min(interference) < 1:
            raise ValueError
    except ValueError:
        ap.error(f"--interference: expected three positive integers 'batch,context,cached'; got '{args.interference}'")
    if not 1 <= args.min_reps <= args.max_reps:
        ap.error(f"--min-reps and --max-reps: expected 1 <= min <= max; got {args.min_reps} and {args.max_reps}")

    import torch
    if not torch.cuda.is_available():
        sys.exit("gpu_step_profile: no CUDA device is visible to PyTorch")
    device = torch.device("cuda:0")
    torch.backends.cuda.matmul.allow_tf32 = False
    info = describe_device(torch)
    log(f"device: {info}")
    raw = {"device": info, "model": args.model, "interference": interference, "shapes": []}
    raw["ceilings"] = ceilings(torch, device)
    log(f"ceilings: {raw['ceilings']}")
    raw["decode_attention_error"] = check_decode_attention(torch, device)
    raw["prefill_attention"], attend_prefill = choose_prefill_attention(torch, device)
    t0 = time.perf_counter()
    model = Model(torch, MODELS[args.model], device)
    torch.cuda.synchronize()
    log(f"weights: {model.weight_bytes() / 1e9:.2f} GB in {time.perf_counter() - t0:.1f} s")

    shapes = grid(interference)
    if args.quick:
        shapes = shapes[:3] + [s for s in shapes if s[0].startswith("prefill")][:3]
    samples, measured = [], {}
    for i, (label, s) in enumerate(shapes):
        try:
            step = Step(torch, model, s, attend_prefill, device)
            median, lo, hi, reps, mode = time_step(torch, step, args.min_reps, args.max_reps, args.budget_s)
        except (RuntimeError, ValueError) as e:  # e.g. out of memory: this shape is left out, and said so
            log(f"[{i + 1}/{len(shapes)}] {label}: failed ({type(e).__name__}: {e}); left out")
            raw["shapes"].append({"label": label, "shape": s, "error": f"{type(e).__name__}: {e}"})
            continue
        finally:
            step = None
            torch.cuda.empty_cache()
        samples.append(dict(s, step_us=round(median, 2)))
        measured[json.dumps(s)] = median
        raw["shapes"].append({"label": label, "shape": s, "median_us": median, "min_us": lo, "max_us": hi,
                              "replays": reps, "mode": mode})
        log(f"[{i + 1}/{len(shapes)}] {label:<36} {median / 1e3:9.3f} ms (min {lo / 1e3:.3f}, max {hi / 1e3:.3f}, "
            f"{reps} {mode} replays)")
        if args.raw:
            with open(args.raw, "w") as f:
                json.dump(raw, f, indent=1)

    coefficients, floor, error = fit_profile(samples)
    name = (f"{info['name']}, {args.model} bf16 random weights, PyTorch {info['torch']} "
            f"(CUDA graphs, SDPA), gpu_step_profile.py")
    profile = {"kind": "ppd-step-profile", "name": name, "model": args.model,
               "features": ["step", "tokens", "sampled_rows", "prefill_pairs_per_million",
                            "decode_context_per_thousand"],
               "coefficients_us": coefficients, "token_floor": floor, "mean_abs_error": error,
               "num_samples": len(samples), "device_memory_bytes": info["memory_bytes"], "samples": samples}
    with open(args.out, "w") as f:
        json.dump(profile, f, indent=1)
        f.write("\n")
    if args.raw:
        raw["profile"] = {k: profile[k] for k in ("coefficients_us", "token_floor", "mean_abs_error")}
        with open(args.raw, "w") as f:
            json.dump(raw, f, indent=1)

    print(f"profile: {name}")
    c = coefficients
    print(f"step_us = {c[0]:.1f} + {c[1]:.3f}·max(tokens, {floor}) + {c[2]:.2f}·sampled_rows + "
          f"{c[3]:.2f}·prefill_pairs/1e6 + {c[4]:.2f}·decode_context/1e3; mean |error| {100 * error:.1f}% "
          f"over {len(samples)} steps")
    print(f"ceilings: {raw['ceilings']['bf16_gemm_tflops']:.0f} TFLOP/s bf16, "
          f"{raw['ceilings']['copy_bytes_per_s'] / 1e12:.2f} TB/s copy; prefill attention: {raw['prefill_attention']}")
    print(f"{'step':<40} {'measured ms':>11} {'profile ms':>11} {'error':>7}")
    for entry in raw["shapes"]:
        if "error" in entry:
            print(f"{entry['label']:<40} failed: {entry['error']}")
            continue
        m, p = entry["median_us"], fitted_us(profile, entry["shape"])
        print(f"{entry['label']:<40} {m / 1e3:11.3f} {p / 1e3:11.3f} {100 * (p / m - 1):+6.1f}%")
    if not args.quick and json.dumps(shape(*interference[:2])) in measured:
        print(interference_table(measured, profile, interference))
    print(f"written to {args.out}" + (f" and {args.raw}" if args.raw else ""))


if __name__ == "__main__":
    main()
