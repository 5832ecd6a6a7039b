import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { setBackend, type Tensor, tensor } from "@hearth/tensor";
import { assertClose, HF_TINY, loadGolden } from "../../../test/golden.ts";
import { loadImage } from "../../image/image.ts";
import { resizePil } from "../../image/resample.ts";
import { AutoImageProcessor } from "../../processors/auto.ts";
import { AutoModelForImageClassification } from "../auto.ts";
import { bicubicMatrix, ViTForImageClassification, ViTImageProcessor, ViTModel } from "./index.ts";

setBackend("js");

const CHELSEA = fileURLToPath(new URL("../../../../../fixtures/data/media/images/chelsea.png", import.meta.url));

test("vit: logits and hidden states match Python within 1e-4", async () => {
  const g = loadGolden("vit");
  const m = await AutoModelForImageClassification.fromPretrained(`${HF_TINY}models/vit`);
  assert.ok(m instanceof ViTForImageClassification);
  const pixelValues = tensor(g.tensor("pixel_values"), { shape: g.shape("pixel_values") });
  const out = m.forward({ pixelValues, outputHiddenStates: true });
  assertClose(out.logits, g.tensor("logits"), "logits");
  assert.equal(out.hiddenStates?.length, 3);
  out.hiddenStates?.forEach((h, i) => {
    assertClose(h, g.tensor(`hidden_states.${i}`), `hidden_states.${i}`);
  });
  // The last hidden state Python's classifier sees is hidden_states[-1] before the final LayerNorm…
  assertClose(out.hiddenStates?.[2] as Tensor, g.tensor("last_hidden_state"), "last_hidden_state");
  // …and ViTModel.last_hidden_state is after it.
  assertClose(out.lastHiddenState, g.tensor("vit_last_hidden_state_after_layernorm"), "after layernorm");
  assert.equal(m.label(1), "LABEL_1");
});

test("vit: labels give the cross-entropy loss; other image sizes need interpolatePosEncoding", async () => {
  const m = await ViTForImageClassification.fromPretrained(`${HF_TINY}models/vit`);
  const g = loadGolden("vit");
  const pixelValues = tensor(g.tensor("pixel_values"), { shape: g.shape("pixel_values") });
  const out = m.forward({ pixelValues, labels: tensor([1, 0], { dtype: "int64" }) });
  const logits = (g.json as unknown as { tensors: { logits: { values: number[][] } } }).tensors.logits;
  const ce = (row: number[], y: number) => Math.log(row.reduce((s, x) => s + Math.exp(x), 0)) - (row[y] as number);
  const want = (ce(logits.values[0] as number[], 1) + ce(logits.values[1] as number[], 0)) / 2;
  assert.ok(Math.abs((out.loss as Tensor).item() - want) < 1e-4);

  const big = tensor(
    new Float32Array(1 * 3 * 48 * 40).map((_, i) => Math.sin(i)),
    { shape: [1, 3, 48, 40] },
  );
  assert.throws(() => m.forward({ pixelValues: big }), /interpolatePosEncoding/);
  const r = m.forward({ pixelValues: big, interpolatePosEncoding: true, outputHiddenStates: true });
  assert.deepEqual(r.hiddenStates?.[0]?.shape, [1, 1 + 6 * 5, 64]);
  // At the model's own size interpolation is the identity, as in Python.
  const same = m.forward({ pixelValues, interpolatePosEncoding: true });
  assertClose(same.logits, g.tensor("logits"), "interpolate at native size");
});

test("vit: bicubic position resampling is PyTorch's (a = -0.75, align_corners=False, taps clamped)", () => {
  // torch.nn.functional.interpolate([[[[1., 2.]]]], scale_factor=2, mode="bicubic") is
  // [0.89453125, 1.2265625, 1.7734375, 2.10546875].
  const m = bicubicMatrix(2, 4, 2);
  const out = [0, 1, 2, 3].map((o) => (m[o * 2] as number) * 1 + (m[o * 2 + 1] as number) * 2);
  assert.deepEqual(out, [0.89453125, 1.2265625, 1.7734375, 2.10546875]);
});

test("ViTImageProcessor: chelsea.png pixel values match Python's (Pillow bilinear) at 32 and 224", async () => {
  const g = loadGolden("preprocessing");
  const j = g.json as unknown as Record<string, Record<string, unknown>>;
  const image = await loadImage(CHELSEA);
  assert.deepEqual([image.width, image.height], j.vit_image?.size);
  const p32 = new ViTImageProcessor(j.vit_processor_32);
  const { pixelValues } = await p32.call(CHELSEA);
  assert.deepEqual(pixelValues.shape, [1, 3, 32, 32]);
  // The same filter as Pillow and the same float32 steps: equal, not merely close.
  assertClose(pixelValues, g.tensor("vit_chelsea_pixel_values_32"), "pixel values 32", 1e-7);
  const p224 = new ViTImageProcessor(j.vit_processor_224);
  const big = (await p224.call(image)).pixelValues;
  const want = j.vit_chelsea_pixel_values_224 as { sum: number; row0_channel0_first16: number[] };
  const got = big.dataSync() as Float32Array;
  assertClose(got.subarray(0, 16), Float32Array.from(want.row0_channel0_first16), "224 row 0", 1e-7);
  const sum = got.reduce((s, x) => s + x, 0);
  assert.ok(Math.abs(sum - want.sum) < 1e-2, `sum ${sum} vs ${want.sum}`);
});

test("resizePil: identity at the same size, box filter averages, bad filters are refused", () => {
  const img = { data: Uint8Array.from([0, 100, 200, 255]), width: 4, height: 1, channels: 1 };
  assert.equal(resizePil(img, 4, 1, 2), img);
  const box = resizePil(img, 2, 1, 4);
  assert.deepEqual([...box.data], [50, 228]);
  assert.throws(() => resizePil(img, 2, 1, 9), { code: "HEARTH_PROCESSOR_BAD_INPUT" });
});

test("AutoImageProcessor reads preprocessor_config.json and saves it back", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hearth-vit-"));
  try {
    await new ViTImageProcessor({ size: { height: 32, width: 32 } }).savePretrained(dir);
    const p = await AutoImageProcessor.fromPretrained(dir);
    assert.ok(p instanceof ViTImageProcessor);
    assert.deepEqual(p.size, { height: 32, width: 32 });
    await assert.rejects(p.call(Uint8Array.from([1, 2, 3])), { code: "HEARTH_PROCESSOR_BAD_INPUT" });
    const base = await ViTModel.fromPretrained(`${HF_TINY}models/vit`).catch((e: Error) => e);
    assert.match(String(base), /pooler/, "ViTModel has Python's pooler, which the classifier checkpoint lacks");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
