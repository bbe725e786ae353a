/**
 * Maps a path in the parsed value back to a line and column in the YAML (or JSON) source, so editors
 * can underline the offending node. A path that does not exist in the source (a missing required field,
 * a default) points at the nearest node that does.
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  type YAMLMap,
} from "yaml";
import type { PathSegment } from "./issue";

export type Position = { line: number; column: number };
export type Locator = (path: readonly PathSegment[], atKey?: boolean) => Position | undefined;

export function createLocator(doc: Document, lineCounter: LineCounter): Locator {
  const positionOf = (node: Node | null | undefined): Position | undefined => {
    const offset = node?.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  return (path, atKey = false) => {
    let node = resolve(doc, doc.contents);
    let best = positionOf(node);
    for (const [i, segment] of path.entries()) {
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = findPair(doc, node, String(segment));
        if (!pair) break;
        const keyNode = isScalar(pair.key) ? pair.key : undefined;
        // An empty value (`description:`) has no node of its own; its key is the closest thing.
        if ((last && atKey) || pair.value === null) return positionOf(keyNode) ?? best;
        node = resolve(doc, pair.value as Node);
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment];
        if (item === undefined) break;
        node = resolve(doc, item as Node);
      } else {
        break;
      }
      best = positionOf(node) ?? best;
    }
    return best;
  };
}

function resolve(doc: Document, node: Node | null | undefined): Node | null | undefined {
  // Aliases point at their anchor: the only place the aliased content is written.
  if (isAlias(node)) return node.resolve(doc) ?? node;
  return node;
}

function findPair(doc: Document, map: YAMLMap, key: string, depth = 0): Pair | undefined {
  let merged: Pair | undefined;
  for (const item of map.items) {
    if (!isPair(item) || !isScalar(item.key)) continue;
    const name = item.key.value;
    if (typeof name !== "symbol" && String(name) === key) return item;
    // `<<: *base` merge keys (a symbol key): the field is written in the merged mapping.
    if (!merged && depth < 8 && typeof name === "symbol") {
      for (const source of isSeq(item.value) ? item.value.items : [item.value]) {
        const target = resolve(doc, source as Node);
        if (isMap(target)) merged = findPair(doc, target, key, depth + 1);
        if (merged) break;
      }
    }
  }
  return merged;
}
