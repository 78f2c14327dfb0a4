// Command abench-runner-go-runtime is the real Go runtime as an abench backend: it runs the
// GC workloads (binarytrees, churn-gc, burst-gc, memlimit-gc, request variant=gc) with the same
// parameters and defaults as the C runners and writes the same cell files (result.json,
// timeline.csv, events.csv; see results/README.md and harness/runner/hn_runner.h).
//
// What differs from the C runners, honestly: Go has no malloc/free, so manual-mode variants
// and every non-GC workload are "n/a" (exit 4); there is no per-allocation latency sampling
// (Go's allocation is not a call we can bracket with rdtsc). The random sequence is the C
// workloads' own (xoshiro256** seeded by splitmix64 from the seed and the thread index, as
// wl_rng_seed, wl_rand and wl_rand_below in workloads/include/wl_workload.h), so the sizes
// and slots drawn are the same sequence. GOMAXPROCS is set to the workload's thread count
// (the C runners have one mutator thread per workload thread) and recorded in the result.
// The settle delay is excluded from the measured wall time, as the C runners' wl_settle
// does. Live bytes are accounted by the workload exactly as in C (bytes the program still
// references). GC pauses and the heap goal come from runtime.MemStats and runtime/metrics;
// a GC event's heap before and after are the heap objects the timeline sampled last before
// and first after the cycle's end.
package main

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const (
	exitOK     = 0
	exitError  = 1
	exitUsage  = 2
	exitNA     = 4
	backend    = "go-runtime"
	capGC      = 1 << 0
	capMemlim  = 1 << 1
	capGCPerc  = 1 << 3
	allocCaps  = capGC | capMemlim | capGCPerc
	statsBytes = 5
)

// ---- Parameters (same names, types and defaults as the C workload descriptors) ----

type paramDef struct {
	name, typ, def, help, choices string
	min, max                      float64
}

type workload struct {
	name, summary string
	params        []paramDef
	run           func(c *cell, t *thread)
	check         func(c *cell) (na string, err string)
}

type cell struct {
	w        *workload
	threads  int
	seed     int64
	p        map[string]string
	i        map[string]int64
	live     []int64 // per thread, atomic
	ops      []int64 // per thread, atomic
	t0       time.Time
	events   []event
	evMu     sync.Mutex
	settle   map[string]uint64
	settleD  time.Duration
	settleNs int64 // time spent in settle delays, excluded from the wall (under evMu)
}

type thread struct {
	id   int
	rng  rng
	c    *cell
	live int64 // this thread's live bytes, published to c.live[id] every 256 updates
	n    uint32
}

type event struct {
	t                   float64
	kind, name          string
	rss                 uint64
	cycle               uint64
	pause               uint64
	goal, before, after int64
	forced              bool
}

// ---- RNG: xoshiro256** seeded by splitmix64, as the C workloads' wl_rand ----

type rng struct{ s [4]uint64 }

