/**
 * Unigram language-model tokenisation (Kudo 2018): the segmentation with the highest total piece
 * log-probability, found with Viterbi over all vocabulary pieces matching at each position.
 */
import { ErrorCodes, fail } from "../../errors.ts";
import { byteFallbackIds, type TokenModel, type WordTokens } from "./model.ts";

export interface UnigramOptions {
  /** [piece, log-probability score] in id order. */
  vocab: Array<[string, number]>;
  unkId: number | null;
  byteFallback?: boolean;
  /** Merge runs of unknown characters into one unk token (Rust tokenizers: always true). */
  fuseUnk?: boolean;
  /** Ids never produced by segmentation (SentencePiece control/unused/byte pieces). */
  excluded?: Set<number>;
  /**
   * Sum path scores in float32, as the sentencepiece library does (Rust `tokenizers` uses f64).
   * Ties between equal-scoring segmentations are then broken the same way.
   */
  float32?: boolean;
}

const UNK_PENALTY = 10;

export class UnigramModel implements TokenModel {
  readonly vocab: Map<string, number> = new Map();
  readonly opts: UnigramOptions;
  private readonly scores: Float64Array;
  private readonly maxLen: number;
  private readonly unkScore: number;
  private readonly cache = new Map<string, WordTokens>();

  constructor(opts: UnigramOptions) {
    this.opts = opts;
    this.scores = new Float64Array(opts.vocab.length);
    let min = Number.POSITIVE_INFINITY;
    let maxLen = 1;
    opts.vocab.forEach(([piece, score], id) => {
      if (!this.vocab.has(piece)) this.vocab.set(piece, id);
      this.scores[id] = score;
      if (opts.excluded?.has(id)) return;
      if (score < min) min = score;
      if (piece.length > maxLen) maxLen = piece.length;
    });
    this.maxLen = maxLen;
    this.unkScore = (Number.isFinite(min) ? min : 0) - UNK_PENALTY;
    if (opts.float32) {
      for (let i = 0; i < this.scores.length; i++) this.scores[i] = Math.fround(this.scores[i]);
      this.unkScore = Math.fround(this.unkScore);
    }
  }

  get vocabSize(): number {
    return this.opts.vocab.length;
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.opts.vocab[id]?.[0];
  }

  tokenize(word: string): WordTokens {
    let r = this.cache.get(word);
    if (!r) {
      r = this.viterbi(word);
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(word, r);
    }
    return r;
  }

  private viterbi(text: string): WordTokens {
    const n = text.length;
    const best = new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY);
    const fromPos = new Int32Array(n + 1).fill(-1);
    const fromId = new Int32Array(n + 1).fill(-1);
    best[0] = 0;
    const unkId = this.opts.unkId ?? -1;
    const add = this.opts.float32 ? (a: number, b: number) => Math.fround(a + b) : (a: number, b: number) => a + b;
    for (let i = 0; i < n; i++) {
      if (best[i] === Number.NEGATIVE_INFINITY) continue;
      if ((text.charCodeAt(i) & 0xfc00) === 0xdc00) continue; // never start inside a surrogate pair
      const first = (text.charCodeAt(i) & 0xfc00) === 0xd800 ? 2 : 1;
      let hasSingle = false;
      for (let len = 1; len <= this.maxLen && i + len <= n; len++) {
        const id = this.vocab.get(text.slice(i, i + len));
        if (id === undefined || this.opts.excluded?.has(id)) continue;
        if (len === first) hasSingle = true;
        const s = add(best[i], this.scores[id]);
        if (s > best[i + len]) {
          best[i + len] = s;
          fromPos[i + len] = i;
          fromId[i + len] = id;
        }
      }
      if (!hasSingle) {
        const s = add(best[i], this.unkScore);
        if (s > best[i + first]) {
          best[i + first] = s;
          fromPos[i + first] = i;
          fromId[i + first] = unkId;
        }
      }
    }
    const segs: Array<[number, number, number]> = [];
    for (let e = n; e > 0; e = fromPos[e]) segs.push([fromId[e], fromPos[e], e]);
    segs.reverse();
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    for (const [id, s, e] of segs) {
      if (id === unkId || id < 0) {
        const bytes = this.opts.byteFallback ? byteFallbackIds(text.slice(s, e), (t) => this.vocab.get(t)) : null;
        if (bytes) {
          for (const b of bytes) {
            ids.push(b);
            starts.push(s);
            ends.push(e);
          }
          continue;
        }
        if (unkId < 0)
          throw fail(
            ErrorCodes.TOKENIZER_UNKNOWN_TOKEN,
            `Unigram: no piece covers ${JSON.stringify(text.slice(s, e))} and the model has no unk_id`,
          );
        if (
          this.opts.fuseUnk !== false &&
          ids.length > 0 &&
          ids[ids.length - 1] === unkId &&
          ends[ends.length - 1] === s
        ) {
          ends[ends.length - 1] = e;
          continue;
        }
      }
      ids.push(id);
      starts.push(s);
      ends.push(e);
    }
    return { ids, starts, ends };
  }
}
