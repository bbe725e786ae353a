// The benchmark's floor: a Worker that does nothing, run by the same `wrangler dev` as the product.
export default {
  fetch: () => new Response("{}", { headers: { "content-type": "application/json" } }),
};
