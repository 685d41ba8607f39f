#!/bin/sh
# A driver that rejects every scenario, as a driver must reject a malformed one.
case "$1" in
hello) echo '{"protocol": 1, "name": "refuses", "version": "0", "language": "sh", "features": ["control"]}' ;;
run) echo "driver.sh: scenario error: main/0: unknown op \"frobnicate\"" >&2; exit 2 ;;
esac
