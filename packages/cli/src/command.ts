import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./exit-codes.ts";

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  stdin: NodeJS.ReadStream;
  isTTY: boolean;
}

export interface Command {
  name: string;
  summary: string;
  /** Full help: usage line, arguments, options, examples. */
  help: string;
  run(argv: string[], io: Io): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Strict parseArgs: unknown options and missing values become UsageErrors. */
export function parse<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export const COMMON_OPTIONS = {
  token: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

export function wantsHelp(argv: string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

export function repoTypeOf(value: string | undefined): "model" | "dataset" | "space" | undefined {
  if (value === undefined) return undefined;
  if (value === "model" || value === "dataset" || value === "space") return value;
  throw new UsageError(`--repo-type must be model, dataset or space, got '${value}'`);
}

export function asList(v: string | string[] | boolean | (string | boolean)[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).map(String);
}
