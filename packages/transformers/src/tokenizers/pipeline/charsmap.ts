/**
 * SentencePiece's precompiled character map: a Darts double-array trie over UTF-8 byte strings,
 * followed by a blob of NUL-terminated replacement strings. Layout (little endian):
 * `u32 trieBytes | u32[trieBytes / 4] units | replacement strings`.
 * Used by SentencePiece `nmt_nfkc` models (`tokenizer.model`) and by the `Precompiled`
 * normalizer of `tokenizer.json`.
 */
export class CharsMap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;
  private readonly decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  private readonly cache = new Map<number, string>();

  constructor(blob: Uint8Array) {
    if (blob.length < 4) throw new Error(`precompiled charsmap is ${blob.length} bytes, expected at least 4`);
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > blob.length) {
      throw new Error(`precompiled charsmap declares a trie of ${trieBytes} bytes but holds ${blob.length - 4}`);
    }
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + i * 4, true);
    this.strings = blob.subarray(4 + trieBytes);
  }

  /**
   * All prefixes of `bytes[from..]` that the trie holds, as [lengthInBytes, stringOffset] pairs,
   * shortest first (the order Darts reports them).
   */
  prefixMatches(bytes: Uint8Array, from: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const u = this.units;
    if (u.length === 0) return out;
    let pos = 0;
    let unit = u[pos];
    pos ^= offsetOf(unit);
    for (let i = from; i < bytes.length; i++) {
      const c = bytes[i];
      if (c === 0) break;
      pos ^= c;
      unit = u[pos];
      if (unit === undefined || labelOf(unit) !== c) break;
      pos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) out.push([i - from + 1, u[pos] & 0x7fffffff]);
    }
    return out;
  }

  /** The replacement string stored at `offset`. */
  replacement(offset: number): string {
    let s = this.cache.get(offset);
    if (s === undefined) {
      let end = offset;
      while (end < this.strings.length && this.strings[end] !== 0) end++;
      s = this.decoder.decode(this.strings.subarray(offset, end));
      this.cache.set(offset, s);
    }
    return s;
  }
}

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

function labelOf(unit: number): number {
  return unit & ((1 << 31) | 0xff);
}
