/**
 * Streamers receive tokens as `generate` produces them, as Python's `TextStreamer`: `put` gets
 * the prompt first, then each new token; `end` comes once at the end.
 */

/** The decoding a streamer needs from a tokenizer. */
export interface TokenDecoder {
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
}

/** Anything `generate({ streamer })` accepts. */
export interface Streamer {
  /** Token ids: the prompt rows first, then one id per row per step. */
  put(ids: number[][]): void;
  end(): void;
}

/**
 * Calls `onText` with text as it forms: decoded pieces are released only at a space or newline
 * or once a word cannot change any more, so multi-token characters and words arrive whole.
 * Batch size 1 only (as Python).
 *
 * @example
 * const streamer = new TextStreamer(tokenizer, (text) => process.stdout.write(text), { skipPrompt: true });
 * await model.generate(ids, { maxNewTokens: 20, streamer });
 */
export class TextStreamer implements Streamer {
  #tokens: number[] = [];
  #printed = 0;
  #sawPrompt = false;

  constructor(
    readonly tokenizer: TokenDecoder,
    readonly onText: (text: string, final: boolean) => void,
    readonly options: { skipPrompt?: boolean; skipSpecialTokens?: boolean } = {},
  ) {}

  put(ids: number[][]): void {
    if (ids.length !== 1) throw new Error(`TextStreamer.put: only batch size 1 is supported, got ${ids.length} rows`);
    const row = ids[0] as number[];
    if (!this.#sawPrompt) {
      this.#sawPrompt = true;
      if (this.options.skipPrompt) return;
    }
    this.#tokens.push(...row);
    const text = this.#decode();
    let cut: number;
    if (text.endsWith("\n")) cut = text.length;
    else if (text.endsWith("\uFFFD"))
      return; // an incomplete multi-byte character
    else cut = text.lastIndexOf(" ") + 1;
    if (cut > this.#printed) {
      this.onText(text.slice(this.#printed, cut), false);
      this.#printed = cut;
    }
    if (text.endsWith("\n")) {
      this.#tokens = [];
      this.#printed = 0;
    }
  }

  end(): void {
    const text = this.#tokens.length ? this.#decode() : "";
    this.onText(text.slice(this.#printed), true);
    this.#tokens = [];
    this.#printed = 0;
    this.#sawPrompt = false;
  }

  #decode(): string {
    return this.tokenizer.decode(this.#tokens, { skipSpecialTokens: this.options.skipSpecialTokens ?? true });
  }
}
