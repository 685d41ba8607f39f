#!/bin/sh
# A driver that crashes: it kills itself with SIGSEGV.
case "$1" in
hello) echo '{"protocol": 1, "name": "crashes", "version": "0", "language": "sh", "features": ["control"]}' ;;
run) kill -SEGV $$ ;;
esac
