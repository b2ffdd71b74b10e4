/*
 * gamebots: players of the benchmark game (bench/game.mjs), thousands of them on one thread.
 *
 * gamebots --host H --port P --players N [--warmup-ms 3000] [--duration-ms 6000]
 *          [--connect-timeout-ms 20000] [--godot] [--server-pid PID] [--json]
 *
 * The game (docs/benchmarks.md "The game"): matches of 16 players; every player sends an input at
 * 30 Hz (unreliable); the server ticks each match at 30 Hz and sends every player its match's
 * snapshot on two ticks of every three (20 Hz, unreliable).
 *
 * Payloads (little-endian). The game's bodies are the same for every server; what goes in front
 * differs:
 *   input    (23 B)  'I', u16 0, u32 botId, u32 seq, i32 dx, i32 dy, 4 B zero
 *   snapshot (8 + 12 n B)  'S', u8 n, u16 0, u32 tick, then n × (u32 botId, i16 x, i16 y, u32 lastSeq)
 *   In front: our server and the raw C one, one byte 0x00 (PacketType.RAW): 24 B inputs, 201 B
 *   snapshots of 16. --godot: Godot 3's high-level framing, NetworkedMultiplayerENet's 8-byte
 *   header (u32 source id, u32 target id) then MultiplayerAPI's command byte 4 (raw bytes): each
 *   bot connects with its peer id as the connect data (botId + 2: ids 0 and 1 are reserved),
 *   3 channels, and sends its inputs unreliably on channel 2 (Godot's unreliable channel).
 *   A snapshot entry's botId is 0xFFFFFFFF until the server has seen that player's first input.
 *
 * Measured over --duration-ms after --warmup-ms (every player sends from the moment it connected):
 *   latency: input sent -> the first snapshot whose entry for this bot has lastSeq >= its seq;
 *   snapshots on time: arrivals whose gap since the bot's previous snapshot is <= 100 ms (2 × 50 ms),
 *   as a share of the snapshots due. Due, per bot and arrival: the snapshot ticks the server ran
 *   since the bot's previous snapshot (from the tick numbers: lost ones count) or the gap's length
 *   in 50 ms periods, whichever is more (a server that stalls owes what it did not send); at the end
 *   a bot silent for over 100 ms owes its silence too, so a bot that hears nothing counts against
 *   it. Counting by ticks, not by the window's length, keeps a backlog at either end of the window
 *   out of the figure. Also received / due; disconnects; the bots' own CPU; with
 *   --server-pid, the server process's CPU (all its threads, /proc/PID/stat) over the same window.
 * --json prints one line {"type":"result", ...}; otherwise a short text.
 * Exit: 0 ran, 1 usage / local error, 2 no player could connect.
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
#include <unistd.h>

#define MAX_PEERS_PER_HOST 4000
#define INPUT_BODY 23
#define SNAP_HEAD 8
#define SNAP_ENTRY 12
#define INPUT_HZ 30
#define SNAPSHOT_HZ 20
#define ON_TIME_NS 100000000ull /* 2 × the 50 ms snapshot period */
#define SEQ_RING 256            /* send times of the last inputs: 8.5 s at 30 Hz */
#define GODOT_HEADER 9          /* u32 source, u32 target, command byte */
#define GODOT_CMD_RAW 4
#define GODOT_UNRELIABLE_CHANNEL 2

static const char *opt_host = "127.0.0.1";
static int opt_port = 0;
static int opt_players = 32;
static int opt_warmup_ms = 3000;
static int opt_duration_ms = 6000;
static int opt_connect_timeout_ms = 20000;
static int opt_godot = 0;
static int opt_json = 0;
static long opt_server_pid = 0;

typedef struct {
  ENetPeer *peer;
  int connected;
  int playing;         /* connected when the window started */
  uint32_t seq;        /* next input's sequence number (from 1) */
  uint32_t acked;      /* highest seq a snapshot reflected */
  uint64_t next_input; /* when the next input is due */
  uint64_t last_snapshot;
  uint32_t last_tick; /* the tick number of that snapshot */
  uint64_t sent_at[SEQ_RING];
} Bot;

