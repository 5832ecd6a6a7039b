import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  Conv1d,
  Conv2d,
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  manualSeed,
  ReLU,
  RMSNorm,
  randn,
  Sequential,
  sum,
  type Tensor,
  tensor,
  zeros,
} from "../index.ts";

class Block extends Module {
  readonly fc = this.registerModule("fc", new Linear(3, 2));
  readonly norm = this.registerModule("norm", new LayerNorm(2));
  readonly scale = this.registerBuffer("scale", tensor([2]));
  readonly cache = this.registerBuffer("cache", zeros([1]), false);
  forward(x: Tensor): Tensor {
    return this.norm.forward(this.fc.forward(x)).mul(this.scale);
  }
}

describe("Module", () => {
  test("named parameters, buffers and state dict use dotted names; non-persistent buffers stay out", () => {
    const m = new ModuleList([new Block(), new Block()]);
    assert.deepEqual(
      m.namedParameters().map(([n]) => n),
      [
        "0.fc.weight",
        "0.fc.bias",
        "0.norm.weight",
        "0.norm.bias",
        "1.fc.weight",
        "1.fc.bias",
        "1.norm.weight",
        "1.norm.bias",
      ],
    );
    assert.deepEqual(
      m.namedBuffers().map(([n]) => n),
      ["0.scale", "0.cache", "1.scale", "1.cache"],
    );
    // PyTorch's order: a module's own parameters and buffers, then its children's
    assert.deepEqual(Object.keys(m.stateDict()), [
      "0.scale",
      "0.fc.weight",
      "0.fc.bias",
      "0.norm.weight",
      "0.norm.bias",
      "1.scale",
      "1.fc.weight",
      "1.fc.bias",
      "1.norm.weight",
      "1.norm.bias",
    ]);
  });

  test("tied parameters are listed once but appear under both names in the state dict", () => {
    class Tied extends Module {
      readonly emb = this.registerModule("emb", new Embedding(5, 3));
      readonly head = this.registerModule("head", new Linear(3, 5, { bias: false }));
      constructor() {
        super();
        this.head.registerParameter("weight", this.emb.weight);
      }
    }
    const t = new Tied();
    assert.equal(t.parameters().length, 1);
    assert.deepEqual(Object.keys(t.stateDict()), ["emb.weight", "head.weight"]);
  });

  test("loadStateDict copies in place and reports missing, unexpected and mismatched keys", () => {
    manualSeed(0);
    const a = new Block();
    const b = new Block();
    const w = b.fc.weight;
    b.loadStateDict(a.stateDict());
    assert.equal(b.fc.weight, w, "same tensor object, new values");
    assert.deepEqual(b.fc.weight.tolistSync(), a.fc.weight.tolistSync());
    const sd = { ...a.stateDict() };
    delete sd["fc.bias"];
    sd.extra = zeros([1]);
    assert.throws(
      () => b.loadStateDict(sd),
      (e: { code: string; message: string }) =>
        e.code === "HEARTH_NN_STATE_DICT" &&
        /missing keys: fc\.bias/.test(e.message) &&
        /unexpected keys: extra/.test(e.message),
    );
    assert.deepEqual(b.loadStateDict(sd, { strict: false }), { missingKeys: ["fc.bias"], unexpectedKeys: ["extra"] });
    assert.throws(
      () => b.loadStateDict({ ...a.stateDict(), "fc.weight": zeros([3, 2]) }),
      /size mismatch for fc\.weight: checkpoint \[3, 2\] vs model \[2, 3\]/,
    );
  });

  test("train/eval reach every submodule; apply visits children first; Dropout obeys the mode", () => {
    const m = new Sequential(new Linear(4, 4), new Dropout(0.5), new ReLU());
    m.eval();
    assert.ok([...m.namedModules()].every(([, x]) => !x.training));
    const x = randn([3, 4]);
    assert.deepEqual(m.forward(x).tolistSync(), m.forward(x).tolistSync());
    const order: string[] = [];
    m.apply((x) => order.push(x.constructor.name));
    assert.deepEqual(order, ["Linear", "Dropout", "ReLU", "Sequential"]);
    m.train();
    const d = new Dropout(0.5);
    const y = d.forward(randn([1000]).abs().add(1));
    const zerosCount = (y.dataSync() as Float32Array).filter((v) => v === 0).length;
    assert.ok(zerosCount > 400 && zerosCount < 600);
  });

  test("layers produce the documented shapes and gradients reach parameters", () => {
    const conv = new Conv2d(2, 4, 3, { padding: 1 });
    assert.deepEqual(conv.forward(randn([1, 2, 5, 5])).shape, [1, 4, 5, 5]);
    const c1 = new Conv1d(2, 3, 3, { stride: 2 });
    assert.deepEqual(c1.forward(randn([2, 2, 9])).shape, [2, 3, 4]);
    const rms = new RMSNorm(4);
    const emb = new Embedding(10, 4, { paddingIdx: 0 });
    const out = rms.forward(emb.forward(tensor([[0, 3, 3]], { dtype: "int64" })));
    sum(out.mul(randn([1, 3, 4]))).backward();
    const g = emb.weight.grad?.tolistSync() as number[][];
    assert.deepEqual(g[0], [0, 0, 0, 0]);
    assert.ok((g[3] as number[]).some((v) => v !== 0));
    assert.ok(rms.weight?.grad);
  });
});
