/*
 * game_server: the benchmark game (bench/c/gamebots.c has the rules and the payloads) written in C
 * on raw ENet, one thread: the physical limit of one core, next to which ours is measured.
 *
 * Usage: game_server <port> [maxPeers=4095] [simUs=0]
 *
 * Binds 127.0.0.1:<port> (0 = ephemeral) and prints "listening <port>". Players are put in matches
 * of 16 in the order they connect. Inputs set a player's direction and last sequence number; every
 * 1/30 s each match moves its players, burns simUs microseconds of CPU per player (the game's
 * simulation, a busy loop on the clock), and on two ticks of three builds one snapshot and queues
 * that one ENetPacket to each of its players (ENet counts the references and frees it once sent);
 * then one enet_host_flush. Between ticks, enet_host_service waits for traffic until the next tick.
 * Exits cleanly on SIGTERM / SIGINT, printing its tick count and how many ticks ran late (stderr).
 */
#define _GNU_SOURCE
#include <enet/enet.h>
#include "bench.h"
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MATCH_SIZE 16
#define TICK_HZ 30
#define INPUT_BODY 23
#define SNAP_HEAD 8
#define SNAP_ENTRY 12

typedef struct {
  ENetPeer *peer; /* NULL: a free seat */
  uint32_t bot_id, last_seq;
  int32_t dx, dy;
  int16_t x, y;
} Player;

typedef struct {
  Player seats[MATCH_SIZE];
  int count;
} Match;

