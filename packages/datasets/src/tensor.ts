/**
 * `@hearth/datasets/tensor`: importing it enables `withFormat("tensor")` (batches and rows as
 * `@hearth/tensor` tensors).
 *
 * @example
 * import "@hearth/datasets/tensor";
 * import { loadDataset } from "@hearth/datasets";
 * const ds = (await loadDataset("./data", { split: "train" })).withFormat("tensor");
 * for (const batch of ds.iter({ batchSize: 32 })) console.log(batch.input_ids.shape);
 */
import { registerTensorFormatter } from "./formatting/registry.ts";
import { columnToTensor, valueToTensor } from "./formatting/tensor-format.ts";

registerTensorFormatter({ column: columnToTensor, value: valueToTensor });

export { columnToTensor, valueToTensor };
