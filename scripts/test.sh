#!/usr/bin/env bash
# The whole suite twice: in main-thread mode, then with every server running 2 game actors whose
# module handles nothing (all traffic then flows on to the supervisor's signals unchanged).
# Arguments go to both ava runs (e.g. --tap).
set -uo pipefail
cd "$(dirname "$0")/.."
npx ava "$@"
first=$?
ENET_TEST_GAME_ACTORS=2 npx ava "$@"
second=$?
[ "$first" -eq 0 ] && [ "$second" -eq 0 ]