func splitmix64(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// seed is wl_rng_seed(s, seed, stream): the runners seed thread i with stream i.
func (r *rng) seed(seed, stream uint64) {
	x := seed ^ (stream * 0xd1342543de82ef95)
	for i := range r.s {
		r.s[i] = splitmix64(&x)
	}
}

func (r *rng) next() uint64 {
	s := &r.s
	res := bits.RotateLeft64(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return res
}

// below is wl_rand_below: uniform in [0, n), n > 0, by Lemire's multiply-shift.
func (r *rng) below(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// liveAdd keeps the account in a plain field and publishes it every 256 updates (and at the
// end of the run): an atomic add per allocation would cost the Go side what the C runners'
// relaxed per-thread store does not, and the sampler needs no more than a recent value.
func (t *thread) liveAdd(n int64) {
	t.live += n
	if t.n++; t.n&255 == 0 {
		atomic.StoreInt64(&t.c.live[t.id], t.live)
	}
}

func (t *thread) publish()       { atomic.StoreInt64(&t.c.live[t.id], t.live) }
func (t *thread) opsAdd(n int64) { atomic.AddInt64(&t.c.ops[t.id], n) }

func (c *cell) event(kind, name string, rss uint64) {
	c.evMu.Lock()
	c.events = append(c.events, event{t: time.Since(c.t0).Seconds(), kind: kind, name: name, rss: rss})
	c.evMu.Unlock()
}

// settleFor is wl_settle: waits the settle delay, records RSS, and keeps the time out of the
// measured wall (one workload thread settles here, so no union of overlapping delays).
func (c *cell) settleFor(name string) {
	t0 := time.Now()
	time.Sleep(c.settleD)
	rss := readRSS()
	d := time.Since(t0)
	c.event("settle", name, rss)
	c.evMu.Lock()
	c.settle[name] = rss
	c.settleNs += d.Nanoseconds()
	c.evMu.Unlock()
}

var modeParam = paramDef{"mode", "enum", "auto", "gc: collected; manual: malloc/free; auto: gc where supported", "auto|gc|manual", 0, -1}

// gcOnly is the check of the GC workloads: Go has no manual mode.
func gcOnly(c *cell) (string, string) {
	if c.p["mode"] == "manual" {
		return "mode=manual needs malloc/free, which the Go runtime does not have", ""
	}
	c.p["mode"] = "gc"
	return "", ""
}

// ---- binarytrees ----

type node struct{ left, right *node }

func makeTree(d int, n *int64) *node {
	*n++
	t := &node{}
	if d > 0 {
		t.left = makeTree(d-1, n)
		t.right = makeTree(d-1, n)
	}
	return t
}

func checkTree(t *node) int64 {
	if t == nil {
		return 0
	}
	return 1 + checkTree(t.left) + checkTree(t.right)
}

var sink int64

func runBinarytrees(c *cell, t *thread) {
	const minDepth = 4
	max := int(c.i["depth"])
	const nodeSize = 16
	round := func(d int) {
		var n int64
		tree := makeTree(d, &n)
		t.liveAdd(n * nodeSize)
		atomic.AddInt64(&sink, checkTree(tree))
		t.liveAdd(-n * nodeSize)
		t.opsAdd(n)
	}
	round(max + 1)
	var ln int64
	long := makeTree(max, &ln)
	t.liveAdd(ln * nodeSize)
	t.opsAdd(ln)
	for d := minDepth; d <= max; d += 2 {
		iters := 1 << uint(max-d+minDepth)
		for i := 0; i < iters; i++ {
			round(d)
		}
	}
	atomic.AddInt64(&sink, checkTree(long))
	runtime.KeepAlive(long)
	t.liveAdd(-ln * nodeSize)
}

// ---- churn-gc ----

func runChurnGC(c *cell, t *thread) {
	slots := int(c.i["slots"])
	lo, hi := c.i["min"], c.i["max"]
	ring := make([][]byte, slots)
	ops := c.i["ops"]
	span := uint64(hi - lo + 1)
	for i := int64(0); i < ops; i++ {
		k := t.rng.below(uint64(slots))
		size := lo + int64(t.rng.below(span))
		p := make([]byte, size)
		p[0] = byte(i)
		p[size-1] = byte(k)
		t.liveAdd(size - int64(len(ring[k])))
		ring[k] = p
		if i&1023 == 1023 {
			t.opsAdd(1024)
		}
	}
	t.opsAdd(ops & 1023)
	for k := range ring {
		t.liveAdd(-int64(len(ring[k])))
		ring[k] = nil
	}
}

// ---- burst-gc ----

func runBurstGC(c *cell, t *thread) {
	lo, hi := c.i["min"], c.i["max"]
	factor := c.i["factor"]
	perThread := int(c.i["steady"]/((lo+hi)/2)*factor + 1)
	steady := perThread / int(factor)
	slots := make([][]byte, 0, perThread)
	lead := t.id == 0
	span := uint64(hi - lo + 1)
	phaseOps := c.i["phase_ops"]
	put := func(k int) {
		size := lo + int64(t.rng.below(span))
		p := make([]byte, size)
		p[0], p[size-1] = byte(k), byte(k)
		if k == len(slots) {
			slots = append(slots, p)
		} else {
			t.liveAdd(-int64(len(slots[k])))
			slots[k] = p
		}
		t.liveAdd(size)
		t.opsAdd(1)
	}
	churn := func() {
		for i := int64(0); i < phaseOps && len(slots) > 0; i++ {
			put(int(t.rng.below(uint64(len(slots)))))
		}
	}
	grow := func(n int) {
		for len(slots) < n {
			put(len(slots))
		}
	}
	dropTo := func(n int) {
		for k := n; k < len(slots); k++ {
			t.liveAdd(-int64(len(slots[k])))
			slots[k] = nil
		}
		slots = slots[:n]
	}
	if lead {
		c.event("phase", "steady", 0)
	}
	grow(steady)
	churn()
	if lead {
		c.event("phase", "spike", 0)
	}
	grow(perThread)
	churn()
	dropTo(steady)
	if lead {
		c.event("phase", "steady-again", 0)
		runtime.GC()
		c.settleFor("after-spike")
	}
	churn()
	dropTo(0)
}

// ---- memlimit-gc ----

// newNode is a pointerful node of `words` words (every word scanned, as the C workloads'
// AB_GC_SCAN objects); a parent holds its child's address in word 0.
func newNode(words int64) unsafe.Pointer {
	n := make([]unsafe.Pointer, words)
	return unsafe.Pointer(&n[0])
}

func runMemlimitGC(c *cell, t *thread) {
	node := c.i["node"]
	words := (node + 7) / 8
	n := c.i["live"] / (2 * node)
	if n == 0 {
		n = 1
	}
	slots := make([]unsafe.Pointer, n)
	lead := t.id == 0
	put := func(k uint64) {
		parent := newNode(words)
		*(*unsafe.Pointer)(parent) = newNode(words)
		if slots[k] != nil {
			t.liveAdd(-2 * node)
		}
		slots[k] = parent
		t.liveAdd(2 * node)
	}
	if lead {
		c.event("phase", "build", 0)
	}
	for k := uint64(0); k < uint64(n); k++ {
		put(k)
	}
	t.opsAdd(n)
	if lead {
		c.event("phase", "churn", 0)
	}
	ops := c.i["ops"]
	for i := int64(0); i < ops; i++ {
		put(t.rng.below(uint64(n)))
		if i&1023 == 1023 {
			t.opsAdd(1024)
		}
	}
	t.opsAdd(ops & 1023)
	if lead {
		c.event("phase", "drop", 0)
	}
	for k := range slots {
		slots[k] = nil
	}
	t.liveAdd(-2 * node * n)
}

// ---- request (variant=gc) ----

type msg struct {
	fields   [][]byte
	children []*msg
}

func decode(c *cell, t *thread, depth int, bytes *int64) *msg {
	nf, nc := int(c.i["fields"]), 0
	if depth > 0 {
		nc = int(c.i["children"])
	}
	m := &msg{fields: make([][]byte, nf), children: make([]*msg, nc)}
	*bytes += int64(16 + 8*(nf+nc))
	for i := range m.fields {
		var n int64
		if t.rng.below(2) == 1 {
			n = (1 + int64(t.rng.below(uint64(c.i["repmax"])))) * 8
		} else {
			n = 1 + int64(t.rng.below(uint64(c.i["strmax"])))
		}
		b := make([]byte, 8+n)
		b[8] = byte('a' + n%26)
		m.fields[i] = b
		*bytes += 8 + n
	}
	for i := range m.children {
		m.children[i] = decode(c, t, depth-1, bytes)
	}
	return m
}

func readMsg(m *msg) int64 {
	h := int64(len(m.fields)*31 + len(m.children))
	for _, f := range m.fields {
		h = h*1099511628211 + int64(len(f)) + int64(f[8])
	}
	for _, ch := range m.children {
		h += readMsg(ch)
	}
	return h
}

func runRequest(c *cell, t *thread) {
	n := c.i["requests"]
	depth := int(c.i["depth"])
	for r := int64(0); r < n; r++ {
		var bytes int64
		m := decode(c, t, depth, &bytes)
		t.liveAdd(bytes)
		atomic.AddInt64(&sink, readMsg(m))
		t.liveAdd(-bytes)
		t.opsAdd(1)
	}
}

func requestCheck(c *cell) (string, string) {
	if c.p["variant"] != "gc" {
		return "variant=" + c.p["variant"] + " needs malloc/free or arenas, which the Go runtime does not offer (its arena experiment is off by default)", ""
	}
	return "", ""
}

var workloads = []*workload{
	{name: "binarytrees", summary: "binary-trees: GC throughput", run: runBinarytrees, check: gcOnly,
		params: []paramDef{{"depth", "int", "16", "depth of the largest trees", "", 6, 24}, modeParam}},
	{name: "churn-gc", summary: "churn ring with dropped references", run: runChurnGC, check: gcOnly,
		params: []paramDef{
			{"slots", "int", "4096", "ring slots per thread (the live set)", "", 1, 1 << 24},
			{"min", "size", "8", "smallest object", "", 1, 1 << 20},
			{"max", "size", "255", "largest object", "", 1, 1 << 20},
			{"ops", "int", "2000000", "allocations per thread", "", 1, 1e12}, modeParam}},
	{name: "burst-gc", summary: "live-set spike under a memory limit", run: runBurstGC, check: gcOnly,
		params: []paramDef{
			{"steady", "size", "8MiB", "steady live bytes per thread", "", 4096, 1 << 34},
			{"factor", "int", "10", "spike size as a multiple of steady", "", 1, 1000},
			{"min", "size", "16", "smallest object", "", 1, 1 << 20},
			{"max", "size", "512", "largest object", "", 1, 1 << 20},
			{"phase_ops", "int", "300000", "churn steps per phase", "", 0, 1e12},
			{"memlimit", "size", "0", "soft memory limit (0: none)", "", 0, 1 << 50}, modeParam}},
	{name: "memlimit-gc", summary: "pointerful live heap under GOGC=off and a memory limit", run: runMemlimitGC, check: gcOnly,
		params: []paramDef{
			{"live", "size", "64MiB", "live bytes per thread (node pairs)", "", 4096, 1 << 34},
			{"node", "size", "64", "bytes per node (parent and child)", "", 16, 4096},
			{"ops", "int", "4000000", "slot replacements per thread", "", 0, 1e12},
			{"memlimit", "size", "100MiB", "soft memory limit (0: none)", "", 0, 1 << 50},
			{"gogc", "int", "-1", "GOGC for the run (-1: off)", "", -1, 100000}, modeParam}},
	{name: "request", summary: "request-scoped message trees (gc variant)", run: runRequest, check: requestCheck,
		params: []paramDef{
			{"variant", "enum", "malloc", "how request memory is managed", "malloc|arena|gc", 0, -1},
			{"arena_impl", "enum", "auto", "arena variant: backend arenas or bump fallback", "auto|native|bump-fallback", 0, -1},
			{"requests", "int", "20000", "requests per thread", "", 1, 1e9},
			{"depth", "int", "4", "levels of nested messages below the root", "", 0, 8},
			{"children", "int", "2", "nested messages per message", "", 0, 8},
			{"fields", "int", "6", "string/repeated fields per message", "", 0, 64},
			{"strmax", "size", "48", "longest string field (bytes)", "", 1, 65536},
			{"repmax", "int", "8", "most elements in a repeated field", "", 1, 4096}}},
}

// ---- Parameter parsing ----

func parseSize(s string) (int64, bool) {
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v * mult, true
}

func parseParam(d paramDef, s string) (int64, string) {
	switch d.typ {
	case "enum":
		for i, ch := range strings.Split(d.choices, "|") {
			if ch == s {
				return int64(i), ""
			}
		}
		return 0, fmt.Sprintf("parameter %s: '%s' is not one of %s", d.name, s, d.choices)
	case "size":
		v, ok := parseSize(s)
		if !ok {
			return 0, fmt.Sprintf("parameter %s: '%s' is not a size (bytes, K/KiB, M/MiB, G/GiB)", d.name, s)
		}
		if d.min <= d.max && (float64(v) < d.min || float64(v) > d.max) {
			return 0, fmt.Sprintf("parameter %s: %s is out of range [%.0f, %.0f]", d.name, s, d.min, d.max)
		}
		return v, ""
	default:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Sprintf("parameter %s: '%s' is not an integer", d.name, s)
		}
		if d.min <= d.max && (float64(v) < d.min || float64(v) > d.max) {
			return 0, fmt.Sprintf("parameter %s: %s is out of range [%.0f, %.0f]", d.name, s, d.min, d.max)
		}
		return v, ""
	}
}

// ---- Measurement ----

func readRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	v, _ := strconv.ParseUint(f[1], 10, 64)
	return v * uint64(os.Getpagesize())
}

var metricNames = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/total:bytes",
	"/gc/heap/goal:bytes",
	"/gc/cycles/total:gc-cycles",
}

