// Signs or verifies one message with the official Standard Webhooks library, so edgepub's
// implementation is checked against the reference, not against itself.
//
//   node standard_webhooks.mjs sign SECRET ID UNIX_SECONDS < body      -> prints the signature
//   node standard_webhooks.mjs verify SECRET < request.json           -> prints the payload
//     (request.json: {"headers": {...}, "body": "..."})
import pkg from "standardwebhooks";
const { Webhook } = pkg;

const [mode, secret, id, ts] = process.argv.slice(2);
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const input = Buffer.concat(chunks).toString("utf8");
const wh = new Webhook(secret);
if (mode === "sign") {
  process.stdout.write(wh.sign(id, new Date(Number(ts) * 1000), input));
} else {
  const req = JSON.parse(input);
  process.stdout.write(JSON.stringify(wh.verify(req.body, req.headers)));
}
