/** The spec a new pipeline starts from: small, valid, and showing both core operators and a webhook. */
export const EXAMPLE_SPEC = `name: Hello Updraft
description: Fetch a document over HTTP and keep the fields we need.
triggers:
  - webhook:
      id: inbound
      verify: { scheme: standard }
tasks:
  - id: fetch
    uses: core/http@^1
    with:
      method: GET
      url: https://example.com/
  - id: summarize
    uses: core/transform@^1
    needs: [fetch]
    with:
      expression: "{ 'status': tasks.fetch.output.status }"
`;
