/** Reading the opaque `?cursor=` values list routes hand out; anything else is a 422 on `cursor`. */
import { problems } from "../problem";

export function badCursor() {
  return problems.validation(
    [{ path: "cursor", message: "not a cursor this API returned" }],
    "The query is not valid.",
  );
}

/** A cursor that is a row's integer position (audit seq, version number). */
export function integerCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const value = Number(cursor);
  if (!Number.isSafeInteger(value)) throw badCursor();
  return value;
}
