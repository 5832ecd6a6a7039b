/**
 * `SFTTrainer`: supervised fine-tuning on Hearth's {@link Trainer}. Records may be
 * - plain text: `{ text }` (or another `datasetTextField`),
 * - prompt–completion: `{ prompt, completion }`,
 * - conversational: `{ messages: [{role, content}] }`, rendered with the tokenizer's chat template,
 * - pre-tokenized: `{ input_ids }` (optionally with `completion_mask`).
 * With `completionOnlyLoss` the loss covers only completions / assistant turns (the other
 * positions get label −100); with `packing` the tokenized examples are joined (EOS between)
 * and cut into blocks of `maxSeqLength`, and labels follow the packed mask. `peftConfig`
 * wraps the model with an adapter first; checkpoints then hold adapter files.
 */

import { getPeftModel, type PeftConfig } from "@hearth/peft";
import { type Tensor, tensor } from "@hearth/tensor";
import {
  type Batch,
  type Feature,
  type PreTrainedTokenizer,
  type TrainableModel,
  Trainer,
  type TrainerCallback,
  TrainingArguments,
  type TrainingArgumentsOptions,
} from "@hearth/transformers";
import { LABEL_PAD_TOKEN_ID } from "../core/logps.ts";
import type { Message } from "../dpo/dpo-data.ts";
import { ErrorCodes, fail } from "../errors.ts";

/** Options of {@link SFTConfig}. */
export interface SFTConfigOptions extends TrainingArgumentsOptions {
  /** Longest sequence (default 1024); longer ones are cut. */
  maxSeqLength?: number;
  /** Join examples and cut fixed-length blocks (default false). */
  packing?: boolean;
  /** Loss on completions / assistant turns only (default true for prompt–completion and messages). */
  completionOnlyLoss?: boolean;
  /** The text field of plain-text records (default "text"). */
  datasetTextField?: string;
}

/** trl's `SFTConfig`. */
export class SFTConfig extends TrainingArguments {
  maxSeqLength: number;
  packing: boolean;
  completionOnlyLoss: boolean | null;
  datasetTextField: string;
  constructor(o: SFTConfigOptions) {
    super(o);
    this.maxSeqLength = o.maxSeqLength ?? 1024;
    this.packing = o.packing ?? false;
    this.completionOnlyLoss = o.completionOnlyLoss ?? null;
    this.datasetTextField = o.datasetTextField ?? "text";
    if (!(Number.isInteger(this.maxSeqLength) && this.maxSeqLength > 1)) {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        `SFTConfig: 'maxSeqLength' must be an integer > 1, got ${this.maxSeqLength}`,
      );
    }
  }
}

/** One tokenized SFT example: ids and a 0/1 mask of the positions that carry loss. */
export interface SFTFeature {
  input_ids: number[];
  completion_mask: number[];
}

function encodeMessages(tok: PreTrainedTokenizer, messages: Message[]): SFTFeature {
  const render = (ms: Message[], gen: boolean) =>
    tok.encode(tok.applyChatTemplate(ms, { tokenize: false, addGenerationPrompt: gen }) as string, {
      addSpecialTokens: false,
    }) as number[];
  const ids = render(messages, false);
  const mask = new Array(ids.length).fill(0);
  const isSpecial = (id: number) => tok.decode([id], { skipSpecialTokens: true }) === "";
  messages.forEach((m, i) => {
    if (m.role !== "assistant") return;
    // the turn starts where the prefix rendered with the generation prompt ends; it covers the
    // content's tokens and the end-of-turn special token right after them (templates differ in
    // what they append after the last turn, so the end is found from the content, not a render)
    const start = render(messages.slice(0, i), true).length;
    const content = tok.encode(String(m.content).trim(), { addSpecialTokens: false }) as number[];
    let at = -1;
    for (let s = start; s + content.length <= ids.length && at < 0; s++) {
      if (content.every((t, k) => ids[s + k] === t)) at = s;
    }
    let end = at < 0 ? ids.length : at + content.length;
    if (end < ids.length && isSpecial(ids[end] as number)) end++;
    for (let k = start; k < end; k++) mask[k] = 1;
  });
  return { input_ids: ids, completion_mask: mask };
}

/** Tokenizes one record (see the module comment). */
export function tokenizeSft(
  record: Feature,
  tok: PreTrainedTokenizer | null,
  o: { textField?: string; completionOnlyLoss?: boolean | null } = {},
): SFTFeature {
  if (Array.isArray(record.input_ids)) {
    const ids = (record.input_ids as number[]).map(Number);
    const m = Array.isArray(record.completion_mask)
      ? (record.completion_mask as number[]).map(Number)
      : ids.map(() => 1);
    return { input_ids: ids, completion_mask: o.completionOnlyLoss === false ? ids.map(() => 1) : m };
  }
  if (!tok) throw fail(ErrorCodes.CONFIG_INVALID, "SFTTrainer: text records need a 'tokenizer' (or pass input_ids)");
  const eos = tok.eosTokenId;
  const withEos = (ids: number[]) => (eos !== undefined && ids[ids.length - 1] !== eos ? [...ids, eos] : ids);
  let f: SFTFeature;
  if (Array.isArray(record.messages)) {
    f = encodeMessages(tok, record.messages as Message[]);
  } else if (typeof record.prompt === "string" && typeof record.completion === "string") {
    const p = tok.encode(record.prompt) as number[];
    const c = withEos(tok.encode(record.completion, { addSpecialTokens: false }) as number[]);
    f = { input_ids: [...p, ...c], completion_mask: [...p.map(() => 0), ...c.map(() => 1)] };
  } else {
    const field = o.textField ?? "text";
    const text = record[field];
    if (typeof text !== "string") {
      throw fail(
        ErrorCodes.BAD_RECORD,
        `SFTTrainer: a record needs '${field}', 'messages', 'prompt'+'completion' or 'input_ids'; got keys ${Object.keys(record).join(", ")}`,
      );
    }
    const ids = withEos(tok.encode(text) as number[]);
    return { input_ids: ids, completion_mask: ids.map(() => 1) };
  }
  if (o.completionOnlyLoss === false) f.completion_mask = f.input_ids.map(() => 1);
  return f;
}

