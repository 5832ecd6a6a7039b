/**
 * LoRA layers: a frozen base layer plus, per named adapter, a low-rank update
 * ΔW = scaling · B·A (Hu et al., 2021). `LoraLinear` wraps `Linear` ([out, in] weight) and
 * GPT-2's `Conv1D` ([in, out] weight, `fanInFanOut`); `LoraEmbedding` wraps `Embedding`.
 * DoRA (Liu et al., 2024) adds a magnitude per output row: W' = m · (W + ΔW) / ‖W + ΔW‖.
 * Names follow PEFT 0.10 (`base_layer`, `lora_A.<adapter>.weight`, `lora_embedding_A.<adapter>`,
 * `lora_magnitude_vector.<adapter>`), so state-dict keys are PEFT's keys.
 *
 * Shapes: N tokens (any leading dims), I in-features, O out-features, r rank.
 */
import {
  add,
  copy_,
  Dropout,
  div,
  Embedding,
  embedding,
  Linear,
  linear,
  Module,
  matmul,
  mul,
  noGrad,
  randn,
  reshape,
  sqrt,
  sub,
  sum,
  type Tensor,
  transpose,
  zeros,
} from "@hearth/tensor";
import { Conv1D } from "@hearth/transformers";
import { ErrorCodes, fail } from "../errors.ts";
import { AdapterDict } from "./adapter-dict.ts";

/** Per-adapter options a layer needs. */
export interface AdapterSpec {
  r: number;
  alpha: number;
  dropout: number;
  useRslora: boolean;
  useDora: boolean;
  init: boolean | "gaussian";
}

/** What all LoRA layers share: the base layer, active/disabled/merged state, scalings. */
export abstract class LoraLayer extends Module {
  readonly scaling = new Map<string, number>();
  readonly ranks = new Map<string, number>();
  /** Adapters applied in `forward` (PEFT applies every active one, summed). */
  activeAdapters: string[] = [];
  /** When true, `forward` is the base layer's alone (`disableAdapter`). */
  disabled = false;
  /** Adapters whose update is currently folded into the base weight. */
  readonly merged: string[] = [];

  constructor(readonly base_layer: Module) {
    super();
    this.registerModule("base_layer", base_layer);
  }

  /** The base layer's weight tensor. */
  get baseWeight(): Tensor {
    return (this.base_layer as unknown as { weight: Tensor }).weight;
  }

  abstract updateLayer(name: string, spec: AdapterSpec): void;
  abstract deleteAdapter(name: string): void;
  /** ΔW for `name` in the base weight's own layout. */
  abstract deltaWeight(name: string): Tensor;
  abstract adapterNames(): string[];

  /** Folds the active adapters (or `names`) into the base weight. */
  merge(names: string[] = this.activeAdapters): void {
    noGrad(() => {
      for (const n of names) {
        if (this.merged.includes(n) || !this.adapterNames().includes(n)) continue;
        const w = this.baseWeight;
        const merged = this.mergedWeight(n, w);
        this.setBaseWeight(merged);
        this.merged.push(n);
      }
    });
  }

  /** Subtracts merged adapters from the base weight again. */
  unmerge(): void {
    noGrad(() => {
      while (this.merged.length) {
        const n = this.merged.pop() as string;
        this.setBaseWeight(this.unmergedWeight(n, this.baseWeight));
      }
    });
  }

  protected mergedWeight(name: string, w: Tensor): Tensor {
    return add(w, this.deltaWeight(name));
  }

  protected unmergedWeight(name: string, w: Tensor): Tensor {
    return sub(w, this.deltaWeight(name));
  }

  /** Replaces the base weight's values in place (keeping the tensor, so tied users see it). */
  protected setBaseWeight(value: Tensor): void {
    noGrad(() => copy_(this.baseWeight, value));
  }

  protected scalingFor(spec: AdapterSpec): number {
    return spec.useRslora ? spec.alpha / Math.sqrt(spec.r) : spec.alpha / spec.r;
  }

  protected active(): string[] {
    if (this.disabled || this.merged.length) return [];
    return this.activeAdapters.filter((a) => this.adapterNames().includes(a));
  }
}

/** LoRA around a `Linear` or a GPT-2 `Conv1D` (then `fanInFanOut`: the weight is [in, out]). */
export class LoraLinear extends LoraLayer {
  readonly lora_A = this.registerModule("lora_A", new AdapterDict<Linear>());
  readonly lora_B = this.registerModule("lora_B", new AdapterDict<Linear>());
  readonly lora_dropout = this.registerModule("lora_dropout", new AdapterDict<Dropout>());
  readonly lora_magnitude_vector = this.registerModule("lora_magnitude_vector", new AdapterDict());
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly fanInFanOut: boolean;

