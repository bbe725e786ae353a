// A client-only SPA: the Worker serves index.html for every dashboard path.
export const ssr = false;
export const prerender = false;
