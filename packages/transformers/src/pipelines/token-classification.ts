/**
 * The token-classification (NER) pipeline, as Python's `TokenClassificationPipeline`: per-token
 * labels, or entities grouped with an aggregation strategy ("simple" groups B-/I- runs;
 * "first", "average", "max" first fuse word pieces into words).
 */
import { labelOf } from "../configuration/labels.ts";
import type { PretrainedConfig } from "../configuration/pretrained-config.ts";
import { ErrorCodes, fail } from "../errors.ts";
import type { PreTrainedTokenizer } from "../tokenizers/tokenizer.ts";
import { encodeBatch, logitsOf, softmax, type TextClassifierModel, textList } from "./shared.ts";

/** Python's aggregation strategies. */
export type AggregationStrategy = "none" | "simple" | "first" | "average" | "max";

/** One token's or one group's entity. */
export interface TokenEntity {
  /** Per-token label (strategy "none"). */
  entity?: string;
  /** Grouped label without its B-/I- prefix (other strategies). */
  entity_group?: string;
  score: number;
  /** Token position in the encoded input (strategy "none"). */
  index?: number;
  word: string;
  start: number;
  end: number;
}

/** A token before labelling: its scores over the labels and where it sits in the text. */
export interface PreEntity {
  word: string;
  ids: number[];
  scores: number[];
  start: number;
  end: number;
  index: number;
  isSubword: boolean;
}

function tagOf(entity: string): [string, string] {
  if (entity.startsWith("B-")) return ["B", entity.slice(2)];
  if (entity.startsWith("I-")) return ["I", entity.slice(2)];
  return ["I", entity];
}

const argmax = (x: number[]) => x.reduce((best, v, i) => (v > (x[best] as number) ? i : best), 0);

/**
 * Labels and groups pre-entities as Python's `aggregate` + `group_entities` do. `label(i)`
 * names class i; `decode(ids)` turns a group's tokens back into text.
 */
export function aggregate(
  pre: PreEntity[],
  strategy: AggregationStrategy,
  label: (i: number) => string,
  decode: (ids: number[]) => string,
  ignoreLabels: string[] = ["O"],
): TokenEntity[] {
  if (strategy === "none") {
    return pre
      .map((p) => {
        const i = argmax(p.scores);
        return {
          entity: label(i),
          score: p.scores[i] as number,
          index: p.index,
          word: p.word,
          start: p.start,
          end: p.end,
        };
      })
      .filter((e) => !ignoreLabels.includes(e.entity));
  }
  type Item = { entity: string; score: number; ids: number[]; start: number; end: number };
  let items: Item[];
  if (strategy === "simple") {
    items = pre.map((p) => {
      const i = argmax(p.scores);
      return { entity: label(i), score: p.scores[i] as number, ids: p.ids, start: p.start, end: p.end };
    });
  } else {
    const words: PreEntity[][] = [];
    for (const p of pre) {
      if (p.isSubword && words.length) (words.at(-1) as PreEntity[]).push(p);
      else words.push([p]);
    }
    items = words.map((w) => {
      let scores: number[];
      if (strategy === "first") scores = (w[0] as PreEntity).scores;
      else if (strategy === "max") {
        scores = w.reduce((best, p) => (Math.max(...p.scores) > Math.max(...best.scores) ? p : best)).scores;
      } else
        scores = (w[0] as PreEntity).scores.map(
          (_, c) => w.reduce((s, p) => s + (p.scores[c] as number), 0) / w.length,
        );
      const i = argmax(scores);
      return {
        entity: label(i),
        score: scores[i] as number,
        ids: w.flatMap((p) => p.ids),
        start: (w[0] as PreEntity).start,
        end: (w.at(-1) as PreEntity).end,
      };
    });
  }
  const groups: Item[][] = [];
  for (const it of items) {
    const last = groups.at(-1)?.at(-1);
    if (last) {
      const [bi, tag] = tagOf(it.entity);
      const [, lastTag] = tagOf(last.entity);
      if (tag === lastTag && bi !== "B") {
        (groups.at(-1) as Item[]).push(it);
        continue;
      }
    }
    groups.push([it]);
  }
  return groups
    .map((g) => ({
      entity_group: tagOf((g[0] as Item).entity)[1],
      score: g.reduce((s, e) => s + e.score, 0) / g.length,
      word: decode(g.flatMap((e) => e.ids)),
      start: (g[0] as Item).start,
      end: (g.at(-1) as Item).end,
    }))
    .filter((e) => !ignoreLabels.includes(e.entity_group));
}

/** A callable token-classification pipeline. */
export class TokenClassificationPipeline {
  /** Whether the vocabulary continues words with "##" (WordPiece). */
  readonly #wordPiece: boolean;

  constructor(
    readonly model: TextClassifierModel,
    readonly tokenizer: PreTrainedTokenizer,
  ) {
    this.#wordPiece = [...tokenizer.getVocab().keys()].some((t) => t.startsWith("##"));
  }

  /**
   * Entities of one text or of each text of a list.
   *
   * @example
   * const entities = await ner.call("My name is Wolfgang and I live in Berlin", { aggregationStrategy: "simple" });
   */
  async call(
    input: string | string[],
    options: { aggregationStrategy?: AggregationStrategy; ignoreLabels?: string[] } = {},
  ): Promise<TokenEntity[] | TokenEntity[][]> {
    const { texts, single } = textList("token-classification", input);
    const strategy = options.aggregationStrategy ?? "none";
    if (!["none", "simple", "first", "average", "max"].includes(strategy)) {
      throw fail(ErrorCodes.PIPELINE_BAD_INPUT, `token-classification: unknown aggregationStrategy '${strategy}'`);
    }
    const { enc, input: batch } = encodeBatch(this.tokenizer, texts, { offsets: true });
    const { data, shape } = logitsOf(() => this.model.forward(batch).logits);
    const [, T, C] = shape as [number, number, number];
    const config = this.model.config as PretrainedConfig;
    const results = texts.map((text, b) => {
      const ids = enc.inputIds[b] as number[];
      const pre: PreEntity[] = [];
      ids.forEach((id, t) => {
        if (enc.specialTokensMask?.[b]?.[t] || (enc.attentionMask?.[b]?.[t] ?? 1) === 0) return;
        const [start, end] = enc.offsetMapping?.[b]?.[t] ?? [0, 0];
        const ref = text.slice(start, end);
        const unknown = id === this.tokenizer.unkTokenId;
        const word = unknown ? ref : (this.tokenizer.convertIdsToTokens([id])[0] as string);
        // As Python: WordPiece marks continuations with "##" (the token is longer than its
        // text); other tokenizers fall back to "no space before it".
        const isSubword = unknown
          ? false
          : this.#wordPiece
            ? word.length !== ref.length
            : start > 0 && !text.slice(start - 1, start + 1).includes(" ");
        pre.push({
          word,
          ids: [id],
          scores: softmax(data.subarray((b * T + t) * C, (b * T + t + 1) * C)),
          start,
          end,
          index: t,
          isSubword,
        });
      });
      return aggregate(
        pre,
        strategy,
        (i) => labelOf(config, i),
        (g) => this.tokenizer.decode(g, { skipSpecialTokens: true }),
        options.ignoreLabels,
      );
    });
    return single ? (results[0] as TokenEntity[]) : results;
  }
}
