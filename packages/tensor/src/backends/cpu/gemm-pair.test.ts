// Paired GEMM timing (HEARTH_GEMM_PAIR / setGemmPair): every product runs under each paired
// family, its result stays the product's, the report names each product shape and family with
// one timing per call, and turning it off stops the recording.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  gemmPairReport,
  gemmPairReset,
  manualSeed,
  matmul,
  randn,
  setGemmPair,
  transpose,
  withBackend,
} from "../../index.ts";
import { native } from "../../native/index.ts";

after(() => setGemmPair(null));

describe("paired GEMM timing", { skip: native ? false : "the native addon did not load" }, () => {
  test("runs each product under every paired family and reports it per shape", () => {
    // Two families every x86-64 and portable build has: the scalar kernel, and the automatic one
    // under an explicit name where the CPU has it.
    const second = ["avx512", "avx2"].find((f) => native?.selectGemmKernel(f)) ?? "generic";
    native?.selectGemmKernel("");
    manualSeed(3);
    const a = randn([3, 40, 24]);
    const w = randn([56, 24]);
    const want = withBackend("js", () => matmul(a, transpose(w, 0, 1))).dataSync();
    assert.equal(setGemmPair(["generic", second]), null);
    try {
      for (let i = 0; i < 3; i++) {
        const got = matmul(a, transpose(w, 0, 1)).dataSync();
        for (let j = 0; j < want.length; j++) assert.ok(Math.abs((got[j] as number) - (want[j] as number)) < 1e-4);
      }
      const report = gemmPairReport();
      const row = report.split("\n").find((l) => l.includes("120x56x24 B/T"));
      assert.ok(row, `no row for the product in:\n${report}`);
      assert.match(row, /×3 /);
      assert.match(row, new RegExp(`generic [0-9.]+ / [0-9]+ \\(1\\.00\\)  ${second} `));
      gemmPairReset();
      assert.equal(gemmPairReport(), "");
    } finally {
      assert.deepEqual(setGemmPair(null), ["generic", second]);
    }
    matmul(a, transpose(w, 0, 1));
    assert.equal(gemmPairReport(), "");
  });

  test("an entry may set the GEMM's environment switches for its runs only", () => {
    manualSeed(4);
    const a = randn([96, 700]);
    const b = randn([700, 400]); // 54 MFLOP, 2 threads: HEARTH_GEMM_FINE decides the split
    const want = withBackend("js", () => matmul(a, b)).dataSync();
    delete process.env.HEARTH_GEMM_FINE;
    setGemmPair(["generic", "generic:HEARTH_GEMM_FINE=0"]);
    try {
      const got = matmul(a, b).dataSync();
      for (let j = 0; j < want.length; j += 97) assert.ok(Math.abs((got[j] as number) - (want[j] as number)) < 1e-3);
      const report = gemmPairReport();
      assert.match(report, /96x400x700 .*generic [0-9.]+ \/ [0-9]+ \(1\.00\) {2}generic:HEARTH_GEMM_FINE=0 /);
    } finally {
      setGemmPair(null);
    }
    // set while its entry runs, cleared for the others and when pairing ends
    assert.equal(process.env.HEARTH_GEMM_FINE, undefined);
  });
});
