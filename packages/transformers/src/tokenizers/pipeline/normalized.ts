/**
 * A piece of text under transformation that remembers, for every UTF-16 code unit of its current
 * text, which range of the ORIGINAL input it came from. This is what makes offset mappings exact
 * through lowercasing, accent stripping, Unicode normalisation and whitespace replacement.
 *
 * Offsets everywhere in Hearth are UTF-16 code-unit offsets into the JavaScript string the caller
 * passed (so `text.slice(start, end)` gives the token's source), not Python code-point offsets.
 */
export class NormalizedString {
  /** The current (normalised) text. */
  text: string;
  /** `starts[i]`, `ends[i]`: the original range of code unit i of `text`; null means identity from `base`. */
  starts: Int32Array | null;
  ends: Int32Array | null;
  /** Where this text begins in the full original input. */
  readonly base: number;

  constructor(text: string, base = 0, starts: Int32Array | null = null, ends: Int32Array | null = null) {
    this.text = text;
    this.base = base;
    this.starts = starts;
    this.ends = ends;
  }

  /** The original start of code unit `i` (i may equal text.length: the end of the last unit). */
  originalStart(i: number): number {
    if (this.starts === null) return this.base + i;
    if (i >= this.text.length)
      return this.text.length === 0 ? this.base : (this.ends as Int32Array)[this.text.length - 1];
    return this.starts[i];
  }

  /** The original end of code unit `i - 1`, i.e. the end of a range ending before `i`. */
  originalEnd(i: number): number {
    if (this.ends === null) return this.base + i;
    if (i <= 0) return this.text.length === 0 ? this.base : (this.starts as Int32Array)[0];
    return this.ends[i - 1];
  }

  private ensureAlignment(): void {
    if (this.starts !== null) return;
    const n = this.text.length;
    const s = new Int32Array(n);
    const e = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = this.base + i;
      e[i] = this.base + i + 1;
    }
    this.starts = s;
    this.ends = e;
  }

  /**
   * Rewrite the text chunk by chunk: `chunks` splits the current text into consecutive pieces,
   * `fn` maps each to its replacement ("" deletes it). Every code unit of a replacement gets the
   * original range of the whole chunk it replaces. No-op (keeps identity alignment) when nothing changes.
   */
  transformChunks(chunks: Iterable<string>, fn: (chunk: string) => string): void {
    const parts: string[] = [];
    let changed = false;
    const src = this.text;
    let pos = 0;
    const newStarts: number[] = [];
    const newEnds: number[] = [];
    this.ensureAlignment();
    const s = this.starts as Int32Array;
    const e = this.ends as Int32Array;
    for (const chunk of chunks) {
      const out = fn(chunk);
      if (out !== chunk) changed = true;
      if (out.length > 0) {
        const os = s[pos];
        const oe = e[pos + chunk.length - 1];
        if (out === chunk) {
          for (let k = 0; k < chunk.length; k++) {
            newStarts.push(s[pos + k]);
            newEnds.push(e[pos + k]);
          }
        } else {
          for (let k = 0; k < out.length; k++) {
            newStarts.push(os);
            newEnds.push(oe);
          }
        }
        parts.push(out);
      }
      pos += chunk.length;
    }
    if (pos !== src.length) throw new Error("NormalizedString.transformChunks: chunks do not cover the text");
    if (!changed) return;
    this.text = parts.join("");
    this.starts = Int32Array.from(newStarts);
    this.ends = Int32Array.from(newEnds);
  }

  /** Map each code point (1 or 2 code units) through `fn`. */
  mapCodePoints(fn: (ch: string) => string): void {
    this.transformChunks(codePoints(this.text), fn);
  }

  /** Insert `s` at the front; its units align to the original range of the first unit. */
  prepend(s: string): void {
    if (this.text.length === 0) return;
    this.ensureAlignment();
    const n = s.length;
    const st = new Int32Array(this.text.length + n);
    const en = new Int32Array(this.text.length + n);
    const s0 = (this.starts as Int32Array)[0];
    const e0 = (this.ends as Int32Array)[0];
    for (let i = 0; i < n; i++) {
      st[i] = s0;
      en[i] = e0;
    }
    st.set(this.starts as Int32Array, n);
    en.set(this.ends as Int32Array, n);
    this.text = s + this.text;
    this.starts = st;
    this.ends = en;
  }

  /** Append `s` at the end; its units align to the original range of the last unit. */
  append(s: string): void {
    if (this.text.length === 0) return;
    this.ensureAlignment();
    const n = this.text.length;
    const st = new Int32Array(n + s.length);
    const en = new Int32Array(n + s.length);
    st.set(this.starts as Int32Array);
    en.set(this.ends as Int32Array);
    for (let i = 0; i < s.length; i++) {
      st[n + i] = (this.starts as Int32Array)[n - 1];
      en[n + i] = (this.ends as Int32Array)[n - 1];
    }
    this.text += s;
    this.starts = st;
    this.ends = en;
  }

  /** Keep only units [from, to). */
  slice(from: number, to: number): void {
    if (from === 0 && to === this.text.length) return;
    this.ensureAlignment();
    this.text = this.text.slice(from, to);
    this.starts = (this.starts as Int32Array).slice(from, to);
    this.ends = (this.ends as Int32Array).slice(from, to);
  }
}

/** Split a string into code points (surrogate pairs stay together). */
export function* codePoints(text: string): Generator<string> {
  for (const ch of text) yield ch;
}

/** Split a string into a base code point followed by its combining marks (for Unicode normal forms). */
export function* markClusters(text: string): Generator<string> {
  const re = /\P{M}\p{M}*|\p{M}+/gsu;
  for (const m of text.matchAll(re)) yield m[0];
}
