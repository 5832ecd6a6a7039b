# numpy (OpenBLAS) side of bench/gemm.ts, kept running for the whole benchmark so that ours and
# the peer can be timed in alternation, shape by shape. One JSON request per line on stdin:
#   {"M", "N", "K", "ta", "tb", "threads", "reps"}
# answers one JSON line {"wall": [s...], "cpu": [s...]}: seconds per repetition, CPU time of
# the calling thread (OpenBLAS runs a 1-thread product on it). ta/tb time A or B as the .T view
# of a row-major array, which numpy hands to sgemm as a transpose flag, without a copy.
# The first line it prints names numpy's version and the OpenBLAS kernel in use.
import ctypes
import json
import sys
import time

import numpy as np

lib = None
core = "unknown"
try:
    for line in open("/proc/self/maps"):
        if "openblas" in line:
            lib = ctypes.CDLL(line.split()[-1])
            lib.openblas_get_corename.restype = ctypes.c_char_p
            core = lib.openblas_get_corename().decode()
            break
except Exception as e:  # noqa: BLE001 - reported, not fatal
    core = "unknown (%s)" % e
print(json.dumps({"core": core, "numpy": np.__version__}), flush=True)

rng = np.random.default_rng(0)
cache = {}
for line in sys.stdin:
    q = json.loads(line)
    M, N, K, ta, tb = q["M"], q["N"], q["K"], q["ta"], q["tb"]
    key = (M, N, K, ta, tb)
    if key not in cache:
        cache.clear()
        a = rng.standard_normal((K, M) if ta else (M, K), dtype=np.float32)
        b = rng.standard_normal((N, K) if tb else (K, N), dtype=np.float32)
        cache[key] = (a.T if ta else a, b.T if tb else b, np.empty((M, N), dtype=np.float32))
    a, b, c = cache[key]
    if lib is not None:
        lib.openblas_set_num_threads(q["threads"])
    np.matmul(a, b, out=c)
    wall, cpu = [], []
    for _ in range(q["reps"]):
        w0, c0 = time.perf_counter(), time.thread_time()
        np.matmul(a, b, out=c)
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - w0)
    print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)
