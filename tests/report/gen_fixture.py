#!/usr/bin/env python3
"""gen_fixture.py - writes the report test's run folder (fixtures/run1/) in the exact results
schema (results/README.md, version 1; per-cell files as harness/runner writes them).
Deterministic: rerunning rewrites identical files. Three allocators (sys, jemalloc, goalloc),
workloads churn (1 and 2 threads, latency of malloc and free) and burst-gc (mode resolved per
backend as the runners do for mode=auto: gc on goalloc, with GC events and MemStats columns in
its timeline; manual on the others), 3 repetitions, one crashed cell, and a fourth allocator
(boehm) whose churn cells are all n/a. Per-cell files exist for repetition 0."""
import json, math, os, random, sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "fixtures", "run1")
ALLOCS = [("sys", 18.0, 1.0), ("jemalloc", 9.0, 1.3), ("goalloc", 12.0, 1.1)]
KEYS = [("churn", 1, {"size_max": "256", "size_min": "8"}),
        ("churn", 2, {"size_max": "256", "size_min": "8"}),
        ("burst-gc", 1, {"spike": "10"})]
GC_ALLOCS = ("goalloc",)  # burst-gc runs in mode=gc on these, mode=manual on the others


def hgrm(rnd, base):
    lines = ["%12s %14s %10s %14s" % ("Value", "Percentile", "TotalCount", "1/(1-Percentile)"), ""]
    pct, total = 0.0, 10000
    while pct < 99.995:
        inv = 1 / (1 - pct / 100)
        v = base * (1 + math.log10(inv) ** 2)
        lines.append("%12.3f %14.12f %10d %14.2f" % (v, pct / 100, int(total * pct / 100), inv))
        level = math.floor(math.log2(100 / (100 - pct))) + 1
        pct += 100 / (5 * 2 ** level)
    lines.append("%12.3f %14.12f %10d" % (base * 40, 1.0, total))
    lines += ["#[Mean    = %12.3f, StdDeviation   = %12.3f]" % (base * 1.2, base),
              "#[Max     = %12.3f, Total count    = %12d]" % (base * 40, total),
              "#[Buckets = %12d, SubBuckets     = %12d]" % (30, 128), "#[Unit = ns, fixture]"]
    return "\n".join(lines) + "\n"


def timeline(rnd, frag, memstats=False):
    out = ["t_s,rss_bytes,live_bytes,allocated,active,resident,mapped,retained"]
    for i in range(40):
        t = i * 0.005
        live = int((8 + 24 * math.sin(i / 39 * math.pi)) * 1048576)
        rss = int(live * frag + 2 * 1048576)
        if memstats:  # goalloc's MemStats: HeapAlloc, HeapInuse, resident, HeapReleased
            active = int(live * (1 + (frag - 1) / 2))
            resident = int(live * frag + 1048576)
            out.append("%.6f,%d,%d,%d,%d,%d,%d,%d"
                       % (t, rss, live, live, active, resident, resident, i * 65536))
        else:
            out.append("%.6f,%d,%d,%d,,,,"
                       % (t, rss, live, live))
    return "\n".join(out) + "\n"


def events(alloc):
    out = ["t_s,kind,name,rss_bytes,cycle,pause_ns,heap_before,heap_after,heap_marked,heap_goal,"
           "mem_limit,forced", "0.010000,phase,spike,20971520,,,,,,,,", ]
    if alloc == "goalloc":
        heap, goal = 4 << 20, 8 << 20
        for c in range(1, 7):
            t0 = 0.02 * c
            out.append("%.6f,gc_start,cycle,,%d,0,%d,-1,-1,%d,%d,0" % (t0, c, heap * 2, goal, 64 << 20))
            out.append("%.6f,gc_end,cycle,,%d,%d,-1,%d,%d,%d,%d,0"
                       % (t0 + 0.002, c, 150000 + 20000 * c, heap, heap, goal * 2, 64 << 20))
            heap += 1 << 20
            goal = heap * 2
    # the spike lasts 5 ms of a 0.2 s timeline: short enough for the report's zoom on it
    out.append("0.015000,phase,steady,12582912,,,,,,,,")
    return "\n".join(out) + "\n"


