/** Byte-pair encoding (`"type": "BPE"` in tokenizer.json, GPT-2 vocab.json + merges.txt, tiktoken ranks). */
import { MergeQueue, runMerges } from "./merge-queue.ts";
import { byteFallbackIds, type TokenModel, type WordTokens } from "./model.ts";
import { PairTable } from "./pair-table.ts";

export interface BpeOptions {
  vocab: Map<string, number>;
  /** Merges in priority order, as "left right" strings or [left, right] pairs. Ignored in `rankMerges` mode. */
  merges: Array<string | [string, string]>;
  unkToken?: string | null;
  continuingSubwordPrefix?: string | null;
  endOfWordSuffix?: string | null;
  fuseUnk?: boolean;
  byteFallback?: boolean;
  ignoreMerges?: boolean;
  /** tiktoken semantics: the pair to merge is the one whose concatenation has the lowest id. */
  rankMerges?: boolean;
}

const CACHE_LIMIT = 200_000;

/** The BPE model. Words are cached; merging picks the lowest-rank pair, leftmost first. */
export class BpeModel implements TokenModel {
  readonly vocab: Map<string, number>;
  private readonly idToTok: string[];
  private readonly merges: PairTable;
  private readonly cache = new Map<string, WordTokens>();
  private readonly queue = new MergeQueue();
  private readonly unkId: number | undefined;
  readonly opts: BpeOptions;

  constructor(opts: BpeOptions) {
    this.opts = opts;
    this.vocab = opts.vocab;
    this.idToTok = new Array<string>(opts.vocab.size);
    for (const [t, id] of opts.vocab) this.idToTok[id] = t;
    this.unkId = opts.unkToken ? opts.vocab.get(opts.unkToken) : undefined;
    this.merges = new PairTable(opts.rankMerges ? 0 : opts.merges.length);
    if (!opts.rankMerges) {
      const prefix = opts.continuingSubwordPrefix ?? "";
      for (let rank = 0; rank < opts.merges.length; rank++) {
        const m = opts.merges[rank];
        let a: string;
        let b: string;
        if (typeof m === "string") {
          const sp = m.indexOf(" ", 1);
          if (sp < 0) throw new Error(`merges[${rank}] = ${JSON.stringify(m)} is not "left right"`);
          a = m.slice(0, sp);
          b = m.slice(sp + 1);
        } else [a, b] = m;
        const ia = this.vocab.get(a);
        const ib = this.vocab.get(b);
        const merged = a + (prefix && b.startsWith(prefix) ? b.slice(prefix.length) : b);
        const im = this.vocab.get(merged);
        if (ia === undefined || ib === undefined || im === undefined) {
          throw new Error(`merge ${rank} ${JSON.stringify(`${a} ${b}`)} uses a token missing from the vocabulary`);
        }
        this.merges.add(ia, ib, rank, im);
      }
    }
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.idToTok[id];
  }

  tokenize(word: string): WordTokens {
    let r = this.cache.get(word);
    if (r === undefined) {
      r = this.encodeWord(word);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, r);
    }
    return r;
  }

  /** Rank of merging (a, b) (lower first), or -1 when the pair never merges. */
  private pairRank(a: number, b: number): number {
    if (this.opts.rankMerges) return this.vocab.get(this.idToTok[a] + this.idToTok[b]) ?? -1;
    return this.merges.rankOf(a, b);
  }

  /** The id the merge of (a, b) produces. */
  private pairMerged(a: number, b: number): number {
    if (this.opts.rankMerges) return this.vocab.get(this.idToTok[a] + this.idToTok[b]) as number;
    return this.merges.mergedOf(a, b);
  }

  private encodeWord(word: string): WordTokens {
    const o = this.opts;
    if (o.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return { ids: [id], starts: [0], ends: [word.length] };
    }
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    const prefix = o.continuingSubwordPrefix ?? "";
    const suffix = o.endOfWordSuffix ?? "";
    let unkStart = -1;
    let unkEnd = -1;
    const flushUnk = () => {
      if (unkStart >= 0 && this.unkId !== undefined) {
        ids.push(this.unkId);
        starts.push(unkStart);
        ends.push(unkEnd);
      }
      unkStart = -1;
    };
    for (let i = 0; i < word.length; ) {
      const cp = word.codePointAt(i) as number;
      const n = cp > 0xffff ? 2 : 1;
      let piece = word.slice(i, i + n);
      if (i > 0 && prefix) piece = prefix + piece;
      if (i + n === word.length && suffix) piece += suffix;
      const id = this.vocab.get(piece);
      if (id !== undefined) {
        flushUnk();
        ids.push(id);
        starts.push(i);
        ends.push(i + n);
      } else {
        const bytes = o.byteFallback ? byteFallbackIds(word.slice(i, i + n), (t) => this.vocab.get(t)) : null;
        if (bytes) {
          flushUnk();
          for (const b of bytes) {
            ids.push(b);
            starts.push(i);
            ends.push(i + n);
          }
        } else if (this.unkId !== undefined) {
          if (o.fuseUnk && unkStart >= 0) unkEnd = i + n;
          else {
            flushUnk();
            unkStart = i;
            unkEnd = i + n;
          }
        }
      }
      i += n;
    }
    flushUnk();
    if (ids.length < 2) return { ids, starts, ends };
    // Merge: the pair with the lowest rank first, leftmost on ties (Rust tokenizers' order).
    const next = runMerges(
      ids.length,
      (l, r) => {
        const rank = this.pairRank(ids[l], ids[r]);
        return rank < 0 ? Number.NEGATIVE_INFINITY : rank;
      },
      (l, r) => {
        ids[l] = this.pairMerged(ids[l], ids[r]);
        ends[l] = ends[r];
      },
      this.queue,
    );
    const out: WordTokens = { ids: [], starts: [], ends: [] };
    for (let i = 0; i >= 0; i = next[i]) {
      out.ids.push(ids[i]);
      out.starts.push(starts[i]);
      out.ends.push(ends[i]);
    }
    return out;
  }
}
