/**
 * DPO records and batches. A record is one of
 * - explicit prompt: `{ prompt, chosen, rejected }` (strings),
 * - conversational: the same with message lists (`[{role, content}]`), rendered with the
 *   tokenizer's chat template (the prompt with the generation prompt, each answer as the
 *   template renders the final assistant turn),
 * - implicit prompt: `{ chosen, rejected }` strings sharing a prefix, split at the longest
 *   common prefix (trl's `extract_prompt` behaviour for hh-rlhf style data),
 * - pre-tokenized: `{ prompt_input_ids, chosen_input_ids, rejected_input_ids }`, used as is.
 * Tokenizing follows trl 0.8.6's `tokenize_row`: BOS before the prompt, EOS after each answer,
 * and when too long the prompt is cut to `maxPromptLength` (keeping its end by default), then
 * the answers to `maxLength − maxPromptLength`. Prompt positions get label −100.
 */
import { tensor } from "@hearth/tensor";
import type { Batch, Feature, PreTrainedTokenizer } from "@hearth/transformers";
import { LABEL_PAD_TOKEN_ID } from "../core/logps.ts";
import { ErrorCodes, fail } from "../errors.ts";

/** A chat message. */
export interface Message {
  role: string;
  content: string;
  [key: string]: unknown;
}

/** The token ids of one preference pair. */
export interface PairFeature {
  prompt_input_ids: number[];
  chosen_input_ids: number[];
  rejected_input_ids: number[];
}

/** Options for {@link tokenizePair}. */
export interface TokenizePairOptions {
  maxLength?: number;
  maxPromptLength?: number;
  truncationMode?: "keep_end" | "keep_start";
}

type Text = string | Message[];

function isMessages(x: unknown): x is Message[] {
  return Array.isArray(x) && x.every((m) => m && typeof m === "object" && "role" in m && "content" in m);
}

/** The longest common prefix of two strings, cut back to the last "\n\nAssistant:" if there is one. */
export function splitImplicitPrompt(
  chosen: string,
  rejected: string,
): { prompt: string; chosen: string; rejected: string } {
  let n = 0;
  while (n < chosen.length && n < rejected.length && chosen[n] === rejected[n]) n++;
  const marker = "Assistant:";
  const at = chosen.lastIndexOf(marker, n - marker.length);
  if (at >= 0) n = at + marker.length;
  return { prompt: chosen.slice(0, n), chosen: chosen.slice(n), rejected: rejected.slice(n) };
}

function renderConversation(tok: PreTrainedTokenizer, prompt: Message[], answer: Message[]): [string, string] {
  const p = tok.applyChatTemplate(prompt, { tokenize: false, addGenerationPrompt: true }) as string;
  const full = tok.applyChatTemplate([...prompt, ...answer], { tokenize: false }) as string;
  if (!full.startsWith(p)) {
    // templates that do not extend the prompt textually: keep the prompt and the whole render's tail
    return [p, full.slice(commonPrefix(p, full))];
  }
  return [p, full.slice(p.length)];
}

