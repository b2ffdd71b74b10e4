/*
 * loadgen: ENet echo load generator (drives the raw C echo server and ours alike).
 *
 * loadgen --host 127.0.0.1 --port P [--clients 200] [--size 64]
 *         [--rates 5000,10000,20000,...] [--step-ms 3000] [--grace-ms 1000]
 *         [--fixed-rate R --duration-ms D] [--connect-timeout-ms 10000]
 *         [--hosts N] [--warmup-ms W] [--json]
 *
 * Opens `clients` ENet connections (2 channels) from one client host (several only past
 * 4000 peers or with --hosts), waits until all are connected, then runs one step per rate:
 * for step-ms it sends reliable `size`-byte packets on channel 0, round-robin over the
 * clients, at that aggregate rate, paced by a fine timer (each wake-up sends what is due).
 * Packet: byte 0x00 (PacketType.RAW), u32 client index, u32 sequence, u64 send time
 * (CLOCK_MONOTONIC ns), all little-endian, zero padding to `size`.
 * --warmup-ms first sends at the first rate for W ms and reports nothing of it: the RTT estimates
 * and retransmission timers of thousands of just-connected peers settle before anything is measured.
 * After the sending period it keeps receiving until every echo of the step is back or
 * grace-ms has passed. Echoes of a step arriving later are counted as late, not delivered.
 *
 * Per step: target rate, achieved send rate, received, delivery (received/sent),
 * echo throughput (received / time from step start to the last echo, at least step-ms),
 * RTT p50/p90/p99/max (ms), late echoes of the previous step, the loadgen's own CPU %.
 * Stepping stops after the first step with delivery < 0.99, p99 > 1000 ms, or a send rate
 * below 90 % of the target (then the loadgen itself is the limit).
 * --json prints one JSON object per line: {"type":"connect"}, {"type":"stepStart"} when a
 * step begins, {"type":"step"} with its results, {"type":"summary"}. Otherwise a table.
 *
 * Exit: 0 ran, 1 usage / local error, 2 no client could connect.
 */
#define _GNU_SOURCE
#include <enet/enet.h>
#include "bench.h"
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define HDR_LEN 17
#define MAX_PEERS_PER_HOST 4000
#define MAX_RATES 64

/* ---- options ---- */
static const char *opt_host = "127.0.0.1";
static int opt_port = 0;
static int opt_clients = 200;
static int opt_size = 64;
static double opt_rates[MAX_RATES];
static int opt_nrates = 0;
static int opt_step_ms = 3000;
static int opt_grace_ms = 1000;
static double opt_fixed_rate = 0;
static int opt_duration_ms = 0;
static int opt_connect_timeout_ms = 10000;
static int opt_hosts = 0;
static int opt_json = 0;
static int opt_warmup_ms = 0;
static int step_silent = 0; /* the warm-up: no stepStart line */

/* ---- state ---- */
typedef struct {
  ENetPeer *peer;
  int connected;
  uint64_t connect_start;
  double connect_ms;
} Client;

static ENetHost **hosts;
static int nhosts;
static struct pollfd *pfds;
static Client *clients;
static int nconnected = 0, ndisconnects = 0;
static int phase_connect = 1;

/* current step accounting */
static uint32_t seq_next = 0;      /* global sequence counter */
static uint32_t step_base = 0;     /* first sequence number of the current step */
static uint32_t step_sent = 0;     /* packets sent in the current step */
static uint32_t step_cap = 0;      /* capacity of the arrays below */
static uint32_t step_received = 0; /* distinct echoes of the current step */
static uint64_t *rtts = NULL;      /* RTT in ns, in arrival order */
static uint8_t *seen = NULL;       /* per-sequence "echo received" flag */
static uint64_t last_recv_ns = 0;
static uint64_t late = 0, bad = 0, dups = 0;
static int step_open = 0; /* echoes are accounted to the step while open */

