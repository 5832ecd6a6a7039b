/** The image-classification pipeline, as Python's `ImageClassificationPipeline`: softmax over the labels, best first. */
import type { Tensor } from "@hearth/tensor";
import { labelOf } from "../configuration/labels.ts";
import type { PretrainedConfig } from "../configuration/pretrained-config.ts";
import type { ClassifierOutput } from "../modeling/encoder-outputs.ts";
import type { ImageInput, ImageProcessor } from "../processors/image-processor.ts";
import { logitsOf, sigmoid, softmax, topIndices } from "./shared.ts";
import type { ClassificationOutput } from "./text-classification.ts";
import { defaultFunction } from "./text-classification.ts";

/** A model with an image classifier's `forward`. */
export interface ImageClassifierModel {
  forward(input: { pixelValues: Tensor }): ClassifierOutput;
  config: PretrainedConfig;
}

/** A callable image-classification pipeline. */
export class ImageClassificationPipeline {
  constructor(
    readonly model: ImageClassifierModel,
    readonly imageProcessor: ImageProcessor,
  ) {}

  /**
   * The `topK` (default 5) labels of one image, or of each image of a list.
   *
   * @example
   * const [best] = await classifier.call("cat.png");
   */
  async call(
    images: ImageInput | ImageInput[],
    options: { topK?: number; functionToApply?: "softmax" | "sigmoid" | "none" } = {},
  ): Promise<ClassificationOutput[] | ClassificationOutput[][]> {
    const single = !Array.isArray(images);
    const { pixelValues } = await this.imageProcessor.call(images);
    const { data, shape } = logitsOf(() => this.model.forward({ pixelValues }).logits);
    const C = shape[1] as number;
    const fn = options.functionToApply ?? defaultFunction(this.model.config, C);
    const k = Math.min(options.topK ?? 5, C);
    const results = Array.from({ length: shape[0] as number }, (_, b) => {
      const row = data.subarray(b * C, (b + 1) * C);
      const scores = fn === "softmax" ? softmax(row) : fn === "sigmoid" ? sigmoid(row) : Array.from(row);
      return topIndices(scores, k).map((i) => ({ label: labelOf(this.model.config, i), score: scores[i] as number }));
    });
    return single ? (results[0] as ClassificationOutput[]) : results;
  }
}
