"""Reference: p95 of http_req_duration overall and by HTTP method from k6 raw NDJSON, plus error
rate and request count, in plain Python with the substring prefilter (research/formats.md §9).
Prints the same numbers perfcert computes, so the two can be checked against each other."""
import json
import sys


def p95(values):
    values.sort()
    if not values:
        return 0.0
    i = 0.95 * (len(values) - 1)
    lo = int(i)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (i - lo)


READ, WRITE = {"GET", "HEAD", "OPTIONS"}, {"POST", "PUT", "PATCH", "DELETE"}
durations = {"all": [], "read": [], "write": []}
failed = samples = reqs = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        if not line.startswith(b'{"metric":"http_req'):
            continue
        p = json.loads(line)
        if p["type"] != "Point":
            continue
        m, d = p["metric"], p["data"]
        if m == "http_req_duration":
            method = d["tags"].get("method")
            durations["all"].append(d["value"])
            if method in READ:
                durations["read"].append(d["value"])
            elif method in WRITE:
                durations["write"].append(d["value"])
        elif m == "http_req_failed":
            samples += 1
            failed += d["value"] != 0
        elif m == "http_reqs":
            reqs += 1
print({k: round(p95(v), 6) for k, v in durations.items()}, "error %", round(100 * failed / samples, 6), "requests", reqs)