static uint8_t *tmpl; /* zero-filled packet template */

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen --host H --port P [--clients 200] [--size 64] [--rates r1,r2,...]\n"
          "               [--step-ms 3000] [--grace-ms 1000] [--fixed-rate R --duration-ms D]\n"
          "               [--connect-timeout-ms 10000] [--hosts N] [--warmup-ms W] [--json]\n");
  exit(1);
}

static void parse_args(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
#define NEED() do { if (!v) { fprintf(stderr, "loadgen: %s needs a value\n", a); usage(); } i++; } while (0)
    if (!strcmp(a, "--host")) { NEED(); opt_host = v; }
    else if (!strcmp(a, "--port")) { NEED(); opt_port = (int)num_arg("loadgen", a, v, 1, 65535); }
    else if (!strcmp(a, "--clients")) { NEED(); opt_clients = (int)num_arg("loadgen", a, v, 1, 200000); }
    else if (!strcmp(a, "--size")) { NEED(); opt_size = (int)num_arg("loadgen", a, v, HDR_LEN, 1 << 20); }
    else if (!strcmp(a, "--step-ms")) { NEED(); opt_step_ms = (int)num_arg("loadgen", a, v, 1, 3600000); }
    else if (!strcmp(a, "--grace-ms")) { NEED(); opt_grace_ms = (int)num_arg("loadgen", a, v, 0, 3600000); }
    else if (!strcmp(a, "--duration-ms")) { NEED(); opt_duration_ms = (int)num_arg("loadgen", a, v, 1, 3600000); }
    else if (!strcmp(a, "--connect-timeout-ms")) { NEED(); opt_connect_timeout_ms = (int)num_arg("loadgen", a, v, 1, 3600000); }
    else if (!strcmp(a, "--hosts")) { NEED(); opt_hosts = (int)num_arg("loadgen", a, v, 1, 1024); }
    else if (!strcmp(a, "--fixed-rate")) { NEED(); opt_fixed_rate = (double)num_arg("loadgen", a, v, 1, 100000000); }
    else if (!strcmp(a, "--rates")) {
      NEED();
      char *copy = strdup(v), *save = NULL;
      for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (opt_nrates >= MAX_RATES) { fprintf(stderr, "loadgen: at most %d rates\n", MAX_RATES); exit(1); }
        opt_rates[opt_nrates++] = (double)num_arg("loadgen", "rate", tok, 1, 100000000);
      }
      free(copy);
    }
    else if (!strcmp(a, "--warmup-ms")) { NEED(); opt_warmup_ms = (int)num_arg("loadgen", a, v, 0, 3600000); }
    else if (!strcmp(a, "--json")) opt_json = 1;
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) usage();
    else { fprintf(stderr, "loadgen: unknown option %s\n", a); usage(); }
#undef NEED
  }
  if (!opt_port) { fprintf(stderr, "loadgen: --port is required\n"); usage(); }
  if (opt_fixed_rate > 0) {
    if (!opt_duration_ms) { fprintf(stderr, "loadgen: --fixed-rate needs --duration-ms\n"); usage(); }
    opt_rates[0] = opt_fixed_rate;
    opt_nrates = 1;
    opt_step_ms = opt_duration_ms;
  } else if (opt_nrates == 0) {
    static const double def[] = {5000, 10000, 20000, 30000, 40000, 50000, 60000, 80000, 100000};
    for (size_t k = 0; k < sizeof def / sizeof def[0]; k++) opt_rates[opt_nrates++] = def[k];
  }
}

/* ---- events ---- */
static void on_receive(ENetPeer *peer, ENetPacket *pkt, uint64_t t) {
  const uint8_t *d = pkt->data;
  if (pkt->dataLength < HDR_LEN || d[0] != 0) { bad++; return; }
  uint32_t idx = rd32(d + 1), seq = rd32(d + 5);
  uint64_t sent_at = rd64(d + 9);
  if ((uintptr_t)peer->data != (uintptr_t)idx) { bad++; return; }
  uint32_t off = seq - step_base;
  if (!step_open || off >= step_sent) { late++; return; }
  if (seen[off]) { dups++; return; }
  seen[off] = 1;
  rtts[step_received++] = t - sent_at;
  last_recv_ns = t;
}

