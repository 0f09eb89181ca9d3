// The clients of bench/chat.py: thousands of Socket.IO connections in one Node.js process.
//
// Started by bench/chat.py with the run's settings as JSON on standard input:
//   {url, room, cookies: ["session=...", ...], userAgent, rate, duration, drain,
//    disconnects, connectConcurrency, joinTimeout, ackTimeout}
// It prints one JSON object of results on standard output; progress goes to standard error.
//
// Each client is the official socket.io-client on the WebSocket transport, with the member's
// session cookie, and behaves as the room's page does (docs/chat.md): it joins with `after` = the
// `seq` up to which it holds every message, joins again on `resync`, on reconnecting, and when a
// gap stays open half a second. Messages are posted by the connected clients in turn, `rate` a
// second in all; each body carries its id and the moment it was sent, read again on receipt.
// The room is new for each run, so every client must end holding every number 1..last.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";

const require = createRequire(import.meta.url);
const { io } = require("socket.io-client");

const settings = JSON.parse(await readStandardInput());
// nginx's self-signed certificate, when the run goes through it over HTTPS
const certificate = settings.ca ? readFileSync(settings.ca) : undefined;
const now = () => performance.timeOrigin + performance.now(); // ms, the same clock as the bodies
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (text) => process.stderr.write(`chat-load: ${text}\n`);

function readStandardInput() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString()));
    process.stdin.on("error", reject);
  });
}

class Client {
  constructor(index, cookie) {
    this.index = index;
    this.live = new Map(); // seq -> times received as a live `message`
    this.caughtUp = new Map(); // seq -> times received in a catch-up page
    this.complete = 0; // every number up to this one is held
    this.highest = 0; // the highest number received
    this.joinedAt = null;
    this.joining = false;
    this.gapCheck = null;
    this.rejoins = { reconnect: 0, resync: 0, gap: 0 };
    this.joinFailures = 0;
    this.socket = io(settings.url, {
      transports: ["websocket"],
      extraHeaders: {
        Cookie: cookie,
        Origin: settings.origin,
        "User-Agent": settings.userAgent,
      },
      reconnectionDelay: 250,
      reconnectionDelayMax: 2000,
      timeout: settings.joinTimeout * 1000,
      autoConnect: false,
      ca: certificate,
      // Compressed frames are inflated one by one on Node's thread pool: at thousands of
      // deliveries a second the clients, not the server, would set the pace.
      perMessageDeflate: settings.deflate ? { threshold: 1024 } : false,
    });
    this.socket.on("connect", () => this.join(this.joinedAt === null ? "first" : "reconnect"));
    this.socket.on("message", (message) => this.received(message));
    this.socket.onAny(() => (totals.events += 1));
    this.socket.on("messages", (page) => {
      for (const message of page) {
        count(this.caughtUp, message.seq);
        totals.received += 1;
        this.highest = Math.max(this.highest, message.seq);
      }
      this.advance();
    });
    this.socket.on("resync", () => setTimeout(() => this.join("resync"), Math.random() * 1000));
    this.socket.on("connect_error", (error) => {
      totals.connectErrors[error.message] = (totals.connectErrors[error.message] || 0) + 1;
    });
  }

  get connected() {
    return this.socket.connected && this.joinedAt !== null && !this.joining;
  }

  received(message) {
    const at = now();
    count(this.live, message.seq);
    totals.received += 1;
    this.highest = Math.max(this.highest, message.seq);
    const [tag, , sentAt] = message.body.split(" ");
    if (tag === "bench") {
      latencies.push(at - Number(sentAt));
      totals.lastReceipt = Math.max(totals.lastReceipt, at);
      totals.liveDeliveries += 1;
    }
    this.advance();
    if (message.seq > this.complete + 1 && this.gapCheck === null) {
      // A message may overtake the one before it for a moment: look again in half a second.
      this.gapCheck = setTimeout(() => {
        this.gapCheck = null;
        if (this.highest > this.complete) this.join("gap");
      }, 500);
    }
  }

  held(seq) {
    return this.live.has(seq) || this.caughtUp.has(seq);
  }

  advance() {
    while (this.held(this.complete + 1)) this.complete += 1;
  }

  async join(why) {
    if (this.joining) return;
    this.joining = true;
    if (why !== "first") this.rejoins[why] += 1;
    try {
      const answer = await this.socket
        .timeout(settings.joinTimeout * 1000)
        .emitWithAck("join", { room: settings.room, after: this.complete });
      if (!answer || !answer.ok) throw new Error(`join refused: ${JSON.stringify(answer)}`);
      // The pages of what was missed came before the answer: everything up to `last` is here.
      this.complete = Math.max(this.complete, answer.last);
      this.advance();
      if (this.joinedAt === null) {
        this.joinedAt = now();
        this.onJoined?.();
      }
    } catch (error) {
      this.joinFailures += 1;
      totals.joinErrors[error.message] = (totals.joinErrors[error.message] || 0) + 1;
    } finally {
      this.joining = false;
    }
  }