  constructor(base: Linear | Conv1D) {
    super(base);
    this.fanInFanOut = base instanceof Conv1D;
    const [a, b] = base.weight.shape as [number, number];
    this.inFeatures = this.fanInFanOut ? a : b;
    this.outFeatures = this.fanInFanOut ? b : a;
  }

  adapterNames(): string[] {
    return this.lora_A.names();
  }

  updateLayer(name: string, spec: AdapterSpec): void {
    const A = new Linear(this.inFeatures, spec.r, { bias: false });
    const B = new Linear(spec.r, this.outFeatures, { bias: false });
    noGrad(() => {
      if (spec.init === "gaussian") copy_(A.weight, randn([spec.r, this.inFeatures], { std: 1 / spec.r }));
      // Linear's default init is PEFT's kaiming_uniform(a=√5): U(±1/√in).
      if (spec.init !== false) copy_(B.weight, zeros([this.outFeatures, spec.r]));
    });
    this.lora_A.setModule(name, A);
    this.lora_B.setModule(name, B);
    this.lora_dropout.setModule(name, new Dropout(spec.dropout));
    this.scaling.set(name, this.scalingFor(spec));
    this.ranks.set(name, spec.r);
    if (spec.useDora) {
      const norm = noGrad(() =>
        this.weightNorm(this.baseWeight, matmul(B.weight, A.weight), this.scaling.get(name) ?? 1),
      );
      this.lora_magnitude_vector.setParam(name, norm.detach().contiguous());
    }
    this.lora_A.module(name)?.train(this.training);
    this.lora_B.module(name)?.train(this.training);
  }

  deleteAdapter(name: string): void {
    for (const d of [this.lora_A, this.lora_B, this.lora_dropout, this.lora_magnitude_vector]) d.delete(name);
    this.scaling.delete(name);
    this.ranks.delete(name);
    this.activeAdapters = this.activeAdapters.filter((a) => a !== name);
  }

  /** ‖W + scaling·BA‖ per output row, W in [out, in] layout. */
  private weightNorm(w: Tensor, loraWeight: Tensor, scaling: number): Tensor {
    const wOut = this.fanInFanOut ? transpose(w, 0, 1) : w;
    const full = add(wOut, mul(loraWeight, scaling));
    return sqrt(sum(mul(full, full), 1));
  }

  deltaWeight(name: string): Tensor {
    const A = this.lora_A.module(name)?.weight as Tensor;
    const B = this.lora_B.module(name)?.weight as Tensor;
    const d = mul(matmul(B, A), this.scaling.get(name) ?? 1);
    return this.fanInFanOut ? transpose(d, 0, 1) : d;
  }

  protected override mergedWeight(name: string, w: Tensor): Tensor {
    const mag = this.lora_magnitude_vector.param(name);
    const merged = add(w, this.deltaWeight(name));
    if (!mag) return merged;
    const A = this.lora_A.module(name)?.weight as Tensor;
    const B = this.lora_B.module(name)?.weight as Tensor;
    const factor = div(mag, this.weightNorm(w, matmul(B, A), this.scaling.get(name) ?? 1));
    // scale each output row: rows of [out, in], columns of Conv1D's [in, out]
    return this.fanInFanOut ? mul(merged, reshape(factor, [1, -1])) : mul(merged, reshape(factor, [-1, 1]));
  }

  protected override unmergedWeight(name: string, w: Tensor): Tensor {
    const mag = this.lora_magnitude_vector.param(name);
    if (!mag) return sub(w, this.deltaWeight(name));
    throw fail(
      ErrorCodes.CONFIG_INVALID,
      `LoraLinear.unmerge: adapter '${name}' uses DoRA, whose merge cannot be undone exactly; reload the base weights instead`,
    );
  }