// stats: allocated, active, resident, mapped, retained (the ab_stats neutral fields).
func readStats(s []metrics.Sample) (st [statsBytes]uint64, goal uint64, cycles uint64) {
	metrics.Read(s)
	v := func(i int) uint64 { return s[i].Value.Uint64() }
	objects, unused, released, total := v(0), v(1), v(3), v(4)
	st[0] = objects          // allocated
	st[1] = objects + unused // active: in-use spans
	st[2] = total - released // resident (Go's own estimate: mapped and not released)
	st[3] = total - released // mapped
	st[4] = released         // retained
	return st, v(5), v(6)
}

type tlRow struct {
	t      float64
	rss    uint64
	live   int64
	st     [statsBytes]uint64
	goal   uint64
	cycles uint64
}

func sampler(c *cell, every time.Duration, stop chan struct{}, out *[]tlRow, done chan struct{}) {
	s := make([]metrics.Sample, len(metricNames))
	for i, n := range metricNames {
		s[i].Name = n
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		var live int64
		for i := range c.live {
			live += atomic.LoadInt64(&c.live[i])
		}
		st, goal, cycles := readStats(s)
		*out = append(*out, tlRow{time.Since(c.t0).Seconds(), readRSS(), live, st, goal, cycles})
		select {
		case <-stop:
			close(done)
			return
		case <-tick.C:
		}
	}
}

func writeAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

func tvSec(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// ---- main ----

func fail(code int, format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "abench-runner-"+backend+": "+format+"\n", a...)
	os.Exit(code)
}

func version() string {
	return fmt.Sprintf("%s (GOMAXPROCS %d)", runtime.Version(), runtime.GOMAXPROCS(0))
}

func findWorkload(name string) *workload {
	for _, w := range workloads {
		if w.name == name {
			return w
		}
	}
	return nil
}

func main() {
	var (
		wname, out             string
		threads                      = 1
		seed                   int64 = 1
		kv                     []string
		info, list, chk, calib bool
		samplerMs              = 5
		settleMs               = 200 // the C runners' default (harness/runner/runner.c)
	)
	args := os.Args[1:]
	next := func(i *int, flag string) string {
		if *i+1 >= len(args) {
			fail(exitUsage, "flag %s needs a value", flag)
		}
		*i++
		return args[*i]
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "--info":
			info = true
		case "--list-workloads":
			list = true
		case "--calibrate":
			calib = true
		case "--check":
			chk = true
		case "--workload":
			wname = next(&i, a)
		case "--out":
			out = next(&i, a)
		case "--param":
			kv = append(kv, next(&i, a))
		case "--threads", "--seed", "--sampler-ms", "--settle-ms", "--sample-mean":
			v, err := strconv.ParseInt(next(&i, a), 10, 64)
			if err != nil || v < 0 {
				fail(exitUsage, "flag %s: '%s' is not a non-negative integer", a, args[i])
			}
			switch a {
			case "--threads":
				threads = int(v)
			case "--seed":
				seed = v
			case "--sampler-ms":
				samplerMs = int(v)
			case "--settle-ms":
				settleMs = int(v)
			}
		default:
			fail(exitUsage, "unknown flag '%s'", a)
		}
	}
	if info {
		j, _ := json.Marshal(map[string]interface{}{"name": backend, "version": version(),
			"caps": []string{"gc", "memlimit", "gcpercent"}, "caps_bits": allocCaps, "abi": 1, "malloc_check": "ok"})
		fmt.Println(string(j))
		return
	}
	if calib {
		fmt.Println(`{"source":"n/a","note":"the Go runner does not time single allocations"}`)
		return
	}
	if list {
		var ws []map[string]interface{}
		for _, w := range workloads {
			var ps []map[string]interface{}
			for _, p := range w.params {
				ps = append(ps, map[string]interface{}{"name": p.name, "type": p.typ, "default": p.def, "help": p.help, "choices": p.choices})
			}
			ws = append(ws, map[string]interface{}{"name": w.name, "summary": w.summary, "params": ps})
		}
		j, _ := json.Marshal(ws)
		fmt.Println(string(j))
		return
	}
	if wname == "" {
		fail(exitUsage, "--workload is required")
	}
	w := findWorkload(wname)
	if w == nil {
		fmt.Fprintf(os.Stderr, "abench-runner-%s: n/a: workload '%s' has no Go implementation (Go has no malloc/free)\n", backend, wname)
		os.Exit(exitNA)
	}
	if threads < 1 {
		fail(exitUsage, "flag --threads: must be at least 1")
	}
	c := &cell{w: w, threads: threads, seed: seed, p: map[string]string{}, i: map[string]int64{},
		settle: map[string]uint64{}, settleD: time.Duration(settleMs) * time.Millisecond}
	for _, d := range w.params {
		c.p[d.name] = d.def
	}
	for _, s := range kv {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			fail(exitUsage, "parameter '%s': expected name=value", s)
		}
		name := s[:eq]
		if _, ok := c.p[name]; !ok {
			fail(exitUsage, "unknown parameter '%s' for workload %s", name, w.name)
		}
		c.p[name] = s[eq+1:]
	}
	for _, d := range w.params {
		v, msg := parseParam(d, c.p[d.name])
		if msg != "" {
			fail(exitUsage, "%s", msg)
		}
		c.i[d.name] = v
	}
	if c.p["min"] != "" && c.i["min"] > c.i["max"] {
		fail(exitUsage, "parameter min must not exceed max")
	}
	if na, _ := w.check(c); na != "" {
		fmt.Fprintf(os.Stderr, "abench-runner-%s: n/a: %s\n", backend, na)
		os.Exit(exitNA)
	}
	if chk {
		j, _ := json.Marshal(map[string]interface{}{"workload": w.name, "params": c.p})
		fmt.Println(string(j))
		return
	}
	if lim := c.i["memlimit"]; lim > 0 {
		debug.SetMemoryLimit(lim)
	}
	if _, ok := c.i["gogc"]; ok {
		debug.SetGCPercent(int(c.i["gogc"]))
	}
	// One P per workload thread, as the C runners have one mutator thread per workload
	// thread (the sampler, like theirs, is one more goroutine).
	runtime.GOMAXPROCS(threads)
	if out != "" {
		if err := os.MkdirAll(out, 0o777); err != nil {
			fail(exitError, "cannot create %s: %v", out, err)
		}
	}
	os.Exit(runCell(c, out, time.Duration(samplerMs)*time.Millisecond))
}