def main():
    rnd = random.Random(8)
    os.makedirs(RUN, exist_ok=True)
    meta = {"schema": 1, "tool": "abench", "tool_version": "0.1.0",
            "command": ["abench", "run", "--alloc", "sys,jemalloc,goalloc", "--workload",
                        "churn,burst-gc", "--threads", "1,2", "--reps", "3"],
            "started": "2026-01-01T00:00:00Z", "finished": "2026-01-01T00:02:00Z",
            "git_commit": "0123456789abcdef", "git_dirty": False, "compiler": "gcc 12.2.0",
            "build_type": "Release", "build_flags": "-O2", "host": "fixture-host",
            "cpu_model": "Fixture CPU @ 2.0GHz", "ncpu": 2, "kernel": "6.1.0",
            "thp": "always [madvise] never", "env": {"GOGC": "100"},
            "allocators": {"sys": "glibc 2.36", "jemalloc": "5.3.0", "goalloc": "goalloc 0.1.0",
                           "boehm": "Boehm GC 8.2.2"},
            "timer": {"ticks_per_ns": 2.596129, "overhead_ticks": 40, "overhead_ns": 20,
                      "resolution_ns": 0.5, "mean_sample_interval_ops": 64},
            "matrix": {"alloc": ["sys", "jemalloc", "goalloc"], "reps": 3}}
    with open(os.path.join(RUN, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    rows, idx = [], 0
    for rep in range(3):
        for wl, th, params0 in KEYS:
            for alloc, nsop, frag in ALLOCS:
                params = dict(params0)
                if wl == "burst-gc":
                    params["mode"] = "gc" if alloc in GC_ALLOCS else "manual"
                cid = "%04d_%s_%s_t%d_r%d" % (idx, alloc, wl, th, rep)
                idx += 1
                v = nsop * (1 + rnd.uniform(-0.03, 0.03)) * (1.15 if th == 2 else 1)
                ops = 2000000
                wall = v * ops / th / 1e9
                row = {"schema": 1, "cell_id": cid, "alloc": alloc,
                       "alloc_version": meta["allocators"][alloc], "workload": wl,
                       "threads": th, "params": params, "rep": rep, "seed": 1 + rep,
                       "status": "ok", "exit_code": 0, "wall_s": round(wall, 9),
                       "user_s": round(wall * th, 6), "sys_s": 0.002,
                       "peak_rss_bytes": int((30 * frag + 3) * 1048576), "minflt": 900,
                       "majflt": 0, "ops": ops, "ns_per_op": round(v, 6),
                       "ops_per_s": round(ops / wall, 3),
                       "rss_mean_bytes": int(20 * frag * 1048576),
                       "live_mean_bytes": 20 * 1048576, "frag_ratio": frag}
                if wl == "churn":
                    row["lat"] = {op: {"count": 10000, "p50_ns": round(v * m, 3),
                                       "p90_ns": round(v * m * 2, 3), "p99_ns": round(v * m * 5, 3),
                                       "p999_ns": round(v * m * 10, 3),
                                       "p9999_ns": round(v * m * 17, 3),
                                       "max_ns": round(v * m * 40, 3), "mean_ns": round(v * m * 1.2, 3)}
                                  for op, m in (("malloc", 1.0), ("free", 0.6))}
                if wl == "burst-gc" and alloc == "goalloc":
                    row["gc"] = {"cycles": 6, "pause_p50_ns": 210000, "pause_p99_ns": 270000,
                                 "pause_max_ns": 270000, "pause_total_ns": 1290000,
                                 "cpu_fraction": 0.04}
                if wl == "burst-gc" and alloc == "jemalloc" and rep == 2:
                    row = {k: row[k] for k in ("schema", "cell_id", "alloc", "alloc_version",
                                               "workload", "threads", "params", "rep", "seed")}
                    row.update({"status": "crash", "signal": 11, "error": "killed by signal 11 (SIGSEGV)"})
                rows.append(row)
                if wl == "churn" and alloc == "goalloc":
                    rows.append({"schema": 1, "cell_id": "boehm_churn_t%d_r%d" % (th, rep),
                                 "alloc": "boehm", "workload": "churn", "threads": th,
                                 "params": params, "rep": rep, "seed": 1 + rep, "status": "na",
                                 "error": "abench-runner-boehm: n/a: fixture reason"})
                if rep == 0 and row["status"] == "ok":
                    d = os.path.join(RUN, "cells", cid)
                    os.makedirs(d, exist_ok=True)
                    with open(os.path.join(d, "timeline.csv"), "w") as f:
                        f.write(timeline(rnd, frag, memstats=alloc == "goalloc"))
                    with open(os.path.join(d, "events.csv"), "w") as f:
                        f.write(events(alloc if wl == "burst-gc" else ""))
                    if wl == "churn":
                        for op, m in (("malloc", 1.0), ("free", 0.6)):
                            with open(os.path.join(d, "lat_%s.hgrm" % op), "w") as f:
                                f.write(hgrm(rnd, v * m))
    with open(os.path.join(RUN, "runs.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    return 0


def run2():
    """fixtures/run2: one GC backend whose events cannot tell the heap size (-1, like the Go
    runtime's), so the GC chart draws the goal, the pauses and the timeline's live bytes."""
    d = os.path.join(HERE, "fixtures", "run2")
    cell = os.path.join(d, "cells", "0000_go-runtime_burst-gc_t1_r0")
    os.makedirs(cell, exist_ok=True)
    row = {"schema": 1, "cell_id": "0000_go-runtime_burst-gc_t1_r0", "alloc": "go-runtime",
           "workload": "burst-gc", "threads": 1, "params": {"mode": "gc"}, "rep": 0,
           "status": "ok", "wall_s": 0.5, "ns_per_op": 120.5, "ops": 4000000,
           "ops_per_s": 8e6, "peak_rss_bytes": 50 << 20,
           "gc": {"cycles": 3, "pause_p50_ns": 30000, "pause_p99_ns": 70000,
                  "pause_max_ns": 70000, "pause_total_ns": 120000, "cpu_fraction": 0.01}}
    with open(os.path.join(d, "runs.jsonl"), "w") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
    ev = ["t_s,kind,name,rss_bytes,cycle,pause_ns,heap_before,heap_after,heap_marked,heap_goal,"
          "mem_limit,forced"]
    for c in range(1, 4):
        ev.append("%.6f,gc_end,cycle,,%d,%d,-1,-1,-1,%d,-1,0" % (0.1 * c, c, 20000 * c, (8 << 20) * c))
    with open(os.path.join(cell, "events.csv"), "w") as f:
        f.write("\n".join(ev) + "\n")
    with open(os.path.join(cell, "timeline.csv"), "w") as f:
        f.write("t_s,rss_bytes,live_bytes\n")
        for i in range(10):
            f.write("%.6f,%d,%d\n" % (0.04 * i, (20 + i) << 20, (4 + i) << 20))


if __name__ == "__main__":
    run2()
    sys.exit(main())
