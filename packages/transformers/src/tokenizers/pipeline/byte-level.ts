/**
 * GPT-2's byte-to-unicode table: every byte gets a printable character so that byte-level BPE
 * vocabularies are plain strings ("Ġ" is the space byte 0x20).
 */
export const BYTE_TO_CHAR: string[] = (() => {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table = new Array<string>(256);
  for (let i = 0; i < bs.length; i++) table[bs[i]] = String.fromCharCode(cs[i]);
  return table;
})();

/** Inverse of {@link BYTE_TO_CHAR}: char code → byte (or -1). */
export const CHAR_TO_BYTE: Int16Array = (() => {
  const t = new Int16Array(512).fill(-1);
  for (let b = 0; b < 256; b++) t[BYTE_TO_CHAR[b].charCodeAt(0)] = b;
  return t;
})();

/** The byte-level spelling of `text` (its UTF-8 bytes through {@link BYTE_TO_CHAR}). */
export function toByteLevel(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      out += BYTE_TO_CHAR[c];
    } else if (c < 0x800) {
      out += BYTE_TO_CHAR[0xc0 | (c >> 6)] + BYTE_TO_CHAR[0x80 | (c & 63)];
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        out +=
          BYTE_TO_CHAR[0xf0 | (cp >> 18)] +
          BYTE_TO_CHAR[0x80 | ((cp >> 12) & 63)] +
          BYTE_TO_CHAR[0x80 | ((cp >> 6) & 63)] +
          BYTE_TO_CHAR[0x80 | (cp & 63)];
        i++;
      } else {
        out += threeBytes(0xfffd);
      }
    } else if (c >= 0xd800 && c < 0xe000) {
      out += threeBytes(0xfffd); // lone surrogate: what TextEncoder would write
    } else {
      out += threeBytes(c);
    }
  }
  return out;
}

function threeBytes(c: number): string {
  return BYTE_TO_CHAR[0xe0 | (c >> 12)] + BYTE_TO_CHAR[0x80 | ((c >> 6) & 63)] + BYTE_TO_CHAR[0x80 | (c & 63)];
}

/**
 * Per byte-level char of {@link toByteLevel}(text): the [start, end) code-unit range in `text` of
 * the character it came from, as a flat array [s0, e0, s1, e1, ...] shifted by `shift`.
 */
export function byteLevelRanges(text: string, shift: (i: number) => [number, number]): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let units = 1;
    let bytes: number;
    if (c < 0x80) bytes = 1;
    else if (c < 0x800) bytes = 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes = 4;
      units = 2;
    } else bytes = 3;
    const [s] = shift(i);
    const [, e] = shift(i + units - 1);
    for (let k = 0; k < bytes; k++) out.push(s, e);
    i += units - 1;
  }
  return Int32Array.from(out);
}

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Decode byte-level chars back to text; chars outside the table are kept as they are. */
export function fromByteLevel(s: string): string {
  const bytes: number[] = [];
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const b = c < 512 ? CHAR_TO_BYTE[c] : -1;
    if (b >= 0) bytes.push(b);
    else {
      if (bytes.length) {
        out += utf8.decode(new Uint8Array(bytes));
        bytes.length = 0;
      }
      out += s[i];
    }
  }
  if (bytes.length) out += utf8.decode(new Uint8Array(bytes));
  return out;
}
