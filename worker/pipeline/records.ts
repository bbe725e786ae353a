/** Task logs (bounded per attempt) and callback tokens (one per dispatch, consumed by its result). */
import type { PluginLog } from "../runner/outcome";
import type { LogLine } from "./types";

/** Lines kept per attempt; plugins may send 200 per answer, and sensors answer many times. */
export const MAX_LOG_LINES_PER_ATTEMPT = 200;
const MAX_MESSAGE = 4000;

export type CallbackRow = { token: string; run: string; key: string; attempt: number; dispatch: number };

export class Records {
  constructor(private readonly sql: SqlStorage) {}

  log(run: string, key: string, attempt: number, lines: readonly PluginLog[], now: number): void {
    if (lines.length === 0) return;
    const row = this.sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM logs WHERE run = ? AND key = ? AND attempt = ?",
        run,
        key,
        attempt,
      )
      .toArray()[0];
    const room = MAX_LOG_LINES_PER_ATTEMPT - (row?.n ?? 0);
    for (const line of lines.slice(0, Math.max(0, room))) {
      const at = Date.parse(line.at);
      this.sql.exec(
        "INSERT INTO logs (run, key, attempt, at, level, message) VALUES (?, ?, ?, ?, ?, ?)",
        run,
        key,
        attempt,
        Number.isNaN(at) ? now : at,
        line.level,
        line.message.slice(0, MAX_MESSAGE),
      );
    }
  }

  /** Every line of every instance of the task (mapped ones included), oldest first. */
  logs(run: string, task: string, limit = 1000): LogLine[] {
    return this.sql
      .exec<{ at: number; level: string; message: string; attempt: number }>(
        "SELECT at, level, message, attempt FROM logs WHERE run = ? AND (key = ? OR substr(key, 1, ?) = ?) ORDER BY seq LIMIT ?",
        run,
        task,
        task.length + 1,
        `${task}[`,
        limit,
      )
      .toArray()
      .map((r) => ({
        at: new Date(r.at).toISOString(),
        level: r.level,
        message: r.message,
        attempt: r.attempt,
      }));
  }

  addCallback(row: CallbackRow): void {
    this.sql.exec(
      "INSERT INTO callbacks (token, run, key, attempt, dispatch) VALUES (?, ?, ?, ?, ?)",
      row.token,
      row.run,
      row.key,
      row.attempt,
      row.dispatch,
    );
  }

  callback(token: string): CallbackRow | null {
    return this.sql.exec<CallbackRow>("SELECT * FROM callbacks WHERE token = ?", token).toArray()[0] ?? null;
  }

  /** The token of one dispatch, while it is unanswered. */
  callbackOf(run: string, key: string, dispatch: number): CallbackRow | null {
    return (
      this.sql
        .exec<CallbackRow>(
          "SELECT * FROM callbacks WHERE run = ? AND key = ? AND dispatch = ?",
          run,
          key,
          dispatch,
        )
        .toArray()[0] ?? null
    );
  }

  dropCallback(run: string, key: string, dispatch: number): void {
    this.sql.exec("DELETE FROM callbacks WHERE run = ? AND key = ? AND dispatch = ?", run, key, dispatch);
  }
}
