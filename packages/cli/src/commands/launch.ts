/**
 * `hearth launch [--num-processes N] script.ts [args…]`: runs a training script as N
 * data-parallel processes (accelerate's `accelerate launch`), see `@hearth/accelerate`.
 */
import { launch } from "@hearth/accelerate/distributed";
import type { Command } from "../command.ts";
import { EXIT, UsageError } from "../exit-codes.ts";

const HELP = `Usage: hearth launch [--num-processes N] <script> [script arguments…]

Runs <script> (TypeScript via tsx, or JavaScript) in N worker processes, one model replica
each. An Accelerator in the script finds its rank and world size in the environment
(HEARTH_RANK, HEARTH_WORLD_SIZE, HEARTH_LOCAL_RANK, HEARTH_SHM_DIR), shards its dataloader and
averages gradients through shared memory.

Options:
  -n, --num-processes N  number of processes (default 1)
  -h, --help             show this help (before <script>; later arguments go to the script)

Exit status: 0 when every worker exits 0, else the first failing worker's status.

Example:
  hearth launch --num-processes 2 train.ts --epochs 3`;

export const launchCommand: Command = {
  name: "launch",
  summary: "run a training script as N data-parallel processes",
  help: HELP,
  async run(argv, io) {
    let numProcesses = 1;
    let i = 0;
    // options up to the script; everything after it belongs to the script
    for (; i < argv.length; i++) {
      const a = argv[i] as string;
      if (a === "-h" || a === "--help") {
        io.out(HELP);
        return EXIT.OK;
      }
      const eq = a.startsWith("--num-processes=") ? a.slice("--num-processes=".length) : undefined;
      if (a === "--num-processes" || a === "-n" || eq !== undefined) {
        const v = eq ?? argv[++i];
        numProcesses = Number(v);
        if (!Number.isInteger(numProcesses) || numProcesses < 1) {
          throw new UsageError(`--num-processes must be an integer >= 1, got '${v}'`);
        }
      } else if (a.startsWith("-")) throw new UsageError(`unknown option '${a}'`);
      else break;
    }
    const script = argv[i];
    if (!script) throw new UsageError("missing <script>");
    const { code } = await launch({ script, args: argv.slice(i + 1), numProcesses });
    return code;
  },
};
