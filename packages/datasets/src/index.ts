export { type Column, featuresFromSchema, featureToArrowType, schemaFromFeatures } from "./arrow/convert.ts";
export { ArrowStreamFileWriter, mapArrowFile, readArrowBatches } from "./arrow/ipc.ts";
export { concatenateDatasets } from "./dataset/concatenate.ts";
export { type CacheOptions, Dataset, type DatasetFormat } from "./dataset/dataset.ts";
export { DatasetDict } from "./dataset/dataset-dict.ts";
export type { FilterOptions, MapFunction, MapOptions } from "./dataset/map.ts";
export { DatasetsError, type DatasetsErrorCode, ERROR_CODES } from "./errors.ts";
export {
  Audio,
  type AudioFeature,
  ClassLabel,
  type ClassLabelFeature,
  type Feature,
  type Features,
  featuresFromJson,
  featuresToJson,
  Image,
  type ImageFeature,
  List,
  type ListFeature,
  Sequence,
  type StructFeature,
  Value,
  type ValueFeature,
} from "./features/features.ts";
export { LazyAudio, LazyImage } from "./features/media.ts";
export { type HubClientOptions, hubResolver, hubUploader } from "./hub/hub-client.ts";
export { type HubResolver, localFolderResolver, setDefaultHubResolver } from "./hub/resolver.ts";
export { toCsv, toJson, toParquet } from "./io/export.ts";
export { type HubUploader, pushToHub } from "./io/push-to-hub.ts";
export { loadFromDisk, saveToDisk } from "./io/save-to-disk.ts";
export { IterableDataset, IterableDatasetDict } from "./iterable/iterable-dataset.ts";
export { defaultCacheDir, type LoadDatasetOptions, loadDataset } from "./loaders/load-dataset.ts";
