#!/bin/sh
# A driver that leaves a file in its TMPDIR and one in /dev/shm.
case "$1" in
hello) echo '{"protocol": 1, "name": "litters", "version": "0", "language": "sh", "features": ["control"]}' ;;
run) touch "$TMPDIR/left" "/dev/shm/mpconform-runner-test-$$"
     echo '{"pid": '$$', "ppid": 1, "proc": "MainProcess", "seq": 0, "op": "process.begin", "step": "main", "t0": 1, "t1": 1, "ok": true, "value": {"name": "MainProcess", "daemon": false, "program": "main"}}' >> "$3/$$.jsonl" ;;
esac
