/**
 * The job queue: calls run one at a time (or `concurrency` at a time) in arrival order; each job
 * reports its position while it waits and its progress while it runs.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { SpacesError } from "./errors.ts";

export interface JobState {
  id: string;
  status: "queued" | "running" | "done" | "error";
  /** 0-based place among waiting jobs (0 = next), while queued. */
  position?: number;
  progress?: { fraction: number; desc?: string };
  result?: unknown[];
  error?: { code: string; message: string };
  duration?: number;
}

interface Job extends JobState {
  run: () => Promise<unknown[]>;
  done: Promise<void>;
  settle: () => void;
  finishedAt?: number;
}

const current = new AsyncLocalStorage<Job>();

/**
 * Reports progress from inside a demo function (a no-op outside one).
 * @example
 * for (let i = 0; i < steps; i++) { progress(i / steps, `step ${i}`); await work(i); }
 */
export function progress(fraction: number, desc?: string): void {
  const job = current.getStore();
  if (job) job.progress = { fraction: Math.min(Math.max(fraction, 0), 1), desc };
}

export class Queue {
  private readonly jobs = new Map<string, Job>();
  private readonly waiting: Job[] = [];
  private running = 0;

  constructor(
    private readonly concurrency = 1,
    private readonly maxSize = 100,
    /** Finished jobs are kept this long for polling. */
    private readonly keepMs = 5 * 60_000,
  ) {}

  /** Queues `run`; returns the job id at once. */
  push(run: () => Promise<unknown[]>): Job {
    this.gc();
    if (this.waiting.length >= this.maxSize)
      throw new SpacesError(
        "HEARTH_SPACES_QUEUE_FULL",
        `queue: ${this.waiting.length} jobs are waiting, try again later`,
      );
    let settle = () => {};
    const done = new Promise<void>((r) => {
      settle = r;
    });
    const job: Job = { id: randomUUID(), status: "queued", run, done, settle };
    this.jobs.set(job.id, job);
    this.waiting.push(job);
    this.pump();
    return job;
  }

  get(id: string): JobState {
    const job = this.jobs.get(id);
    if (!job) throw new SpacesError("HEARTH_SPACES_NOT_FOUND", `queue: no job '${id.slice(0, 60)}'`);
    const { run: _r, done: _d, settle: _s, finishedAt: _f, ...state } = job;
    if (job.status === "queued") state.position = this.waiting.indexOf(job);
    return state;
  }

  /** Resolves once the job has finished (done or error). */
  async wait(id: string): Promise<JobState> {
    await this.jobs.get(id)?.done;
    return this.get(id);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length) {
      const job = this.waiting.shift() as Job;
      this.running++;
      job.status = "running";
      job.progress = { fraction: 0 };
      const t0 = performance.now();
      current
        .run(job, () => job.run())
        .then(
          (result) => {
            job.status = "done";
            job.result = result;
            job.progress = { fraction: 1 };
          },
          (e: unknown) => {
            job.status = "error";
            job.error =
              e instanceof SpacesError
                ? { code: e.code, message: e.message }
                : { code: "HEARTH_SPACES_FN_FAILED", message: e instanceof Error ? e.message : String(e) };
          },
        )
        .finally(() => {
          job.duration = (performance.now() - t0) / 1000;
          job.finishedAt = Date.now();
          this.running--;
          job.settle();
          this.pump();
        });
    }
  }

  private gc(): void {
    const now = Date.now();
    for (const [id, j] of this.jobs) if (j.finishedAt && now - j.finishedAt > this.keepMs) this.jobs.delete(id);
  }
}
