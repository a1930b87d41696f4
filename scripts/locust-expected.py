#!/usr/bin/env python3
# Prints the statistics Locust itself computes from the bundled --json-file outputs (merging
# endpoints with StatsEntry.extend, percentiles with get_response_time_percentile), as the rows
# of the table in tests/locust.rs. Needs `pip install locust==2.47.0`.
# Usage: python3 scripts/locust-expected.py   (from the repository root)
import json, sys
from locust.stats import RequestStats, StatsEntry
for run in ["baseline", "current"]:
    data = json.load(open(f"fixtures/locust/locust-{run}.json"))
    stats = RequestStats()
    groups = {"": StatsEntry(stats, "all", None), "_read": StatsEntry(stats, "GET", None), "_write": StatsEntry(stats, "POST", None)}
    for g in groups.values():
        g.start_time = float("inf"); g.max_response_time = 0
    for d in data:
        e = StatsEntry.unserialize(d, stats)
        e.response_times = {int(k): v for k, v in e.response_times.items()}
        groups[""].extend(e)
        groups["_read" if d["method"] == "GET" else "_write"].extend(e)
    start = min(d["start_time"] for d in data); last = max(d["last_request_timestamp"] for d in data)
    for suffix, g in groups.items():
        vals = [g.get_response_time_percentile(p) for p in (0.5, 0.9, 0.95, 0.99)]
        print(f'("{run}", "{suffix}", [{", ".join(map(str, vals))}], {g.avg_response_time!r}, {g.fail_ratio*100!r}, {g.num_requests / (last - start) * 60!r}),')
