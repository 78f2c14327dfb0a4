#!/usr/bin/env python3
"""gen_fixtures.py - writes the compare test fixtures (fixtures/) in the exact results schema
(results/README.md, version 1). Deterministic: rerunning rewrites identical files. The values
are synthetic with known properties: 'slower' shifts goalloc/churn by +20%, 'faster' by -20%,
'same' redraws the noise with no shift, 'few' has 3 repetitions, 'noisy' has +-30% noise."""
import json, os, random, sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

CELLS = [  # (alloc, workload, threads, params, ns_per_op, peak_rss)
    ("sys", "churn", 1, {"size_max": "256", "size_min": "8"}, 20.0, 12 << 20),
    ("goalloc", "churn", 1, {"size_max": "256", "size_min": "8"}, 25.0, 14 << 20),
    ("sys", "larson", 2, {"chunks": "5000"}, 60.0, 40 << 20),
    ("goalloc", "larson", 2, {"chunks": "5000"}, 55.0, 42 << 20),
]


def rows(seed, reps=10, noise=0.01, shift=None, workload_override=None):
    rnd = random.Random(seed)
    out = []
    for rep in range(reps):
        for i, (alloc, wl, th, params, nsop, rss) in enumerate(CELLS):
            f = 1 + rnd.uniform(-noise, noise)
            if shift and (alloc, wl) == shift[0]:
                f *= shift[1]
            v = nsop * f
            ops = 1000000
            wall = v * ops / th / 1e9
            out.append({
                "schema": 1, "cell_id": "%04d_%s_%s_t%d_r%d" % (rep * 4 + i, alloc, wl, th, rep),
                "alloc": alloc, "alloc_version": alloc + " 1.0",
                "workload": workload_override or wl, "threads": th, "params": params,
                "rep": rep, "seed": 42 + rep, "status": "ok", "exit_code": 0,
                "wall_s": round(wall, 9), "user_s": round(wall * th, 6), "sys_s": 0.001,
                "peak_rss_bytes": rss + rnd.randrange(0, 64) * 4096,
                "minflt": 100, "majflt": 0, "ops": ops, "ns_per_op": round(v, 6),
                "ops_per_s": round(ops / wall, 3),
                "lat": {"malloc": {"count": 1000, "p50_ns": round(v * 0.8, 3),
                                   "p90_ns": round(v * 1.5, 3), "p99_ns": round(v * 4, 3),
                                   "p999_ns": round(v * 10, 3), "p9999_ns": round(v * 30, 3),
                                   "max_ns": round(v * 100, 3), "mean_ns": round(v, 3)}},
            })
    return out


META = {"schema": 1, "tool": "abench", "tool_version": "0.1.0",
        "command": ["abench", "run", "--alloc", "sys,goalloc", "--workload", "churn,larson"],
        "started": "2026-01-01T00:00:00Z", "finished": "2026-01-01T00:01:00Z",
        "git_commit": "0000000", "git_dirty": False, "host": "fixture", "ncpu": 2}


def write_run(name, rs, meta=True):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    if meta:
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump(META, f, indent=1, sort_keys=True)
            f.write("\n")
    with open(os.path.join(d, "runs.jsonl"), "w") as f:
        for r in rs:
            f.write(json.dumps(r, sort_keys=True) + "\n")


def write_csv(name, rs):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    cols = ["schema", "cell_id", "alloc", "alloc_version", "workload", "threads", "params", "rep",
            "seed", "status", "signal", "exit_code", "wall_s", "user_s", "sys_s",
            "peak_rss_bytes", "minflt", "majflt", "ops", "ns_per_op", "ops_per_s",
            "rss_mean_bytes", "live_mean_bytes", "frag_ratio", "lat_malloc_p50_ns",
            "lat_malloc_p99_ns"]
    with open(os.path.join(d, "runs.csv"), "w") as f:
        f.write(",".join(cols) + "\n")
        for r in rs:
            vals = []
            for c in cols:
                if c == "params":
                    v = ";".join("%s=%s" % kv for kv in sorted(r["params"].items()))
                elif c.startswith("lat_malloc_"):
                    v = r["lat"]["malloc"][c[len("lat_malloc_"):]]
                else:
                    v = r.get(c, "")
                vals.append(str(v))
            f.write(",".join(vals) + "\n")


def main():
    base = rows(1)
    write_run("a", base)
    write_csv("a_csv", base)
    write_run("same", rows(2))
    write_run("slower", rows(3, shift=(("goalloc", "churn"), 1.20)))
    write_run("faster", rows(4, shift=(("goalloc", "churn"), 0.80)))
    write_run("few", rows(5, reps=3))
    write_run("noisy", rows(6, noise=0.30))
    write_run("mismatch", rows(7, workload_override="other"))
    with open(os.path.join(OUT, "corrupt.jsonl"), "w") as f:
        for r in base[:2]:
            f.write(json.dumps(r, sort_keys=True) + "\n")
        f.write("[1, 2]\n")
    with open(os.path.join(OUT, "badjson.jsonl"), "w") as f:
        f.write(json.dumps(base[0], sort_keys=True) + "\n")
        f.write('{"schema": 1, "alloc": \n')
    with open(os.path.join(OUT, "schema2.jsonl"), "w") as f:
        r = dict(base[0])
        r["schema"] = 2
        f.write(json.dumps(r, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
