#!/usr/bin/env python3
"""Summarizes scripts/bench/vs_llama_cpp.sh's raw.jsonl: ppd/llama.cpp per row as the median of
the per-round ratios with their range, next to each engine's median tokens/s, and the issue 23
targets each row is held to. Writes summary.md and summary.json into --out."""
import argparse
import json
import statistics
from collections import defaultdict

TESTS = ["prefill 512", "decode b=1 ctx=512", "decode b=32 ctx=512"]
# Issue 23: F16 and Q8_0 targets; F32 must not fall below the ratios measured before it (the
# low ends of the ranges it quotes, from a Zen 4 machine).
TARGETS = {
    ("f16", "prefill 512"): 1.0,
    ("f16", "decode b=1 ctx=512"): 1.0,
    ("f16", "decode b=32 ctx=512"): 1.2,
    ("q8_0", "decode b=1 ctx=512"): 1.0,
    ("f32", "prefill 512"): 1.09,
    ("f32", "decode b=1 ctx=512"): 0.93,
    ("f32", "decode b=32 ctx=512"): 0.98,
}


def load(path):
    values = defaultdict(dict)  # (model, threads, type, test) -> {(round, engine): tokens/s}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            values[(r["model"], r["threads"], r["type"], r["test"])][(r["round"], r["engine"])] = r["tokens_per_s"]
    return values


def summarize(values):
    rows = []
    for (model, threads, type_, test), by_round in sorted(values.items(),
                                                        key=lambda kv: (kv[0][0], kv[0][1], kv[0][2],
                                                                        TESTS.index(kv[0][3]))):
        rounds = sorted({r for r, _ in by_round})
        ratios = [by_round[(r, "ppd")] / by_round[(r, "llama.cpp")] for r in rounds
                  if (r, "ppd") in by_round and by_round.get((r, "llama.cpp"), 0) > 0]
        if not ratios:
            continue
        target = TARGETS.get((type_, test))
        median = statistics.median(ratios)
        rows.append({
            "model": model, "threads": threads, "type": type_, "test": test, "rounds": len(ratios),
            "ppd_tokens_per_s": statistics.median(by_round[(r, "ppd")] for r in rounds if (r, "ppd") in by_round),
            "llama_tokens_per_s": statistics.median(
                by_round[(r, "llama.cpp")] for r in rounds if (r, "llama.cpp") in by_round),
            "ratio_median": median, "ratio_min": min(ratios), "ratio_max": max(ratios),
            "target": target, "met": None if target is None else median >= target,
        })
    return rows


def markdown(rows, args):
    lines = [f"machine: {args.machine}", f"llama.cpp: {args.llama}", f"ppd: {args.ppd}", "",
             "| model | threads | weights | test | ppd tokens/s | llama.cpp tokens/s | ppd/llama.cpp (median) | range | target |",
             "| --- | ---: | --- | --- | ---: | ---: | ---: | --- | --- |"]
    for r in rows:
        target = "-" if r["target"] is None else f">= {r['target']:.2f} {'met' if r['met'] else 'MISSED'}"
        lines.append(f"| {r['model']} | {r['threads']} | {r['type']} | {r['test']} | {r['ppd_tokens_per_s']:.1f} | "
                     f"{r['llama_tokens_per_s']:.1f} | {r['ratio_median']:.2f} | "
                     f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f} | {target} |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--raw", required=True)
    p.add_argument("--machine", required=True)
    p.add_argument("--llama", required=True)
    p.add_argument("--ppd", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    rows = summarize(load(args.raw))
    text = markdown(rows, args)
    print(text, end="")
    with open(f"{args.out}/summary.md", "w") as f:
        f.write(text)
    with open(f"{args.out}/summary.json", "w") as f:
        json.dump({"machine": args.machine, "llama.cpp": args.llama, "ppd": args.ppd, "rows": rows}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
