/**
 * Helpers for the Python peers of the benchmarks.
 *
 * The python3 the PyTorch peers run under: `$PYTHON` if set, else the system `/usr/bin/python3`
 * (Debian's python3-torch installs for it, and another python3 first on PATH may shadow it),
 * else `python3` — the first that can import torch and numpy; undefined when none can.
 */
import { spawnSync } from "node:child_process";
import { native } from "../../packages/tensor/src/native/index.ts";

export function torchPython(): string | undefined {
  const python = [process.env.PYTHON, "/usr/bin/python3", "python3"].find(
    (p) => p && spawnSync(p, ["-c", "import torch, numpy"], { encoding: "utf8" }).status === 0,
  );
  if (python && !blasChecked) {
    blasChecked = true;
    const maps = spawnSync(python, ["-c", TORCH_BLAS], { encoding: "utf8" }).stdout.trim();
    if (maps === "reference") {
      console.log(
        "warning: this torch runs on the reference BLAS (Debian's python3-torch uses whatever libblas.so.3 " +
          "points to; its matmuls run ~20x slower than on OpenBLAS): `apt-get install -y libopenblas0-pthread` " +
          "for a fair peer",
      );
    }
  }
  return python;
}

let blasChecked = false;
// Prints "reference" when torch mapped the reference BLAS (Debian's /usr/lib/<arch>/blas/) at
// import, which then serves its sgemm calls, else "openblas" or "unknown" (Linux only).
const TORCH_BLAS = `import torch
libs = [l.split()[-1] for l in open("/proc/self/maps") if "blas" in l]
print("reference" if any("/blas/libblas" in l for l in libs) else "openblas" if libs else "unknown")`;

/**
 * The best OpenBLAS kernel name for this CPU's features, to name in OPENBLAS_CORETYPE where
 * OpenBLAS's autodetection does not know the CPU model (e.g. new Xeons under a hypervisor,
 * where it falls back to its pre-AVX2 "Prescott" kernel at a tenth of the speed).
 */
export function bestCoreType(): string | null {
  const f = native?.cpuFeatures();
  if (!f) return null;
  if (f.avx512bf16) return "Cooperlake";
  if (f.avx512f) return "SkylakeX";
  if (f.avx2) return "Haswell";
  return null;
}
