/** Task logs (bounded per attempt) and callback tokens (one per dispatch, consumed by its result). */
import type { PluginLog } from "../runner/outcome";
import { insertRows, MAX_PARAMS } from "./rows";
import type { LogLine } from "./types";

/** Lines kept per attempt; plugins may send 200 per answer, and sensors answer many times. */
export const MAX_LOG_LINES_PER_ATTEMPT = 200;
const MAX_MESSAGE = 4000;

export type AttemptLines = { key: string; attempt: number; lines: readonly PluginLog[] };

export type CallbackRow = { token: string; run: string; key: string; attempt: number; dispatch: number };

export class Records {
  constructor(private readonly sql: SqlStorage) {}

  /** The lines of several attempts of one run, each attempt kept within its bound. */
  logAll(run: string, entries: readonly AttemptLines[], now: number): void {
    const written = entries.filter((e) => e.lines.length > 0);
    if (written.length === 0) return;
    const counts = new Map<string, number>();
    const keys = [...new Set(written.map((e) => e.key))];
    for (let i = 0; i < keys.length; i += MAX_PARAMS - 1) {
      const chunk = keys.slice(i, i + MAX_PARAMS - 1);
      const rows = this.sql.exec<{ key: string; attempt: number; n: number }>(
        `SELECT key, attempt, COUNT(*) AS n FROM logs WHERE run = ? AND key IN (${chunk.map(() => "?").join(", ")})
         GROUP BY key, attempt`,
        run,
        ...chunk,
      );
      for (const row of rows) counts.set(`${row.key} ${row.attempt}`, row.n);
    }
    const rows: SqlStorageValue[][] = [];
    for (const { key, attempt, lines } of written) {
      const id = `${key} ${attempt}`;
      const room = Math.max(0, MAX_LOG_LINES_PER_ATTEMPT - (counts.get(id) ?? 0));
      counts.set(id, (counts.get(id) ?? 0) + Math.min(room, lines.length));
      for (const line of lines.slice(0, room)) {
        const at = Date.parse(line.at);
        rows.push([
          run,
          key,
          attempt,
          Number.isNaN(at) ? now : at,
          line.level,
          line.message.slice(0, MAX_MESSAGE),
        ]);
      }
    }
    insertRows(this.sql, "INSERT INTO logs (run, key, attempt, at, level, message)", rows);
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

  addCallbacks(rows: readonly CallbackRow[]): void {
    insertRows(
      this.sql,
      "INSERT INTO callbacks (token, run, key, attempt, dispatch)",
      rows.map((r) => [r.token, r.run, r.key, r.attempt, r.dispatch]),
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

  /** The tokens of answered dispatches of one run, by (key, dispatch). */
  dropCallbacks(run: string, answered: readonly { key: string; dispatch: number }[]): void {
    const perStatement = Math.floor((MAX_PARAMS - 1) / 2);
    for (let i = 0; i < answered.length; i += perStatement) {
      const chunk = answered.slice(i, i + perStatement);
      this.sql.exec(
        `DELETE FROM callbacks WHERE run = ? AND (key, dispatch) IN (VALUES ${chunk.map(() => "(?, ?)").join(", ")})`,
        run,
        ...chunk.flatMap((a) => [a.key, a.dispatch]),
      );
    }
  }
}
