#!/usr/bin/env python3
"""make_seeds.py - writes the small seed corpora in fuzz/corpus/<target>/ (deterministic).

Run from anywhere: python3 fuzz/make_seeds.py [TARGET...]. Each seed is named seed-<what>;
crash regressions found by fuzzing are committed beside them as regress-<what> and are never
rewritten by this script. The encoders below mirror how each fuzz_<target>.c decodes bytes.
"""
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def u16(v):
    return struct.pack('<H', v)


def u32(v):
    return struct.pack('<I', v)


def u64(v):
    return struct.pack('<Q', v)


# ---- alloc_ops (fuzz_alloc_ops.c) ----

def size(n):
    """decode_size: small (k < 8), mid (k 8..10), up to 64 KiB (k 11..12), big (k 13)."""
    if n < 256:
        return bytes([0, n])
    if n <= 4096:
        return bytes([8]) + u16(n)
    if n <= 65536:
        return bytes([11]) + u32(n)
    return bytes([13, 0]) + u32(n)  # byte 0: the up-to-4-MiB range


def malloc(n, fill=0x5a):
    return bytes([0]) + size(n) + bytes([fill])


def calloc(cnt, n, fill=0x33):
    return bytes([3, cnt]) + size(n) + bytes([fill])


def realloc(i, n):
    return bytes([4, i, 2]) + size(n)


def realloc_zero(i):
    return bytes([4, i, 0])


def realloc_absurd(i, which=0):
    return bytes([4, i, 1, which])


def aligned(shift, n, fill=0x77):
    return bytes([7, shift]) + size(n) + bytes([fill])


def aligned_bad(which, n):
    return bytes([7, 7]) + size(n) + bytes([which])  # k % 16 == 7: table of non-powers


def free(i):
    return bytes([8, i])


def usable(i):
    return bytes([11, i])


def handoff(i, sync=1):
    return bytes([12, i, sync])


def absurd(which, kind):
    return bytes([13, which, kind])


def calloc_overflow(a, b, c):
    return bytes([14, a, b, c])


def counters():
    return bytes([15, 1])


def collect():
    return bytes([15, 0])


def alloc_ops_seeds():
    s = {}
    s['sizes'] = b''.join(malloc(n, n & 0xff) for n in
                          (0, 1, 8, 15, 16, 17, 100, 255, 1024, 4096, 32760, 32769)) + \
        counters() + b''.join(free(0) for _ in range(12))
    s['realloc'] = malloc(10) + realloc(0, 200) + realloc(0, 5000) + realloc(0, 70000) + \
        realloc(0, 3) + realloc_absurd(0, 1) + realloc_zero(0) + malloc(7) + usable(0)
    s['aligned'] = b''.join(aligned(k, 24 + k) for k in range(0, 21, 2)) + \
        aligned_bad(0, 16) + aligned_bad(3, 100) + counters()
    s['threads'] = b''.join(malloc(64 * i + 1) for i in range(1, 9)) + \
        b''.join(handoff(0, i & 1) for i in range(8)) + collect()
    s['absurd'] = b''.join(absurd(w, k) for w in range(8) for k in range(4)) + \
        calloc_overflow(0, 0, 0) + calloc_overflow(30, 7, 9)
    s['calloc'] = calloc(4, 16) + calloc(0, 100) + calloc(64, 4096) + free(1) + \
        calloc(1, 2000) + counters()
    s['large'] = malloc(1 << 20) + malloc(3 << 20) + realloc(0, 2 << 20) + free(1) + \
        aligned(16, 1 << 16) + counters()
    rnd = random.Random(9)
    s['random'] = bytes(rnd.randrange(256) for _ in range(600))
    return s


# ---- sizeclass (fuzz_sizeclass.c): records of k, size byte(s), u32 offset ----

def sizeclass_seeds():
    s = {}
    recs = b''
    for n in (1, 8, 9, 16, 17, 1024, 1025, 32760, 32768):
        recs += bytes([0x80 | (n % 67)]) + u16(n - 1) + u32(n * 977)
    s['edges'] = recs
    rnd = random.Random(3)
    s['random'] = bytes(rnd.randrange(256) for _ in range(400))
    return s


# ---- options (fuzz_options.c): byte 0 % 3 picks gogc / memlimit / debug ----

def options_seeds():
    s = {}
    for i, v in enumerate((b'100', b'off', b'-1', b'0', b'2147483647', b'2147483648', b'+5', b'')):
        s['gogc-%d' % i] = b'\x00' + v
    for i, v in enumerate((b'off', b'1024', b'64MiB', b'8TiB', b'1B', b'9223372036854775807',
                           b'8388607TiB', b'8388608TiB', b'10KB', b'5 MiB')):
        s['memlimit-%d' % i] = b'\x01' + v
    for i, v in enumerate((b'gctrace=1', b'gctrace=1,scavtrace=1,madvdontneed=0', b',,',
                           b'gctrace=3', b'madvdontneed', b'foo=1', b'scavtrace=01,',
                           b'gcstoptheworld=1', b'gcstoptheworld=2',
                           b'madvdontneed=1,madvdontneed=1,,,gcstoptheworld=1')):
        s['debug-%d' % i] = b'\x02' + v
    return s


# ---- pagealloc (fuzz_pagealloc.c) ----

def grow(n, region, off):
    return bytes([0, n - 1, region, off])


def palloc(n):
    if n == 1:
        return bytes([2, 0])
    if n <= 64:
        return bytes([2, 1, n - 1])
    return bytes([2, 2]) + u16(n - 1)


def pfree(i, piece=None):
    if piece is None:
        return bytes([6, i, 0])
    return bytes([6, i, 1, piece[0], piece[1]])


