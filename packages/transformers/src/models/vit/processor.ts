/** `ViTImageProcessor`: resize to 224×224 (bilinear), rescale by 1/255, normalise with mean = std = 0.5. */
import { ImageProcessor } from "../../processors/image-processor.ts";

/**
 * Python's `ViTImageProcessor`, configured by `preprocessor_config.json`.
 *
 * @example
 * const processor = new ViTImageProcessor({ size: { height: 32, width: 32 } });
 * const { pixelValues } = await processor.call("fixtures/data/media/images/chelsea.png"); // [1, 3, 32, 32]
 */
export class ViTImageProcessor extends ImageProcessor {
  static override readonly processorType: string = "ViTImageProcessor";
}