static ENetHost **hosts;
static int nhosts;
static struct pollfd *pfds;
static Bot *bots;
static int nconnected = 0, disconnects = 0;

/* the measured window */
static uint64_t window_start = 0, window_end = 0;
static uint64_t snapshots = 0, on_time = 0, bad = 0;
static double due = 0; /* snapshots due in the window (see the top) */
static double *latency = NULL; /* ms */
static size_t nlatency = 0, latency_cap = 0;

static void usage(void) {
  fprintf(stderr, "usage: gamebots --host H --port P --players N [--warmup-ms 3000] [--duration-ms 6000]\n"
                  "                [--connect-timeout-ms 20000] [--godot] [--server-pid PID] [--json]\n");
  exit(1);
}

static void parse_args(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
#define NEED() do { if (!v) { fprintf(stderr, "gamebots: %s needs a value\n", a); usage(); } i++; } while (0)
    if (!strcmp(a, "--host")) { NEED(); opt_host = v; }
    else if (!strcmp(a, "--port")) { NEED(); opt_port = (int)num_arg("gamebots", a, v, 1, 65535); }
    else if (!strcmp(a, "--players")) { NEED(); opt_players = (int)num_arg("gamebots", a, v, 1, 100000); }
    else if (!strcmp(a, "--warmup-ms")) { NEED(); opt_warmup_ms = (int)num_arg("gamebots", a, v, 0, 3600000); }
    else if (!strcmp(a, "--duration-ms")) { NEED(); opt_duration_ms = (int)num_arg("gamebots", a, v, 100, 3600000); }
    else if (!strcmp(a, "--connect-timeout-ms")) { NEED(); opt_connect_timeout_ms = (int)num_arg("gamebots", a, v, 1, 3600000); }
    else if (!strcmp(a, "--godot")) opt_godot = 1;
    else if (!strcmp(a, "--server-pid")) { NEED(); opt_server_pid = num_arg("gamebots", a, v, 1, 1L << 30); }
    else if (!strcmp(a, "--json")) opt_json = 1;
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) usage();
    else { fprintf(stderr, "gamebots: unknown option %s\n", a); usage(); }
#undef NEED
  }
  if (!opt_port) { fprintf(stderr, "gamebots: --port is required\n"); usage(); }
}

/* CPU time of a process (all threads), in ns, from /proc/PID/stat; -1 if unreadable. */
static double process_cpu_ns(long pid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  if (!p) return -1;
  unsigned long long utime = 0, stime = 0;
  /* after ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return -1;
  return (double)(utime + stime) * 1e9 / (double)sysconf(_SC_CLK_TCK);
}

static void record_latency(double ms) {
  if (nlatency == latency_cap) {
    latency_cap = latency_cap ? latency_cap * 2 : 65536;
    latency = realloc(latency, latency_cap * sizeof *latency);
    if (!latency) { fprintf(stderr, "gamebots: out of memory\n"); exit(1); }
  }
  latency[nlatency++] = ms;
}

static void on_snapshot(uint32_t index, const uint8_t *d, size_t len, uint64_t t) {
  if (len < SNAP_HEAD || d[0] != 'S' || len < SNAP_HEAD + (size_t)d[1] * SNAP_ENTRY) { bad++; return; }
  Bot *b = &bots[index];
  int in_window = t >= window_start && window_start != 0 && t < window_end;
  uint32_t tick = rd32(d + 4);
  if (in_window) {
    snapshots++;
    if (b->last_snapshot && t - b->last_snapshot <= ON_TIME_NS) on_time++;
    /* snapshot ticks in (last_tick, tick]: two of every three */
    double by_ticks = 1;
    if (b->last_snapshot && tick > b->last_tick) {
      uint32_t n = 0;
      for (uint32_t k = b->last_tick + 1; k != tick + 1 && n < 100000; k++) n += k % 3 != 2;
      by_ticks = n ? n : 1;
    }
    uint64_t since = b->last_snapshot > window_start ? b->last_snapshot : window_start;
    double by_time = floor((double)(t - since) / (1e9 / SNAPSHOT_HZ));
    due += by_ticks > by_time ? by_ticks : by_time;
  }
  b->last_snapshot = t;
  b->last_tick = tick;
  const uint8_t *e = d + SNAP_HEAD;
  for (int k = 0; k < d[1]; k++, e += SNAP_ENTRY) {
    if (rd32(e) != index) continue;
    uint32_t last = rd32(e + 8);
    if (last > b->seq - 1 || last <= b->acked) return; /* nothing new (or nonsense) */
    if (last - b->acked >= SEQ_RING) b->acked = last - SEQ_RING + 1;
    for (uint32_t s = b->acked + 1; s <= last; s++) {
      uint64_t sent = b->sent_at[s % SEQ_RING];
      if (in_window && sent >= window_start) record_latency((double)(t - sent) / 1e6);
    }
    b->acked = last;
    return;
  }
}