static void handle(ENetEvent *ev) {
  switch (ev->type) {
  case ENET_EVENT_TYPE_RECEIVE:
    on_receive(ev->peer, ev->packet, now_ns());
    enet_packet_destroy(ev->packet);
    break;
  case ENET_EVENT_TYPE_CONNECT: {
    Client *c = &clients[(uintptr_t)ev->peer->data];
    if (!c->connected) {
      c->connected = 1;
      c->connect_ms = (double)(now_ns() - c->connect_start) / 1e6;
      nconnected++;
    }
    break;
  }
  case ENET_EVENT_TYPE_DISCONNECT: {
    Client *c = &clients[(uintptr_t)ev->peer->data];
    if (c->connected) { c->connected = 0; nconnected--; }
    if (!phase_connect) ndisconnects++;
    c->peer = NULL;
    break;
  }
  default: break;
  }
}

static void service_all(void) { service_hosts(hosts, nhosts, handle, "loadgen"); }

static void wait_until(uint64_t deadline) { wait_for_hosts(pfds, nhosts, deadline); }

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}
static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
/* nearest-rank percentile of a sorted array */
static size_t rank(size_t n, double p) {
  size_t k = (size_t)ceil(p * (double)n);
  return k == 0 ? 0 : k - 1;
}

typedef struct {
  double target, duration_s, send_rate, delivery, throughput, window_s, cpu_pct;
  uint32_t sent, received;
  uint64_t late_prev;
  double p50, p90, p99, max;
  int disconnects;
} StepResult;

