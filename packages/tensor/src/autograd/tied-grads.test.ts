// A lookup table used again as a projection (a tied LM head): the engine scatters the lookup's
// gradient straight into the head's pending dW when it alone holds that gradient. Either way
// the table's gradient must be the sum of the two uses' gradients, and a gradient shared with
// another leaf must not be written into.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  add,
  embedding,
  listBackends,
  manualSeed,
  matmul,
  mul,
  randint,
  randn,
  type Tensor,
  transpose,
  withBackend,
} from "../index.ts";

const data = (t: Tensor) => Array.from(t.dataSync() as Float32Array);

function close(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as number;
    assert.ok(Math.abs((got[i] as number) - w) <= 1e-5 * (1 + Math.abs(w)), `${what}[${i}]: ${got[i]} vs ${w}`);
  }
}

for (const backend of listBackends()) {
  test(`tied embedding and head: the table's gradient sums both uses (${backend})`, () => {
    withBackend(backend, () => {
      manualSeed(3);
      const [V, C] = [37, 8];
      const ids = randint(0, V, [2, 5], { dtype: "int64" });
      const g = randn([2, 5, V]);
      const values = randn([V, C]);
      const loss = (emb: Tensor, head: Tensor) =>
        mul(matmul(mul(embedding(ids, emb), 1.5), transpose(head, 0, 1)), g).sum();
      // apart: two leaves with the same values
      const [e, h] = [values.detach().requiresGrad_(), values.detach().requiresGrad_()];
      loss(e, h).backward();
      const want = data(add(e.grad as Tensor, h.grad as Tensor));
      // tied: one leaf used twice
      const w = values.detach().requiresGrad_();
      loss(w, w).backward();
      close(data(w.grad as Tensor), want, "tied grad");
      // a second backward accumulates into the stored gradient
      loss(w, w).backward();
      close(
        data(w.grad as Tensor),
        want.map((x) => 2 * x),
        "accumulated grad",
      );
      // the head's gradient shared with another leaf (add passes g to both): not written into
      const other = randn([V, C]).requiresGrad_();
      const t = values.detach().requiresGrad_();
      add(t, other).sum().add(embedding(ids, t).sum()).backward();
      close(data(other.grad as Tensor), new Array(V * C).fill(1), "other leaf's grad");
      const counts = new Array(V).fill(0);
      for (const id of data(ids.to("float32"))) counts[id]++;
      close(
        data(t.grad as Tensor),
        counts.flatMap((n) => new Array(C).fill(1 + n)),
        "shared case grad",
      );
    });
  });
}
