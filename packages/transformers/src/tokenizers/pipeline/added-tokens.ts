/** Added tokens (special tokens and user additions): found in the text before the model runs. */
import { escapeRegex } from "./normalizers.ts";

/** One entry of tokenizer.json's `added_tokens` (snake_case as on disk). */
export interface AddedTokenSpec {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A span of the text: either an added token or plain text to tokenise. */
export interface Span {
  start: number;
  end: number;
  token: AddedTokenSpec | null;
}

const WS = /\p{White_Space}/u;
const WORD = /[\p{L}\p{N}_]/u;

/**
 * Finds added tokens, leftmost-longest (as Rust's Aho-Corasick in LeftmostLongest mode),
 * honouring `single_word`, `lstrip` and `rstrip`.
 */
export class TokenMatcher {
  private readonly re: RegExp | null;
  private readonly byMatch = new Map<string, AddedTokenSpec>();

  /** `keyOf` gives the string to match for a token (its content, or its normalised content). */
  constructor(tokens: AddedTokenSpec[], keyOf: (t: AddedTokenSpec) => string = (t) => t.content) {
    for (const t of tokens) {
      const k = keyOf(t);
      if (k.length > 0 && !this.byMatch.has(k)) this.byMatch.set(k, t);
    }
    const keys = [...this.byMatch.keys()].sort((a, b) => b.length - a.length);
    this.re = keys.length ? new RegExp(keys.map(escapeRegex).join("|"), "gu") : null;
  }

  get empty(): boolean {
    return this.re === null;
  }

  /** Split `text` into spans; plain spans may be empty and are then dropped. */
  split(text: string): Span[] {
    const spans: Span[] = [];
    if (this.re === null) return [{ start: 0, end: text.length, token: null }];
    const re = this.re;
    let last = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const tok = this.byMatch.get(m[0]) as AddedTokenSpec;
      let s = m.index;
      let e = s + m[0].length;
      if (tok.single_word) {
        const before = s > 0 ? text[s - 1] : "";
        const after = e < text.length ? text[e] : "";
        if ((before && WORD.test(before)) || (after && WORD.test(after))) {
          re.lastIndex = s + 1;
          continue;
        }
      }
      if (tok.lstrip) while (s > last && WS.test(text[s - 1])) s--;
      if (tok.rstrip) while (e < text.length && WS.test(text[e])) e++;
      if (s > last) spans.push({ start: last, end: s, token: null });
      spans.push({ start: s, end: e, token: tok });
      last = e;
      re.lastIndex = e;
    }
    if (last < text.length) spans.push({ start: last, end: text.length, token: null });
    return spans;
  }
}
