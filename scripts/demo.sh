#!/usr/bin/env bash
# Starts a local cluster (manager, scheduler, one seed peer, two peers) on
# the fs backend with bin/dfcluster, uploads a 64 MiB file through peer 1,
# downloads it through peer 2 (from a peer, not the backend), compares the
# bytes, deletes it and stops the cluster. Run `make build` first.
# DFCLUSTER_PORT_OFFSET shifts every port, to run beside another cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
offset=${DFCLUSTER_PORT_OFFSET:-0}
./bin/dfcluster --dir "$work/cluster" --port-offset "$offset" > "$work/dfcluster.out" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  grep -q "local cluster running" "$work/dfcluster.out" && break
  kill -0 $pid 2>/dev/null || { cat "$work/dfcluster.out"; exit 1; }
  sleep 0.1
done
cat "$work/dfcluster.out"

peer1="http://127.0.0.1:$((65004 + offset))"
peer2="http://127.0.0.1:$((65014 + offset))"
curl -fsS -X POST "$peer1/buckets/demo" > /dev/null   # create the bucket in the backend

head -c $((64 << 20)) /dev/urandom > "$work/file"
set -x
./bin/dfstore cp -e "$peer1" "$work/file" dfs://demo/a/b.bin
./bin/dfstore cp -e "$peer2" dfs://demo/a/b.bin "$work/copy"
cmp "$work/file" "$work/copy"
./bin/dfstore ls -e "$peer2" -r dfs://demo
./bin/dfstore rm -e "$peer1" dfs://demo/a/b.bin
! ./bin/dfstore stat -e "$peer2" dfs://demo/a/b.bin
set +x
echo "round trip OK through the cluster; logs under $work/cluster"
