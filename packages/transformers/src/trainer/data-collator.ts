/**
 * Data collators: turn a list of tokenized examples into one padded batch of tensors, as
 * Python's `DataCollatorWithPadding` and `DataCollatorForLanguageModeling(mlm=False)`.
 * Features may use Python's names (`input_ids`, `attention_mask`, `label`) or camelCase; the
 * batch uses the model's argument names (`inputIds`, `attentionMask`, `labels`).
 */
import { type Tensor, tensor } from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";

/** One tokenized example. */
export type Feature = Record<string, unknown>;

/** A padded batch, ready for `model.forward`. */
export interface Batch {
  inputIds: Tensor;
  attentionMask: Tensor;
  labels?: Tensor;
  tokenTypeIds?: Tensor;
  [key: string]: Tensor | undefined;
}

/** Turns examples into a batch. */
export type DataCollator = (features: Feature[]) => Batch;

/** Options shared by the collators. */
export interface PaddingOptions {
  /** The id written into padding (a tokenizer's `pad_token_id`). */
  padTokenId: number;
  /** "right" (default, for training) or "left". */
  paddingSide?: "left" | "right";
  /** Pad lengths up to a multiple of this. */
  padToMultipleOf?: number;
  /** Truncate longer examples to this length. */
  maxLength?: number;
}

function ids(f: Feature, key: string, alt: string): number[] | undefined {
  const v = (f[key] ?? f[alt]) as ArrayLike<number | bigint> | undefined;
  return v === undefined ? undefined : Array.from(v, Number);
}

interface Padded {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds?: number[][];
  length: number;
}

function pad(features: Feature[], o: PaddingOptions, where: string): Padded {
  if (!features.length) throw fail(ErrorCodes.TRAINER_BAD_BATCH, `${where}: got no features`);
  const rows = features.map((f, i) => {
    const x = ids(f, "input_ids", "inputIds");
    if (!x)
      throw fail(
        ErrorCodes.TRAINER_BAD_BATCH,
        `${where}: feature ${i} has no 'input_ids' (keys: ${Object.keys(f).join(", ")})`,
      );
    const m = ids(f, "attention_mask", "attentionMask") ?? x.map(() => 1);
    const t = ids(f, "token_type_ids", "tokenTypeIds");
    const cut = o.maxLength ?? x.length;
    return { x: x.slice(0, cut), m: m.slice(0, cut), t: t?.slice(0, cut) };
  });
  let length = Math.max(...rows.map((r) => r.x.length));
  if (o.padToMultipleOf) length = Math.ceil(length / o.padToMultipleOf) * o.padToMultipleOf;
  const left = o.paddingSide === "left";
  const fill = (row: number[], value: number) => {
    const p = new Array(length - row.length).fill(value);
    return left ? [...p, ...row] : [...row, ...p];
  };
  const hasTypes = rows.some((r) => r.t);
  return {
    inputIds: rows.map((r) => fill(r.x, o.padTokenId)),
    attentionMask: rows.map((r) => fill(r.m, 0)),
    tokenTypeIds: hasTypes ? rows.map((r) => fill(r.t ?? r.x.map(() => 0), 0)) : undefined,
    length,
  };
}

const int64 = (rows: number[][]) => tensor(rows, { dtype: "int64" });

/**
 * Pads `input_ids`/`attention_mask` (and `token_type_ids`) and passes integer `label`/`labels`
 * through: the collator for sequence classification.
 *
 * @example
 * const collate = dataCollatorWithPadding({ padTokenId: 0 });
 * const batch = collate([{ input_ids: [5, 6, 7], label: 1 }, { input_ids: [8], label: 0 }]);
 */
export function dataCollatorWithPadding(o: PaddingOptions): DataCollator {
  return (features) => {
    const p = pad(features, o, "dataCollatorWithPadding");
    const batch: Batch = { inputIds: int64(p.inputIds), attentionMask: int64(p.attentionMask) };
    if (p.tokenTypeIds) batch.tokenTypeIds = int64(p.tokenTypeIds);
    const labels = features.map((f) => f.labels ?? f.label);
    if (labels.some((l) => l !== undefined)) {
      if (labels.some((l) => l === undefined)) {
        throw fail(ErrorCodes.TRAINER_BAD_BATCH, `dataCollatorWithPadding: some features have a label and some do not`);
      }
      const isFloat = labels.some((l) => typeof l === "number" && !Number.isInteger(l));
      batch.labels = tensor(labels.map(Number), { dtype: isFloat ? "float32" : "int64" });
    }
    return batch;
  };
}

/**
 * Causal language modelling (Python's `DataCollatorForLanguageModeling(mlm=False)`): pads and
 * sets `labels` to the input ids with −100 on padding, so the loss skips it (the model shifts
 * labels by one itself).
 *
 * @example
 * const collate = dataCollatorForLanguageModeling({ padTokenId: 50256 });
 */
export function dataCollatorForLanguageModeling(o: PaddingOptions): DataCollator {
  return (features) => {
    const p = pad(features, o, "dataCollatorForLanguageModeling");
    const labels = p.inputIds.map((row, i) => row.map((id, j) => ((p.attentionMask[i] as number[])[j] ? id : -100)));
    return { inputIds: int64(p.inputIds), attentionMask: int64(p.attentionMask), labels: int64(labels) };
  };
}
