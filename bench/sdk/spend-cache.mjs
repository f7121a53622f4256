// The official OpenAI Node SDK (npm `openai`, not written by us) through `sluice proxy` with an upstream that caches
// and has a daily spend cap, in front of `sluice mock`. Checks, printing one line each and exiting 1 on any failure:
//   1. the same temperature-0 request twice: the mock receives it once, the second answer says x-sluice-cache: hit and
//      carries the same completion;
//   2. the same streamed request twice: the SDK reads both streams to the end, with the same text, the mock sees one;
//   3. a temperature-0.7 request is not cached (x-sluice-cache: bypass), the mock sees each;
//   4. spending until the cap: the SDK (2 retries, its default) gets an APIError 402 spend_cap_reached and does not
//      retry it (the mock's count does not move for the refused request).
// Usage: node spend-cache.mjs PROXY_URL MOCK_URL
import OpenAI from 'openai';

const [proxyUrl, mockUrl] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${proxyUrl}/v1`, apiKey: 'unused' });
let failed = 0;
const check = (ok, what) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failed++; };
const received = async () => (await (await fetch(`${mockUrl}/mock/stats`)).json()).received;

const ask = (content, extra = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], max_tokens: 40, ...extra });

// 1. Buffered, temperature 0.
let before = await received();
const first = await client.chat.completions.create(ask('Summarise post 1.', { temperature: 0 })).withResponse();
const second = await client.chat.completions.create(ask('Summarise post 1.', { temperature: 0 })).withResponse();
check(first.response.headers.get('x-sluice-cache') === 'miss', `first answer: x-sluice-cache ${first.response.headers.get('x-sluice-cache')}`);
check(second.response.headers.get('x-sluice-cache') === 'hit', `second answer: x-sluice-cache ${second.response.headers.get('x-sluice-cache')}`);
check(second.data.choices[0].message.content === first.data.choices[0].message.content && second.data.id === first.data.id, 'the hit carries the same completion (same id and text)');
check(await received() - before === 1, `the mock received ${await received() - before} for two identical requests`);

// 2. Streamed, temperature 0: both read to the end by the SDK.
const readStream = async () => {
  const stream = await client.chat.completions.create(ask('Summarise post 2.', { temperature: 0, stream: true }));
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
};
before = await received();
const streamed = await readStream();
const replayed = await readStream();
check(streamed.length > 0 && streamed === replayed, `a replayed stream reads as the first (${streamed.length} characters)`);
check(await received() - before === 1, `the mock received ${await received() - before} for two identical streams`);

// 3. Temperature 0.7: not cached.
before = await received();
const warm = await client.chat.completions.create(ask('Summarise post 3.', { temperature: 0.7 })).withResponse();
await client.chat.completions.create(ask('Summarise post 3.', { temperature: 0.7 }));
check(warm.response.headers.get('x-sluice-cache') === 'bypass', `temperature 0.7: x-sluice-cache ${warm.response.headers.get('x-sluice-cache')}`);
check(await received() - before === 2, `the mock received ${await received() - before} for two temperature-0.7 requests`);

// 4. Spend until the cap refuses, with the SDK's default retries on.
let refusal;
let answered = 0;
for (let i = 0; i < 500 && !refusal; i++) {
  before = await received();
  try {
    await client.chat.completions.create(ask(`Summarise post ${100 + i}: ${'words '.repeat(200)}`, { max_tokens: 400 }));
    answered++;
  } catch (error) {
    refusal = { error, sent: await received() - before };
  }
}
check(refusal?.error?.status === 402, `after ${answered} answers the SDK got status ${refusal?.error?.status}`);
check(refusal?.error?.code === 'spend_cap_reached' || refusal?.error?.error?.code === 'spend_cap_reached', `error code ${refusal?.error?.code ?? JSON.stringify(refusal?.error?.error)}`);
check(refusal?.sent === 0, `the refused request reached the mock ${refusal?.sent} times (the SDK did not retry a 402)`);
console.log(`message: ${refusal?.error?.message}`);
process.exit(failed ? 1 : 0);
