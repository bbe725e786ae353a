// The benchmark's pipelines, as JSON specs. `tag` query parameters let the target record arrivals.

export function chainSpec(target, length = 10) {
  const tasks = Array.from({ length }, (_, i) => ({
    id: `t${i + 1}`,
    uses: "core/http@^1",
    with: { url: `${target}/noop?tag={{ run.id }}-${i + 1}` },
    ...(i === 0 ? {} : { needs: [`t${i}`] }),
  }));
  return { name: `Chain of ${length}`, tasks };
}

/** The spec with a Standard Webhooks trigger `in`: saving it generates the hook's `whsec_` secret. */
export function withWebhook(spec) {
  return { ...spec, triggers: [{ webhook: { id: "in", verify: { scheme: "standard" } } }] };
}

export function fanOutSpec(target, width) {
  return {
    name: `Fan-out ${width}`,
    concurrency: { max_active_tasks: width },
    tasks: [
      { id: "items", uses: "core/transform@^1", with: { expression: `[1..${width}]` } },
      {
        id: "each",
        uses: "core/http@^1",
        needs: ["items"],
        for_each: "{{ tasks.items.output }}",
        with: { url: `${target}/noop?i={{ item }}` },
      },
      {
        id: "join",
        uses: "core/http@^1",
        needs: ["each"],
        with: { url: `${target}/noop?tag={{ run.id }}-join` },
      },
    ],
  };
}

export function wideFanOutSpec(target, width, operatorMs) {
  return {
    name: `Fan-out ${width} × ${operatorMs} ms`,
    concurrency: { max_active_tasks: width },
    tasks: [
      { id: "items", uses: "core/transform@^1", with: { expression: `[1..${width}]` } },
      {
        id: "each",
        uses: "core/http@^1",
        needs: ["items"],
        for_each: "{{ tasks.items.output }}",
        with: { url: `${target}/sleep?ms=${operatorMs}&i={{ item }}` },
        timeout: "30s",
      },
    ],
  };
}