  forward(x: Tensor): Tensor {
    const active = this.active();
    // The first adapter's update, when a plain LoRA one, is the base product's residual: the base
    // GEMM adds it to each output tile while the tile is in cache, bit for bit add(base(x),
    // update) as before (when the update product took the base output as its residual), without
    // the update product reading the [.., out] base output back and writing it again.
    const first = active[0] !== undefined && !this.lora_magnitude_vector.param(active[0]) ? active[0] : undefined;
    let result: Tensor =
      first === undefined
        ? this.base_layer.forward(x)
        : (this.base_layer as Linear | Conv1D).forward(x, { residual: this.update(first, x) });
    for (const name of first === undefined ? active : active.slice(1)) {
      const mag = this.lora_magnitude_vector.param(name);
      if (!mag) {
        result = this.update(name, x, result);
        continue;
      }
      const A = this.lora_A.module(name) as Linear;
      const B = this.lora_B.module(name) as Linear;
      const drop = this.lora_dropout.module(name) as Dropout;
      const scaling = this.scaling.get(name) ?? 1;
      const h = drop.forward(x);
      // DoRA: (m/‖W+ΔW‖ − 1)·(x Wᵀ) + m/‖W+ΔW‖ · scaling · B(A(x)), the norm detached (paper §4.3)
      const w = this.baseWeight;
      const norm = noGrad(() => this.weightNorm(w, matmul(B.weight, A.weight), scaling)).detach();
      const scale = reshape(div(mag, norm), [1, -1]);
      const baseOut = linear(h, this.fanInFanOut ? transpose(w, 0, 1) : w);
      result = add(result, add(mul(sub(scale, 1), baseOut), mul(mul(B.forward(A.forward(h)), scaling), scale)));
    }
    return result;
  }

  /** scaling · B(A(dropout(x))), plus `residual` (added by the product's own pass) when given. */
  private update(name: string, x: Tensor, residual?: Tensor): Tensor {
    const A = this.lora_A.module(name) as Linear;
    const B = this.lora_B.module(name) as Linear;
    const drop = this.lora_dropout.module(name) as Dropout;
    // Scaled at rank r ([.., r] instead of [.., out]): B is linear, so B(s·Ax) = s·B(Ax).
    const u = mul(A.forward(drop.forward(x)), this.scaling.get(name) ?? 1);
    return matmul(u, transpose(B.weight, 0, 1), residual ? { residual } : {});
  }
}

/** LoRA around an `Embedding`: ΔW = scaling · (B·A)ᵀ with A [r, num] and B [dim, r]. */
export class LoraEmbedding extends LoraLayer {
  readonly lora_embedding_A = this.registerModule("lora_embedding_A", new AdapterDict());
  readonly lora_embedding_B = this.registerModule("lora_embedding_B", new AdapterDict());

  constructor(readonly base: Embedding) {
    super(base);
  }

  adapterNames(): string[] {
    return this.lora_embedding_A.names();
  }

  updateLayer(name: string, spec: AdapterSpec): void {
    if (spec.useDora) {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        `LoraConfig: 'useDora' is not available for Embedding layers (as in PEFT 0.10)`,
      );
    }
    const [num, dim] = this.base.weight.shape as [number, number];
    // PEFT's default for embeddings: A zero, B normal; false: both random.
    const A = spec.init === false ? randn([spec.r, num]) : zeros([spec.r, num]);
    const B = randn([dim, spec.r]);
    this.lora_embedding_A.setParam(name, A);
    this.lora_embedding_B.setParam(name, B);
    this.scaling.set(name, this.scalingFor(spec));
    this.ranks.set(name, spec.r);
  }

  deleteAdapter(name: string): void {
    this.lora_embedding_A.delete(name);
    this.lora_embedding_B.delete(name);
    this.scaling.delete(name);
    this.ranks.delete(name);
    this.activeAdapters = this.activeAdapters.filter((a) => a !== name);
  }

  deltaWeight(name: string): Tensor {
    const A = this.lora_embedding_A.param(name) as Tensor;
    const B = this.lora_embedding_B.param(name) as Tensor;
    return transpose(mul(matmul(B, A), this.scaling.get(name) ?? 1), 0, 1);
  }

  forward(ids: Tensor): Tensor {
    let result: Tensor = this.base_layer.forward(ids);
    for (const name of this.active()) {
      const A = this.lora_embedding_A.param(name) as Tensor;
      const B = this.lora_embedding_B.param(name) as Tensor;
      const afterA = embedding(ids, transpose(A, 0, 1));
      result = add(result, mul(matmul(afterA, transpose(B, 0, 1)), this.scaling.get(name) ?? 1));
    }
    return result;
  }
}

/** A LoRA layer for `m`, or null when LoRA cannot wrap its type. */
export function loraLayerFor(m: Module): LoraLayer | null {
  if (m instanceof Linear || m instanceof Conv1D) return new LoraLinear(m);
  if (m instanceof Embedding) return new LoraEmbedding(m);
  return null;
}
