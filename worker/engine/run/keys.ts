/**
 * Instance keys: how the DO, the timer table and plugin callbacks name one task instance of a run.
 * Task ids cannot contain brackets (spec NAME_PATTERN), so the mapped form parses back unambiguously.
 */

/**
 * `notify` for an unmapped task (map_index -1), `notify[3]` for a mapped instance.
 * @example taskKey("notify", 3) // "notify[3]"
 */
export function taskKey(task: string, mapIndex: number): string {
  return mapIndex < 0 ? task : `${task}[${mapIndex}]`;
}

const MAPPED_KEY = /^(.+)\[(\d{1,9})\]$/;

/** The inverse of taskKey; null for a string taskKey never produces. */
export function parseTaskKey(key: string): { task: string; map_index: number } | null {
  const mapped = MAPPED_KEY.exec(key);
  if (mapped) {
    const [, task, index] = mapped;
    return task === undefined || index === undefined ? null : { task, map_index: Number(index) };
  }
  return key === "" || key.includes("[") ? null : { task: key, map_index: -1 };
}

/** Timer-table ids: one timer per instance at a time (timeout, poke or retry) and one for the run timeout. */
export function instanceTimerId(key: string): string {
  return `task:${key}`;
}
export const RUN_TIMER_ID = "run";
