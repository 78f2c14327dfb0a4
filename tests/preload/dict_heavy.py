# dict_heavy.py - allocation-heavy Python for the goalloc preload test (run with
# PYTHONMALLOC=malloc so every object goes through the process malloc). Deterministic output.
import os
import hashlib

maps = os.environ.get("GOALLOC_MAPS_FILE")
if maps:
    with open("/proc/self/maps") as src, open(maps, "w") as dst:
        dst.write(src.read())

seed = 2024
def rand(n):
    global seed
    seed = (seed * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    return (seed >> 33) % n

d = {}
for i in range(150000):
    d["key%d" % rand(10**7)] = [i, str(i) * (i % 5), {"v": i % 13}]
print("dict", len(d))

lists = [[rand(1000) for _ in range(rand(50))] for _ in range(20000)]
lists.sort(key=lambda l: (len(l), l))
print("lists", len(lists), sum(len(l) for l in lists), lists[-1][:5])

h = hashlib.sha256()
for k in sorted(d):
    v = d[k]
    h.update(("%s:%d:%s:%d;" % (k, v[0], v[1], v[2]["v"])).encode())
print("digest", h.hexdigest())

for k in list(d)[::2]:
    del d[k]
s = "".join(str(x) for x in range(50000))
words = {}
for i in range(0, len(s) - 5, 3):
    w = s[i:i + 5]
    words[w] = words.get(w, 0) + 1
top = sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
print("after", len(d), len(words), top)
