export { type AnyDemo, type ClientOptions, client, type DemoClient, type SubmitOptions } from "./client.ts";
export {
  audio,
  type ChatMessage,
  type Component,
  chat,
  checkbox,
  dropdown,
  type FileData,
  file,
  image,
  json,
  type LabelScores,
  label,
  number,
  slider,
  text,
  type ValueOf,
} from "./components.ts";
export {
  type AnyComponent,
  Demo,
  type DemoInfo,
  type DemoOptions,
  demo,
  type LaunchOptions,
  type Returned,
  type Values,
} from "./demo.ts";
export { SpacesError, type SpacesErrorCode, SpacesErrorCodes } from "./errors.ts";
export { progress } from "./queue.ts";
