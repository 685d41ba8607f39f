#!/bin/sh
# A driver that prints garbage: a hello that is no JSON when GARBAGE_HELLO is
# set, and a trace line that is no JSON.
case "$1" in
hello) if [ -n "$GARBAGE_HELLO" ]; then echo 'hello, world'; else echo '{"protocol": 1, "name": "garbage", "version": "0", "language": "sh", "features": ["control"]}'; fi ;;
run) printf '\x00\x01 not json\n' >> "$3/$$.jsonl" ;;
esac