static void burn(uint64_t us) {
  if (!us) return;
  uint64_t end = now_ns() + us * 1000ull;
  while (now_ns() < end) {}
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: %s <port> [maxPeers=4095] [simUs=0]\n", argv[0]);
    return 1;
  }
  long port = num_arg("game_server", "port", argv[1], 0, 65535);
  long max_peers = argc > 2 ? num_arg("game_server", "maxPeers", argv[2], 1, ENET_PROTOCOL_MAXIMUM_PEER_ID) : 4095;
  long sim_us = argc > 3 ? num_arg("game_server", "simUs", argv[3], 0, 1000000) : 0;

  stop_on_signals();

  if (enet_initialize() != 0) { fprintf(stderr, "enet_initialize failed\n"); return 1; }
  ENetAddress addr;
  enet_address_set_host_ip(&addr, "127.0.0.1");
  addr.port = (enet_uint16)port;
  ENetHost *host = enet_host_create(&addr, (size_t)max_peers, 2, 0, 0);
  if (!host) { fprintf(stderr, "cannot bind 127.0.0.1:%ld\n", port); return 1; }
  /* 4 MiB socket buffers, as our server asks for (SERVER_SOCKET_BUFFER_BYTES in native/src/protocol.h):
     with ENet's 256 KiB default, a tick's burst of snapshots to 1,000 players fills the send buffer and
     ENet drops the unreliable ones it could not send. */
  enet_socket_set_option(host->socket, ENET_SOCKOPT_RCVBUF, 4 << 20);
  enet_socket_set_option(host->socket, ENET_SOCKOPT_SNDBUF, 4 << 20);
  ENetAddress bound;
  if (enet_socket_get_address(host->socket, &bound) != 0) bound.port = addr.port;
  printf("listening %u\n", (unsigned)bound.port);
  fflush(stdout);

  size_t nmatches = ((size_t)max_peers + MATCH_SIZE - 1) / MATCH_SIZE;
  Match *matches = calloc(nmatches, sizeof *matches);
  if (!matches) { fprintf(stderr, "out of memory\n"); return 1; }
  size_t joined = 0; /* players ever joined: the next one goes to match joined / 16 while it has room */
  uint8_t snap[SNAP_HEAD + 1 + MATCH_SIZE * SNAP_ENTRY];

  const uint64_t period = 1000000000ull / TICK_HZ;
  uint64_t next_tick = now_ns() + period;
  uint64_t ticks = 0, late = 0;
  ENetEvent ev;
  while (!stop_requested) {
    uint64_t t = now_ns();
    if (t >= next_tick) {
      /* the tick */
      int snapshot = ticks % 3 != 2;
      for (size_t m = 0; m < nmatches; m++) {
        Match *match = &matches[m];
        if (!match->count) continue;
        for (int s = 0; s < MATCH_SIZE; s++) {
          Player *p = &match->seats[s];
          if (!p->peer) continue;
          p->x = (int16_t)(p->x + p->dx);
          p->y = (int16_t)(p->y + p->dy);
        }
        burn((uint64_t)sim_us * (uint64_t)match->count);
        if (!snapshot) continue;
        uint8_t *d = snap;
        d[0] = 0; /* PacketType.RAW */
        d[1] = 'S';
        d[2] = (uint8_t)match->count;
        wr16(d + 3, 0);
        wr32(d + 5, (uint32_t)ticks);
        uint8_t *e = d + 1 + SNAP_HEAD;
        for (int s = 0; s < MATCH_SIZE; s++) {
          Player *p = &match->seats[s];
          if (!p->peer) continue;
          wr32(e, p->bot_id);
          wr16(e + 4, (uint16_t)p->x);
          wr16(e + 6, (uint16_t)p->y);
          wr32(e + 8, p->last_seq);
          e += SNAP_ENTRY;
        }
        ENetPacket *packet = enet_packet_create(snap, (size_t)(e - d), 0);
        if (!packet) { fprintf(stderr, "out of memory\n"); return 1; }
        for (int s = 0; s < MATCH_SIZE; s++)
          if (match->seats[s].peer) enet_peer_send(match->seats[s].peer, 0, packet);
        if (packet->referenceCount == 0) enet_packet_destroy(packet);
      }
      enet_host_flush(host);
      ticks++;
      next_tick += period;
      if (now_ns() >= next_tick) {
        late++;
        next_tick = now_ns() + period; /* a slow tick delays the next; ticks never pile up */
      }
      continue;
    }
    uint64_t wait_ms = (next_tick - t + 999999ull) / 1000000ull;
    int r = enet_host_service(host, &ev, (enet_uint32)wait_ms);
    while (r > 0) {
      switch (ev.type) {
      case ENET_EVENT_TYPE_CONNECT: {
        size_t m = joined / MATCH_SIZE;
        /* the match by join order; if it has no room (seats freed elsewhere do not count), any match that has */
        if (m >= nmatches || matches[m].count == MATCH_SIZE)
          for (m = 0; m < nmatches && matches[m].count == MATCH_SIZE; m++) {}
        if (m >= nmatches) { enet_peer_reset(ev.peer); break; }
        joined++;
        Match *match = &matches[m];
        int s = 0;
        while (match->seats[s].peer) s++;
        memset(&match->seats[s], 0, sizeof match->seats[s]);
        match->seats[s].peer = ev.peer;
        match->seats[s].bot_id = 0xFFFFFFFFu;
        match->count++;
        ev.peer->data = &match->seats[s];
        break;
      }
      case ENET_EVENT_TYPE_RECEIVE: {
        Player *p = ev.peer->data;
        const uint8_t *d = ev.packet->data;
        if (p && ev.packet->dataLength >= 1 + INPUT_BODY && d[0] == 0 && d[1] == 'I') {
          uint32_t seq = rd32(d + 8);
          if (seq > p->last_seq) {
            p->bot_id = rd32(d + 4);
            p->last_seq = seq;
            p->dx = (int32_t)rd32(d + 12);
            p->dy = (int32_t)rd32(d + 16);
          }
        }
        enet_packet_destroy(ev.packet);
        break;
      }
      case ENET_EVENT_TYPE_DISCONNECT: {
        Player *p = ev.peer->data;
        if (p) {
          Match *match = &matches[((uint8_t *)p - (uint8_t *)matches) / sizeof(Match)];
          p->peer = NULL;
          match->count--;
          ev.peer->data = NULL;
        }
        break;
      }
      default: break;
      }
      r = enet_host_check_events(host, &ev);
    }
    if (r < 0) { fprintf(stderr, "enet_host_service failed\n"); break; }
  }
  enet_host_flush(host);
  enet_host_destroy(host);
  enet_deinitialize();
  free(matches);
  fprintf(stderr, "game_server: stopped after %llu ticks, %llu late\n", (unsigned long long)ticks, (unsigned long long)late);
  return 0;
}