  // The socket closed without a word, as when a train enters a tunnel: no close frame, no
  // Engine.IO close; socket.io-client notices, reconnects and joins again after `complete`.
  cut() {
    const transport = this.socket.io.engine?.transport;
    const raw = transport?.ws?._socket;
    if (!raw) return false;
    raw.destroy();
    return true;
  }
}

function count(map, key) {
  map.set(key, (map.get(key) || 0) + 1);
}

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const totals = {
  connectErrors: {},
  joinErrors: {},
  sent: 0,
  acked: 0,
  ackFailures: {},
  liveDeliveries: 0,
  lastReceipt: 0,
  cuts: 0,
  highestAcked: 0,
  received: 0, // messages received, live or caught up, since the start
  events: 0, // events of any kind received
};
let latencies = [];
const ackLatencies = [];

const clients = settings.cookies.map((cookie, index) => new Client(index, cookie));
const cpuStart = process.cpuUsage();
const loopStart = performance.eventLoopUtilization();

// Joining: `connectConcurrency` clients connecting and joining at a time, as a crowd arriving.
const joinStarted = now();
let nextToConnect = 0;
async function connectOne() {
  while (nextToConnect < clients.length) {
    const client = clients[nextToConnect++];
    await new Promise((resolve) => {
      const giveUp = setTimeout(resolve, settings.joinTimeout * 1000);
      client.onJoined = () => {
        clearTimeout(giveUp);
        resolve();
      };
      client.socket.connect();
    });
  }
}
await Promise.all(Array.from({ length: settings.connectConcurrency }, connectOne));
const joinedClients = clients.filter((client) => client.joinedAt !== null);
const joinSeconds = joinedClients.length
  ? (Math.max(...joinedClients.map((client) => client.joinedAt)) - joinStarted) / 1000
  : null;
const cpuJoin = process.cpuUsage(cpuStart);
log(`${joinedClients.length}/${clients.length} joined in ${joinSeconds?.toFixed(1)} s`);
// Each join is announced to the whole room (`online`): wait until that wave has passed, 2 s
// without any event, so that the load does not queue behind it.
const settleStarted = now();
let eventsSeen = -1;
let quietSince = now();
while (now() - settleStarted < (settings.settleMax ?? 0) * 1000) {
  if (totals.events !== eventsSeen) [eventsSeen, quietSince] = [totals.events, now()];
  else if (now() - quietSince > 2000) break;
  await sleep(100);
}
const settleSeconds = (now() - settleStarted) / 1000;
// Messages exchanged while joining (presence, online) are not measured.
latencies = [];
totals.liveDeliveries = 0;

// The load: one message every 1/rate s, from the connected clients in turn.
const loadCpu = process.cpuUsage();
const loadLoop = performance.eventLoopUtilization();
const loadStarted = now();
const loadEnds = loadStarted + settings.duration * 1000;
const sendTimes = new Map(); // id -> sent at
let sender = 0;
let messageId = 0;
const pendingAcks = new Set();

function sendOne() {
  for (let tries = 0; tries < clients.length; tries++) {
    const client = clients[sender++ % clients.length];
    if (!client.connected) continue;
    const id = messageId++;
    const sentAt = now();
    sendTimes.set(id, sentAt);
    totals.sent += 1;
    const acknowledged = client.socket
      .timeout(settings.ackTimeout * 1000)
      .emitWithAck("send", {
        room: settings.room,
        client_id: `bench-${id}`,
        body: `bench ${id} ${sentAt.toFixed(3)}`,
      })
      .then((answer) => {
        if (answer && answer.ok) {
          totals.acked += 1;
          totals.highestAcked = Math.max(totals.highestAcked, answer.seq);
          ackLatencies.push(now() - sentAt);
        } else {
          const code = answer?.error || "no answer";
          totals.ackFailures[code] = (totals.ackFailures[code] || 0) + 1;
        }
      })
      .catch((error) => {
        const code = error.message.includes("timed out") ? "timeout" : error.message;
        totals.ackFailures[code] = (totals.ackFailures[code] || 0) + 1;
      })
      .finally(() => pendingAcks.delete(acknowledged));
    pendingAcks.add(acknowledged);
    return;
  }
  totals.ackFailures["no connected sender"] = (totals.ackFailures["no connected sender"] || 0) + 1;
}

// Forced disconnects: spread over the middle of the load, each on a different client that does
// not happen to be the next sender.
const cutTimes = Array.from(
  { length: Math.min(settings.disconnects, joinedClients.length) },
  (_, index) =>
    loadStarted +
    settings.duration * 1000 * (0.1 + (0.7 * (index + Math.random())) / settings.disconnects),
).sort((a, b) => a - b);
const cutOrder = [...joinedClients].sort(() => Math.random() - 0.5);
const cutClients = new Set();

