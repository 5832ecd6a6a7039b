export { type LaunchOptions, type LaunchResult, launch } from "./launch.ts";
export { defaultTransport } from "./process-group.ts";
export { type BarrierMessage, ShmTransport } from "./shm-transport.ts";
export { LocalTransport, type Transport } from "./transport.ts";
