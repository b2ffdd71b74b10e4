# The benchmark game (bench/c/gamebots.c has the rules and the payloads) as a Godot 3 team would
# write it today: a headless Godot 3.2 server, GDScript, the high-level multiplayer API
# (NetworkedMultiplayerENet as the SceneTree's network_peer, raw bytes through MultiplayerAPI).
# The same game in C is bench/c/game_server.c, on our server bench/game/matches.mjs.
#
# Run (from the repository root; godot3-server is Debian's headless Godot 3.2.3 build):
#   godot3-server --path bench/game/godot --no-window -- --port P [--max-peers 4095] [--sim-us 0] [--stats]
# Arguments are the ones after "--" (Godot 3.2 has no OS.get_cmdline_user_args()).
#   --port P        UDP port on 127.0.0.1. 0: a free port — Godot 3.2.3 cannot tell which port an
#                   ENet host got (NetworkedMultiplayerENet.get_local_port() arrived in a later 3.x),
#                   so for 0 we pick random ports in 49152..65535 until create_server() binds one.
#   --max-peers N   create_server()'s max_clients, 1..4095 (Godot's limit; ENet's too).
#   --sim-us U      microseconds of CPU burnt per player per tick (the game's simulation).
#   --stats         once a second, print "stats ticks=… frames=… max_tick_gap_ms=… late=…".
# Prints "listening <port>" on stdout once bound (Godot 3.2.3's print() flushes stdout every time,
# so it arrives at once through a pipe). Stops on SIGTERM / SIGINT: Godot 3.2.3 installs no handler
# for them, so the default action ends the process at once (no cleanup, peers are not told; the
# C server does not tell them either; SIGINT only if the parent did not leave it ignored, as a
# shell's `cmd &` does). Give Godot a HOME it may write to and a UTF-8 locale (with
# LANG=C it prints "Invalid locale" errors); see test/godot3.test.js godotEnv().
#
# The game: players sit in matches of 16 in the order they join (network_peer_connected). An input
# (unreliable, 23 B body: 'I', u16 0, u32 botId, u32 seq, i32 dx, i32 dy, 4 B zero) sets the
# player's direction, botId and last sequence number (the highest wins). Every physics step (30 Hz,
# physics/common/physics_fps in project.godot) each match moves its players (int16 wrap), burns
# simUs × players µs, and on two ticks of three builds ONE snapshot ('S', u8 n, u16 0, u32 tick,
# then n × (u32 botId, i16 x, i16 y, u32 lastSeq), little-endian; botId 0xFFFFFFFF until the
# player's first input) and sends it to each of its players, unreliably.
#
# On the wire (Godot 3's high-level framing): every packet carries NetworkedMultiplayerENet's 8-byte
# header (u32 source id, u32 target id) then MultiplayerAPI's command byte (4 = raw bytes) then the
# body. The peer id is the client's ENet connect data (gamebots: botId + 2). Clients send on
# channel 2 (Godot's unreliable channel); send_bytes(…, TRANSFER_MODE_UNRELIABLE) answers there,
# unsequenced. server_relay = false: with the stock true, every join would send ADD_PEER system
# messages to and about every other peer (O(N²) reliable packets) and clients could address each other.
#
# What the stock headless main loop does (Godot 3.2.3, OS_Server, main/main.cpp Main::iteration),
# which is part of what is measured — no setting here changes it:
#   * one frame = the physics steps due (MainTimerSync: as many 1/30 s steps as the elapsed time
#     calls for, at most physics/common/max_physics_steps_per_frame = 8, with
#     physics/common/physics_jitter_fix = 0.5 snapping the step count), then one idle step;
#   * the network is polled only in the idle step (SceneTree::idle → MultiplayerAPI::poll →
#     enet_host_service(host, 0) until empty, then every packet is handed to the signal);
#   * then, because a headless OS cannot draw, the frame SLEEPS a fixed
#     OS.low_processor_usage_mode_sleep_usec = 6900 µs, whatever the frame cost — no wait on the
#     socket: a packet that arrives during the sleep waits for it to end. Idle it runs ~140 frames
#     a second; a frame that costs W ms lasts W + 6.9 ms.
#   * every send goes out at once: NetworkedMultiplayerENet.put_packet() ends with
#     enet_host_flush(), which walks every peer of the host — so one snapshot round costs
#     players × (one flush over all peers): O(N²) per tick.
#   * between two polls, datagrams wait in the socket's receive buffer, which is ENet's stock
#     256 KiB (the kernel doubles it: ss shows rb524288), i.e. a few hundred small datagrams; at 30
#     inputs a second per player, ~1000 players already overflow it now and then (the kernel's drop
#     count for the socket is the last column of /proc/net/udp), and a slow frame makes it worse.
#   * when frames run late, the next frame runs the missed physics steps back to back (ticks keep
#     their 30 a second on average) with no poll in between.
extends Node

const MATCH_SIZE = 16
const INPUT_BODY = 23
const STATS_USEC = 1000000


class Player:
	var peer_id = 0
	var seats = null # the Array of Players of its match
	var bot_id = 0xFFFFFFFF # no input yet
	var last_seq = 0
	var dx = 0
	var dy = 0
	var x = 0
	var y = 0


var _sim_us = 0
var _matches = [] # Arrays of Players, in join order (emptied ones stay, like matches.mjs)
var _players = {} # peer id -> Player
var _joined = 0
var _ticks = 0
var _snapshot = StreamPeerBuffer.new() # little-endian (big_endian is false by default)
var _input = StreamPeerBuffer.new()
var _mp = null

var _stats = false
var _stats_at = 0
var _stats_ticks = 0
var _stats_frames = 0
var _last_tick_usec = 0
var _max_gap_usec = 0
var _late = 0