func runCell(c *cell, out string, every time.Duration) int {
	c.live = make([]int64, c.threads)
	c.ops = make([]int64, c.threads)
	var ru0, ru1 syscall.Rusage
	var tl []tlRow
	stop, done := make(chan struct{}), make(chan struct{})
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	c.t0 = time.Now()
	go sampler(c, every, stop, &tl, done)
	var wg sync.WaitGroup
	for i := 0; i < c.threads; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			t := &thread{id: id, c: c}
			t.rng.seed(uint64(c.seed), uint64(id))
			c.w.run(c, t)
			t.publish()
		}(i)
	}
	wg.Wait()
	wall := time.Since(c.t0) - time.Duration(c.settleNs) // as the C runners' measured wall
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	close(stop)
	<-done
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	// GC cycles of the measured region, from MemStats' pause ring (the last 256).
	first := ms0.NumGC + 1
	if ms.NumGC > 256 && first < ms.NumGC-255 {
		first = ms.NumGC - 255
	}
	var pauses []uint64
	// The goal in force and the heap objects sampled last before the cycle's end, and the
	// heap objects sampled first after it (-1: no such sample).
	around := func(t float64) (goal, before, after int64) {
		goal, before, after = -1, -1, -1
		for _, r := range tl {
			if r.t <= t {
				goal, before = int64(r.goal), int64(r.st[0])
			} else {
				after = int64(r.st[0])
				break
			}
		}
		return
	}
	for n := first; n <= ms.NumGC; n++ {
		idx := (n + 255) % 256
		p := ms.PauseNs[idx]
		t := float64(int64(ms.PauseEnd[idx])-c.t0.UnixNano()) / 1e9
		pauses = append(pauses, p)
		goal, before, after := around(t)
		c.events = append(c.events, event{t: t, kind: "gc_end", name: "cycle", cycle: uint64(n), pause: p,
			goal: goal, before: before, after: after})
	}
	sort.Slice(c.events, func(a, b int) bool { return c.events[a].t < c.events[b].t })

	var ops int64
	for i := range c.ops {
		ops += c.ops[i]
	}
	res := map[string]interface{}{
		"schema": 1, "alloc": backend, "alloc_version": version(), "workload": c.w.name,
		"threads": c.threads, "seed": c.seed, "params": c.p, "gomaxprocs": runtime.GOMAXPROCS(0),
		"sampler_ms": every.Milliseconds(), "settle_ms": c.settleD.Milliseconds(),
		"wall_s": wall.Seconds(), "ops": ops,
		"region": map[string]interface{}{"user_s": tvSec(ru1.Utime) - tvSec(ru0.Utime), "sys_s": tvSec(ru1.Stime) - tvSec(ru0.Stime),
			"minflt": ru1.Minflt - ru0.Minflt, "majflt": ru1.Majflt - ru0.Majflt},
		"runner_rusage": map[string]interface{}{"user_s": tvSec(ru1.Utime), "sys_s": tvSec(ru1.Stime),
			"maxrss_bytes": ru1.Maxrss * 1024, "minflt": ru1.Minflt, "majflt": ru1.Majflt},
		"settle": c.settle,
		"lat":    map[string]interface{}{},
	}
	if ops > 0 {
		res["ns_per_op"] = float64(wall.Nanoseconds()) * float64(c.threads) / float64(ops)
		res["ops_per_s"] = float64(ops) / wall.Seconds()
	}
	// Time-weighted memory figures over the timeline, as the C runners compute them.
	var rssArea, liveArea, span float64
	var rssPeak uint64
	var livePeak int64
	for i, r := range tl {
		if r.rss > rssPeak {
			rssPeak = r.rss
		}
		if r.live > livePeak {
			livePeak = r.live
		}
		if i+1 < len(tl) {
			dt := tl[i+1].t - r.t
			rssArea += dt * float64(r.rss)
			liveArea += dt * float64(r.live)
			span += dt
		}
	}
	if len(tl) > 0 && span > 0 {
		res["rss_mean_bytes"] = rssArea / span
		res["rss_peak_sampled_bytes"] = rssPeak
		res["live_mean_bytes"] = liveArea / span
		res["live_peak_bytes"] = livePeak
		if liveArea > 0 {
			res["frag_ratio"] = rssArea / liveArea
		}
		res["timeline_samples"] = len(tl)
	}
	// Go's own figure (the process lifetime's GC share of GOMAXPROCS x wall), named as such.
	gc := map[string]interface{}{"cycles": len(pauses), "cpu_fraction": ms.GCCPUFraction,
		"cpu_source": "GCCPUFraction"}
	if len(pauses) > 0 {
		sorted := append([]uint64(nil), pauses...)
		sort.Slice(sorted, func(a, b int) bool { return sorted[a] < sorted[b] })
		var total uint64
		for _, p := range sorted {
			total += p
		}
		k := len(sorted)
		gc["pause_p50_ns"] = sorted[(k-1)/2]
		gc["pause_p99_ns"] = sorted[(k*99+99)/100-1]
		gc["pause_max_ns"] = sorted[k-1]
		gc["pause_total_ns"] = total
	}
	res["gc"] = gc
	extra := map[string]interface{}{
		"HeapAlloc": ms.HeapAlloc, "HeapSys": ms.HeapSys, "HeapIdle": ms.HeapIdle, "HeapInuse": ms.HeapInuse,
		"HeapReleased": ms.HeapReleased, "HeapObjects": ms.HeapObjects, "Sys": ms.Sys, "TotalAlloc": ms.TotalAlloc,
		"Mallocs": ms.Mallocs, "Frees": ms.Frees, "NextGC": ms.NextGC, "NumGC": ms.NumGC,
		"NumForcedGC": ms.NumForcedGC, "PauseTotalNs": ms.PauseTotalNs, "GCCPUFraction": ms.GCCPUFraction,
		"GCSys": ms.GCSys, "MSpanSys": ms.MSpanSys, "MCacheSys": ms.MCacheSys, "OtherSys": ms.OtherSys,
		"StackSys": ms.StackSys,
	}
	res["stats_end"] = map[string]interface{}{"allocated": ms.HeapAlloc, "active": ms.HeapInuse,
		"resident": ms.Sys - ms.HeapReleased, "mapped": ms.Sys - ms.HeapReleased, "retained": ms.HeapReleased, "extra": extra}

	j, _ := json.Marshal(res)
	if out == "" {
		fmt.Println(string(j))
		return exitOK
	}
	var sb strings.Builder
	sb.WriteString("t_s,rss_bytes,live_bytes,allocated,active,resident,mapped,retained\n")
	for _, r := range tl {
		fmt.Fprintf(&sb, "%.6f,%d,%d,%d,%d,%d,%d,%d\n", r.t, r.rss, r.live, r.st[0], r.st[1], r.st[2], r.st[3], r.st[4])
	}
	var eb strings.Builder
	eb.WriteString("t_s,kind,name,rss_bytes,cycle,pause_ns,heap_before,heap_after,heap_marked,heap_goal,mem_limit,forced\n")
	limit := int64(-1)
	if l := c.i["memlimit"]; l > 0 {
		limit = l
	}
	for _, e := range c.events {
		rss := ""
		if e.rss > 0 {
			rss = strconv.FormatUint(e.rss, 10)
		}
		if e.kind == "gc_end" {
			fmt.Fprintf(&eb, "%.6f,%s,%s,%s,%d,%d,%d,%d,-1,%d,%d,0\n", e.t, e.kind, e.name, rss, e.cycle, e.pause,
				e.before, e.after, e.goal, limit)
		} else {
			fmt.Fprintf(&eb, "%.6f,%s,%s,%s,,,,,,,,\n", e.t, e.kind, e.name, rss)
		}
	}
	// result.json last: its presence says the cell's files are complete.
	files := []struct {
		name string
		data []byte
	}{{"timeline.csv", []byte(sb.String())}, {"events.csv", []byte(eb.String())}, {"result.json", append(j, '\n')}}
	for _, f := range files {
		name := f.name
		if err := writeAtomic(out, name, f.data); err != nil {
			fmt.Fprintf(os.Stderr, "abench-runner-%s: cannot write %s: %v\n", backend, name, err)
			return exitError
		}
	}
	return exitOK
}
