import { describe, expect, it } from "vitest";
import { BASE, send, signedPost } from "./helpers.ts";

describe("POST /connection/test", () => {
  it("answers ok for a plugin without connection settings", async () => {
    const answer = await signedPost("/connection/test", { connection: {} });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ ok: true, detail: expect.any(String) });
  });

  it("is signed like an invocation", async () => {
    const answer = await send(
      new Request(`${BASE}/connection/test`, { method: "POST", body: '{"connection":{}}' }),
    );
    expect(answer.status).toBe(401);
  });

  it("answers 400 to a body without a connection", async () => {
    const answer = await signedPost("/connection/test", { settings: {} });
    expect(answer.status).toBe(400);
  });
});
