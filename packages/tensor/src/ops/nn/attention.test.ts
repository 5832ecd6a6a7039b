// The fused `attention` primitive (scaledDotProductAttention) on every backend against the
// composite on the `js` reference: random shapes with head sizes that are not multiples of 16,
// fewer queries than keys, grouped-query heads, additive/bool/padding/decoder masks, more than
// one 64-query block, strided views (a KV-cache slice, heads split by a transpose, an output
// gradient through a transpose); its backward against autograd through the
// composite; finite differences; and memory that stays linear in the key length.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  apply,
  compositeAttention,
  gradcheck,
  listBackends,
  manualSeed,
  narrow,
  randn,
  reshape,
  scaledDotProductAttention,
  type Tensor,
  tensor,
  transpose,
  withBackend,
  zeros,
} from "../../index.ts";
import { native } from "../../native/index.ts";

const data = (t: Tensor) => Array.from(t.dataSync() as Float32Array);
const gradData = (t: Tensor) => data(t.grad as Tensor);

function close(got: number[], want: number[], rtol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const mag = Math.max(1, ...want.map((x) => (Number.isFinite(x) ? Math.abs(x) : 0)));
  for (let i = 0; i < want.length; i++) {
    const a = got[i] as number;
    const b = want[i] as number;
    if (Number.isNaN(b)) assert.ok(Number.isNaN(a), `${what}[${i}]: ${a} vs NaN`);
    else assert.ok(Math.abs(a - b) <= rtol * mag, `${what}[${i}]: ${a} vs ${b}`);
  }
}

/** "min": a decoder mask (finfo.min above the diagonal), as GPT-2 builds it. */
type MaskKind = "none" | "add" | "bool" | "pad" | "min";
type Case = [
  B: number,
  H: number,
  G: number,
  T: number,
  S: number,
  D: number,
  E: number,
  causal: boolean,
  mask: MaskKind,
];
const CASES: Case[] = [
  [1, 2, 2, 5, 5, 8, 8, false, "none"],
  [2, 4, 2, 7, 150, 20, 12, true, "none"],
  [2, 6, 3, 33, 33, 32, 40, true, "pad"],
  [1, 2, 1, 3, 70, 8, 4, false, "bool"],
  [2, 3, 1, 1, 37, 17, 17, false, "add"],
  [1, 4, 4, 9, 9, 64, 64, true, "add"],
  [3, 2, 2, 4, 11, 5, 67, false, "add"],
  [2, 2, 1, 140, 140, 16, 8, false, "min"],
  // the backward's keys packed once per (batch, kv head): several query and key blocks, the
  // last key block short, causal with more keys than queries, two heads per kv head
  [1, 4, 2, 70, 135, 12, 20, true, "none"],
  // a decoding step long enough for the one-row path to split its heads over the threads
  [2, 8, 2, 1, 150, 24, 24, true, "pad"],
];

/** The inputs of one case: k, v read through a KV-cache-like [:, :, :S] view, q split by a transpose. */
function make([B, H, G, T, S, D, E, , kind]: Case) {
  const q = randn([B, T, H, D]).requiresGrad_();
  const kc = randn([B, G, S + 5, D]).requiresGrad_();
  const vc = randn([B, G, S + 3, E]).requiresGrad_();
  let mask: Tensor | null = null;
  if (kind === "add") mask = randn([B, 1, T, S]);
  if (kind === "bool") mask = randn([1, H, T, S]).gt(-1);
  if (kind === "min") {
    const values = Array.from({ length: T * S }, (_, i) => {
      const [t, s] = [Math.floor(i / S), i % S];
      return s > t ? -3.4028234663852886e38 : 0;
    });
    mask = reshape(tensor(values), [1, 1, T, S]);
  }
  if (kind === "pad") {
    const keep = Array.from({ length: B * S }, (_, i) => i % S < S - 1 - (i % 3));
    mask = reshape(tensor(keep, { dtype: "bool" }), [B, 1, 1, S]);
  }
  const views = () => ({ q: transpose(q, 1, 2), k: narrow(kc, 2, 0, S), v: narrow(vc, 2, 0, S) });
  return { leaves: [q, kc, vc], views, mask };
}

/** k/v repeated to H heads, so the composite (which broadcasts heads) handles grouped queries. */
function repeatHeads(t: Tensor, H: number): Tensor {
  const [B, G, S, D] = t.shape as [number, number, number, number];
  return reshape(t.unsqueeze(2).expand([B, G, H / G, S, D]), [B, H, S, D]);
}

