# A Godot 3.2 client for test/godot3.test.js, run headless:
#   godot3-server --script godot3_client.gd -- <host> <port> <compression_mode> <timeout_ms>
#
# It uses Godot 3's high-level NetworkedMultiplayerENet without a scene tree's network_peer (it polls
# the peer itself), so every packet it puts carries Godot 3's 8-byte header (u32 LE source id, u32 LE
# target id) and every packet it gets has the first 8 bytes stripped.
#
# Exchange: once connected it sends two reliable packets to the server (target peer 1):
#   1. "hello from godot"
#   2. big_payload("godot")   (about 2 KB of repetitive text, so the compressors have work to do)
# and expects two packets back, in this order:
#   1. "hello from server <mode>"
#   2. big_payload("server")
# Output lines (stdout): "CONFIG ...", "CONNECTED id=<unique id>", "RECV <text> from=<id> channel=<n>",
# "RECV_BIG <bytes> ok from=<id> channel=<n>", "DONE". Exit code 0 on success; 1 on timeout, 2 on a
# bad argument or a failed create_client, 3 on an unexpected packet, 4 when the connection failed or
# the server disconnected us.
extends SceneTree

const LINE = "the quick brown fox jumps over the lazy dog 0123456789; "
const BIG_LINES = 40

var peer = null
var mode = 0
var deadline = 0
var connected = false
var received = 0
var finished = false


static func big_payload(who):
	var s = "big payload from " + who + ": "
	for i in range(BIG_LINES):
		s += LINE
	return s


func _user_args():
	# Godot 3.2 has no OS.get_cmdline_user_args(): take what follows "--".
	var args = Array(OS.get_cmdline_args())
	var at = args.find("--")
	if at < 0 or at + 1 >= args.size():
		return []
	return args.slice(at + 1, args.size() - 1)


func _finish(code, message):
	if finished:
		return
	finished = true
	if message != "":
		print(message)
	if peer != null and peer.get_connection_status() != NetworkedMultiplayerPeer.CONNECTION_DISCONNECTED:
		peer.close_connection()
	quit(code)


func _init():
	var args = _user_args()
	if args.size() < 4:
		print("ERROR usage: -- <host> <port> <compression_mode> <timeout_ms> (got ", args, ")")
		quit(2)
		finished = true
		return
	var host = args[0]
	var port = int(args[1])
	mode = int(args[2])
	var timeout_ms = int(args[3])

	peer = NetworkedMultiplayerENet.new()
	peer.compression_mode = mode
	peer.transfer_mode = NetworkedMultiplayerPeer.TRANSFER_MODE_RELIABLE
	print("CONFIG compression_mode=", peer.compression_mode, " channel_count=", peer.channel_count,
		" transfer_mode=", peer.transfer_mode, " version=", Engine.get_version_info().string)
	var err = peer.create_client(host, port)
	if err != OK:
		peer = null
		_finish(2, "ERROR create_client returned " + str(err))
		return
	deadline = OS.get_ticks_msec() + timeout_ms


func _idle(_delta):
	if finished:
		return true
	if OS.get_ticks_msec() > deadline:
		_finish(1, "TIMEOUT connected=" + str(connected) + " received=" + str(received))
		return true
	peer.poll()
	var status = peer.get_connection_status()
	if not connected:
		if status == NetworkedMultiplayerPeer.CONNECTION_CONNECTED:
			connected = true
			print("CONNECTED id=", peer.get_unique_id())
			peer.set_target_peer(NetworkedMultiplayerPeer.TARGET_PEER_SERVER)
			peer.put_packet("hello from godot".to_utf8())
			peer.put_packet(big_payload("godot").to_utf8())
		elif status == NetworkedMultiplayerPeer.CONNECTION_DISCONNECTED:
			_finish(4, "FAILED connection failed")
			return true
	elif status == NetworkedMultiplayerPeer.CONNECTION_DISCONNECTED:
		_finish(4, "FAILED server disconnected")
		return true

	while not finished and peer.get_available_packet_count() > 0:
		var from = peer.get_packet_peer()
		var channel = peer.get_packet_channel()
		var text = peer.get_packet().get_string_from_utf8()
		received += 1
		if received == 1:
			var expected = "hello from server " + str(mode)
			if text != expected:
				_finish(3, "UNEXPECTED first packet: '" + text + "' (wanted '" + expected + "')")
				return true
			print("RECV ", text, " from=", from, " channel=", channel)
		elif received == 2:
			var big = big_payload("server")
			if text != big:
				_finish(3, "UNEXPECTED big packet of " + str(text.length()) + " chars (wanted " + str(big.length()) + ")")
				return true
			print("RECV_BIG ", text.to_utf8().size(), " ok from=", from, " channel=", channel)
			_finish(0, "DONE")
			return true
	OS.delay_msec(1)
	return false
