export { CACHED_NO_EXIST } from "./cache/layout.ts";
export type { CachedFile, CachedRepo, CachedRevision, CacheInfo } from "./cache/scan.ts";
export type { AddContent } from "./commit/source.ts";
export {
  DEFAULT_ENDPOINT,
  hfHome,
  hubCacheDir,
  hubEndpoint,
  isOffline,
  storedTokensPath,
  tokenPath,
} from "./config.ts";
export { HUB_ERROR_CODES, HubError, type HubErrorCode, isHubError } from "./errors.ts";
export { type CreateBranchOptions, createBranch } from "./lib/create-branch.ts";
export {
  type CommitAdd,
  type CommitCopy,
  type CommitDelete,
  type CommitOperation,
  type CreateCommitOptions,
  createCommit,
} from "./lib/create-commit.ts";
export { type CreateRepoOptions, createRepo } from "./lib/create-repo.ts";
export { type CreateTagOptions, createTag } from "./lib/create-tag.ts";
export { type DeleteBranchOptions, deleteBranch } from "./lib/delete-branch.ts";
export { type DeleteRepoOptions, deleteRepo } from "./lib/delete-repo.ts";
export { type DeleteTagOptions, deleteTag } from "./lib/delete-tag.ts";
export { type FileMetadata, type GetHfFileMetadataOptions, getHfFileMetadata } from "./lib/get-hf-file-metadata.ts";
export { type GetPathsInfoOptions, getPathsInfo } from "./lib/get-paths-info.ts";
export { getToken } from "./lib/get-token.ts";
export { type HfHubDownloadOptions, hfHubDownload } from "./lib/hf-hub-download.ts";
export { type HfHubUrlOptions, hfHubUrl } from "./lib/hf-hub-url.ts";
export { type ListRepoCommitsOptions, listRepoCommits } from "./lib/list-repo-commits.ts";
export { type ListRepoRefsOptions, listRepoRefs } from "./lib/list-repo-refs.ts";
export { type ListRepoTreeOptions, listRepoTree } from "./lib/list-repo-tree.ts";
export { type ListReposOptions, listRepos } from "./lib/list-repos.ts";
export { type LoginOptions, type LoginResult, login } from "./lib/login.ts";
export { type LogoutOptions, type LogoutResult, logout } from "./lib/logout.ts";
export { type PruneCacheOptions, type PruneResult, pruneCache } from "./lib/prune-cache.ts";
export { type RepoInfoOptions, repoInfo } from "./lib/repo-info.ts";
export { type ScanCacheDirOptions, scanCacheDir } from "./lib/scan-cache-dir.ts";
export { type SnapshotDownloadOptions, snapshotDownload } from "./lib/snapshot-download.ts";
export { type TryToLoadFromCacheOptions, tryToLoadFromCache } from "./lib/try-to-load-from-cache.ts";
export { type UploadFileOptions, uploadFile } from "./lib/upload-file.ts";
export { type UploadFolderOptions, uploadFolder } from "./lib/upload-folder.ts";
export { whoami } from "./lib/whoami.ts";
export type * from "./types/public.ts";
export { formatBytes } from "./utils/progress.ts";
