import type { HubDatabase } from "../db/types.ts";

/**
 * Counts downloads in memory and writes them to the database at most once per `intervalMs`,
 * so a burst of downloads costs one UPDATE per repo instead of one per request.
 */
export class DownloadCounter {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: HubDatabase,
    private readonly intervalMs = 1000,
  ) {}

  add(repoId: string): void {
    this.pending.set(repoId, (this.pending.get(repoId) ?? 0) + 1);
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    for (const [id, n] of batch) await this.db.incrementDownloads(id, n);
  }
}
