import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  apply1,
  fromBuffer,
  type HearthTensorError,
  jsBackend,
  registerBackend,
  tensor,
  withBackend,
} from "../index.ts";

describe("backends", () => {
  test("the dispatcher throws a coded error naming the op when a kernel is missing", () => {
    registerBackend({ ...jsBackend, name: "partial", kernels: jsBackend.kernels.filter((k) => k.op !== "matmul") }, -1);
    const a = tensor([[1, 2]]);
    withBackend("partial", () => {
      assert.deepEqual(apply1("add", [a, a]).tolistSync(), [[2, 4]]);
      assert.throws(
        () => apply1("matmul", [a, tensor([[1], [2]])]),
        (e: HearthTensorError) =>
          e.code === "HEARTH_TENSOR_NO_KERNEL" && /matmul/.test(e.message) && /partial/.test(e.message),
      );
    });
  });

  test("a registered backend's kernels receive strided views and contiguous outputs", () => {
    const seen: { strides: readonly number[]; outStrides: readonly number[] }[] = [];
    registerBackend(
      {
        ...jsBackend,
        name: "spy",
        kernels: jsBackend.kernels.map((k) =>
          k.op === "neg"
            ? {
                op: "neg",
                fn: (args) => {
                  seen.push({ strides: args.inputs[0]?.strides ?? [], outStrides: args.outputs[0]?.strides ?? [] });
                  k.fn(args);
                },
              }
            : k,
        ),
      },
      -1,
    );
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const y = withBackend("spy", () => apply1("neg", [apply1("permute", [x], { dims: [1, 0] })]));
    assert.deepEqual(seen[0], { strides: [1, 3], outStrides: [2, 1] });
    assert.deepEqual(y.tolistSync(), [
      [-1, -4],
      [-2, -5],
      [-3, -6],
    ]);
  });

  test("fromBuffer shares memory and int64 bytes round-trip exactly", () => {
    const bytes = new BigInt64Array([2n ** 62n + 7n, -(2n ** 63n), 5n]);
    const t = fromBuffer(bytes.buffer, "int64", [3]);
    const copy = apply1("contiguous", [t]);
    assert.deepEqual([...new BigInt64Array(copy.bytes().slice().buffer)], [...bytes]);
    bytes[2] = 9n;
    assert.equal(t.dataSync()[2], 9n);
    assert.throws(() => fromBuffer(new ArrayBuffer(10), "float32", [2], { byteOffset: 2 }), /HEARTH|multiple of 4/);
    assert.throws(
      () => fromBuffer(new ArrayBuffer(8), "float32", [3]),
      (e: HearthTensorError) => e.code === "HEARTH_TENSOR_BUFFER",
    );
  });
});