func _user_args():
	var args = Array(OS.get_cmdline_args())
	var at = args.find("--")
	return [] if at < 0 else args.slice(at + 1, args.size() - 1)


func _fail(message):
	printerr("server.gd: ", message)
	get_tree().quit(1)


func _ready():
	var port = -1
	var max_peers = 4095
	var args = _user_args()
	var i = 0
	while i < args.size():
		var a = args[i]
		if a == "--stats":
			_stats = true
			i += 1
			continue
		if i + 1 >= args.size() or not args[i + 1].is_valid_integer():
			return _fail("%s needs an integer (usage: -- --port P [--max-peers N] [--sim-us U] [--stats])" % a)
		var v = int(args[i + 1])
		match a:
			"--port": port = v
			"--max-peers": max_peers = v
			"--sim-us": _sim_us = v
			_: return _fail("unknown option " + a)
		i += 2
	if port < 0 or port > 65535 or max_peers < 1 or max_peers > 4095 or _sim_us < 0:
		return _fail("need --port 0..65535, --max-peers 1..4095, --sim-us >= 0")

	var peer = null
	var rng = RandomNumberGenerator.new()
	rng.randomize()
	for attempt in range(1 if port != 0 else 50):
		var p = port if port != 0 else rng.randi_range(49152, 65535)
		peer = NetworkedMultiplayerENet.new()
		peer.set_bind_ip("127.0.0.1")
		peer.server_relay = false
		if peer.create_server(p, max_peers) == OK:
			port = p
			break
		peer = null
	if peer == null:
		return _fail("cannot bind 127.0.0.1:%d" % port)

	get_tree().network_peer = peer
	_mp = get_tree().multiplayer
	_mp.connect("network_peer_connected", self, "_on_peer_connected")
	_mp.connect("network_peer_disconnected", self, "_on_peer_disconnected")
	_mp.connect("network_peer_packet", self, "_on_packet")
	if Engine.iterations_per_second != 30:
		printerr("server.gd: physics runs at ", Engine.iterations_per_second, " Hz, not 30 (project.godot)")
	_stats_at = OS.get_ticks_usec()
	_stats_frames = Engine.get_idle_frames()
	print("listening ", port)


func _on_peer_connected(id):
	# the match by join order; if it is full (seats freed elsewhere do not count), the first with room
	var m = _joined / MATCH_SIZE
	if m >= _matches.size():
		_matches.append([])
		m = _matches.size() - 1
	elif _matches[m].size() >= MATCH_SIZE:
		m = -1
		for k in range(_matches.size()):
			if _matches[k].size() < MATCH_SIZE:
				m = k
				break
		if m < 0:
			_matches.append([])
			m = _matches.size() - 1
	var p = Player.new()
	p.peer_id = id
	p.seats = _matches[m]
	p.seats.append(p)
	_players[id] = p
	_joined += 1


func _on_peer_disconnected(id):
	var p = _players.get(id)
	if p == null:
		return
	_players.erase(id)
	p.seats.erase(p)


# `packet`: what follows MultiplayerAPI's command byte, i.e. the input's body.
func _on_packet(id, packet):
	var p = _players.get(id)
	if p == null or packet.size() < INPUT_BODY or packet[0] != 0x49: # 'I'
		return
	_input.data_array = packet
	_input.seek(3)
	var bot_id = _input.get_u32()
	var seq = _input.get_u32()
	if seq <= p.last_seq:
		return
	p.bot_id = bot_id
	p.last_seq = seq
	p.dx = _input.get_32()
	p.dy = _input.get_32()


static func _wrap16(v):
	return ((v + 32768) & 0xFFFF) - 32768


static func _burn(us):
	var end = OS.get_ticks_usec() + us
	while OS.get_ticks_usec() < end:
		pass


func _physics_process(_delta):
	var send = _ticks % 3 != 2
	for players in _matches:
		var n = players.size()
		if n == 0:
			continue
		for p in players:
			p.x = _wrap16(p.x + p.dx)
			p.y = _wrap16(p.y + p.dy)
		if _sim_us > 0:
			_burn(_sim_us * n)
		if not send:
			continue
		_snapshot.clear()
		_snapshot.put_u8(0x53) # 'S'
		_snapshot.put_u8(n)
		_snapshot.put_u16(0)
		_snapshot.put_u32(_ticks)
		for p in players:
			_snapshot.put_u32(p.bot_id)
			_snapshot.put_16(p.x)
			_snapshot.put_16(p.y)
			_snapshot.put_u32(p.last_seq)
		var bytes = _snapshot.data_array
		for p in players:
			_mp.send_bytes(bytes, p.peer_id, NetworkedMultiplayerPeer.TRANSFER_MODE_UNRELIABLE)
	_ticks += 1
	if _stats:
		_count_tick()


# --stats: ticks and idle frames per second, the longest gap between two ticks, and how many
# gaps exceeded 1.5 tick periods (50 ms).
func _count_tick():
	var now = OS.get_ticks_usec()
	if _last_tick_usec > 0:
		var gap = now - _last_tick_usec
		_max_gap_usec = max(_max_gap_usec, gap)
		if gap > 50000:
			_late += 1
	_last_tick_usec = now
	_stats_ticks += 1
	if now - _stats_at >= STATS_USEC:
		var frames = Engine.get_idle_frames()
		print("stats ticks=%d frames=%d max_tick_gap_ms=%.1f late=%d players=%d over_ms=%d" % [
			_stats_ticks, frames - _stats_frames, _max_gap_usec / 1000.0, _late, _players.size(),
			(now - _stats_at) / 1000])
		_stats_at = now
		_stats_frames = frames
		_stats_ticks = 0
		_max_gap_usec = 0
		_late = 0