function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** Turns any supported record into token ids (see the module comment). */
export function tokenizePair(
  record: Feature,
  tokenizer: PreTrainedTokenizer | null,
  o: TokenizePairOptions = {},
): PairFeature {
  if (Array.isArray(record.chosen_input_ids) && Array.isArray(record.rejected_input_ids)) {
    return {
      prompt_input_ids: ((record.prompt_input_ids as number[]) ?? []).map(Number),
      chosen_input_ids: (record.chosen_input_ids as number[]).map(Number),
      rejected_input_ids: (record.rejected_input_ids as number[]).map(Number),
    };
  }
  if (!tokenizer) {
    throw fail(ErrorCodes.CONFIG_INVALID, "DPO data: text records need a 'tokenizer' (or pass *_input_ids fields)");
  }
  let { prompt, chosen, rejected } = record as { prompt?: Text; chosen?: Text; rejected?: Text };
  if (chosen === undefined || rejected === undefined) {
    throw fail(
      ErrorCodes.BAD_RECORD,
      `DPO data: a record needs 'chosen' and 'rejected', got keys ${Object.keys(record).join(", ")}`,
    );
  }
  let promptText: string;
  let chosenText: string;
  let rejectedText: string;
  if (isMessages(chosen) && isMessages(rejected)) {
    const p = isMessages(prompt) ? prompt : [];
    [promptText, chosenText] = renderConversation(tokenizer, p, chosen);
    [, rejectedText] = renderConversation(tokenizer, p, rejected);
  } else if (typeof chosen === "string" && typeof rejected === "string") {
    if (prompt === undefined) ({ prompt, chosen, rejected } = splitImplicitPrompt(chosen, rejected));
    if (typeof prompt !== "string") throw fail(ErrorCodes.BAD_RECORD, "DPO data: 'prompt' must be a string here");
    promptText = prompt;
    chosenText = chosen as string;
    rejectedText = rejected as string;
  } else {
    throw fail(ErrorCodes.BAD_RECORD, "DPO data: 'chosen'/'rejected' must both be strings or both message lists");
  }
  const enc = (s: string) => tokenizer.encode(s, { addSpecialTokens: false }) as number[];
  let p = enc(promptText);
  let c = enc(chosenText);
  let r = enc(rejectedText);
  const bos = tokenizer.bosTokenId;
  const eos = tokenizer.eosTokenId;
  if (bos !== null && bos !== undefined && p[0] !== bos) p = [bos, ...p];
  if (eos !== null && eos !== undefined) {
    c = [...c, eos];
    r = [...r, eos];
  }
  const maxLength = o.maxLength ?? Number.POSITIVE_INFINITY;
  const maxPrompt = o.maxPromptLength ?? Number.POSITIVE_INFINITY;
  if (p.length + Math.max(c.length, r.length) > maxLength) {
    if (p.length > maxPrompt)
      p = o.truncationMode === "keep_start" ? p.slice(0, maxPrompt) : p.slice(p.length - maxPrompt);
  }
  if (p.length + Math.max(c.length, r.length) > maxLength) {
    const keep = Math.max(0, maxLength - p.length);
    c = c.slice(0, keep);
    r = r.slice(0, keep);
  }
  return { prompt_input_ids: p, chosen_input_ids: [...p, ...c], rejected_input_ids: [...p, ...r] };
}

/** A DPO batch: chosen rows then rejected rows, padded to one length (trl's `concatenated_inputs`). */
export interface DPOBatch extends Batch {
  /** `[2B, T]`, −100 on prompt and padding. */
  labels: Batch["labels"];
}

/**
 * Pads pair features into one concatenated batch: `inputIds`/`attentionMask`/`labels` of shape
 * `[2B, T]` with the chosen sequences first. Precomputed reference log-probs ride along as
 * `referenceChosenLogps`/`referenceRejectedLogps` (`[B]`) when every feature has them.
 */
export function dpoCollator(o: { padTokenId: number }): (features: Feature[]) => DPOBatch {
  return (features) => {
    if (!features.length) throw fail(ErrorCodes.BAD_RECORD, "dpoCollator: got no features");
    const f = features as unknown as (PairFeature & {
      reference_chosen_logps?: number;
      reference_rejected_logps?: number;
    })[];
    const seqs = [...f.map((x) => x.chosen_input_ids), ...f.map((x) => x.rejected_input_ids)];
    const promptLens = [...f, ...f].map((x) => x.prompt_input_ids.length);
    const t = Math.max(...seqs.map((s) => s.length));
    const ids: number[][] = [];
    const mask: number[][] = [];
    const labels: number[][] = [];
    seqs.forEach((s, i) => {
      const pl = promptLens[i] as number;
      ids.push([...s, ...new Array(t - s.length).fill(o.padTokenId)]);
      mask.push([...s.map(() => 1), ...new Array(t - s.length).fill(0)]);
      labels.push([
        ...s.map((v, j) => (j < pl ? LABEL_PAD_TOKEN_ID : v)),
        ...new Array(t - s.length).fill(LABEL_PAD_TOKEN_ID),
      ]);
    });
    const batch: DPOBatch = {
      inputIds: tensor(ids, { dtype: "int64" }),
      attentionMask: tensor(mask, { dtype: "int64" }),
      labels: tensor(labels, { dtype: "int64" }),
    };
    if (f.every((x) => typeof x.reference_chosen_logps === "number")) {
      batch.referenceChosenLogps = tensor(f.map((x) => x.reference_chosen_logps as number));
      batch.referenceRejectedLogps = tensor(f.map((x) => x.reference_rejected_logps as number));
    }
    return batch;
  };
}
