#!/usr/bin/env python3
"""test_report.py ABENCH FIXTURE WORKDIR - `abench report` on a copy of the fixture run
folder (gen_fixture.py): every expected chart exists as .gp/.dat/.svg/.png, each SVG (parsed as
XML) carries its title and its series names, report.md links every chart, report.html inlines
every SVG and loads nothing external, the raw results are untouched, and `gnuplot <chart>.gp`
in plots/ redraws a chart. A chart holds cells of one mode only (gc and manual apart), GC
charts only gc cells, throughput charts need two thread counts; report.html's structure:
titles once, a summary that fits the page (8 columns, n/a rows collapsed into a line), times in
readable units, no float noise. Also the error paths: bad baseline, missing folder, corrupt
rows (exit 64)."""
import hashlib, os, re, shutil, subprocess, sys
import xml.etree.ElementTree as ET

AB, FIX, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
SVGNS = "{http://www.w3.org/2000/svg}"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def svg_texts(path):
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()).strip() for t in root.iter(SVGNS + "text")]


def digest(d):
    h = hashlib.sha256()
    for base, _, files in sorted(os.walk(d)):
        if os.path.basename(base) == "plots" or "/plots" in base:
            continue
        for f in sorted(files):
            if f.startswith("report."):
                continue
            p = os.path.join(base, f)
            h.update(p[len(d):].encode())
            h.update(open(p, "rb").read())
    return h.hexdigest()


run = os.path.join(WORK, "run1")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
shutil.copytree(FIX, run)
before = digest(run)
p = subprocess.run([AB, "report", run], capture_output=True, text=True)
check(p.returncode == 0, "abench report exits 0 (got %d: %s)" % (p.returncode, p.stderr.strip()))
check(digest(run) == before, "raw results are not rewritten")

ALLOCS = ["sys", "jemalloc", "goalloc"]
LAT = [a + " (n=10000)" for a in ALLOCS]
EXPECT = {  # chart -> (title, series names)
    "frag_churn": ("Fragmentation: churn - resident and live memory (rep 0, 1 thread)",
                   [a + " resident" for a in ALLOCS] + [a + " live" for a in ALLOCS]),
    "frag_burst-gc_mode-manual": ("Fragmentation: burst-gc mode=manual - resident and live "
                                  "memory (rep 0, 1 thread)", ["sys resident", "jemalloc live"]),
    "frag_burst-gc_mode-gc": ("Fragmentation: burst-gc mode=gc - resident and live memory "
                              "(rep 0, 1 thread)", ["goalloc resident", "goalloc live"]),
    "latency_churn_malloc": ("Latency: churn, malloc (percentile distribution, 1 thread)", LAT),
    "latency_churn_free": ("Latency: churn, free (percentile distribution, 1 thread)", LAT),
    "throughput_churn": ("Throughput vs threads: churn (median, min..max bars)", ALLOCS),
    "relative_time": ("Relative time per operation per workload against sys (median; bars show "
                      "min..max; lower is better)", ALLOCS),
    "boxplot_time": ("Spread over repetitions: time per operation relative to the "
                     "cross-allocator mean (boxes from 5 repetitions, points below)", ALLOCS),
    "gc_burst-gc_goalloc": ("GC timeline: goalloc on burst-gc mode=gc (heap, goal, limit, "
                            "pauses; rep 0)", ["heap", "heap goal", "memory limit", "GC pause"]),
    "gc_pauses_burst-gc_mode-gc": ("GC pauses: burst-gc mode=gc (each pause over time, and "
                                   "their CDF)", ["goalloc (6 pauses)", "goalloc"]),
    "memclasses_burst-gc_goalloc": ("goalloc memory classes: burst-gc mode=gc - why RSS is not "
                                    "HeapAlloc (rep 0)",
                                    ["HeapAlloc", "RSS (process)",
                                     "free slots in in-use spans (HeapInuse - HeapAlloc)",
                                     "HeapReleased (returned, not resident)"]),
}
plots = os.path.join(run, "plots")
sizeclasses = os.path.join(os.path.dirname(AB), "goalloc-sizeclasses")
if os.access(sizeclasses, os.X_OK):
    EXPECT["sizeclass_waste"] = ("goalloc size classes: waste per class",
                                 ["max waste (worst case)", "tail waste"])