for (const backend of listBackends()) {
  describe(`attention primitive on '${backend}'`, () => {
    test("forward and backward match the composite on js (GQA, masks, strided views)", () => {
      manualSeed(5);
      for (const c of CASES) {
        const [, H, , , , , , causal] = c;
        const { leaves, views, mask } = withBackend("js", () => make(c));
        const scale = 0.3;
        const want = withBackend("js", () => {
          const { q, k, v } = views();
          return compositeAttention(q, repeatHeads(k, H), repeatHeads(v, H), { isCausal: causal, mask, scale });
        });
        const dout = withBackend("js", () => randn([...want.shape]));
        withBackend("js", () => want.mul(dout).sum().backward());
        const wantGrads = leaves.map((t) => data(t.grad as Tensor));
        for (const t of leaves) t.grad = null;
        const got = withBackend(backend, () => {
          const { q, k, v } = views();
          const out = scaledDotProductAttention(q, k, v, { isCausal: causal, mask, scale });
          // Through a transpose, as a model merges heads: the output's gradient arrives strided.
          transpose(out, 1, 2)
            .mul(transpose(dout, 1, 2))
            .sum()
            .backward();
          return out;
        });
        close(data(got), data(want), 2e-5, `${c} out`);
        leaves.forEach((t, n) => {
          close(data(t.grad as Tensor), wantGrads[n] as number[], 1e-4, `${c} grad ${"qkv"[n]}`);
        });
        for (const t of leaves) t.grad = null;
      }
    });

    test("a fused qkv projection's gradient comes back packed, equal to the composite's (both kernel variants)", () => {
      manualSeed(8);
      // GPT-2's layout: x [B, T, 3·H·D] split into q, k, v and heads; the backward hands out
      // views of one [B, T, 3H, D] gradient, which the split's gradient joins without a copy.
      for (const [B, T, H, D] of [
        [2, 130, 3, 16],
        [1, 67, 2, 20],
      ] as const) {
        const x = withBackend("js", () => randn([B, T, 3 * H * D]).requiresGrad_());
        const dout = withBackend("js", () => randn([B, H, T, D]));
        const heads = (t: Tensor) => transpose(reshape(t, [B, T, H, D]), 1, 2);
        const qkv = () => x.split(H * D, 2).map(heads) as [Tensor, Tensor, Tensor];
        const want = withBackend("js", () => {
          const [q, k, v] = qkv();
          const out = compositeAttention(q, k, v, { isCausal: true });
          out.mul(dout).sum().backward();
          return data(out);
        });
        const wantGrad = gradData(x);
        for (const variant of backend === "cpu" && native ? ["", "generic"] : [""]) {
          native?.selectAttentionKernel(variant);
          try {
            x.grad = null;
            const got = withBackend(backend, () => {
              const [q, k, v] = qkv();
              const out = scaledDotProductAttention(q, k, v, { isCausal: true });
              out.mul(dout).sum().backward();
              return data(out);
            });
            const what = `${backend}/${variant || "auto"} [${B}, ${T}, ${H}, ${D}]`;
            close(got, want, 2e-5, `${what} out`);
            close(gradData(x), wantGrad, 1e-4, `${what} grad`);
          } finally {
            native?.selectAttentionKernel("");
          }
        }
        x.grad = null;
      }
    });

    test("a query that sees no key gives NaN; a finite mask value keeps the row finite", () => {
      withBackend(backend, () => {
        const q = zeros([1, 1, 3, 2]);
        const k = zeros([1, 1, 1, 2]);
        const v = tensor([[[[2, 3]]]]);
        const causal = data(scaledDotProductAttention(q, k, v, { isCausal: true }));
        assert.ok(Number.isNaN(causal[0] as number) && Number.isNaN(causal[2] as number));
        assert.deepEqual(causal.slice(4), [2, 3]);
        const k2 = zeros([1, 1, 2, 2]);
        const v2 = tensor([
          [
            [
              [1, 0],
              [3, 0],
            ],
          ],
        ]);
        const finite = data(scaledDotProductAttention(q, k2, v2, { mask: tensor([-3.4e38, -3.4e38]) }));
        assert.deepEqual(finite.slice(0, 2), [2, 0]); // uniform over the masked keys, as softmax gives
      });
    });

    test("bad shapes and dtypes throw coded errors", () => {
      withBackend(backend, () => {
        const q = zeros([1, 3, 2, 4]);
        assert.throws(() => apply("attention", [q, zeros([1, 2, 2, 4]), zeros([1, 2, 2, 4])], { scale: 1 }), {
          code: "HEARTH_TENSOR_SHAPE",
        });
        assert.throws(
          () => apply("attention", [q, zeros([1, 3, 2, 4]), zeros([1, 3, 2, 4]), zeros([2, 1, 2, 2])], { scale: 1 }),
          {
            code: "HEARTH_TENSOR_SHAPE",
          },
        );
        assert.throws(
          () => apply("attention", [q, zeros([1, 3, 2, 4]).to("bfloat16"), zeros([1, 3, 2, 4])], { scale: 1 }),
          {
            code: "HEARTH_TENSOR_DTYPE",
          },
        );
      });
    });

    test("bfloat16 inputs agree with float32 to bf16 precision", () => {
      manualSeed(9);
      const [q, k, v] = withBackend("js", () => [randn([2, 4, 3, 24]), randn([2, 2, 6, 24]), randn([2, 2, 6, 8])]);
      const want = withBackend(backend, () => data(scaledDotProductAttention(q, k, v, { isCausal: true })));
      const got = withBackend(backend, () =>
        data(
          scaledDotProductAttention(q.to("bfloat16"), k.to("bfloat16"), v.to("bfloat16"), { isCausal: true }).to(
            "float32",
          ),
        ),
      );
      close(got, want, 3e-2, "bf16");
    });
  });
}

