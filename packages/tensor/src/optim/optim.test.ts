import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  Adam,
  AdamW,
  clipGradNorm,
  getConstantSchedule,
  getCosineSchedule,
  getLinearSchedule,
  type HearthTensorError,
  mul,
  SGD,
  sum,
  type Tensor,
  tensor,
} from "../index.ts";

/** Sets p.grad = g (as from a loss Σ g·p). */
function setGrad(p: Tensor, g: number[]): void {
  p.grad = null;
  sum(mul(p, tensor(g))).backward();
}

const close = (a: number, b: number, tol = 1e-6) =>
  assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${a} vs ${b}`);

describe("optimisers", () => {
  test("SGD with momentum and Nesterov follows PyTorch's recurrences", () => {
    for (const nesterov of [false, true]) {
      const p = tensor([1]).requiresGrad_();
      const opt = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.1, nesterov });
      let x = 1;
      let buf = 0;
      for (let t = 0; t < 3; t++) {
        setGrad(p, [0.5]);
        opt.step();
        const d = 0.5 + 0.1 * x;
        buf = t === 0 ? d : 0.9 * buf + d;
        x -= 0.1 * (nesterov ? d + 0.9 * buf : buf);
        close(p.item(), x);
      }
    }
  });

  test("Adam and AdamW match the reference update over steps", () => {
    for (const decoupled of [false, true]) {
      const p = tensor([0.5, -1]).requiresGrad_();
      const opt = decoupled
        ? new AdamW([p], { lr: 0.01, weightDecay: 0.1 })
        : new Adam([p], { lr: 0.01, weightDecay: 0.1 });
      const x = [0.5, -1];
      const m = [0, 0];
      const v = [0, 0];
      for (let t = 1; t <= 4; t++) {
        const g = [0.3 * t, -0.2];
        setGrad(p, g);
        opt.step();
        for (let i = 0; i < 2; i++) {
          let gi = g[i] as number;
          if (decoupled) x[i] = (x[i] as number) * (1 - 0.01 * 0.1);
          else gi += 0.1 * (x[i] as number);
          m[i] = 0.9 * (m[i] as number) + 0.1 * gi;
          v[i] = 0.999 * (v[i] as number) + 0.001 * gi * gi;
          const denom = Math.sqrt(v[i] as number) / Math.sqrt(1 - 0.999 ** t) + 1e-8;
          x[i] = (x[i] as number) - (0.01 / (1 - 0.9 ** t)) * ((m[i] as number) / denom);
        }
        const got = p.tolistSync() as number[];
        close(got[0] as number, x[0] as number, 1e-5);
        close(got[1] as number, x[1] as number, 1e-5);
      }
    }
  });

  test("optimiser state saves and loads: a resumed run matches an uninterrupted one", () => {
    const run = (resumeAt?: number) => {
      const p = tensor([1, 2, 3]).requiresGrad_();
      let opt = new AdamW([p], { lr: 0.1 });
      for (let t = 0; t < 5; t++) {
        if (t === resumeAt) {
          const saved = JSON.parse(JSON.stringify(opt.stateDict(), (_, v) => (v instanceof Float32Array ? [...v] : v)));
          for (const st of Object.values(saved.state) as Record<string, unknown>[]) {
            for (const [k, v] of Object.entries(st)) if (Array.isArray(v)) st[k] = Float32Array.from(v);
          }
          opt = new AdamW([p], { lr: 0.5 });
          opt.loadStateDict(saved);
        }
        setGrad(p, [t + 1, -t, 0.5]);
        opt.step();
      }
      return p.tolistSync();
    };
    assert.deepEqual(run(3), run());
    const opt = new AdamW([tensor([1]).requiresGrad_()]);
    assert.throws(
      () => opt.loadStateDict({ state: {}, paramGroups: [] }),
      (e: HearthTensorError) => e.code === "HEARTH_OPTIM_STATE",
    );
  });

  test("clipGradNorm scales gradients to the max norm and returns the norm before", () => {
    const a = tensor([1, 1]).requiresGrad_();
    const b = tensor([1]).requiresGrad_();
    setGrad(a, [3, 0]);
    setGrad(b, [4]);
    close(clipGradNorm([a, b], 1), 5);
    close(Number(a.grad?.dataSync()[0]), 3 / (5 + 1e-6));
    close(Number(b.grad?.dataSync()[0]), 4 / (5 + 1e-6));
  });
});

describe("schedules", () => {
  const lrs = (make: (o: SGD) => { step(): void; getLastLr(): number[] }, n: number) => {
    const opt = new SGD([tensor([1]).requiresGrad_()], { lr: 1 });
    const s = make(opt);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      out.push(s.getLastLr()[0] as number);
      s.step();
    }
    return out;
  };
  test("constant, linear and cosine with warm-up", () => {
    assert.deepEqual(
      lrs((o) => getConstantSchedule(o, 2), 4),
      [0, 0.5, 1, 1],
    );
    assert.deepEqual(
      lrs((o) => getLinearSchedule(o, 2, 6), 7),
      [0, 0.5, 1, 0.75, 0.5, 0.25, 0],
    );
    const cos = lrs((o) => getCosineSchedule(o, 1, 5), 6);
    [0, 1, (1 + Math.cos(Math.PI / 4)) / 2, 0.5, (1 + Math.cos((3 * Math.PI) / 4)) / 2, 0].forEach((v, i) => {
      close(cos[i] as number, v, 1e-12);
    });
  });
});