static void handle(ENetEvent *ev) {
  uint32_t index = (uint32_t)(uintptr_t)ev->peer->data;
  Bot *b = &bots[index];
  switch (ev->type) {
  case ENET_EVENT_TYPE_RECEIVE: {
    size_t skip = opt_godot ? GODOT_HEADER : 1;
    const uint8_t *d = ev->packet->data;
    if (ev->packet->dataLength <= skip || (opt_godot ? d[8] != GODOT_CMD_RAW : d[0] != 0)) bad++;
    else on_snapshot(index, d + skip, ev->packet->dataLength - skip, now_ns());
    enet_packet_destroy(ev->packet);
    break;
  }
  case ENET_EVENT_TYPE_CONNECT:
    if (!b->connected) {
      b->connected = 1;
      nconnected++;
      /* players' inputs spread evenly over the 1/30 s period (they all connect within a few ms:
         sending from then would bunch every input in one corner of the server's tick) */
      b->next_input = now_ns() + (1000000000ull / INPUT_HZ) * index / (uint64_t)opt_players;
    }
    break;
  case ENET_EVENT_TYPE_DISCONNECT:
    if (b->connected) { b->connected = 0; nconnected--; disconnects++; }
    b->peer = NULL;
    break;
  default: break;
  }
}

static void service_all(void) { service_hosts(hosts, nhosts, handle, "gamebots"); }

/* Sends every input that is due; returns when the next one is. */
static uint64_t send_inputs(uint64_t t) {
  const uint64_t period = 1000000000ull / INPUT_HZ;
  uint64_t next = t + period;
  size_t front = opt_godot ? GODOT_HEADER : 1;
  enet_uint8 channel = opt_godot ? GODOT_UNRELIABLE_CHANNEL : 0;
  for (int i = 0; i < opt_players; i++) {
    Bot *b = &bots[i];
    if (!b->connected) continue;
    if (b->next_input <= t) {
      ENetPacket *p = enet_packet_create(NULL, front + INPUT_BODY, 0);
      if (!p) { fprintf(stderr, "gamebots: out of memory\n"); exit(1); }
      uint8_t *d = p->data;
      memset(d, 0, front + INPUT_BODY);
      if (opt_godot) {
        wr32(d, (uint32_t)i + 2);
        wr32(d + 4, 1);
        d[8] = GODOT_CMD_RAW;
      }
      uint8_t *body = d + front;
      body[0] = 'I';
      wr32(body + 3, (uint32_t)i);
      wr32(body + 7, b->seq);
      wr32(body + 11, (uint32_t)(int32_t)((i + b->seq) % 3) - 1);
      wr32(body + 15, (uint32_t)(int32_t)((i * 7 + b->seq) % 3) - 1);
      b->sent_at[b->seq % SEQ_RING] = t;
      b->seq++;
      if (enet_peer_send(b->peer, channel, p) != 0) enet_packet_destroy(p);
      /* keep the phase; after a stall, skip what was missed rather than send a burst */
      b->next_input += period;
      if (b->next_input <= t) b->next_input = t + period;
    }
    if (b->next_input < next) next = b->next_input;
  }
  return next;
}

