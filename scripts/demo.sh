#!/usr/bin/env bash
# Starts one dfdaemon on the fs backend (objects under a temporary
# directory), copies a 64 MiB file up and down with dfstore, compares the
# bytes and stops the daemon. Run `make build` first.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
port=${DFDAEMON_PORT:-65004}
cat > "$work/dfdaemon.yaml" <<YAML
dataDir: $work/data
objectStorage:
  tcpListen:
    listen: 127.0.0.1
    port: $port
  backend:
    name: fs
    endpoint: $work/backend
YAML
mkdir -p "$work/backend/demo"

./bin/dfdaemon --config "$work/dfdaemon.yaml" > "$work/dfdaemon.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
endpoint="http://127.0.0.1:$port"
for _ in $(seq 100); do
  curl -fsS "$endpoint/healthy" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { cat "$work/dfdaemon.log"; exit 1; }
  sleep 0.1
done

head -c $((64 << 20)) /dev/urandom > "$work/file"
./bin/dfstore cp -e "$endpoint" "$work/file" dfs://demo/a/b.bin
./bin/dfstore cp -e "$endpoint" dfs://demo/a/b.bin "$work/copy"
./bin/dfstore ls -e "$endpoint" -r dfs://demo
cmp "$work/file" "$work/copy"
echo "round trip OK: $work/file and $work/copy are identical"
echo "daemon log: $work/dfdaemon.log; backend files: $work/backend"
