export {
  AcceleratedOptimizer,
  AcceleratedScheduler,
  Accelerator,
  type AcceleratorOptions,
  type MixedPrecision,
  type Prepared,
  type Scheduler,
} from "./accelerator.ts";
export * from "./big-model/index.ts";
export { type Batch, PreparedDataLoader, type ShardOptions, splitBatch } from "./data/dataloader.ts";
export {
  activateDevice,
  availableDevices,
  type Device,
  type DeviceProvider,
  registerDeviceProvider,
  resolveDevice,
} from "./device/devices.ts";
export * from "./distributed/index.ts";
export { AccelerateError, ERROR_CODES, type ErrorCode } from "./errors.ts";
export { GradScaler, type GradScalerOptions, type GradScalerState } from "./precision/grad-scaler.ts";
