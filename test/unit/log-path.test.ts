/** Paths under capability routes are logged without the capability. */
import { describe, expect, it } from "vitest";
import { loggablePath } from "../../worker/log-path";

describe("loggablePath", () => {
  it("redacts the token of an invitation link and of a plugin callback", () => {
    expect(loggablePath("/api/invitations/inv_s3cr3t")).toBe("/api/invitations/{token}");
    expect(loggablePath("/api/invitations/inv_s3cr3t/accept")).toBe("/api/invitations/{token}/accept");
    expect(loggablePath("/api/callbacks/cb_s3cr3t")).toBe("/api/callbacks/{token}");
    expect(loggablePath("/invitations/inv_s3cr3t")).toBe("/invitations/{token}");
  });

  it("redacts however the path is spelled: repeated slashes, trailing slash, letter case", () => {
    for (const path of [
      "//api//invitations//inv_s3cr3t/accept",
      "/api/invitations/inv_s3cr3t/",
      "/API/Invitations/inv_s3cr3t",
      "/api/callbacks/cb_s3cr3t/extra/parts",
    ]) {
      expect(loggablePath(path)).not.toContain("s3cr3t");
    }
  });

  it("keeps every other path as it is, including a tenant's invitation ids (they are public)", () => {
    for (const path of [
      "/api/tenants/acme/invitations/inv_public",
      "/api/tenants/acme/pipelines/orders/runs",
      "/api/invitations",
      "/api/invitations/",
    ]) {
      expect(loggablePath(path)).toBe(path);
    }
  });
});
