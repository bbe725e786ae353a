/** The one fetch wrapper: same-origin, cookie session, JSON in and out, problem+json errors as ApiError. */

export type FieldError = { path: string; message: string; line?: number; column?: number };

type ProblemInit = {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  retryAfter?: number;
};

/** An RFC 9457 problem the API answered with (or one synthesized for network and non-JSON failures). */
export class ApiError extends Error {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors: FieldError[];
  /** Seconds from a 429's Retry-After header. */
  readonly retryAfter: number | undefined;

  constructor(problem: ProblemInit) {
    const title = problem.title ?? "Request failed";
    super(problem.detail || title);
    this.name = "ApiError";
    this.type = problem.type ?? "about:blank";
    this.title = title;
    this.status = problem.status;
    this.detail = problem.detail ?? "";
    this.errors = problem.errors ?? [];
    this.retryAfter = problem.retryAfter;
  }
}

function waitFor(seconds: number): string {
  return seconds < 90 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

/** A human sentence for any thrown value: the problem's detail when there is one. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const message = error.detail || error.title;
    return error.retryAfter ? `${message} (retry in ${waitFor(error.retryAfter)})` : message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

type Query = Record<string, string | number | undefined>;

let unauthorized: (() => void) | undefined;

/** Registers what to do when any request answers 401 (the session expired or was signed out elsewhere). */
export function onUnauthorized(handler: () => void): void {
  unauthorized = handler;
}

export type RequestOptions = {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent verbatim with `contentType` (pipeline specs in YAML). */
  text?: string;
  contentType?: string;
  query?: Query;
  signal?: AbortSignal;
};

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

async function problemFrom(response: Response): Promise<ApiError> {
  const retry = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
  const retryAfter = Number.isFinite(retry) ? retry : undefined;
  if ((response.headers.get("content-type") ?? "").includes("json")) {
    try {
      const body = (await response.json()) as Partial<ProblemInit>;
      return new ApiError({ ...body, status: body.status ?? response.status, retryAfter });
    } catch {
      // not a problem document after all: fall through to a generic one
    }
  }
  return new ApiError({
    status: response.status,
    title: response.statusText || `HTTP ${response.status}`,
    detail: `The server answered ${response.status} ${response.statusText}`.trim(),
    retryAfter,
  });
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json, application/problem+json" };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.text !== undefined) {
    headers["content-type"] = options.contentType ?? "text/plain";
    body = options.text;
  }

  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body,
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError({ status: 0, title: "Network error", detail: "Could not reach the Updraft API." });
  }

  if (!response.ok) {
    if (response.status === 401) unauthorized?.();
    throw await problemFrom(response);
  }
  if (response.status === 204 || response.headers.get("content-length") === "0") return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}
