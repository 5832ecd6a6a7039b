/** The label maps of classification configs (`id2label`, `label2id`, `num_labels`), read as Python reads them. */
import type { PretrainedConfig } from "./pretrained-config.ts";

/** Python's `num_labels`: the size of `id2label`, else `num_labels`, else 2. */
export function numLabels(config: PretrainedConfig): number {
  const id2label = config.get("id2label");
  if (id2label && typeof id2label === "object") return Object.keys(id2label).length;
  const n = config.get("num_labels");
  return typeof n === "number" ? n : 2;
}

/** The label of class `i` (`id2label[i]`, else `LABEL_i` as Python names them). */
export function labelOf(config: PretrainedConfig, i: number): string {
  const id2label = config.get("id2label") as Record<string, string> | undefined;
  return id2label?.[String(i)] ?? `LABEL_${i}`;
}

/** Class id of `label` (`label2id[label]`), or undefined. */
export function labelId(config: PretrainedConfig, label: string): number | undefined {
  const label2id = config.get("label2id") as Record<string, number> | undefined;
  return label2id?.[label];
}