/** Joins features (EOS between when given) and cuts them into blocks of `size` (the remainder is dropped). */
export function packFeatures(features: SFTFeature[], size: number, eosTokenId?: number): SFTFeature[] {
  const ids: number[] = [];
  const mask: number[] = [];
  for (const f of features) {
    ids.push(...f.input_ids);
    mask.push(...f.completion_mask);
    if (eosTokenId !== undefined && f.input_ids[f.input_ids.length - 1] !== eosTokenId) {
      ids.push(eosTokenId);
      mask.push(mask[mask.length - 1] ?? 1);
    }
  }
  const out: SFTFeature[] = [];
  for (let s = 0; s + size <= ids.length; s += size) {
    out.push({ input_ids: ids.slice(s, s + size), completion_mask: mask.slice(s, s + size) });
  }
  return out;
}

/** Pads SFT features (right) into `{inputIds, attentionMask, labels}`; masked and padded positions get −100. */
export function sftCollator(o: { padTokenId: number }): (features: Feature[]) => Batch {
  return (features) => {
    const f = features as unknown as SFTFeature[];
    const t = Math.max(...f.map((x) => x.input_ids.length));
    const padded = (row: number[], v: number) => [...row, ...new Array(t - row.length).fill(v)];
    return {
      inputIds: tensor(
        f.map((x) => padded(x.input_ids, o.padTokenId)),
        { dtype: "int64" },
      ),
      attentionMask: tensor(
        f.map((x) =>
          padded(
            x.input_ids.map(() => 1),
            0,
          ),
        ),
        { dtype: "int64" },
      ),
      labels: tensor(
        f.map((x) =>
          padded(
            x.input_ids.map((id, k) => (x.completion_mask[k] ? id : LABEL_PAD_TOKEN_ID)),
            LABEL_PAD_TOKEN_ID,
          ),
        ),
        { dtype: "int64" },
      ),
    };
  };
}

/** Constructor options of {@link SFTTrainer}. */
export interface SFTTrainerOptions {
  model: TrainableModel & { forward(b: Batch): { loss?: Tensor } };
  args: SFTConfig;
  trainDataset: ArrayLike<Feature>;
  evalDataset?: ArrayLike<Feature>;
  tokenizer?: PreTrainedTokenizer;
  peftConfig?: PeftConfig;
  padTokenId?: number;
  callbacks?: TrainerCallback[];
}

/**
 * Supervised fine-tuning of a causal LM.
 *
 * @example
 * const trainer = new SFTTrainer({
 *   model, tokenizer, args: new SFTConfig({ outputDir: "out", maxSeqLength: 256, packing: true }),
 *   trainDataset: [{ messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello!" }] }],
 *   peftConfig: new LoraConfig({ r: 8 }),
 * });
 * await trainer.train();
 */
export class SFTTrainer extends Trainer {
  readonly trainFeatures: SFTFeature[];
  constructor(o: SFTTrainerOptions) {
    if (!(o?.args instanceof SFTConfig))
      throw fail(ErrorCodes.CONFIG_INVALID, "SFTTrainer: 'args' must be an SFTConfig");
    const a = o.args;
    const tok = o.tokenizer ?? null;
    const model = o.peftConfig ? getPeftModel(o.model as never, o.peftConfig) : o.model;
    const prep = (d: ArrayLike<Feature>) => {
      const fs = Array.from(d, (r) =>
        tokenizeSft(r, tok, { textField: a.datasetTextField, completionOnlyLoss: a.completionOnlyLoss }),
      );
      if (a.packing) return packFeatures(fs, a.maxSeqLength, tok?.eosTokenId);
      return fs.map((f) => ({
        input_ids: f.input_ids.slice(0, a.maxSeqLength),
        completion_mask: f.completion_mask.slice(0, a.maxSeqLength),
      }));
    };
    const trainFeatures = prep(o.trainDataset);
    super({
      model: model as TrainableModel,
      args: a,
      trainDataset: trainFeatures as unknown as Feature[],
      evalDataset: o.evalDataset ? (prep(o.evalDataset) as unknown as Feature[]) : undefined,
      dataCollator: sftCollator({ padTokenId: o.padTokenId ?? tok?.padTokenId ?? tok?.eosTokenId ?? 0 }),
      callbacks: o.callbacks,
    });
    this.trainFeatures = trainFeatures;
  }
}
