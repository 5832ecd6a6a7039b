export { EXIT } from "./exit-codes.ts";
export { COMMANDS, main, mainHelp } from "./main.ts";
