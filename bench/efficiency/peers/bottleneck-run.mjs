// Bottleneck (npm, pinned in package.json) told the true rate, sending a batch file the way its README recommends
// for a known rate: `minTime` = one request every 60,000 ÷ rpm ms, no cap on concurrency. A 429 is retried through
// Bottleneck's "failed" event after a short delay (up to MAX_RETRIES times); anything else ends the request.
//
//   node bottleneck-run.mjs REQUESTS.jsonl BASE_URL RPM [ATTEMPT_TIMEOUT_MS]      (RPM 0: no limit, for the warm-up)
//
// Prints one JSON object: {"requests","succeeded","attempts","throttled","lost":{reason: count}}.
import { readFile } from "node:fs/promises";
import Bottleneck from "bottleneck";

const RETRY_DELAY_MS = 100;
const MAX_RETRIES = 20;

const [file, baseUrl, rpmText, timeoutText] = process.argv.slice(2);
const rpm = Number(rpmText);
if (!file || !baseUrl || !(rpm >= 0)) {
  console.error("usage: node bottleneck-run.mjs REQUESTS.jsonl BASE_URL RPM [ATTEMPT_TIMEOUT_MS]");
  process.exit(2);
}
const attemptTimeoutMs = Number(timeoutText ?? 60000);

const lines = (await readFile(file, "utf8")).split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line));
const limiter = new Bottleneck({ minTime: rpm > 0 ? 60000 / rpm : 0, maxConcurrent: null });
const tally = { requests: lines.length, succeeded: 0, attempts: 0, throttled: 0, lost: {} };

class Throttled extends Error {}

limiter.on("failed", (error, jobInfo) => {
  if (error instanceof Throttled && jobInfo.retryCount < MAX_RETRIES) {
    return RETRY_DELAY_MS;
  }
  return undefined;
});

async function send(line) {
  tally.attempts++;
  const response = await fetch(new URL(line.url.replace(/^\//, ""), baseUrl.endsWith("/") ? baseUrl : baseUrl + "/"), {
    method: line.method,
    headers: { "content-type": "application/json", "x-sluice-custom-id": line.custom_id },
    body: JSON.stringify(line.body),
    signal: AbortSignal.timeout(attemptTimeoutMs),
  });
  const text = await response.text();
  if (response.status === 429) {
    tally.throttled++;
    throw new Throttled("HTTP 429");
  }
  if (response.status !== 200) {
    throw new Error(`HTTP ${response.status}`);
  }
  try {
    const content = JSON.parse(text)?.choices?.[0]?.message?.content;
    if (typeof content !== "string") {
      throw new Error("malformed body");
    }
  } catch {
    throw new Error("malformed body");
  }
}

function lose(reason) {
  tally.lost[reason] = (tally.lost[reason] ?? 0) + 1;
}

await Promise.all(
  lines.map((line) =>
    limiter.schedule(() => send(line)).then(
      () => tally.succeeded++,
      (error) => lose(error instanceof Throttled ? `HTTP 429 after ${MAX_RETRIES} retries` : error.name === "TimeoutError" ? "timeout" : error.message),
    ),
  ),
);
console.log(JSON.stringify(tally));
