/** Row-wise concatenation of datasets without copying their files. */
import { fail } from "../errors.ts";
import { featuresEqual } from "../features/features.ts";
import { Dataset } from "./dataset.ts";
import { updateFingerprint } from "./fingerprint.ts";

/**
 * Concatenates datasets with identical features row-wise. No data is copied: the result reads
 * the inputs' files, with one index mapping when any input has one.
 */
export function concatenateDatasets(datasets: Dataset[]): Dataset {
  if (datasets.length === 0)
    throw fail("HEARTH_DATASETS_BAD_ARGUMENT", "concatenateDatasets: argument 'datasets' is empty");
  const first = datasets[0];
  for (const [i, d] of datasets.entries()) {
    if (!featuresEqual(d.features, first.features)) {
      throw fail(
        "HEARTH_DATASETS_SCHEMA_CONFLICT",
        `concatenateDatasets: dataset ${i} has features ${JSON.stringify(d.features)}, dataset 0 has ${JSON.stringify(first.features)}`,
      );
    }
  }
  const files = datasets.flatMap((d) => d.state.files);
  const fingerprint = updateFingerprint(first.fingerprint, "concatenate", {
    others: datasets.map((d) => d.fingerprint),
  });
  const base = new Dataset({ ...first.state, files, indices: null, indicesFile: null, fingerprint });
  if (datasets.every((d) => !d.state.indices)) return base;
  let offset = 0;
  const parts: Uint32Array[] = [];
  for (const d of datasets) {
    const physical = d.table().numRows;
    const idx = d.state.indices ?? Uint32Array.from({ length: physical }, (_, i) => i);
    parts.push(idx.map((r) => r + offset));
    offset += physical;
  }
  const all = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return base.withIndices(all, fingerprint);
}