for chart, (title, series) in EXPECT.items():
    for ext in ("gp", "dat", "svg", "png"):
        check(os.path.isfile(os.path.join(plots, chart + "." + ext)), "%s.%s written" % (chart, ext))
    svg = os.path.join(plots, chart + ".svg")
    if not os.path.isfile(svg):
        continue
    texts = svg_texts(svg)
    check(title in texts, "%s.svg has title %r" % (chart, title))
    for s in series:
        check(s in texts, "%s.svg names series %r" % (chart, s))
    gp = open(os.path.join(plots, chart + ".gp")).read()
    check(re.search(r"'%s\.dat'" % re.escape(chart), gp) is not None, "%s.gp plots %s.dat" % (chart, chart))

# latency axis: 1/(1-p) on a log axis with percentile labels
lat = svg_texts(os.path.join(plots, "latency_churn_malloc.svg"))
for lab in ("50%", "90%", "99%", "99.9%", "99.99%"):
    check(lab in lat, "latency x axis labelled %s" % lab)
check("set logscale x" in open(os.path.join(plots, "latency_churn_malloc.gp")).read(),
      "latency x axis is logarithmic")
check("set logscale y" in open(os.path.join(plots, "relative_time.gp")).read(),
      "relative-time axis is logarithmic")
# no GC chart where there are no GC events, nor for manual cells
check(not any(f.startswith("gc_") and "goalloc" not in f and "mode-gc" not in f
              for f in os.listdir(plots)), "GC timeline only for gc cells with GC events")
check(not any(f.startswith("frag_burst-gc.") for f in os.listdir(plots)),
      "no fragmentation chart mixes the gc and the manual cells of burst-gc")
check(not any(f.startswith("throughput_burst-gc") for f in os.listdir(plots)),
      "no throughput chart for a workload run at one thread count")
# latency: the 0% label (colliding with 50%) is gone, the y axis has time units
check("0%" not in lat, "latency x axis has no 0% label next to 50%")
check(any(t.endswith(" ns") or t.endswith(" µs") for t in lat), "latency y axis in ns/µs units")
# phase markers from events.csv on the timelines
frag = svg_texts(os.path.join(plots, "frag_burst-gc_mode-gc.svg"))
check("spike" in frag and "steady" in frag, "fragmentation chart marks the phases")
zoom = os.path.join(plots, "frag_burst-gc_mode-gc_spike.svg")
check(os.path.isfile(zoom) and "set xrange [0.005000:0.030000]" in
      open(os.path.join(plots, "frag_burst-gc_mode-gc_spike.gp")).read(),
      "a short spike gets a zoomed chart")
# throughput axis: plain numbers with the unit in the label (no 80.000M)
tp = svg_texts(os.path.join(plots, "throughput_churn.svg"))
check(not any(re.fullmatch(r"[0-9]+\.[0-9]{3}[kMG]", t) for t in tp) and
      any("(millions)" in t or "(thousands)" in t for t in tp), "throughput axis readable")

svgs = sorted(f[:-4] for f in os.listdir(plots) if f.endswith(".svg"))
md = open(os.path.join(run, "report.md")).read()
html = open(os.path.join(run, "report.html")).read()
for c in svgs:
    check("](plots/%s.svg)" % c in md, "report.md links plots/%s.svg" % c)
    check('<figure id="%s">' % c in html, "report.html inlines %s" % c)
check(html.count("<svg") == len(svgs), "report.html inlines exactly the %d SVGs" % len(svgs))
for title, _ in EXPECT.values():
    esc = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    check(html.count(esc) == 1, "report.html shows the title %r once" % title)
# the summary fits a 1400 px page: at most 8 columns, the page width capped, cells wrap
summary = html.split("<h2>Summary</h2>", 1)[1].split("</table>", 1)[0]
head = re.search(r"<tr>(.*?)</tr>", summary).group(1)
check(head.count("<th>") <= 8, "summary table has at most 8 columns (%d)" % head.count("<th>"))
check(re.search(r"body\{[^}]*max-width:1[0-3][0-9][0-9]px", html) is not None and
      "overflow-wrap:anywhere" in html, "page width capped below 1400 px, cells wrap")
check("<td>boehm</td>" not in summary and "n/a: boehm cannot run churn (2 cells)" in html,
      "n/a cells collapsed into one line")
check(not re.search(r"[0-9]\.[0-9]{10,}", md) and "2.596129" in md,
      "no float noise in the report (ticks_per_ns 2.596129)")
