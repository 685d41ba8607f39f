#!/bin/sh
# A driver whose child leaves the process group and the session (setsid),
# as a daemonizing program does, and outlives the driver.
case "$1" in
hello) echo '{"protocol": 1, "name": "escapes", "version": "0", "language": "sh", "features": ["control"]}' ;;
run) setsid sleep 300 </dev/null >/dev/null 2>&1 & ;;
esac