static void wait_until(uint64_t deadline) { wait_for_hosts(pfds, nhosts, deadline); }

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double pct(double p) {
  if (!nlatency) return NAN;
  size_t k = (size_t)ceil(p * (double)nlatency);
  return latency[k == 0 ? 0 : k - 1];
}

/* Runs the game until `end`: inputs when due, every arrival as it comes (waking at least every ms). */
static void play_until(uint64_t end) {
  while (!stop_requested) {
    uint64_t t = now_ns();
    if (t >= end) break;
    uint64_t next = send_inputs(t);
    service_all();
    uint64_t wake = now_ns() + 1000000ull;
    if (next < wake) wake = next;
    if (wake > end) wake = end;
    wait_until(wake);
  }
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  stop_on_signals();

  if (enet_initialize() != 0) { fprintf(stderr, "gamebots: enet_initialize failed\n"); return 1; }
  ENetAddress addr;
  if (enet_address_set_host(&addr, opt_host) != 0) { fprintf(stderr, "gamebots: cannot resolve %s\n", opt_host); return 1; }
  addr.port = (enet_uint16)opt_port;
  nhosts = (opt_players + MAX_PEERS_PER_HOST - 1) / MAX_PEERS_PER_HOST;
  int per_host = (opt_players + nhosts - 1) / nhosts;
  hosts = calloc((size_t)nhosts, sizeof *hosts);
  pfds = calloc((size_t)nhosts, sizeof *pfds);
  bots = calloc((size_t)opt_players, sizeof *bots);
  if (!hosts || !pfds || !bots) { fprintf(stderr, "gamebots: out of memory\n"); return 1; }
  size_t channels = opt_godot ? 3 : 2;
  for (int h = 0; h < nhosts; h++) {
    hosts[h] = enet_host_create(NULL, (size_t)per_host, channels, 0, 0);
    if (!hosts[h]) { fprintf(stderr, "gamebots: enet_host_create failed\n"); return 1; }
    /* The instrument must not drop: 4 MiB socket buffers (capped by net.core.[rw]mem_max). */
    enet_socket_set_option(hosts[h]->socket, ENET_SOCKOPT_RCVBUF, 4 << 20);
    enet_socket_set_option(hosts[h]->socket, ENET_SOCKOPT_SNDBUF, 4 << 20);
    pfds[h].fd = hosts[h]->socket;
    pfds[h].events = POLLIN;
  }

  uint64_t t0 = now_ns();
  for (int i = 0; i < opt_players; i++) {
    bots[i].seq = 1;
    bots[i].peer = enet_host_connect(hosts[i / per_host], &addr, channels, opt_godot ? (enet_uint32)i + 2 : 0);
    if (!bots[i].peer) { fprintf(stderr, "gamebots: enet_host_connect failed\n"); return 1; }
    bots[i].peer->data = (void *)(uintptr_t)i;
  }
  /* Players play as soon as they are in; the warm-up starts once all are (or the timeout passed). */
  uint64_t connect_deadline = t0 + (uint64_t)opt_connect_timeout_ms * 1000000ull;
  while (nconnected < opt_players && !stop_requested && now_ns() < connect_deadline) play_until(now_ns() + 5000000ull);
  double connect_ms = (double)(now_ns() - t0) / 1e6;
  int connected_at_start = nconnected;
  if (connected_at_start == 0) {
    fprintf(stderr, "gamebots: no player connected to %s:%d\n", opt_host, opt_port);
    return 2;
  }
  play_until(now_ns() + (uint64_t)opt_warmup_ms * 1000000ull);
  int playing = nconnected;
  for (int i = 0; i < opt_players; i++) bots[i].playing = bots[i].connected;
  disconnects = 0;
  uint64_t cpu0 = cpu_ns();
  double server0 = opt_server_pid ? process_cpu_ns(opt_server_pid) : -1;
  window_start = now_ns();
  window_end = window_start + (uint64_t)opt_duration_ms * 1000000ull;
  play_until(window_end);
  uint64_t t_end = now_ns();
  double cpu_pct = 100.0 * (double)(cpu_ns() - cpu0) / (double)(t_end - window_start);
  double server1 = opt_server_pid ? process_cpu_ns(opt_server_pid) : -1;
  double server_pct = server0 >= 0 && server1 >= 0 ? 100.0 * (server1 - server0) / (double)(t_end - window_start) : -1;
  double seconds = (double)(t_end - window_start) / 1e9;
  /* what the silent owe: bots (connected at the start) that heard nothing for over 100 ms at the end */
  for (int i = 0; i < opt_players; i++) {
    Bot *b = &bots[i];
    if (!b->playing) continue;
    uint64_t since = b->last_snapshot > window_start ? b->last_snapshot : window_start;
    if (t_end > since && t_end - since > ON_TIME_NS) due += floor((double)(t_end - since) / (1e9 / SNAPSHOT_HZ));
  }
  qsort(latency, nlatency, sizeof *latency, cmp_dbl);
  double p50 = pct(0.5), p99 = pct(0.99), pmax = nlatency ? latency[nlatency - 1] : NAN;

  if (opt_json) {
    printf("{\"type\":\"result\",\"players\":%d,\"connected\":%d,\"connectMs\":%.0f,\"playing\":%d,\"seconds\":%.3f,"
           "\"snapshotsDue\":%.0f,\"snapshots\":%llu,\"onTime\":%llu,\"onTimeRatio\":%.5f,\"receivedRatio\":%.5f,"
           "\"latencySamples\":%zu,\"latencyMs\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
           "\"disconnects\":%d,\"badPackets\":%llu,\"botsCpuPercent\":%.1f,\"serverCpuPercent\":%.1f}\n",
           opt_players, connected_at_start, connect_ms, playing, seconds, due, (unsigned long long)snapshots,
           (unsigned long long)on_time, due > 0 ? (double)on_time / due : 0, due > 0 ? (double)snapshots / due : 0,
           nlatency, isnan(p50) ? -1 : p50, isnan(p99) ? -1 : p99, isnan(pmax) ? -1 : pmax, disconnects,
           (unsigned long long)bad, cpu_pct, server_pct);
  } else {
    printf("%d/%d players connected in %.0f ms; %d playing over %.1f s\n", connected_at_start, opt_players, connect_ms,
           playing, seconds);
    printf("snapshots on time %.2f%% (received %.2f%% of %.0f due), latency p50 %.1f ms p99 %.1f ms max %.1f ms, "
           "disconnects %d, bad %llu, bots CPU %.1f%%, server CPU %.1f%%\n",
           due > 0 ? 100.0 * (double)on_time / due : 0, due > 0 ? 100.0 * (double)snapshots / due : 0, due, p50, p99,
           pmax, disconnects, (unsigned long long)bad, cpu_pct, server_pct);
  }
  fflush(stdout);

  for (int i = 0; i < opt_players; i++)
    if (bots[i].connected) enet_peer_disconnect(bots[i].peer, 0);
  uint64_t dl = now_ns() + 1000000000ull;
  while (nconnected > 0 && now_ns() < dl) {
    service_all();
    wait_until(now_ns() + 1000000ull);
  }
  for (int h = 0; h < nhosts; h++) enet_host_destroy(hosts[h]);
  enet_deinitialize();
  free(hosts);
  free(pfds);
  free(bots);
  free(latency);
  return 0;
}
