// The operator panel's HTTP API (src/admin, docs/panel.md) against a real server and real ENet
// clients: who gets in (401 without or with a wrong token, the login form's cookie, the failed-login
// limit), CSRF (403 for a cross-origin POST), no GET that acts (405), kick and broadcast reaching
// real clients, paging/sorting/filtering, Server-Sent Events (cookie-authenticated, a closed stream
// removed at once), startAdmin's refusal of a non-loopback address without a token, and the CLI's
// --admin-* flags.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ENetClient, InvalidOptionError } from '../dist/index.js';
import { collect, connectClient, startServer, waitFor } from './helpers.js';

const TOKEN = 'correct horse battery staple';

async function startPanel(t, server, options = {}) {
  const admin = await server.startAdmin({ port: 0, token: TOKEN, ...options });
  t.teardown(() => admin.close());
  return { admin, base: `http://127.0.0.1:${admin.port}` };
}

const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

function post(base, path, body, headers = {}) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/json', origin: base, ...bearer(), ...headers },
    body: JSON.stringify(body),
  });
}

/** Reads a Server-Sent Events response until `count` events came; returns them parsed. */
async function readEvents(response, count) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const events = [];
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let end;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      const event = /^event: (.*)$/m.exec(block)?.[1];
      if (data) events.push({ event, data: JSON.parse(data) });
    }
  }
  return events;
}

/** Logs in by the form; returns the Cookie header value. */
async function login(base, token = TOKEN) {
  const response = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: new URLSearchParams({ token }),
  });
  return response;
}

test('every route but /login answers 401 without a token, and with a wrong one', async (t) => {
  const server = await startServer(t);
  const { base } = await startPanel(t, server);
  for (const path of ['/', '/api/state', '/api/events', '/api/peers/1', '/assets/panel.js', '/nope']) {
    t.is((await fetch(`${base}${path}`)).status, 401, `${path} without`);
  }
  t.is((await fetch(`${base}/api/state`, { headers: bearer('wrong') })).status, 401);
  t.is((await post(base, '/api/broadcast', { message: 'x' }, bearer('wrong'))).status, 401);
  const page = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
  t.is(page.status, 401);
  t.regex(await page.text(), /href="\/login"/);
  t.is((await fetch(`${base}/login`)).status, 200);
  const ok = await fetch(`${base}/api/state`, { headers: bearer() });
  t.is(ok.status, 200);
  const state = await ok.json();
  t.is(state.peers.total, 0);
  t.true(state.overview.active);
});

