"""numpy.matmul on the shapes of bench_gemm.c, for comparison (run as its own process).

    python3 csrc/tests/bench_numpy.py
"""
import time
import numpy as np

SHAPES = [
    ("square 1024", 0, 0, 1024, 1024, 1024),
    ("square 2048", 0, 0, 2048, 2048, 2048),
    ("fwd  256x784 . 784x1024", 0, 0, 256, 1024, 784),
    ("fwd  256x1024 . 1024x1024", 0, 0, 256, 1024, 1024),
    ("fwd  256x1024 . 1024x10", 0, 0, 256, 10, 1024),
    ("dW   (256x784)T . 256x1024", 1, 0, 784, 1024, 256),
    ("dW   (256x1024)T . 256x1024", 1, 0, 1024, 1024, 256),
    ("dW   (256x1024)T . 256x10", 1, 0, 1024, 10, 256),
    ("dlt  256x1024 . (1024x1024)T", 0, 1, 256, 1024, 1024),
    ("dlt  256x10 . (1024x10)T", 0, 1, 256, 1024, 10),
    ("dlt  256x1024 . (784x1024)T", 0, 1, 256, 784, 1024),
]
SMALL = [
    ("small 4x2 . 2x4", 0, 0, 4, 4, 2),
    ("small 4x4 . 4x1", 0, 0, 4, 1, 4),
    ("small 32x64 . 64x64", 0, 0, 32, 64, 64),
    ("small 32x64 . 64x10", 0, 0, 32, 10, 64),
    ("small (32x64)T . 32x64", 1, 0, 64, 64, 32),
    ("small 32x10 . (64x10)T", 0, 1, 32, 64, 10),
    ("mid  64x784 . 784x128", 0, 0, 64, 128, 784),
    ("mid  1x784 . 784x128", 0, 0, 1, 128, 784),
]


def operands(ta, tb, M, N, K, dt):
    A = np.random.rand(K, M).astype(dt) if ta else np.random.rand(M, K).astype(dt)
    B = np.random.rand(N, K).astype(dt) if tb else np.random.rand(K, N).astype(dt)
    return (A.T if ta else A), (B.T if tb else B), np.empty((M, N), dt)


def seconds(ta, tb, M, N, K, dt, inner, reps):
    a, b, c = operands(ta, tb, M, N, K, dt)
    np.matmul(a, b, out=c)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            np.matmul(a, b, out=c)
        ts.append((time.perf_counter() - t0) / inner)
    return sorted(ts)[reps // 2]


print(f"{'numpy GFLOP/s':32s}  f32        f64")
for name, ta, tb, M, N, K in SHAPES:
    fl = 2.0 * M * N * K
    inner, reps = (1, 5) if fl > 4e9 else (int(4e8 / fl) + 1, 9)
    r = [fl / seconds(ta, tb, M, N, K, dt, inner, reps) * 1e-9 for dt in (np.float32, np.float64)]
    print(f"{name:32s}  {r[0]:9.1f}  {r[1]:9.1f}")
print(f"{'numpy microseconds per call':32s}  f32        f64")
for name, ta, tb, M, N, K in SMALL:
    fl = 2.0 * M * N * K
    inner = int(2e7 / fl) + 10
    r = [seconds(ta, tb, M, N, K, dt, inner, 15) * 1e6 for dt in (np.float32, np.float64)]
    print(f"{name:32s}  {r[0]:9.3f}  {r[1]:9.3f}")
