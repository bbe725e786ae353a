/** Operator logs collected during one call and returned with its result, bounded in count and size. */
import {
  type LogEntry,
  type LogLevel,
  MAX_LOG_ENTRIES as MAX_ENTRIES,
  MAX_LOG_MESSAGE_CHARS as MAX_MESSAGE,
} from "./protocol/index.ts";

export class LogBook {
  readonly #entries: LogEntry[] = [];
  #dropped = 0;

  add(level: LogLevel, message: string): void {
    if (this.#entries.length >= MAX_ENTRIES) {
      this.#dropped++;
      return;
    }
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
    this.#entries.push({ at: new Date().toISOString(), level, message: text });
  }

  /** The entries so far; a final warning says how many were dropped so truncation is never silent. */
  entries(): LogEntry[] {
    if (this.#dropped === 0) return [...this.#entries];
    const note = `${this.#dropped} more log entries were dropped (limit ${MAX_ENTRIES})`;
    return [...this.#entries, { at: new Date().toISOString(), level: "warn", message: note }];
  }
}
