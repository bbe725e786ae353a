/**
 * PipelineDO: one per (tenant, pipeline), named `${tenantId}:${pipelineId}`. A thin class: the
 * constructor migrates the schema, RPC methods delegate to the Driver and views, and every method that
 * starts work hands the rest of the chain to `waitUntil` and re-arms the alarm.
 */
import { DurableObject } from "cloudflare:workers";
import type { RunEvent, RunStatus } from "../engine";
import { Driver } from "./driver";
import { migrate } from "./migrations";
import type { Changed, CreateRunInput, LogLine, RunDetail, RunSummary } from "./types";
import { runDetail } from "./view";

export class PipelineDO extends DurableObject<Env> {
  private readonly driver: Driver;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.driver = new Driver(ctx, env);
    void ctx.blockConcurrencyWhile(async () => migrate(ctx.storage));
  }

  async createRun(input: CreateRunInput): Promise<{ id: string; status: string }> {
    const created = this.driver.createRun(input);
    await this.continue();
    return created;
  }

  getRun(id: string): RunDetail | null {
    return runDetail(this.driver, id);
  }

  listRuns(query: { status?: RunStatus; limit: number; cursor?: string }): {
    items: RunSummary[];
    next_cursor: string | null;
  } {
    const before = query.cursor === undefined ? undefined : Number(query.cursor);
    const page = this.driver.store.list(
      query.status,
      query.limit,
      Number.isInteger(before) ? before : undefined,
    );
    return { items: page.items, next_cursor: page.next === null ? null : String(page.next) };
  }

  cancelRun(id: string): Promise<Changed<{ status: string }>> {
    return this.act(id, { type: "cancel", reason: "cancelled by a person" });
  }

  retryTask(id: string, task: string, downstream: boolean): Promise<Changed<{ status: string }>> {
    return this.act(id, { type: "retry_task", task, downstream });
  }

  markTask(id: string, task: string, status: "success" | "failed"): Promise<Changed<{ status: string }>> {
    return this.act(id, { type: "mark", task, status });
  }

  taskLogs(id: string, task: string): Changed<LogLine[]> {
    const run = this.driver.store.run(id);
    if (!run) return { ok: false, error: "not_found", detail: "No such run." };
    if (!run.state.tasks[task]) return { ok: false, error: "not_found", detail: "No such task." };
    return { ok: true, value: this.driver.records.logs(id, task) };
  }

  async deliverCallback(token: string, body: unknown): Promise<Changed<null>> {
    const result = await this.driver.deliverCallback(token, body);
    await this.continue();
    return result;
  }

  /** Resolves once no evaluation or plugin call is in flight; with the peak concurrency seen so far. */
  async settled(): Promise<{ peak_in_flight: number }> {
    await this.driver.pump.idle();
    return { peak_in_flight: this.driver.pump.peak };
  }

  override async alarm(): Promise<void> {
    try {
      this.driver.recover();
      this.driver.deliverDueTimers(Date.now());
      await this.driver.pump.idle();
    } finally {
      await this.driver.timers.arm();
    }
  }

  private async act(id: string, event: RunEvent): Promise<Changed<{ status: string }>> {
    const result = this.driver.change(id, event);
    await this.continue();
    return result;
  }

  /** Timers of this transition are armed before answering; the chain continues after the answer. */
  private async continue(): Promise<void> {
    this.driver.recover();
    await this.driver.timers.arm();
    this.ctx.waitUntil(this.driver.pump.idle().then(() => this.driver.timers.arm()));
  }
}
