// The GraphQL-over-HTTP specification's audit (graphql-http's serverAudits) against a running
// tillval: prints every audit's id, name, status (ok, warn, error) and reason as JSON lines.
// node http_audit.mjs http://127.0.0.1:PORT/graphql
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  console.log(JSON.stringify({ id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null }));
}
