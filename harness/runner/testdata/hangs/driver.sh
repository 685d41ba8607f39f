#!/bin/sh
# A driver that never finishes a run.
case "$1" in
hello) echo '{"protocol": 1, "name": "hangs", "version": "0", "language": "sh", "features": ["control"]}' ;;
run) sleep 300 ;;
esac