test('a POST from another origin (or with no Origin nor Referer) is refused 403; a same-origin Referer is enough', async (t) => {
  const server = await startServer(t);
  const { base } = await startPanel(t, server);
  t.is((await post(base, '/api/broadcast', { message: 'x' }, { origin: 'http://evil.example' })).status, 403);
  t.is((await post(base, '/api/broadcast', { message: 'x' }, { origin: 'null' })).status, 403);
  const bare = await fetch(`${base}/api/broadcast`, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/json' }, body: '{"message":"x"}' });
  t.is(bare.status, 403);
  const referer = await fetch(`${base}/api/broadcast`, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/json', referer: `${base}/` }, body: '{"message":"x"}' });
  t.is(referer.status, 200);
  const evilReferer = await fetch(`${base}/api/broadcast`, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/json', referer: 'http://evil.example/' }, body: '{"message":"x"}' });
  t.is(evilReferer.status, 403);
});

test('no GET acts: a GET on a POST route is 405 (Allow: POST), an unknown route 404', async (t) => {
  const server = await startServer(t);
  const { peer } = await connectClient(t, server);
  const { base } = await startPanel(t, server);
  const kick = await fetch(`${base}/api/peers/${peer.peerId}/kick?reason=x`, { headers: bearer() });
  t.is(kick.status, 405);
  t.is(kick.headers.get('allow'), 'POST');
  t.is((await fetch(`${base}/api/broadcast?message=x`, { headers: bearer() })).status, 405);
  t.is((await fetch(`${base}/logout`, { headers: bearer() })).status, 405);
  t.is((await fetch(`${base}/api/kick`, { headers: bearer() })).status, 404);
  t.is((await post(base, '/api/state', {})).status, 405);
  t.truthy(server.getPeer(peer.peerId), 'nothing was kicked');
});

test("a kick's reason reaches the real ENetClient as its 'disconnectedFromServer' reason", async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const { base } = await startPanel(t, server);
  const gone = waitFor(client, 'disconnectedFromServer');
  const response = await post(base, `/api/peers/${peer.peerId}/kick`, { reason: 'Kicked by an operator: spam' });
  t.is(response.status, 200);
  const [reason] = await gone;
  t.is(reason, 'Kicked by an operator: spam');
  t.is((await post(base, '/api/peers/999999/kick', { reason: 'x' })).status, 404);
  t.is((await post(base, `/api/peers/${peer.peerId}/kick`, { reason: 5 })).status, 400);
});

test("a broadcast reaches every client as the 'adminBroadcast' event { message }", async (t) => {
  const server = await startServer(t);
  const clients = [];
  for (let i = 0; i < 3; i++) clients.push((await connectClient(t, server)).client);
  const { base } = await startPanel(t, server);
  const got = clients.map((client) => new Promise((resolve) => client.registerEvent('adminBroadcast', (payload) => resolve(payload))));
  const response = await post(base, '/api/broadcast', { message: 'Restart in 5 minutes' });
  t.is(response.status, 200);
  t.like(await response.json(), { ok: true, peers: 3 });
  for (const payload of await Promise.all(got)) t.deepEqual(payload, { message: 'Restart in 5 minutes' });
  t.is((await post(base, '/api/broadcast', { message: '  ' })).status, 400);
});

test('the login form sets an HttpOnly SameSite=Strict session cookie (not the token) that works for /api/state and the SSE stream; logout ends it', async (t) => {
  const server = await startServer(t);
  await connectClient(t, server);
  const { base } = await startPanel(t, server);
  const page = await fetch(`${base}/login`);
  t.regex(await page.text(), /name="token"/);
  const response = await login(base);
  t.is(response.status, 303);
  t.is(response.headers.get('location'), '/');
  const setCookie = response.headers.get('set-cookie');
  t.regex(setCookie, /HttpOnly/);
  t.regex(setCookie, /SameSite=Strict/);
  t.false(setCookie.includes(encodeURIComponent(TOKEN)) || setCookie.includes(TOKEN));
  const cookie = setCookie.split(';')[0];
  const state = await fetch(`${base}/api/state`, { headers: { cookie } });
  t.is(state.status, 200);
  t.is((await state.json()).peers.total, 1);
  t.is((await fetch(`${base}/`, { headers: { cookie } })).status, 200);

  const controller = new AbortController();
  const stream = await fetch(`${base}/api/events?limit=10`, { headers: { cookie }, signal: controller.signal });
  t.is(stream.status, 200);
  t.regex(stream.headers.get('content-type'), /text\/event-stream/);
  const started = Date.now();
  const events = await readEvents(stream, 3);
  t.true(Date.now() - started < 3500, 'at least one update a second');
  t.truthy(events[0].data.history, 'the first event carries the history');
  t.is(events[0].data.peers.rows.length, 1);
  t.truthy(events[2].data.point);
  t.is(events[2].data.overview.peers, 1);
  controller.abort();

  // A cookie that is not a session's, and a wrong token at the form, get nothing.
  t.is((await fetch(`${base}/api/state`, { headers: { cookie: 'enet_admin=forged' } })).status, 401);
  const failed = await login(base, 'wrong');
  t.is(failed.headers.get('location'), '/login?failed=1');
  t.is(failed.headers.get('set-cookie'), null);

  const logout = await fetch(`${base}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: base } });
  t.is(logout.status, 303);
  t.is((await fetch(`${base}/api/state`, { headers: { cookie } })).status, 401);
});

test('failed logins are limited per address: after 5 in a minute, 429 (even with the right token)', async (t) => {
  const server = await startServer(t);
  const { base } = await startPanel(t, server);
  for (let i = 0; i < 5; i++) t.is((await login(base, `wrong${i}`)).status, 303);
  const limited = await login(base);
  t.is(limited.status, 429);
  t.true(Number(limited.headers.get('retry-after')) > 0);
  // Guessing through the Bearer header is the same attempt, limited the same way.
  t.is((await fetch(`${base}/api/state`, { headers: bearer() })).status, 429);
});

test('wrong Bearer tokens count as failed logins too', async (t) => {
  const server = await startServer(t);
  const { base } = await startPanel(t, server);
  for (let i = 0; i < 5; i++) t.is((await fetch(`${base}/api/state`, { headers: bearer(`guess${i}`) })).status, 401);
  t.is((await fetch(`${base}/api/state`, { headers: bearer() })).status, 429);
});

test('/api/state pages, sorts and filters the peers on the server; /api/peers/:id shows custom data', async (t) => {
  const server = await startServer(t);
  const peers = [];
  for (let i = 0; i < 6; i++) peers.push((await connectClient(t, server)).peer);
  peers[2].setCustomData({ name: 'alice', level: 7n });
  const { base } = await startPanel(t, server);
  const get = async (q) => (await (await fetch(`${base}/api/state?${q}`, { headers: bearer() })).json()).peers;
  const page = await get('limit=2&offset=2&sort=id&dir=desc');
  t.is(page.total, 6);
  t.deepEqual(page.rows.map((r) => r.id), peers.map((p) => p.peerId).sort((a, b) => b - a).slice(2, 4));
  const row = page.rows[0];
  for (const key of ['id', 'address', 'state', 'shard', 'actor', 'rttMs', 'loss', 'queuedBytes', 'bytesOut', 'connectedS', 'dropped']) t.true(key in row, key);
  t.regex(row.address, /^127\.0\.0\.1:\d+$/);
  t.is(row.state, 'authenticated');
  const one = await get(`filter=id=${peers[3].peerId}`);
  t.is(one.total, 1);
  t.is(one.rows[0].id, peers[3].peerId);
  t.is((await get('filter=rtt>100000')).total, 0);
  t.is((await get('filter=127.0.0.1 state=authenticated')).total, 6);
  const details = await (await fetch(`${base}/api/peers/${peers[2].peerId}`, { headers: bearer() })).json();
  t.deepEqual(details.customData, { name: 'alice', level: '7n' });
  t.is(typeof details.statistics.roundTripTime, 'number');
  t.is((await fetch(`${base}/api/peers/424242`, { headers: bearer() })).status, 404);
});

test('a closed stream is removed at once; one sampler feeds every stream', async (t) => {
  const server = await startServer(t);
  const { base } = await startPanel(t, server);
  const streams = async () => (await (await fetch(`${base}/api/state?limit=1`, { headers: bearer() })).json()).streams;
  const controllers = [new AbortController(), new AbortController()];
  const responses = await Promise.all(controllers.map((c) => fetch(`${base}/api/events`, { headers: bearer(), signal: c.signal })));
  await Promise.all(responses.map((r) => readEvents(r, 1)));
  t.is(await streams(), 2);
  controllers[0].abort();
  const closedAt = Date.now();
  let n;
  while ((n = await streams()) !== 1 && Date.now() - closedAt < 2000) await new Promise((r) => setTimeout(r, 10));
  t.is(n, 1);
  t.true(Date.now() - closedAt < 500, `removed in ${Date.now() - closedAt} ms`);
  controllers[1].abort();
});

test('startAdmin refuses a non-loopback address without a token (InvalidOptionError naming token); loopback needs none but checks Host', async (t) => {
  const server = await startServer(t);
  const error = await t.throwsAsync(() => server.startAdmin({ port: 0, address: '0.0.0.0' }));
  t.true(error instanceof InvalidOptionError);
  t.is(error.option, 'token');
  await t.throwsAsync(() => server.startAdmin({ port: -1 }), { instanceOf: InvalidOptionError });
  const admin = await server.startAdmin({ port: 0 });
  t.teardown(() => admin.close());
  const base = `http://127.0.0.1:${admin.port}`;
  t.is((await fetch(`${base}/api/state`)).status, 200);
  // DNS rebinding: another site's name in Host is refused when there is no token.
  // (node:http: fetch will not send another Host.)
  const status = await new Promise((resolve, reject) => {
    get(`${base}/api/state`, { headers: { host: 'evil.example:80' } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    }).on('error', reject);
  });
  t.is(status, 403);
});

test('ENetClient-side: the panel sees a peer leave within a second or two', async (t) => {
  const server = await startServer(t);
  const client = new ENetClient();
  const { base } = await startPanel(t, server);
  const connected = collect(server, 'peerAuthenticated', 1);
  client.connectToServer('127.0.0.1', server.getLocalPort());
  await connected;
  const total = async () => (await (await fetch(`${base}/api/state`, { headers: bearer() })).json()).peers.total;
  t.is(await total(), 1);
  const gone = waitFor(server, 'peerDisconnected');
  client.disconnectFromServer();
  await gone;
  t.is(await total(), 0);
});

test('enet-server --admin-port prints "enet-server admin on http://A:P/" and serves the panel; a non-loopback address without a token exits 2 with one line', async (t) => {
  const cli = fileURLToPath(new URL('../dist/cli/server.js', import.meta.url));
  const refused = spawnSync(process.execPath, [cli, '--port', '0', '--admin-port', '0', '--admin-address', '0.0.0.0'], { encoding: 'utf8', env: { ...process.env, ENET_ADMIN_TOKEN: '' }, timeout: 20_000 });
  t.is(refused.status, 2);
  t.is(refused.stderr.trim().split('\n').length, 1);
  t.regex(refused.stderr, /--admin-address: 0\.0\.0\.0 is not loopback: the panel needs a token there/);

  const child = spawn(process.execPath, [cli, '--bind', '127.0.0.1', '--port', '0', '--admin-port', '0'], { env: { ...process.env, ENET_ADMIN_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  const lines = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${lines.join('\n')}`)), 15_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('enet-server listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const url = lines.map((l) => /^enet-server admin on (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(l)?.[1]).find(Boolean);
  t.truthy(url, lines.join('\n'));
  t.is((await fetch(`${url}api/state`)).status, 401);
  t.is((await fetch(`${url}api/state`, { headers: bearer() })).status, 200);
});
