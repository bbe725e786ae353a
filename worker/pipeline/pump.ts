/**
 * The work that follows transitions inside one DO invocation: evaluations run at once, plugin calls at
 * most LIMIT at a time (Workers allow 6 simultaneous outbound connections per invocation). Each finished
 * job steps the planner and feeds the jobs it produced back in, so a chain advances without alarms.
 */
import type { DispatchJob, Job } from "./transition";

export const MAX_IN_FLIGHT = 6;

export class Pump {
  private readonly queue: DispatchJob[] = [];
  private inFlight = 0;
  private pending = 0;
  private waiters: Array<() => void> = [];
  /** The most plugin calls that were ever in flight at once (asserted by tests). */
  peak = 0;

  constructor(
    private readonly handle: (job: Job) => Promise<Job[]>,
    private readonly limit = MAX_IN_FLIGHT,
  ) {}

  push(jobs: readonly Job[]): void {
    for (const job of jobs) {
      if (job.kind === "dispatch") this.queue.push(job.job);
      else this.start(job, false);
    }
    this.fill();
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private fill(): void {
    while (this.inFlight < this.limit) {
      const job = this.queue.shift();
      if (!job) break;
      this.inFlight++;
      this.peak = Math.max(this.peak, this.inFlight);
      this.start({ kind: "dispatch", job }, true);
    }
    if (this.isIdle()) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private start(job: Job, counted: boolean): void {
    this.pending++;
    // Tracked by `pending` and awaited through idle(); handle() never rejects (see run()).
    void this.run(job).then((next) => {
      if (counted) this.inFlight--;
      this.pending--;
      this.push(next);
    });
  }

  private async run(job: Job): Promise<Job[]> {
    try {
      return await this.handle(job);
    } catch (error) {
      console.error("pipeline job failed", job.kind, job.job.run, error);
      return [];
    }
  }

  private isIdle(): boolean {
    return this.pending === 0 && this.queue.length === 0;
  }
}
