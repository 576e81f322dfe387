// Drives the proxy with the official @upstash/redis SDK, the way edges talk to Upstash.
//
// Env: PROXY_URL, PROXY_TOKEN (required); KEY_PREFIX (default: random);
// EDGEPUB_TEST_NODE_MODULES (default /work/main/node_modules). The SDK is imported by
// absolute path because ESM imports ignore NODE_PATH.
// Prints one line per check and ends with "sdk: N passed, M failed"; exits 1 on any failure.

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual, inspect } from "node:util";

const url = process.env.PROXY_URL;
const token = process.env.PROXY_TOKEN;
if (!url || !token) {
  console.error("PROXY_URL and PROXY_TOKEN must be set");
  process.exit(2);
}
const nodeModules = process.env.EDGEPUB_TEST_NODE_MODULES || "/work/main/node_modules";
const sdkEntry = join(nodeModules, "@upstash", "redis", "nodejs.mjs");
let Redis;
try {
  ({ Redis } = await import(pathToFileURL(sdkEntry).href));
} catch (e) {
  console.error(`cannot load @upstash/redis from ${sdkEntry}: ${e.message}`);
  console.error("run `npm install` in the directory that holds package.json");
  process.exit(2);
}

const prefix = process.env.KEY_PREFIX || `sdktest:${Math.random().toString(36).slice(2)}`;
const key = (name) => `${prefix}:${name}`;
// No retries: a failing proxy must fail the check now, not after backoff.
const options = { url, token, retry: false, enableTelemetry: false };
const redis = new Redis(options); // base64 responses and auto-pipelining, the defaults
const plain = new Redis({ ...options, responseEncoding: false, enableAutoPipelining: false });

let passed = 0;
let failed = 0;
async function check(name, fn, expected) {
  try {
    const actual = await fn();
    if (isDeepStrictEqual(actual, expected)) {
      passed++;
      console.log(`ok   ${name}`);
    } else {
      failed++;
      console.log(`FAIL ${name}: expected ${inspect(expected)}, got ${inspect(actual)}`);
    }
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: threw ${e?.message ?? e}`);
  }
}
async function rejects(name, fn, pattern) {
  try {
    const value = await fn();
    failed++;
    console.log(`FAIL ${name}: expected an error, got ${inspect(value)}`);
  } catch (e) {
    const message = String(e?.message ?? e);
    if (pattern.test(message)) {
      passed++;
      console.log(`ok   ${name}`);
    } else {
      failed++;
      console.log(`FAIL ${name}: error ${inspect(message)} does not match ${pattern}`);
    }
  }
}

const unicode = "héllo ✓ 🚀";
const tricky = "nul:\u0000 high:\u{10FFFF} \u{1F600} 𝄞 latin1:\u00ff\u0080 quote:\" back:\\";
const object = { title: "Ünïcødé ✓", n: 42, nested: { list: [1, "two", null], ok: true } };

for (const [label, client] of [["base64", redis], ["plain", plain]]) {
  const k = (name) => key(`${label}:${name}`);
  await check(`${label} ping`, () => client.ping(), "PONG");
  await check(`${label} set`, () => client.set(k("u"), unicode), "OK");
  await check(`${label} get unicode`, () => client.get(k("u")), unicode);
  await check(`${label} get tricky`, async () => {
    await client.set(k("t"), tricky);
    return client.get(k("t"));
  }, tricky);
  await check(`${label} object round trip`, async () => {
    await client.set(k("o"), object);
    return client.get(k("o"));
  }, object);
  await check(`${label} literal OK value`, async () => {
    await client.set(k("ok"), "OK");
    return client.get(k("ok"));
  }, "OK");
  await check(`${label} get missing`, () => client.get(k("missing")), null);
  await check(`${label} incr`, async () => [await client.incr(k("n")), await client.incr(k("n"))], [1, 2]);
  await check(`${label} set ex + ttl`, async () => {
    await client.set(k("ex"), "v", { ex: 60 });
    const ttl = await client.ttl(k("ex"));
    return ttl > 0 && ttl <= 60;
  }, true);
  await check(`${label} expire + ttl`, async () => {
    const set = await client.expire(k("u"), 120);
    const ttl = await client.ttl(k("u"));
    return [set, ttl > 60 && ttl <= 120];
  }, [1, true]);
  await check(`${label} mget`, () => client.mget(k("u"), k("missing"), k("o")), [unicode, null, object]);
  await check(`${label} hash`, async () => {
    await client.hset(k("h"), { name: unicode, count: 3 });
    return client.hgetall(k("h"));
  }, { name: unicode, count: 3 });
  await check(`${label} sorted set with scores`, async () => {
    await client.zadd(k("z"), { score: 1.5, member: "ä" }, { score: 2, member: "🚀" });
    return client.zrange(k("z"), 0, -1, { withScores: true });
  }, ["ä", 1.5, "🚀", 2]);
  await check(`${label} del`, () => client.del(k("ex"), k("ok"), k("missing")), 2);
  await check(`${label} pipeline`, async () => {
    const p = client.pipeline();
    p.set(k("p1"), unicode);
    p.incr(k("p2"));
    p.get(k("p1"));
    p.get(k("missing"));
    return p.exec();
  }, ["OK", 1, unicode, null]);
  await check(`${label} pipeline keeps errors per command`, async () => {
    const p = client.pipeline();
    p.set(k("p3"), "text");
    p.incr(k("p3"));
    p.get(k("p3"));
    const out = await p.exec({ keepErrors: true });
    return out.map((r) => (r.error ? "error" : r.result));
  }, ["OK", "error", "text"]);
  await check(`${label} multi/exec`, async () => {
    const tx = client.multi();
    tx.set(k("m1"), tricky);
    tx.incr(k("m2"));
    tx.get(k("m1"));
    return tx.exec();
  }, ["OK", 1, tricky]);
  await check(`${label} scan with match and count`, async () => {
    const want = [];
    for (let i = 0; i < 12; i++) {
      want.push(k(`scan:${i}:ü`));
      await client.set(want[i], i);
    }
    const found = new Set();
    let cursor = "0";
    for (let round = 0; round < 1000; round++) {
      const [next, keys] = await client.scan(cursor, { match: k("scan:*"), count: 5 });
      keys.forEach((key) => found.add(key));
      cursor = String(next);
      if (cursor === "0") break;
    }
    return [...found].sort().join("|") === want.sort().join("|");
  }, true);
  await rejects(`${label} redis error surfaces`, () => client.incr(k("p3")), /not an integer/);
  await rejects(`${label} refused command`, () => client.exec(["blpop", k("l"), "1"]),
    /not supported over REST/);
}

// Auto-pipelining batches these into /pipeline requests. The write is awaited first: the SDK
// may split one tick's commands over two requests in flight at once, so a read batched with
// its own write can run first (seen once in CI: the GET answered null).
await check("auto-pipelined batch", async () => {
  await redis.set(key("ap1"), unicode);
  return Promise.all([redis.get(key("ap1")), redis.incr(key("ap2")), redis.get(key("nothing"))]);
}, [unicode, 1, null]);
await rejects("wrong token", () => new Redis({ ...options, token: "wrong" }).get(key("u")), /Unauthorized/);

// Clean up what this run wrote.
let cursor = "0";
do {
  const [next, keys] = await plain.scan(cursor, { match: `${prefix}:*`, count: 500 });
  if (keys.length) await plain.del(...keys);
  cursor = String(next);
} while (cursor !== "0");

console.log(`sdk: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