const interval = 1000 / settings.rate;
let nextSend = loadStarted;
while (now() < loadEnds) {
  while (cutTimes.length && cutTimes[0] <= now()) {
    cutTimes.shift();
    const client = cutOrder.find((candidate) => !cutClients.has(candidate) && candidate.connected);
    if (client && client.cut()) {
      cutClients.add(client);
      totals.cuts += 1;
    }
  }
  sendOne();
  nextSend += interval;
  const wait = nextSend - now();
  if (wait > 0) await sleep(wait);
  else await sleep(0); // behind: catch up, but let the sockets be read
}
const loadSeconds = (now() - loadStarted) / 1000;

// Drain: until every client holds every number, or nothing more has arrived for `drain` s (a
// server far behind keeps delivering long after the load: late, not lost), or `drainMax` s.
const drainStarted = now();
const lastAcked = () =>
  clients.reduce((highest, client) => Math.max(highest, client.highest), totals.highestAcked);
let progress = -1;
let progressAt = now();
while (now() - drainStarted < (settings.drainMax ?? settings.drain) * 1000) {
  const last = lastAcked();
  if (pendingAcks.size === 0 && clients.every((c) => c.joinedAt === null || c.complete >= last)) {
    break;
  }
  const received = totals.received;
  if (received !== progress) [progress, progressAt] = [received, now()];
  else if (now() - progressAt > settings.drain * 1000) break;
  await sleep(100);
}
const drainSeconds = (now() - drainStarted) / 1000;
const loadLoopUse = performance.eventLoopUtilization(loadLoop);
const cpuLoad = process.cpuUsage(loadCpu);

// The room's last number, from the server itself: a join after everything gets no catch-up.
let last = lastAcked();
const asker = joinedClients.find((client) => client.socket.connected);
if (asker) {
  try {
    const answer = await asker.socket
      .timeout(settings.joinTimeout * 1000)
      .emitWithAck("join", { room: settings.room, after: 2 ** 31 - 1 });
    if (answer?.ok) last = answer.last;
  } catch (error) {
    log(`the final join went unanswered (${error.message}): the highest number seen stands in`);
  }
}

let lost = 0;
let duplicated = 0;
let both = 0;
let caughtUp = 0;
let lostClients = 0;
const rejoins = { reconnect: 0, resync: 0, gap: 0 };
for (const client of joinedClients) {
  let missing = 0;
  for (let seq = 1; seq <= last; seq++) if (!client.held(seq)) missing += 1;
  lost += missing;
  if (missing) lostClients += 1;
  for (const [seq, times] of client.live) {
    duplicated += times - 1;
    if (client.caughtUp.has(seq)) both += 1;
  }
  for (const times of client.caughtUp.values()) {
    duplicated += times - 1;
    caughtUp += times;
  }
  for (const why of Object.keys(rejoins)) rejoins[why] += client.rejoins[why];
}
const reconnected = [...cutClients].filter((client) => client.socket.connected).length;
for (const client of clients) client.socket.disconnect();

latencies.sort((a, b) => a - b);
ackLatencies.sort((a, b) => a - b);
const window = Math.max(loadSeconds, (totals.lastReceipt - loadStarted) / 1000);
const cpu = process.cpuUsage(cpuStart);
process.stdout.write(
  JSON.stringify({
    clients: clients.length,
    joined: joinedClients.length,
    join_seconds: joinSeconds,
    join_failures: { ...totals.connectErrors, ...totals.joinErrors },
    settle_seconds: settleSeconds,
    sent: totals.sent,
    acked: totals.acked,
    ack_failures: totals.ackFailures,
    ack_p50_ms: quantile(ackLatencies, 0.5),
    last,
    expected: last * joinedClients.length,
    live_deliveries: totals.liveDeliveries,
    caught_up: caughtUp,
    deliveries_per_s: totals.liveDeliveries / window,
    p50_ms: quantile(latencies, 0.5),
    p99_ms: quantile(latencies, 0.99),
    max_ms: latencies.length ? latencies[latencies.length - 1] : null,
    lost,
    lost_clients: lostClients,
    duplicated,
    both,
    cuts: totals.cuts,
    reconnected,
    rejoins,
    load_seconds: loadSeconds,
    drain_seconds: drainSeconds,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    cpu_join_seconds: (cpuJoin.user + cpuJoin.system) / 1e6,
    cpu_load_seconds: (cpuLoad.user + cpuLoad.system) / 1e6,
    loop_utilisation_load: loadLoopUse.utilization,
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
  }) + "\n",
);
process.exit(0);