static int run_step(int index, double rate, int dur_ms, StepResult *res) {
  uint64_t cap64 = (uint64_t)ceil(rate * dur_ms / 1000.0) + 2;
  if (cap64 > 0xFFFFFFF0ull) { fprintf(stderr, "loadgen: step too large\n"); exit(1); }
  if (cap64 > step_cap) {
    free(rtts);
    free(seen);
    step_cap = (uint32_t)cap64;
    rtts = malloc(sizeof(uint64_t) * step_cap);
    seen = malloc(step_cap);
    if (!rtts || !seen) { fprintf(stderr, "loadgen: out of memory\n"); exit(1); }
  }
  memset(seen, 0, step_cap);
  uint64_t late_before = late;
  int disc_before = ndisconnects;
  step_base = seq_next;
  step_sent = 0;
  step_received = 0;
  last_recv_ns = 0;
  step_open = 1;

  if (opt_json && !step_silent) {
    printf("{\"type\":\"stepStart\",\"step\":%d,\"target\":%.0f,\"durationMs\":%d}\n", index, rate, dur_ms);
    fflush(stdout);
  }
  const uint64_t tick = 1000000ull; /* 1 ms: the pacing granularity when packets are due faster */
  const double ns_per_pkt = 1e9 / rate;
  uint64_t cpu0 = cpu_ns();
  uint64_t start = now_ns();
  uint64_t end = start + (uint64_t)dur_ms * 1000000ull;
  uint64_t total = (uint64_t)floor(rate * dur_ms / 1000.0 + 1e-9);
  if (total > cap64) total = cap64;
  int rr = 0;
  uint64_t last_wake = start;
  for (;;) {
    uint64_t t = now_ns();
    if (t >= end || stop_requested) break;
    /* packets due by now: packet k is due at start + k*ns_per_pkt */
    uint64_t due = (uint64_t)((double)(t - start) / ns_per_pkt) + 1;
    if (due > total) due = total;
    int tries = 0;
    while (step_sent < due) {
      /* next connected client, round-robin */
      while (!clients[rr].connected && tries < opt_clients) { rr = (rr + 1) % opt_clients; tries++; }
      if (tries >= opt_clients) break; /* nobody left */
      ENetPacket *p = enet_packet_create(tmpl, (size_t)opt_size, ENET_PACKET_FLAG_RELIABLE);
      if (!p) { fprintf(stderr, "loadgen: out of memory\n"); exit(1); }
      uint8_t *d = p->data;
      wr32(d + 1, (uint32_t)rr);
      wr32(d + 5, seq_next);
      wr64(d + 9, now_ns());
      if (enet_peer_send(clients[rr].peer, 0, p) != 0) {
        enet_packet_destroy(p);
        tries++;
      } else {
        seq_next++;
        step_sent++;
        tries = 0;
      }
      rr = (rr + 1) % opt_clients;
    }
    if (tries >= opt_clients) { fprintf(stderr, "loadgen: no connected client left\n"); break; }
    service_all();
    /* sleep until the next packet is due, but wake at most once per tick */
    uint64_t next_due = start + (uint64_t)((double)step_sent * ns_per_pkt);
    uint64_t wake = last_wake + tick;
    if (next_due > wake) wake = next_due;
    if (wake > end) wake = end;
    wait_until(wake);
    last_wake = now_ns();
  }
  uint64_t send_end = now_ns();
  /* grace: keep receiving until every echo is back or grace-ms has passed */
  uint64_t grace_end = send_end + (uint64_t)opt_grace_ms * 1000000ull;
  for (;;) {
    service_all();
    if (step_received >= step_sent || stop_requested) break;
    uint64_t t = now_ns();
    if (t >= grace_end) break;
    uint64_t w = t + tick;
    wait_until(w < grace_end ? w : grace_end);
  }
  uint64_t window_end = now_ns();
  step_open = 0;
  uint64_t cpu1 = cpu_ns();

  memset(res, 0, sizeof *res);
  res->target = rate;
  res->duration_s = (double)(send_end - start) / 1e9;
  res->window_s = (double)(window_end - start) / 1e9;
  res->sent = step_sent;
  res->received = step_received;
  res->send_rate = step_sent / res->duration_s;
  res->delivery = step_sent ? (double)step_received / step_sent : 0;
  double span = last_recv_ns > start ? (double)(last_recv_ns - start) / 1e9 : 0;
  if (span < res->duration_s) span = res->duration_s;
  res->throughput = step_received / span;
  res->late_prev = late - late_before;
  res->cpu_pct = 100.0 * (double)(cpu1 - cpu0) / (double)(window_end - start);
  res->disconnects = ndisconnects - disc_before;
  if (step_received) {
    qsort(rtts, step_received, sizeof(uint64_t), cmp_u64);
    res->p50 = rtts[rank(step_received, 0.50)] / 1e6;
    res->p90 = rtts[rank(step_received, 0.90)] / 1e6;
    res->p99 = rtts[rank(step_received, 0.99)] / 1e6;
    res->max = rtts[step_received - 1] / 1e6;
  } else {
    res->p50 = res->p90 = res->p99 = res->max = NAN;
  }
  return 0;
}

static void print_num(const char *key, double v, int last) {
  if (isnan(v)) printf("\"%s\":null%s", key, last ? "" : ",");
  else printf("\"%s\":%.4f%s", key, v, last ? "" : ",");
}

