// A small MLP trained on the iris table reaches >= 95% held-out accuracy from a fixed seed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  Adam,
  crossEntropy,
  Linear,
  manualSeed,
  noGrad,
  ReLU,
  rand,
  Sequential,
  scope,
  sort,
  tensor,
} from "../src/index.ts";

/** A seeded random permutation of 0..n-1. */
const randperm = (n: number) => sort(rand([n])).indices.tolistSync() as number[];

type Row = [number, number, number, number, string];
const rows = JSON.parse(
  readFileSync(new URL("../../../fixtures/data/datasets/tabular/iris.json", import.meta.url), "utf8"),
) as Row[];

test("iris MLP reaches >= 95% held-out accuracy", () => {
  manualSeed(2024);
  const classes = [...new Set(rows.map((r) => r[4]))];
  assert.equal(classes.length, 3);
  // seeded stratified split: after a shuffle, every 5th row of each class is held out (30 of 150)
  const order = randperm(rows.length);
  const seen = new Map<string, number>();
  const train: Row[] = [];
  const heldOut: Row[] = [];
  for (const i of order) {
    const r = rows[i] as Row;
    const k = seen.get(r[4]) ?? 0;
    seen.set(r[4], k + 1);
    (k % 5 === 4 ? heldOut : train).push(r);
  }
  // standardise with the training set's statistics only
  const mean = [0, 1, 2, 3].map((j) => train.reduce((s, r) => s + (r[j] as number), 0) / train.length);
  const sd = [0, 1, 2, 3].map((j) =>
    Math.sqrt(train.reduce((s, r) => s + ((r[j] as number) - (mean[j] as number)) ** 2, 0) / train.length),
  );
  const features = (rs: Row[]) =>
    tensor(rs.map((r) => [0, 1, 2, 3].map((j) => ((r[j] as number) - (mean[j] as number)) / (sd[j] as number))));
  const labels = (rs: Row[]) =>
    tensor(
      rs.map((r) => classes.indexOf(r[4])),
      { dtype: "int64" },
    );
  const [xTrain, yTrain, xTest, yTest] = [features(train), labels(train), features(heldOut), labels(heldOut)];

  const model = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 3));
  const opt = new Adam(model.parameters(), { lr: 0.02 });
  for (let epoch = 0; epoch < 200; epoch++) {
    scope(() => {
      const loss = crossEntropy(model.forward(xTrain), yTrain);
      loss.backward();
      opt.step();
      opt.zeroGrad();
    });
  }
  const predicted = noGrad(() => model.forward(xTest).argmax(-1)).tolistSync() as number[];
  const truth = yTest.tolistSync() as number[];
  const accuracy = predicted.filter((p, i) => p === truth[i]).length / truth.length;
  assert.ok(accuracy >= 0.95, `held-out accuracy ${accuracy}`);
});
