#!/usr/bin/env python3
"""Turns `cargo bench --bench matcher` results into the README's Markdown table.

Reads target/criterion/*/*/new/{benchmark,estimates}.json and prints one row per
family and event layout: ns per event and events per second for switchyard
(validating raw bytes), switchyard on pre-validated events, and quamina.
"""
import glob
import json
import os
import sys

EVENTS = 2000  # events per benchmark iteration (benches/matcher.rs)

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
results = {}
for bench in glob.glob(os.path.join(root, "*", "*", "new", "benchmark.json")):
    meta = json.load(open(bench))
    estimates = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
    group = meta["group_id"]
    if group.count("/") != 1 or group.split("/")[1] not in ("plain", "envelope"):
        continue  # another benchmark (reload, ...)
    ns = estimates["mean"]["point_estimate"] / EVENTS
    results.setdefault(group, {})[meta["function_id"]] = ns

def cell(ns):
    return "—" if ns is None else f"{ns:,.0f} ns ({1e9 / ns / 1e6:.2f} M/s)"

print("| family | events | switchyard | switchyard, pre-validated | quamina | pre-validated vs quamina |")
print("| --- | --- | --- | --- | --- | --- |")
order = ["plain", "envelope"]
for group in sorted(results, key=lambda g: (order.index(g.split("/")[1]), g)):
    family, layout = group.split("/")
    r = results[group]
    ours, checked, theirs = r.get("switchyard"), r.get("switchyard-checked"), r.get("quamina")
    ratio = f"{theirs / checked:.2f}x" if theirs and checked else "quamina rejects it"
    print(f"| {family} | {layout} | {cell(ours)} | {cell(checked)} | {cell(theirs)} | {ratio} |")