static void print_step(int index, const StepResult *r) {
  if (opt_json) {
    printf("{\"type\":\"step\",\"step\":%d,\"target\":%.0f,\"durationMs\":%.1f,\"windowMs\":%.1f,"
           "\"sent\":%u,\"sendRate\":%.1f,\"received\":%u,\"delivery\":%.6f,\"throughput\":%.1f,\"rtt\":{",
           index, r->target, r->duration_s * 1e3, r->window_s * 1e3, r->sent, r->send_rate, r->received,
           r->delivery, r->throughput);
    print_num("p50", r->p50, 0);
    print_num("p90", r->p90, 0);
    print_num("p99", r->p99, 0);
    print_num("max", r->max, 1);
    printf("},\"lateFromPrevious\":%llu,\"disconnects\":%d,\"loadgenCpuPercent\":%.1f}\n",
           (unsigned long long)r->late_prev, r->disconnects, r->cpu_pct);
  } else {
    printf("%9.0f %9.0f %9u %8.4f %10.0f %8.3f %8.3f %8.3f %8.3f %6.1f%%\n", r->target, r->send_rate, r->received,
           r->delivery, r->throughput, r->p50, r->p90, r->p99, r->max, r->cpu_pct);
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  stop_on_signals();

  if (enet_initialize() != 0) { fprintf(stderr, "loadgen: enet_initialize failed\n"); return 1; }
  ENetAddress addr;
  if (enet_address_set_host(&addr, opt_host) != 0) {
    fprintf(stderr, "loadgen: cannot resolve %s\n", opt_host);
    return 1;
  }
  addr.port = (enet_uint16)opt_port;

  nhosts = opt_hosts ? opt_hosts : (opt_clients + MAX_PEERS_PER_HOST - 1) / MAX_PEERS_PER_HOST;
  if (nhosts > opt_clients) nhosts = opt_clients;
  int per_host = (opt_clients + nhosts - 1) / nhosts;
  if (per_host > MAX_PEERS_PER_HOST) { fprintf(stderr, "loadgen: too many clients per host\n"); return 1; }
  hosts = calloc((size_t)nhosts, sizeof *hosts);
  pfds = calloc((size_t)nhosts, sizeof *pfds);
  clients = calloc((size_t)opt_clients, sizeof *clients);
  tmpl = calloc(1, (size_t)opt_size);
  if (!hosts || !pfds || !clients || !tmpl) { fprintf(stderr, "loadgen: out of memory\n"); return 1; }
  for (int h = 0; h < nhosts; h++) {
    hosts[h] = enet_host_create(NULL, (size_t)per_host, 2, 0, 0);
    if (!hosts[h]) { fprintf(stderr, "loadgen: enet_host_create failed\n"); return 1; }
    /* The instrument must not drop: 4 MiB socket buffers (capped by net.core.[rw]mem_max). */
    enet_socket_set_option(hosts[h]->socket, ENET_SOCKOPT_RCVBUF, 4 << 20);
    enet_socket_set_option(hosts[h]->socket, ENET_SOCKOPT_SNDBUF, 4 << 20);
    pfds[h].fd = hosts[h]->socket;
    pfds[h].events = POLLIN;
  }

  /* ---- connect ---- */
  uint64_t t0 = now_ns();
  for (int i = 0; i < opt_clients; i++) {
    clients[i].connect_start = now_ns();
    clients[i].peer = enet_host_connect(hosts[i / per_host], &addr, 2, 0);
    if (!clients[i].peer) { fprintf(stderr, "loadgen: enet_host_connect failed\n"); return 1; }
    clients[i].peer->data = (void *)(uintptr_t)i;
  }
  uint64_t connect_deadline = t0 + (uint64_t)opt_connect_timeout_ms * 1000000ull;
  while (nconnected < opt_clients && !stop_requested) {
    service_all();
    if (nconnected >= opt_clients) break;
    uint64_t t = now_ns();
    if (t >= connect_deadline) break;
    uint64_t w = t + 1000000ull;
    wait_until(w < connect_deadline ? w : connect_deadline);
  }
  phase_connect = 0;
  double connect_all_ms = (double)(now_ns() - t0) / 1e6;
  int failed = opt_clients - nconnected;
  double *ct = malloc(sizeof(double) * (size_t)opt_clients);
  int nct = 0;
  for (int i = 0; i < opt_clients; i++) {
    if (clients[i].connected) ct[nct++] = clients[i].connect_ms;
    else if (clients[i].peer) { enet_peer_reset(clients[i].peer); clients[i].peer = NULL; }
  }
  qsort(ct, (size_t)nct, sizeof(double), cmp_dbl);
  double c50 = nct ? ct[rank((size_t)nct, 0.5)] : NAN, c99 = nct ? ct[rank((size_t)nct, 0.99)] : NAN;
  double cmax = nct ? ct[nct - 1] : NAN;
  free(ct);
  if (opt_json) {
    printf("{\"type\":\"connect\",\"clients\":%d,\"connected\":%d,\"connectFailed\":%d,\"allMs\":%.1f,\"connect\":{",
           opt_clients, nct, failed, connect_all_ms);
    print_num("p50", c50, 0);
    print_num("p99", c99, 0);
    print_num("max", cmax, 1);
    printf("},\"size\":%d,\"hosts\":%d}\n", opt_size, nhosts);
  } else {
    printf("connected %d/%d clients in %.1f ms (connect p50 %.2f ms, p99 %.2f ms, max %.2f ms)\n", nct, opt_clients,
           connect_all_ms, c50, c99, cmax);
    printf("%9s %9s %9s %8s %10s %8s %8s %8s %8s %7s\n", "target/s", "sent/s", "received", "delivery", "echoes/s",
           "p50 ms", "p90 ms", "p99 ms", "max ms", "lg cpu");
  }
  fflush(stdout);
  if (nct == 0) {
    fprintf(stderr, "loadgen: no client connected to %s:%d\n", opt_host, opt_port);
    for (int h = 0; h < nhosts; h++) enet_host_destroy(hosts[h]);
    enet_deinitialize();
    return 2;
  }

  /* ---- steps ---- */
  double best_rate = 0, best_tp = 0, best_p99 = NAN, stopped_at = 0;
  const char *reason = NULL;
  int steps_run = 0;
  if (opt_warmup_ms > 0 && !stop_requested) {
    StepResult warm;
    step_silent = 1;
    run_step(-1, opt_rates[0], opt_warmup_ms, &warm);
    step_silent = 0;
  }
  for (int s = 0; s < opt_nrates && !stop_requested; s++) {
    StepResult r;
    run_step(s, opt_rates[s], opt_step_ms, &r);
    steps_run++;
    print_step(s, &r);
    if (stop_requested) { reason = "interrupted"; stopped_at = r.target; break; }
    if (r.delivery < 0.99) reason = "delivery < 0.99";
    else if (!(r.p99 <= 1000.0)) reason = "p99 RTT > 1000 ms";
    else if (r.send_rate < 0.9 * r.target) reason = "loadgen could not reach the target send rate";
    if (reason) { stopped_at = r.target; break; }
    best_rate = r.target;
    best_tp = r.throughput;
    best_p99 = r.p99;
    if (nconnected == 0) { reason = "all clients disconnected"; break; }
  }
  if (opt_json) {
    printf("{\"type\":\"summary\",\"steps\":%d,\"maxSustainedRate\":%.0f,\"maxSustainedThroughput\":%.1f,", steps_run,
           best_rate, best_tp);
    print_num("p99AtMax", best_p99, 0);
    if (reason) printf("\"stoppedAt\":%.0f,\"stopReason\":\"%s\",", stopped_at, reason);
    else printf("\"stoppedAt\":null,\"stopReason\":null,");
    printf("\"badPackets\":%llu,\"duplicates\":%llu,\"disconnects\":%d}\n", (unsigned long long)bad,
           (unsigned long long)dups, ndisconnects);
  } else {
    printf("highest sustained rate: %.0f/s (echo throughput %.0f/s, p99 %.3f ms)", best_rate, best_tp, best_p99);
    if (reason) printf("; stopped at %.0f/s: %s", stopped_at, reason);
    printf("\n");
    if (bad || dups || ndisconnects)
      printf("bad packets %llu, duplicates %llu, disconnects %d\n", (unsigned long long)bad, (unsigned long long)dups,
             ndisconnects);
  }
  fflush(stdout);

  /* ---- disconnect cleanly (bounded: 1 s), then free everything ---- */
  for (int i = 0; i < opt_clients; i++)
    if (clients[i].connected) enet_peer_disconnect(clients[i].peer, 0);
  uint64_t dl = now_ns() + 1000000000ull;
  while (nconnected > 0) {
    service_all();
    uint64_t t = now_ns();
    if (t >= dl) break;
    uint64_t w = t + 1000000ull;
    wait_until(w < dl ? w : dl);
  }
  for (int h = 0; h < nhosts; h++) enet_host_destroy(hosts[h]);
  enet_deinitialize();
  free(hosts);
  free(pfds);
  free(clients);
  free(tmpl);
  free(rtts);
  free(seen);
  return 0;
}
