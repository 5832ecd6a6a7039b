import { createInterface } from "node:readline/promises";
import { getToken, login, logout, whoami } from "@hearth/hub";
import { COMMON_OPTIONS, type Command, parse } from "../command.ts";
import { EXIT, UsageError } from "../exit-codes.ts";

export const loginCommand: Command = {
  name: "login",
  summary: "Validate a token and store it ($HF_HOME/token, stored_tokens)",
  help: `Usage: hearth login [--token TOKEN]

Validates the token with the hub's /api/whoami-v2, then stores it as huggingface_hub does:
the active token in $HF_HOME/token and under its name in $HF_HOME/stored_tokens (mode 0600).
Without --token the token is read from the terminal, or from the first line of stdin.

Options:
  --token TOKEN   the access token (hf_...)
  -h, --help      show this help

Example:
  echo "$MY_TOKEN" | hearth login`,
  async run(argv, io) {
    const { values } = parse(argv, COMMON_OPTIONS);
    let token = values.token;
    if (!token) {
      const rl = createInterface({
        input: io.stdin,
        output: io.isTTY ? process.stderr : undefined,
        terminal: io.isTTY,
      });
      token = io.isTTY ? await rl.question("Token: ") : await firstLine(rl);
      rl.close();
    }
    if (!token?.trim()) throw new UsageError("no token given: pass --token or pipe it on stdin");
    const res = await login({ token });
    io.out(`Logged in as ${res.user.name} (token '${res.tokenName}', saved to ${res.tokenPath})`);
    return EXIT.OK;
  },
};

async function firstLine(rl: ReturnType<typeof createInterface>): Promise<string> {
  for await (const line of rl) return line;
  return "";
}

export const logoutCommand: Command = {
  name: "logout",
  summary: "Forget stored tokens",
  help: `Usage: hearth logout [--token-name NAME]

Without a name, deletes $HF_HOME/token and $HF_HOME/stored_tokens. With a name, removes
only that stored token (and the active token if it is that one). HF_TOKEN, if set, is not
affected.

Options:
  --token-name NAME   forget only this stored token
  -h, --help          show this help`,
  async run(argv, io) {
    const { values } = parse(argv, { ...COMMON_OPTIONS, "token-name": { type: "string" } });
    const res = await logout({ tokenName: values["token-name"] });
    io.out(res.wasLoggedIn ? "Logged out." : "Not logged in.");
    if (res.envTokenStillSet) io.err("Note: HF_TOKEN is set in the environment and will still be used.");
    return EXIT.OK;
  },
};

export const whoamiCommand: Command = {
  name: "whoami",
  summary: "Show the user the token belongs to",
  help: `Usage: hearth whoami [--token TOKEN]

Prints the user name, then 'orgs: ...' when the user belongs to organisations.
Exits 4 when no token is set or the hub rejects it.

Options:
  --token TOKEN   use this token instead of HF_TOKEN / the stored one
  -h, --help      show this help`,
  async run(argv, io) {
    const { values } = parse(argv, COMMON_OPTIONS);
    const me = await whoami({ accessToken: values.token ?? getToken() });
    io.out(me.name);
    if (me.orgs.length > 0) io.out(`orgs: ${me.orgs.map((o) => o.name).join(",")}`);
    return EXIT.OK;
  },
};
