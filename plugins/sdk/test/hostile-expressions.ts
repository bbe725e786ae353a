/**
 * Expressions a hostile tenant could write, each with what the bounded evaluator must say when it stops
 * it. One corpus for every place that evaluates tenant JSONata: core/transform
 * (plugins/core/test/transform.test.ts) and the platform's templates (test/worker/bounded-expressions.test.ts).
 */
export const HOSTILE_EXPRESSIONS: ReadonlyArray<[label: string, expression: string, says: RegExp]> = [
  ["a huge range", "[1..1e9]", /sequence|array|items/i],
  ["a range under jsonata's own limit", "$count([1..9999999])", /sequence|array|items|steps/i],
  ["unbounded recursion", "($f := function($n) { $n + $f($n + 1) }; $f(0))", /stack overflow|stopped/i],
  // Either bound may stop it first: the step count on an idle machine, the time on a loaded one.
  ["an endless tail-call loop", "($f := function($n) { $f($n + 1) }; $f(0))", /steps|took longer than/],
  ["doubling a string", "$reduce([1..40], function($acc, $i) { $acc & $acc }, 'xx')", /string grew|steps/],
  [
    "doubling an array",
    "$reduce([1..30], function($acc, $i) { $append($acc, $acc) }, [1])",
    /sequence|steps/,
  ],
  ["a giant pad", "$pad('', 500000000)", /\$pad width/],
  ["a giant join", "$join([1..1000].$pad('', 10000))", /\$join would build|steps/],
  ["many large pads (allocation, not steps)", "[1..300].$pad('', 999999, 'x')", /steps/],
  ["a quadratic $sort", "$sort([1..100000])", /sorting or de-duplicating/],
  ["a quadratic $distinct", "$distinct([1..100000])", /sorting or de-duplicating/],
  ["a quadratic order-by", "[1..20000]^($)", /sorting or de-duplicating/],
  [
    "nested quantifiers",
    "$contains('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /(a+)+$/)",
    /quantifies a group/,
  ],
  [
    "alternation under a quantifier",
    "$match('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /(a|a)*$/)",
    /quantifies a group/,
  ],
  ["polynomial backtracking", "$contains($pad('', 9000, 'a'), /.*.*.*x/)", /unbounded quantifiers/],
  ["a regex over a huge subject", "$contains($pad('', 20000, 'a'), /a+x/)", /more than 10000 characters/],
];
