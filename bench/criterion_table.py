#!/usr/bin/env python3
"""Print the criterion results of `cargo bench -p k2hash-sys --bench core` as a markdown table:
each k2hash figure next to its HashMap baseline of the same run (same group, name + "/HashMap").

    python3 bench/criterion_table.py [target/criterion]
"""
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
rows = {}
for dirpath, _dirs, files in os.walk(root):
    if "estimates.json" in files and dirpath.endswith("/new"):
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            meta = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        rows[meta["group_id"] + "/" + meta["function_id"]] = est["mean"]["point_estimate"]

def order(b):
    mode, keys, vlen = b.split("/")[:3]
    return (mode, int(keys.replace("keys", "")), int(vlen.replace("B", "")), b)

print("| group | operation | ours ns/op | HashMap ns/op | ours / HashMap | ours ops/s |")
print("|---|---|---:|---:|---:|---:|")
for b in sorted((b for b in rows if not b.endswith("/HashMap") and b.count("/") >= 3), key=order):
    group, op = "/".join(b.split("/")[:3]), "/".join(b.split("/")[3:])
    ours = rows[b]
    base = rows.get(b + "/HashMap")
    ratio = f"{ours / base:.1f}x" if base else ""
    basestr = f"{base:.0f}" if base else ""
    print(f"| {group} | {op} | {ours:.0f} | {basestr} | {ratio} | {1e9 / ours:,.0f} |")