check(not re.search(r"[0-9.]+e\+0[0-9] ns", md), "times in ns/µs/ms, not 1e+07 ns")
check("t=-1" not in md and "| -1 |" not in md, "no threads -1")
check(not re.search(r'(src|href)\s*=\s*["\'](https?:|//|[^#"\'])', html.split("<svg", 1)[0]) and
      "<link" not in html and "<script" not in html and "<img" not in html,
      "report.html loads no external resource")
check("abench run --alloc sys,jemalloc,goalloc --workload churn,burst-gc" in md,
      "report.md shows the command")
check("Fixture CPU @ 2.0GHz" in md and "fixture-host" in html, "environment from meta.json")
check(re.search(r"\| churn t=1 \| jemalloc \| 3/3 \| [0-9.]+ ns \|", md)
      is not None, "summary table row per cell x alloc with median ns/op")
check("malloc" in md and "MiB" in md, "summary has p99 and peak RSS")
check("0025_jemalloc_burst-gc_t1_r2" in md and "crash" in md, "failed cell listed")

# the .gp redraws its chart from plots/ alone
os.remove(os.path.join(plots, "frag_churn.svg"))
g = subprocess.run(["gnuplot", "frag_churn.gp"], cwd=plots, capture_output=True, text=True)
check(g.returncode == 0 and os.path.isfile(os.path.join(plots, "frag_churn.svg")),
      "gnuplot frag_churn.gp redraws the chart")

# a second report over the same folder succeeds (plots/ is the only thing rewritten), drops
# chart files of the earlier report and leaves other files alone
open(os.path.join(plots, "stale_chart.svg"), "w").write("<svg/>")
open(os.path.join(plots, "notes.txt"), "w").write("mine")
p = subprocess.run([AB, "report", run, "--baseline", "jemalloc"], capture_output=True, text=True)
check(not os.path.exists(os.path.join(plots, "stale_chart.svg")) and
      os.path.exists(os.path.join(plots, "notes.txt")), "stale chart files removed, others kept")
check(p.returncode == 0, "report --baseline jemalloc exits 0")
check("against jemalloc" in " ".join(svg_texts(os.path.join(plots, "relative_time.svg"))),
      "relative chart uses the chosen baseline")

# errors: one line naming what is wrong, exit 64
for args, pat in (([run, "--baseline", "tcmalloc"], "allocator 'tcmalloc' is not in"),
                  ([os.path.join(WORK, "nope")], "not a run folder"),
                  ([run, "--color"], "unknown option '--color'")):
    p = subprocess.run([AB, "report"] + args, capture_output=True, text=True)
    check(p.returncode == 64 and pat in p.stderr and p.stderr.count("\n") == 1,
          "report %s -> exit 64, %r" % (" ".join(args[1:]) or args[0], pat))
bad = os.path.join(WORK, "bad")
os.makedirs(bad)
with open(os.path.join(bad, "runs.jsonl"), "w") as f:
    f.write('{"schema": 1, "alloc": "sys", "workload": "w"}\n"oops"\n')
p = subprocess.run([AB, "report", bad], capture_output=True, text=True)
check(p.returncode == 64 and "runs.jsonl:2: expected object" in p.stderr,
      "corrupt runs.jsonl -> exit 64 naming file and line")

# a GC backend that cannot tell its heap size (fixtures/run2): goal, pauses and live bytes
run2 = os.path.join(WORK, "run2")
shutil.copytree(os.path.join(os.path.dirname(FIX), "run2"), run2)
p = subprocess.run([AB, "report", run2], capture_output=True, text=True)
check(p.returncode == 0, "report on run2 exits 0 (%s)" % p.stderr.strip())
gc2 = os.path.join(run2, "plots", "gc_burst-gc_go-runtime.svg")
texts = svg_texts(gc2) if os.path.isfile(gc2) else []
for s_ in ("heap goal", "GC pause", "live bytes (timeline)"):
    check(s_ in texts, "run2 GC chart names series %r" % s_)
check("heap" not in texts and "memory limit" not in texts,
      "run2 GC chart draws no series the events lack")
md2 = open(os.path.join(run2, "report.md")).read()
check("## Garbage collection" in md2 and "| burst-gc t=1 | go-runtime | 3 |" in md2,
      "GC table from the rows' gc object")

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
