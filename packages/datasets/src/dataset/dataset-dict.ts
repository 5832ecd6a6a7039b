/**
 * `DatasetDict`: named splits (`train`, `test`, ...), each a {@link Dataset}, with the common
 * transforms applied to every split.
 */
import { fail } from "../errors.ts";
import type { Features } from "../features/features.ts";
import type { CacheOptions, Dataset } from "./dataset.ts";
import type { FilterOptions, MapFunction, MapOptions } from "./map.ts";

/**
 * Splits by name.
 *
 * @example
 * const dd = await loadDataset("./my-data"); // DatasetDict with the splits found
 * const train = dd.split("train");
 */
export class DatasetDict extends Map<string, Dataset> {
  /** The split named `name`, or a HEARTH_DATASETS_SPLIT_NOT_FOUND error listing the splits. */
  split(name: string): Dataset {
    const ds = this.get(name);
    if (!ds)
      throw fail(
        "HEARTH_DATASETS_SPLIT_NOT_FOUND",
        `DatasetDict: no split '${name}'; splits are [${[...this.keys()].join(", ")}]`,
      );
    return ds;
  }

  /** Rows per split. */
  get numRows(): Record<string, number> {
    return Object.fromEntries([...this].map(([k, d]) => [k, d.numRows]));
  }

  /** Column names per split. */
  get columnNames(): Record<string, string[]> {
    return Object.fromEntries([...this].map(([k, d]) => [k, d.columnNames]));
  }

  /** Features of the first split (splits share features). */
  get features(): Features {
    const first = this.values().next().value;
    return first ? first.features : {};
  }

  private async each(fn: (d: Dataset) => Dataset | Promise<Dataset>): Promise<DatasetDict> {
    const out = new DatasetDict();
    for (const [k, d] of this) out.set(k, await fn(d));
    return out;
  }

  /** `map` on every split. */
  map(fn: MapFunction, options: MapOptions = {}): Promise<DatasetDict> {
    return this.each((d) => d.map(fn, options));
  }
  /** `filter` on every split. */
  filter(fn: MapFunction, options: FilterOptions = {}): Promise<DatasetDict> {
    return this.each((d) => d.filter(fn, options));
  }
  /** `shuffle` on every split (same seed). */
  shuffle(options: { seed?: number } & CacheOptions = {}): Promise<DatasetDict> {
    return this.each((d) => d.shuffle(options));
  }
  /** `removeColumns` on every split. */
  removeColumns(columns: string | string[]): Promise<DatasetDict> {
    return this.each((d) => d.removeColumns(columns));
  }
  /** `renameColumn` on every split. */
  renameColumn(from: string, to: string): Promise<DatasetDict> {
    return this.each((d) => d.renameColumn(from, to));
  }
  /** `withFormat` on every split. */
  withFormat(type: "js" | "typed" | "arrow" | "tensor", columns: string[] | null = null): Promise<DatasetDict> {
    return this.each((d) => d.withFormat(type, columns));
  }
}
