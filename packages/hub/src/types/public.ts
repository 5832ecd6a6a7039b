/** Types users of `@hearth/hub` see. Wire formats live in `types/api/`. */

export type RepoType = "model" | "dataset" | "space";

/** A repo as `"org/name"` (a model), or with its type spelled out. */
export type RepoDesignation = string | { type: RepoType; name: string };

/** Options every hub call accepts. */
export interface HubCallOptions {
  /** Hub base URL; defaults to `HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** Access token. `undefined`: HF_TOKEN or the stored token; `false`: send none. */
  accessToken?: string | false;
  /** Injected fetch (tests, proxies). Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Abort the call. */
  signal?: AbortSignal;
}

/** Progress of a transfer, in bytes. */
export interface ProgressEvent {
  /** What is being moved: a path in the repo. */
  path: string;
  loaded: number;
  total: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

export interface WhoAmI {
  type: "user" | "org" | "app";
  id?: string;
  name: string;
  fullname?: string;
  email?: string | null;
  orgs: { name: string; fullname?: string; roleInOrg?: string }[];
  auth: { type?: string; accessToken?: { displayName: string; role: string; createdAt?: string } };
}

export interface LfsInfo {
  oid: string;
  size: number;
  pointerSize: number;
}

export interface LastCommit {
  id: string;
  title: string;
  date: string;
}

/** One entry of a tree listing or of paths-info. */
export interface RepoEntry {
  type: "file" | "directory";
  path: string;
  /** git blob (or tree) sha1. */
  oid: string;
  size: number;
  lfs?: LfsInfo;
  lastCommit?: LastCommit;
}

export interface RepoSibling {
  rfilename: string;
  size?: number;
  blobId?: string;
  lfs?: { size: number; sha256: string; pointerSize: number };
}

export interface RepoInfo {
  id: string;
  type: RepoType;
  sha?: string;
  private?: boolean;
  gated?: false | "auto" | "manual";
  disabled?: boolean;
  lastModified?: string;
  createdAt?: string;
  author?: string;
  tags?: string[];
  downloads?: number;
  likes?: number;
  siblings?: RepoSibling[];
  /** Every other field the hub sent, untouched. */
  raw: Record<string, unknown>;
}

export interface GitRef {
  name: string;
  ref: string;
  targetCommit: string;
}

export interface RepoRefs {
  branches: GitRef[];
  tags: GitRef[];
  converts: GitRef[];
  pullRequests?: GitRef[];
}

export interface CommitSummary {
  id: string;
  title: string;
  message: string;
  authors: { user: string; avatar?: string }[];
  date: string;
}

export interface CommitInfo {
  commitOid: string;
  commitUrl: string;
  pullRequestUrl: string | null;
}
