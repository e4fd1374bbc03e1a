// The GraphQL-over-HTTP audit of graphql-http against a running server: `node graphql_audit.mjs URL`.
// Prints one JSON line per audit: {id, name, status, reason, responseStatus, responseType}.
import { auditServer } from "graphql-http";

const results = await auditServer({ url: process.argv[2] });
for (const result of results) {
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== "ok") {
    line.reason = result.reason;
    line.responseStatus = result.response.status;
    line.responseType = result.response.headers.get("content-type");
  }
  console.log(JSON.stringify(line));
}
