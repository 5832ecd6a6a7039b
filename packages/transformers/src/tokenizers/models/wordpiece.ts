/** WordPiece (BERT): greedy longest-match-first with a continuing-subword prefix ("##"). */
import type { TokenModel, WordTokens } from "./model.ts";

export interface WordPieceOptions {
  vocab: Map<string, number>;
  unkToken: string;
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
}

export class WordPieceModel implements TokenModel {
  readonly vocab: Map<string, number>;
  private readonly idToTok: string[] = [];
  private readonly unkId: number;
  readonly opts: WordPieceOptions;

  constructor(opts: WordPieceOptions) {
    this.opts = opts;
    this.vocab = opts.vocab;
    for (const [t, id] of opts.vocab) this.idToTok[id] = t;
    const unk = opts.vocab.get(opts.unkToken);
    if (unk === undefined)
      throw new Error(`WordPiece unk_token ${JSON.stringify(opts.unkToken)} is not in the vocabulary`);
    this.unkId = unk;
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
    const max = this.opts.maxInputCharsPerWord ?? 100;
    const prefix = this.opts.continuingSubwordPrefix ?? "##";
    const unk = { ids: [this.unkId], starts: [0], ends: [word.length] };
    // Count code points, as Rust's chars().count() does.
    let count = 0;
    for (let i = 0; i < word.length; i++) if ((word.charCodeAt(i) & 0xfc00) !== 0xdc00) count++;
    if (count > max) return unk;
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found = -1;
      while (start < end) {
        const sub = start > 0 ? prefix + word.slice(start, end) : word.slice(start, end);
        const id = this.vocab.get(sub);
        if (id !== undefined) {
          found = id;
          break;
        }
        end -= (word.charCodeAt(end - 1) & 0xfc00) === 0xdc00 && end - 2 >= start ? 2 : 1;
      }
      if (found < 0) return unk;
      ids.push(found);
      starts.push(start);
      ends.push(end);
      start = end;
    }
    return { ids, starts, ends };
  }
}
