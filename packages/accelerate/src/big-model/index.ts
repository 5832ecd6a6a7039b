export {
  computeModuleSizes,
  type DeviceMap,
  deviceFor,
  type InferDeviceMapOptions,
  inferAutoDeviceMap,
  namedWeights,
  parseBytes,
} from "./device-map.ts";
export {
  type DispatchOptions,
  type DispatchResult,
  initEmptyWeights,
  loadCheckpointAndDispatch,
} from "./dispatch.ts";
