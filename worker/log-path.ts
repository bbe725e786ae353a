/**
 * A request path fit for a log line. Some paths carry a bearer capability — the token of an invitation
 * link (`/api/invitations/{token}`, and the dashboard's `/invitations/{token}`) or of a plugin callback
 * (`/api/callbacks/{token}`) — and whoever reads the logs must not be able to use it.
 */
const CAPABILITY_SEGMENT = /^((?:\/+api)?\/+(?:invitations|callbacks)\/+)[^/]+/i;

export function loggablePath(path: string): string {
  return path.replace(CAPABILITY_SEGMENT, "$1{token}");
}
