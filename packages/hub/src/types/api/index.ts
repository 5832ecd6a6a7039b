/** Wire shapes of the hub API (see hub-api.md). Prefixed `Api`. */

export interface ApiErrorBody {
  error?: string | string[];
  error_description?: string;
  message?: string;
  errors?: { message?: string }[];
}

export interface ApiTreeEntry {
  type: "file" | "directory";
  oid: string;
  size: number;
  path: string;
  lfs?: { oid: string; size: number; pointerSize: number };
  lastCommit?: { id: string; title: string; date: string };
  xetHash?: string;
}

export interface ApiPreuploadRequest {
  files: { path: string; size: number; sample: string }[];
  gitIgnore?: string;
}

export interface ApiPreuploadResponse {
  files: { path: string; uploadMode: "lfs" | "regular"; shouldIgnore?: boolean; oid?: string }[];
}

export interface ApiLfsBatchRequest {
  operation: "upload" | "download";
  transfers: string[];
  objects: { oid: string; size: number }[];
  hash_algo: "sha256";
  ref?: { name: string };
}

export interface ApiLfsAction {
  href: string;
  header?: Record<string, string>;
  expires_in?: number;
}

export interface ApiLfsBatchResponse {
  transfer?: "basic" | "multipart";
  objects: {
    oid: string;
    size: number;
    authenticated?: boolean;
    actions?: { upload?: ApiLfsAction; verify?: ApiLfsAction; download?: ApiLfsAction };
    error?: { code: number; message: string };
  }[];
}

export interface ApiCommitHeader {
  summary: string;
  description: string;
  parentCommit?: string;
}

export type ApiCommitLine =
  | { key: "header"; value: ApiCommitHeader }
  | { key: "file"; value: { path: string; content: string; encoding: "base64" } }
  | { key: "lfsFile"; value: { path: string; algo: "sha256"; oid: string; size?: number } }
  | { key: "deletedFile"; value: { path: string } }
  | { key: "deletedFolder"; value: { path: string } };

export interface ApiCommitResponse {
  commitOid: string;
  commitUrl: string;
  pullRequestUrl?: string | null;
}

export interface ApiCreateRepoResponse {
  url: string;
  name?: string;
  id?: string;
}
