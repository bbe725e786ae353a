/**
 * The work that follows transitions inside one DO invocation: evaluations run at once, plugin calls at
 * most LIMIT at a time (Workers allow 6 simultaneous outbound connections per invocation). Each finished
 * job steps the planner and feeds the jobs it produced back in, so a chain advances without alarms.
 *
 * When more calls are ready than the object has free slots, they are not sent in waves of six: the
 * pump groups them in batches of ≤ MAX_BATCH (36) and hands each batch to a Dispatcher invocation
 * (remote.ts), so a wide fan-out runs in many invocations at once. A hand-off holds one of the object's
 * slots until the Dispatcher has accepted it; small ready sets (a chain) are called from the object
 * directly.
 */
import { type DispatchReport, MAX_BATCH } from "../dispatcher/batch";
import type { Outcome } from "../runner/outcome";
import { deliverReport, RemoteBatch } from "./remote";
import type { DispatchJob, Job } from "./transition";

export const MAX_IN_FLIGHT = 6;

/** The batch a dispatch job was handed to; dispatch() asks, the pump decides. */
const batches = new WeakMap<DispatchJob, RemoteBatch>();

export function remoteBatchOf(job: DispatchJob): RemoteBatch | undefined {
  return batches.get(job);
}

export class Pump {
  private readonly queue: DispatchJob[] = [];
  /** Plugin calls and hand-offs the object itself has open. */
  private inFlight = 0;
  private pending = 0;
  private waiters: Array<() => void> = [];
  private readonly waiting = new Map<string, (outcome: Outcome) => void>();
  private localPeak = 0;
  private remotePeak = 0;
  /** Batches handed to Dispatcher invocations so far (asserted by tests). */
  handOffs = 0;

  constructor(
    private readonly handle: (job: Job) => Promise<Job[]>,
    private readonly limit = MAX_IN_FLIGHT,
  ) {}

  /** The most plugin connections (calls, hand-offs, RPC batches) ever open at once in one invocation. */
  get peak(): number {
    return Math.max(this.localPeak, this.remotePeak);
  }

  push(jobs: readonly Job[]): void {
    for (const job of jobs) {
      if (job.kind === "dispatch") this.queue.push(job.job);
      else this.start(job, () => {});
    }
    this.fill();
  }

  /** Outcomes a Dispatcher reports: how many answered a dispatch waiting here, and the others. */
  report(report: DispatchReport): { delivered: number; unclaimed: DispatchReport["results"] } {
    this.remotePeak = Math.max(this.remotePeak, report.peak_in_flight);
    return deliverReport(this.waiting, report);
  }

  /** Something is queued or running. */
  get busy(): boolean {
    return !this.isIdle();
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private fill(): void {
    while (this.inFlight < this.limit && this.queue.length > 0) {
      this.inFlight++;
      this.localPeak = Math.max(this.localPeak, this.inFlight);
      const free = this.limit - this.inFlight + 1;
      if (this.queue.length > free) this.handOff(this.queue.splice(0, MAX_BATCH));
      else {
        const job = this.queue.shift();
        if (job) this.start({ kind: "dispatch", job }, () => this.inFlight--);
      }
    }
    if (this.isIdle()) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** One slot is held until the Dispatcher accepted the batch, not while its calls run. */
  private handOff(jobs: DispatchJob[]): void {
    this.handOffs++;
    const batch = new RemoteBatch(jobs.length, this.waiting, () => {
      this.inFlight--;
      this.fill();
    });
    for (const job of jobs) {
      batches.set(job, batch);
      this.start({ kind: "dispatch", job }, () => {});
    }
  }

  private start(job: Job, finished: () => void): void {
    this.pending++;
    // Tracked by `pending` and awaited through idle(); handle() never rejects (see run()).
    void this.run(job).then((next) => {
      this.pending--;
      finished();
      // Fills the freed slot and resolves idle() waiters only after the next jobs are queued.
      this.push(next);
    });
  }

  private async run(job: Job): Promise<Job[]> {
    try {
      return await this.handle(job);
    } catch (error) {
      console.error("pipeline job failed", job.kind, job.job.run, error);
      return [];
    } finally {
      // A job of a batch that ended without handing its call over still counts towards the hand-off.
      if (job.kind === "dispatch") {
        const batch = batches.get(job.job);
        batches.delete(job.job);
        batch?.finished(job.job.token);
      }
    }
  }

  private isIdle(): boolean {
    return this.pending === 0 && this.queue.length === 0;
  }
}