test("gradcheck: fused attention with GQA, causal and an additive mask (finite differences, js)", () => {
  withBackend("js", () => {
    manualSeed(3);
    const leaf = (shape: number[]) => randn(shape).requiresGrad_();
    const mask = tensor([[0, -1, 0, 0.5, -2]]);
    const mismatches = gradcheck(
      (q, k, v) => scaledDotProductAttention(q as Tensor, k as Tensor, v as Tensor, { isCausal: true, mask }),
      [leaf([1, 4, 3, 5]), leaf([1, 2, 5, 5]), leaf([1, 2, 5, 3])],
    );
    assert.deepEqual(mismatches, []);
  });
});

test("a mask that needs a gradient takes the composite path and gets one", () => {
  withBackend("js", () => {
    const q = randn([1, 1, 2, 3]);
    const mask = zeros([1, 1, 2, 4]).requiresGrad_();
    scaledDotProductAttention(q, randn([1, 1, 4, 3]), randn([1, 1, 4, 2]), { mask })
      .sum()
      .backward();
    assert.ok(mask.grad);
  });
});

/**
 * The mask decoders build under left padding: finfo.min on padded keys (and, without the causal
 * flag, above the diagonal too), so the rows of padded queries see only finfo.min scores. Such a
 * row's log-sum-exp (finfo.min + log n) rounds to finfo.min in float32, which must not make the
 * backward's recomputed probabilities 1 instead of 1/n.
 */
function paddedMask(B: number, T: number, S: number, pads: number[], withCausal: boolean): Tensor {
  const min = -3.4028234663852886e38;
  const values: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < S; j++) values.push(j < (pads[b] as number) || (withCausal && j > i + S - T) ? min : 0);
    }
  }
  return reshape(tensor(values), [B, 1, T, S]);
}

for (const backend of listBackends()) {
  test(`attention on '${backend}': rows masked entirely by finfo.min match the composite (forward and gradients)`, () => {
    manualSeed(11);
    const [B, H, G, T, S, D, E] = [3, 4, 2, 70, 73, 8, 5];
    // Batch 0 unpadded, batch 1 left-padded (its first queries see only padding), batch 2 all padding.
    const pads = [0, 40, S];
    for (const causal of [false, true]) {
      const mask = paddedMask(B, T, S, pads, !causal);
      const [q, k, v, dout] = withBackend("js", () => [
        randn([B, H, T, D]).requiresGrad_(),
        randn([B, G, S, D]).requiresGrad_(),
        randn([B, G, S, E]).requiresGrad_(),
        randn([B, H, T, E]),
      ]) as [Tensor, Tensor, Tensor, Tensor];
      const want = withBackend("js", () => {
        const out = compositeAttention(q, repeatHeads(k, H), repeatHeads(v, H), { isCausal: causal, mask });
        out.mul(dout).sum().backward();
        return out;
      });
      const wantGrads = [q, k, v].map((t) => data(t.grad as Tensor));
      for (const t of [q, k, v]) t.grad = null;
      const check = (what: string, out: number[]) => {
        close(out, data(want), 2e-5, `${what} out`);
        // Query 5 of batch 2, head 1 sees only padding: it averages v over the keys it may see,
        // as PyTorch's softmax gives.
        const vs = data(v);
        const row = out.slice(((2 * H + 1) * T + 5) * E, ((2 * H + 1) * T + 6) * E);
        const seen = causal ? 5 + S - T + 1 : S;
        const mean = Array.from({ length: E }, (_, e) => {
          let sum = 0;
          for (let j = 0; j < seen; j++) sum += vs[(2 * G * S + j) * E + e] as number;
          return sum / seen;
        });
        close(row, mean, 2e-5, `${what} padded row`);
        [q, k, v].forEach((t, n) => {
          close(data(t.grad as Tensor), wantGrads[n] as number[], 1e-4, `${what} grad ${"qkv"[n]}`);
        });
        for (const t of [q, k, v]) t.grad = null;
      };
      // The addon's automatic choice (AVX-512 where the CPU has it) and its generic kernels.
      for (const variant of backend === "cpu" && native ? ["", "generic"] : [""]) {
        native?.selectAttentionKernel(variant);
        try {
          const got = withBackend(backend, () => {
            const out = scaledDotProductAttention(q, k, v, { isCausal: causal, mask });
            out.mul(dout).sum().backward();
            return out;
          });
          check(`${backend}${variant ? `/${variant}` : ""} causal=${causal}`, data(got));
        } finally {
          native?.selectAttentionKernel("");
        }
      }
    }
  });
}
