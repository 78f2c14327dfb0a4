# fork_threads.py - fork safety of the goalloc preload: threads allocate without pause while
# the main thread forks children that allocate, free and exit. A child that inherits a lock
# held at fork time would hang (the ctest timeout catches that) or corrupt the heap.
import os
import threading

maps = os.environ.get("GOALLOC_MAPS_FILE")
if maps:
    with open("/proc/self/maps") as src, open(maps, "w") as dst:
        dst.write(src.read())

stop = False
def churn(n):
    keep = []
    while not stop:
        keep.append([str(i) * 3 for i in range(200)])
        if len(keep) > 50:
            keep = keep[25:]

threads = [threading.Thread(target=churn, args=(i,)) for i in range(3)]
for t in threads:
    t.start()

ok = 0
for i in range(40):
    pid = os.fork()
    if pid == 0:
        data = {j: bytearray(j % 3000) for j in range(2000)}
        total = sum(len(v) for v in data.values())
        os._exit(0 if total == sum(j % 3000 for j in range(2000)) else 3)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        ok += 1
stop = True
for t in threads:
    t.join()
print("forks ok", ok, "of", 40)