def pagealloc_seeds():
    s = {}
    s['basic'] = grow(1, 0, 0) + palloc(1) + palloc(5) + palloc(64) + palloc(65) + \
        pfree(1) + palloc(3) + b'\x0f'
    s['adjacent'] = grow(2, 0, 3) + grow(1, 0, 5) + palloc(700) + palloc(600) + \
        pfree(0, (10, 20)) + palloc(8) + palloc(512)
    s['far'] = grow(1, 0, 1) + grow(2, 2, 0) + grow(1, 3, 0) + grow(1, 1, 0) + \
        b''.join(palloc(n) for n in (512, 1, 511, 300, 2, 1024)) + pfree(2) + pfree(0)
    s['cache'] = grow(1, 0, 0) + palloc(3) + bytes([9, 0]) + bytes([10, 0, 1, 0]) + \
        bytes([10, 0, 0, 9]) + pfree(0) + bytes([9, 1, 10, 1, 1, 2, 12, 0, 12, 1]) + palloc(70)
    s['scavenge'] = grow(2, 0, 0) + palloc(600) + palloc(40) + pfree(0) + bytes([13, 0, 5, 0]) + \
        bytes([14]) + palloc(100) + pfree(0, (3, 40)) + bytes([13, 1, 255, 1, 13, 1, 0, 0])
    rnd = random.Random(5)
    s['random'] = grow(3, 0, 0) + bytes(rnd.randrange(256) for _ in range(500))
    return s


# ---- results (fuzz_results.c): byte 0 % 4 = jsonl / runs.csv / cell csv / hgrm, byte 1 = errlen ----

ROW1 = (b'{"schema":1,"cell_id":"c0001","alloc":"sys","alloc_version":"glibc 2.36",'
        b'"workload":"churn","threads":2,"params":{"size":"64","ops":"1000"},"rep":0,'
        b'"seed":42,"status":"ok","exit_code":0,"wall_s":0.5,"user_s":0.9,"sys_s":0.1,'
        b'"peak_rss_bytes":1048576,"minflt":100,"majflt":0,"ops":1000000,"ns_per_op":1.0,'
        b'"ops_per_s":2000000.0,"lat":{"malloc":{"count":100,"p50_ns":20,"p90_ns":30,'
        b'"p99_ns":50,"p999_ns":90,"p9999_ns":200,"max_ns":900,"mean_ns":25.5}},'
        b'"rss_mean_bytes":900000,"live_mean_bytes":500000,"frag_ratio":1.8}')
ROW2 = (b'{"schema":1,"cell_id":"c0002","alloc":"boehm","workload":"binarytrees","threads":1,'
        b'"params":{},"rep":1,"status":"crash","signal":11,"error":"killed by SIGSEGV",'
        b'"gc":{"cycles":12,"pause_p50_ns":1000,"pause_p99_ns":5000,"pause_max_ns":9000,'
        b'"pause_total_ns":20000,"cpu_fraction":0.1}}')
CSV = (b'schema,cell_id,alloc,alloc_version,workload,threads,params,rep,seed,status,signal,'
       b'exit_code,wall_s,user_s,sys_s,peak_rss_bytes,minflt,majflt,ops,ns_per_op,ops_per_s,'
       b'rss_mean_bytes,live_mean_bytes,frag_ratio\n'
       b'1,c0001,sys,glibc 2.36,churn,2,ops=1000;size=64,0,42,ok,,0,0.5,0.9,0.1,1048576,100,0,'
       b'1000000,1.0,2000000,900000,500000,1.8\n'
       b'1,c0002,jemalloc,"jemalloc 5.3.0",churn,2,,1,43,timeout,,,,,,,,,,,,,,\n')
TIMELINE = b't_s,rss_bytes,live_bytes,HeapAlloc\n0.0,1000,10,8\n0.005,2000,20,\n0.010,1500,5,4\n'
HGRM = (b'       Value     Percentile TotalCount 1/(1-Percentile)\n\n'
        b'      12.000 0.000000000000          1           1.00\n'
        b'      20.000 0.500000000000         50           2.00\n'
        b'      35.000 0.900000000000         90          10.00\n'
        b'     900.000 1.000000000000        100\n'
        b'#[Mean    =       25.500, StdDeviation   =       10.000]\n'
        b'#[Max     =      900.000, Total count    =          100]\n'
        b'#[Buckets =           20, SubBuckets     =         2048]\n')


def results_seeds():
    return {
        'jsonl': b'\x00\xff' + ROW1 + b'\n' + ROW2 + b'\n',
        'jsonl-blank-lines': b'\x00\x40\n' + ROW2 + b'\n\n',
        'jsonl-bad-schema': b'\x00\xff' + ROW1.replace(b'"schema":1', b'"schema":2') + b'\n',
        'jsonl-not-object': b'\x00\x10[1,2]\n',
        'csv': b'\x01\xff' + CSV,
        'timeline': b'\x02\xff' + TIMELINE,
        'hgrm': b'\x03\xff' + HGRM,
    }


TARGETS = {
    'results': results_seeds,
    'pagealloc': pagealloc_seeds,
    'alloc_ops': alloc_ops_seeds,
    'sizeclass': sizeclass_seeds,
    'options': options_seeds,
}


def main():
    wanted = sys.argv[1:] or sorted(TARGETS)
    for t in wanted:
        if t not in TARGETS:
            sys.exit('make_seeds.py: unknown target %r (known: %s)' % (t, ' '.join(sorted(TARGETS))))
        d = os.path.join(HERE, 'corpus', t)
        os.makedirs(d, exist_ok=True)
        for name, data in TARGETS[t]().items():
            with open(os.path.join(d, 'seed-' + name), 'wb') as f:
                f.write(data)
        print('make_seeds.py: %s: %d seeds' % (t, len(TARGETS[t]())))


if __name__ == '__main__':
    main()
