/** Paths of the tokenizer fixtures (copied from ../shared/data, large files gzipped) and loaders for them. */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AutoTokenizer, type FromPretrainedOptions } from "../../src/index.ts";

export const FIXTURES = resolve(import.meta.dirname, "../../../../fixtures");
export const TOKENIZERS = join(FIXTURES, "data/tokenizers");

/** The 47 llama.cpp test strings. */
export const GOLDEN_INPUTS: string[] = readFileSync(
  join(FIXTURES, "data/golden/llamacpp/ggml-vocab-gpt-2.gguf.inp"),
  "utf8",
).split("\n__ggml_vocab_test__\n");

/** llama.cpp's ids for one vocabulary (`gpt-2`, `bert-bge`, `llama-spm`, `llama-bpe`), one list per input. */
export function goldenIds(vocab: string): number[][] {
  const lines = readFileSync(join(FIXTURES, `data/golden/llamacpp/ggml-vocab-${vocab}.gguf.out`), "utf8").split("\n");
  return GOLDEN_INPUTS.map((_, i) => (lines[i].trim() === "" ? [] : lines[i].trim().split(/\s+/).map(Number)));
}

/** Fresh tokenizers (for tests that change them). */
export const fresh = {
  gpt2: () =>
    AutoTokenizer.fromPretrained(join(TOKENIZERS, "gpt2"), {
      fileNames: { "vocab.json": "encoder.json.gz", "merges.txt": "vocab.bpe.gz" },
    }),
  bert: () =>
    AutoTokenizer.fromPretrained(join(TOKENIZERS, "bert-base-uncased"), {
      fileNames: { "vocab.txt": "vocab.derived-from-gguf.txt.gz" },
    }),
  llama2: (opts: FromPretrainedOptions = {}) =>
    AutoTokenizer.fromPretrained(join(TOKENIZERS, "llama2-spm"), {
      ...opts,
      fileNames: { "tokenizer.model": "tokenizer.model.gz" },
    }),
  llama3: () =>
    AutoTokenizer.fromPretrained(join(TOKENIZERS, "llama3-bpe"), {
      fileNames: { "tokenizer.json": "tokenizer.json.gz" },
    }),
  tiktokenGpt2: () =>
    AutoTokenizer.fromPretrained(join(TOKENIZERS, "whisper"), { fileNames: { tiktoken: "gpt2.tiktoken.gz" } }),
};

type Loaders = typeof fresh;
const memo = new Map<string, ReturnType<Loaders[keyof Loaders]>>();

/** Tokenizers shared within a test file (loaded once per process); do not modify them. */
export const loaders: Loaders = {
  gpt2: () => cached("gpt2", fresh.gpt2),
  bert: () => cached("bert", fresh.bert),
  llama2: (opts: FromPretrainedOptions = {}) => cached(`llama2:${JSON.stringify(opts)}`, () => fresh.llama2(opts)),
  llama3: () => cached("llama3", fresh.llama3),
  tiktokenGpt2: () => cached("tiktokenGpt2", fresh.tiktokenGpt2),
};

function cached(key: string, load: () => ReturnType<Loaders["gpt2"]>): ReturnType<Loaders["gpt2"]> {
  let p = memo.get(key);
  if (!p) {
    p = load();
    memo.set(key, p);
  }
  return p;
}

export interface PreprocessingCase {
  text: string;
  ids: number[];
  ids_with_special_tokens: number[];
  decoded: string;
}

/** Python slow-tokenizer results from hf-tiny's preprocessing golden. */
export function pythonCases(key: string): PreprocessingCase[] {
  const g = JSON.parse(readFileSync(join(FIXTURES, "hf-tiny/goldens/preprocessing.json"), "utf8"));
  return g[key].cases as PreprocessingCase[];
}
