/** Unicode character classes shared by normalizers and pre-tokenizers (Rust `tokenizers` semantics). */

/** Rust `char::is_whitespace`: the Unicode White_Space property. */
export const WHITESPACE_RE = /\p{White_Space}/u;

/** BERT's punctuation: ASCII symbol ranges or any Unicode P* category. */
export function isBertPunctuation(cp: number): boolean {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  return PUNCT_RE.test(String.fromCodePoint(cp));
}
const PUNCT_RE = /^\p{P}$/u;

/** Code points BERT pads with spaces when `handle_chinese_chars` is on (CJK ideographs). */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Rust `char::is_other`-based control test used by BERT's clean-text (tab/newline/return excluded). */
export function isBertControl(ch: string): boolean {
  if (ch === "\t" || ch === "\n" || ch === "\r") return false;
  return CONTROL_RE.test(ch);
}
const CONTROL_RE = /^[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}]$/u;

/** BERT's whitespace: tab/newline/return or the White_Space property. */
export function isBertWhitespace(ch: string): boolean {
  return ch === "\t" || ch === "\n" || ch === "\r" || WHITESPACE_RE.test(ch);
}

/** The explicit members of White_Space, for building regexes that must not use JS's `\s` (which adds U+FEFF and drops U+0085). */
export const WHITE_SPACE_CLASS =
  "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/** Characters that keep their backslash in a JavaScript u-mode regex. */
const SYNTAX = "^$\\.*+?()[]{}|/";

/** Oniguruma's Unicode \w. */
const WORD_CLASS = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}";

/**
 * Translate a regex written for Rust's `onig`/`fancy-regex` (as found in tokenizer.json) to a JS
 * regex source: `(?i:...)` groups become explicit case classes, `\s`/`\S` get Unicode White_Space
 * semantics. Throws on constructs it cannot translate.
 */
export function translateRegex(src: string): string {
  let out = "";
  let i = 0;
  let inClass = false;
  const ciStack: boolean[] = [];
  let ci = false;
  while (i < src.length) {
    const c = src[i];
    if (c === "\\") {
      const n = src[i + 1];
      if (n === "s") {
        out += inClass ? WHITE_SPACE_CLASS : `[${WHITE_SPACE_CLASS}]`;
        i += 2;
        continue;
      }
      if (n === "S") {
        if (inClass) throw new Error(`cannot translate \\S inside a character class in regex ${JSON.stringify(src)}`);
        out += `[^${WHITE_SPACE_CLASS}]`;
        i += 2;
        continue;
      }
      if (n === "p" || n === "P") {
        const close = src.indexOf("}", i);
        if (src[i + 2] === "{" && close > 0) {
          out += src.slice(i, close + 1);
          i = close + 1;
          continue;
        }
        // \pL, \pN: one-letter property names
        out += `\\${n}{${src[i + 2]}}`;
        i += 3;
        continue;
      }
      // Oniguruma's \d and \w are Unicode-aware; JavaScript's are ASCII even with the u flag.
      if (n === "d" || n === "D") {
        out += n === "d" ? "\\p{Nd}" : "\\P{Nd}";
        i += 2;
        continue;
      }
      if (n === "w") {
        out += inClass ? WORD_CLASS : `[${WORD_CLASS}]`;
        i += 2;
        continue;
      }
      if (n === "W") {
        if (inClass) throw new Error(`cannot translate \\W inside a character class in regex ${JSON.stringify(src)}`);
        out += `[^${WORD_CLASS}]`;
        i += 2;
        continue;
      }
      // Escaped punctuation that JavaScript's u flag rejects (\', \", \<, ...): write it as a code point.
      if (n !== undefined && !/[A-Za-z0-9]/.test(n) && !SYNTAX.includes(n) && !(inClass && n === "-")) {
        const cp = src.codePointAt(i + 1) as number;
        out += `\\u{${cp.toString(16)}}`;
        i += cp > 0xffff ? 3 : 2;
        continue;
      }
      out += src.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      out += c;
      i++;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (src[i + 1] === "^") {
        out += "^";
        i++;
      }
      i++;
      continue;
    }
    if (c === "(") {
      if (src.startsWith("(?i:", i)) {
        ciStack.push(ci);
        ci = true;
        out += "(?:";
        i += 4;
        continue;
      }
      ciStack.push(ci);
      out += c;
      i++;
      continue;
    }
    if (c === ")") {
      ci = ciStack.pop() ?? false;
      out += c;
      i++;
      continue;
    }
    if (ci && /[a-zA-Z]/.test(c)) {
      out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}
