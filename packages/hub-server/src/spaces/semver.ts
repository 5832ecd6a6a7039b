/**
 * Just enough of npm's version ranges to decide whether a package already installed in the
 * workspace can serve a Space dependency offline: `*`, `x`, `latest`, `1.2.3`, `^1.2.3`,
 * `~1.2.3`, `>=1.2.3`, and `||` of those. Anything else answers false (npm then installs it).
 */
type V = [number, number, number];

function parse(v: string): V | undefined {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(v.trim());
  if (!m) return undefined;
  const n = (s: string | undefined) => (s === undefined || s === "x" || s === "*" ? 0 : Number(s));
  return [n(m[1]), n(m[2]), n(m[3])];
}

const cmp = (a: V, b: V) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

function one(version: V, range: string): boolean {
  const r = range.trim();
  if (r === "" || r === "*" || r === "x" || r === "latest") return true;
  const op = /^(\^|~|>=)?\s*(.+)$/.exec(r);
  const want = op && parse(op[2] as string);
  if (!op || !want) return false;
  // a prerelease or build suffix in the installed version is not handled: refuse
  switch (op[1]) {
    case ">=":
      return cmp(version, want) >= 0;
    case "^":
      if (cmp(version, want) < 0) return false;
      if (want[0] > 0) return version[0] === want[0];
      if (want[1] > 0) return version[0] === 0 && version[1] === want[1];
      return version[0] === 0 && version[1] === 0 && version[2] === want[2];
    case "~":
      return cmp(version, want) >= 0 && version[0] === want[0] && version[1] === want[1];
    default: {
      // "1", "1.2" and "1.x" are ranges too
      const parts = (op[2] as string).split(".").filter((p) => p !== "x" && p !== "*").length;
      return version.slice(0, parts).every((x, i) => x === want[i]);
    }
  }
}

/** Does `version` (e.g. "2.9.1") satisfy the npm `range`? */
export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return !!v && range.split("||").some((r) => one(v, r));
}
