/**
 * Pipeline fixtures: the hf-tiny models (vocabulary 1000, no tokenizer) paired with a
 * WordPiece vocabulary written for them: [PAD] 0, [CLS] 1, [SEP] 2, [MASK] 3, [UNK] 4 and the
 * word "wN" for every other id N, so "w88 w14" encodes to the golden ids [1, 88, 14, 2].
 */
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HF_TINY } from "../golden.ts";

/** Writes the vocabulary into `dir` (`replace` puts other tokens at some ids, e.g. word pieces). */
export async function writeVocab(dir: string, replace: Record<number, string> = {}): Promise<void> {
  const vocab = ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]"];
  for (let i = 5; i < 1000; i++) vocab.push(replace[i] ?? `w${i}`);
  await writeFile(join(dir, "vocab.txt"), `${vocab.join("\n")}\n`);
  await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ do_lower_case: true, model_max_length: 64 }));
}

/** A temporary copy of hf-tiny model `name` with the vocabulary; `cleanup` removes it. */
export async function tinyModelDir(name: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `hearth-pipe-${name}-`));
  await cp(join(HF_TINY, "models", name), dir, { recursive: true });
  await writeVocab(dir);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
