/** What every tokenisation model (BPE, WordPiece, Unigram, WordLevel, SentencePiece) provides. */

/** Tokens of one word: ids with [start, end) code-unit ranges inside the word's text. */
export interface WordTokens {
  ids: number[];
  starts: number[];
  ends: number[];
}

export interface TokenModel {
  /** Tokenise one pre-tokenised word. */
  tokenize(word: string): WordTokens;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Size of the model's own vocabulary (added tokens excluded). */
  readonly vocabSize: number;
}

const BYTE_PIECES: string[] = Array.from(
  { length: 256 },
  (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`,
);

/** "<0x41>"-style byte piece for byte fallback. */
export function bytePiece(b: number): string {
  return BYTE_PIECES[b];
}

const encoder = new TextEncoder();

/** Ids of the byte pieces of `text`, or null when one of them is missing from the vocabulary. */
export function byteFallbackIds(text: string, lookup: (t: string) => number | undefined): number[] | null {
  const ids: number[] = [];
  for (const b of encoder.encode(text)) {
    const id = lookup(bytePiece(b));
    if (id === undefined) return null;
    ids.push(id);
  }
  return ids;
}
