// The peer row of bench/fairness's interactive target: Bottleneck (npm, pinned in package.json) told the true rate as
// `minTime` (one request every 60,000 ÷ rpm ms) and MAX_CONCURRENT (a number, or "null": no cap), with its job priorities — the batch's BACKLOG
// requests at priority 9, then one interactive request a second at priority 0 (Bottleneck runs lower numbers first)
// for SECONDS seconds. Priorities order only Bottleneck's queue: with no cap on concurrency every queued job is
// registered at once (each given its minTime slot in the future), so nothing stays queued for priority to reorder;
// a cap of about rate × latency keeps the backlog queued. A 429 is retried through the "failed" event after 100 ms, as bench/efficiency's peer does.
//
//   node interactive-bottleneck.mjs BASE_URL RPM BACKLOG SECONDS MAX_CONCURRENT ARRIVALS_MS
//
// ARRIVALS_MS: when each interactive request is sent, in ms from the first (comma-separated; one in each second, from
// the C# bench's seeded draw, so both sides send at the same instants).
//
// Prints one JSON object: {"interactive_ms": [latency of each answered interactive request, schedule to answer],
//   "sent", "batch_waiting" (queued when the interactive requests began), "batch_answered" (during them), "throttled"}.
import Bottleneck from "bottleneck";

const [baseUrl, rpmText, backlogText, secondsText, maxConcurrentText, arrivalsText] = process.argv.slice(2);
const arrivals = (arrivalsText ?? "").split(",").filter((a) => a.length > 0).map(Number);
const rpm = Number(rpmText);
const backlog = Number(backlogText);
const seconds = Number(secondsText);
const maxConcurrent = maxConcurrentText === "null" ? null : Number(maxConcurrentText);
if (!baseUrl || !(rpm > 0) || !(backlog >= 0) || !(seconds > 0) || !(maxConcurrent === null || maxConcurrent > 0) || arrivals.length !== seconds) {
  console.error("usage: node interactive-bottleneck.mjs BASE_URL RPM BACKLOG SECONDS MAX_CONCURRENT|null ARRIVALS_MS");
  process.exit(2);
}

const url = new URL("v1/chat/completions", baseUrl.endsWith("/") ? baseUrl : baseUrl + "/");
const body = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Summarise the fair-share bench in one line." }],
  max_tokens: 20,
});
const limiter = new Bottleneck({ minTime: 60000 / rpm, maxConcurrent });
const tally = { interactive_ms: [], sent: 0, batch_waiting: 0, batch_answered: 0, throttled: 0 };
let measuring = false;

class Throttled extends Error {}

limiter.on("failed", (error, jobInfo) => (error instanceof Throttled && jobInfo.retryCount < 20 ? 100 : undefined));

async function send() {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer sk-peer" }, body });
  await response.text();
  if (response.status === 429) {
    tally.throttled++;
    throw new Throttled("HTTP 429");
  }
  if (response.status !== 200) {
    throw new Error(`HTTP ${response.status}`);
  }
}

for (let i = 0; i < backlog; i++) {
  limiter.schedule({ priority: 9 }, send).then(
    () => measuring && tally.batch_answered++,
    () => {},
  );
}

// As the proxy runs do: the backlog is queued before the first interactive request.
await new Promise((resolve) => setTimeout(resolve, 1000));
const counts = limiter.counts();
// Not yet sent: received, queued, or registered and waiting for its minTime slot (RUNNING, in Bottleneck's words).
tally.batch_waiting = counts.RECEIVED + counts.QUEUED + counts.RUNNING;
measuring = true;
const start = performance.now();
const interactive = [];
for (const arrival of arrivals) {
  const due = start + arrival - performance.now();
  if (due > 0) {
    await new Promise((resolve) => setTimeout(resolve, due));
  }
  const sent = performance.now();
  tally.sent++;
  interactive.push(
    limiter.schedule({ priority: 0 }, send).then(
      () => tally.interactive_ms.push(performance.now() - sent),
      () => {},
    ),
  );
}
await Promise.race([Promise.all(interactive), new Promise((resolve) => setTimeout(resolve, 5000))]);
measuring = false;
console.log(JSON.stringify(tally));
process.exit(0);
