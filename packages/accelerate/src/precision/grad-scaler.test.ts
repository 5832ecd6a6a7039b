import assert from "node:assert/strict";
import { test } from "node:test";
import { tensor } from "@hearth/tensor";
import { GradScaler } from "./grad-scaler.ts";

test("finite gradients are unscaled and the step runs; growth after the interval", () => {
  const s = new GradScaler({ initScale: 8, growthInterval: 2 });
  const p = tensor([1, 2]).requiresGrad_();
  p.grad = tensor([8, -16]);
  let ran = 0;
  assert.equal(
    s.step([p], () => ran++),
    true,
  );
  assert.deepEqual([...(p.grad?.dataSync() ?? [])], [1, -2]);
  assert.equal(s.scale, 8);
  p.grad = tensor([8, 8]);
  s.step([p], () => ran++);
  assert.equal(ran, 2);
  assert.equal(s.scale, 16);
});

test("an overflowing step is skipped and the scale backs off", () => {
  const s = new GradScaler({ initScale: 1024 });
  const p = tensor([1]).requiresGrad_();
  p.grad = tensor([Number.POSITIVE_INFINITY]);
  let ran = false;
  assert.equal(
    s.step([p], () => {
      ran = true;
    }),
    false,
  );
  assert.equal(ran, false);
  assert.equal(s.scale, 512);
  const again = new GradScaler();
  again.loadStateDict(s.stateDict());
  assert.equal(again.scale, 512);
  assert.throws(() => new GradScaler({ backoffFactor: 2 }), { code: "HEARTH_ACCELERATE_ARGUMENT" });
});
