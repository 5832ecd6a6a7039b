// Every registered backend against the `js` reference, on the shared conformance cases. A case
// may be skipped only through SKIP, with the reason. The fused cases also run on the cpu
// backend with each vector variant of the addon's row kernels forced (AVX-512, AVX2, scalar).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { jsBackend, listBackends, registerBackend, withBackend } from "../src/index.ts";
import { native } from "../src/native/index.ts";
import { buildCases, type Case, runCase } from "./conformance/cases.ts";
import { fusedCases } from "./conformance/fused-cases.ts";

/** backend name -> case name -> reason. */
const SKIP: Record<string, Record<string, string>> = {};

// A verbatim copy of the js backend proves the suite itself runs, even where no other backend is built.
registerBackend({ ...jsBackend, name: "js-copy" }, -100);

const cases = withBackend("js", buildCases);

function check(backend: string, c: Case): void {
  const { inputs, attrs = {} } = withBackend("js", c.make);
  const want = runCase("js", c, inputs, attrs);
  const got = runCase(backend, c, inputs, attrs);
  assert.equal(got.length, want.length);
  want.forEach((w, k) => {
    const g = got[k] as number[];
    assert.equal(g.length, w.length);
    const scale = Math.max(1e-30, ...w.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
    for (let i = 0; i < w.length; i++) {
      const a = g[i] as number;
      const b = w[i] as number;
      if (Number.isNaN(b)) assert.ok(Number.isNaN(a), `${c.name} output ${k}[${i}]: ${a} vs NaN`);
      else if (!Number.isFinite(b)) assert.equal(a, b);
      else assert.ok(Math.abs(a - b) <= (c.rtol ?? 1e-5) * scale, `${c.name} output ${k}[${i}]: ${a} vs ${b}`);
    }
  });
}

for (const backend of listBackends().filter((b) => b !== "js")) {
  describe(`backend '${backend}' matches the js reference`, () => {
    for (const c of cases) {
      const reason = SKIP[backend]?.[c.name];
      test(c.name, { skip: reason }, () => check(backend, c));
    }
  });
}

if (native && listBackends().includes("cpu")) {
  const addon = native;
  const fused = withBackend("js", fusedCases);
  for (const variant of ["avx2", "generic"]) {
    describe(`fused row kernels, variant '${variant}', match the js reference`, () => {
      for (const c of fused) {
        test(c.name, () => {
          if (!addon.selectGemmKernel(variant)) return; // the CPU lacks it
          try {
            assert.equal(addon.fusedKernel(), variant);
            check("cpu", c);
          } finally {
            addon.selectGemmKernel("");
          }
        });
      }
    });
  }
}
