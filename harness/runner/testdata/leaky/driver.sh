#!/bin/sh
# A driver that leaves a process behind.
case "$1" in
hello) echo '{"protocol": 1, "name": "leaky", "version": "0", "language": "sh", "features": ["control"]}' ;;
run) sleep 300 &  # it holds the driver's stdout and stderr open
     echo '{"pid": '$$', "ppid": 1, "proc": "MainProcess", "seq": 0, "op": "process.begin", "step": "main", "t0": 1, "t1": 1, "ok": true, "value": {"name": "MainProcess", "daemon": false, "program": "main"}}' >> "$3/$$.jsonl" ;;
esac
