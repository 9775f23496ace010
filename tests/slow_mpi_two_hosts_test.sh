#!/usr/bin/env bash
# Two hosts, simulated (issue 20): two network namespaces joined by a veth pair, one MPI rank in
# each, the 2-rank `catdog train` across them over TCP (Open MPI's tcp transport only, on the
# veth addresses only), against the same 2-rank job on one host over shared memory. The gradient
# sum is the same arithmetic whatever carries the bytes, so history.csv must match digit for digit
# (with the same threads per rank: mpirun counts the namespaces as two hosts, and a rank alone on
# a host would otherwise take all its cores, and the kernels' sums split differently).
#
#   tests/slow_mpi_two_hosts_test.sh CATDOG_EXE SHARED_DIR WORK_DIR
# Exit 77 (ctest: skipped) with the reason when mpirun, ip or the permission to make namespaces
# is missing.
set -euo pipefail
catdog=$1 shared=${CATDOG_SHARED:-$2} work=$3
skip() { echo "SKIPPED: $*"; exit 77; }
command -v mpirun >/dev/null || skip "mpirun is not on PATH (openmpi-bin)"
command -v ip >/dev/null || skip "ip is not on PATH (iproute2)"
[ -f "$shared/weights/tiny_darknet_imagenet.h5" ] || skip "shared weights absent: $shared"
[ -d "$shared/data/catsdogs/train" ] || skip "shared photos absent: $shared"

a=cdA$$ b=cdB$$
cleanup() {
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
}
ip netns add "$a" 2>/dev/null || skip "not permitted to make network namespaces (ip netns add)"
trap cleanup EXIT
ip netns add "$b"
ip link add "va$$" type veth peer name "vb$$"
ip link set "va$$" netns "$a"
ip link set "vb$$" netns "$b"
ip -n "$a" addr add 10.199.0.1/24 dev "va$$"
ip -n "$b" addr add 10.199.0.2/24 dev "vb$$"
for ns in "$a" "$b"; do
  ip -n "$ns" link set lo up
done
ip -n "$a" link set "va$$" up
ip -n "$b" link set "vb$$" up

rm -rf "$work" && mkdir -p "$work/data"
for split in train:12 test:4; do
  for cls in cats dogs; do
    mkdir -p "$work/data/${split%:*}/$cls"
    mapfile -t files < <(ls "$shared/data/catsdogs/${split%:*}/$cls" | sort)
    for f in "${files[@]:0:${split#*:}}"; do
      ln -s "$shared/data/catsdogs/${split%:*}/$cls/$f" "$work/data/${split%:*}/$cls/$f"
    done
  done
done

# mpirun's "remote shell": instead of ssh HOST COMMAND, run COMMAND in HOST's namespace.
cat > "$work/netns-shell" <<AGENT
#!/bin/sh
host=\$1; shift
case "\$host" in 10.199.0.1) ns=$a ;; 10.199.0.2) ns=$b ;; *) echo "unknown host \$host" >&2; exit 1 ;; esac
echo "\$host \$ns" >> "$work/netns-shell.log"
exec ip netns exec "\$ns" env PATH="$PATH" OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 sh -c "\$*"
AGENT
chmod +x "$work/netns-shell"

args=(train --data "$work/data" --model tiny-darknet --weights "$shared/weights/tiny_darknet_imagenet.h5"
      --image-size 64 --epochs 2 --batch 8 --workers 1)
root=()
[ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)

echo "== one host, shared memory"
mpirun "${root[@]}" --oversubscribe --bind-to none -np 2 -x CATDOG_THREADS=1 "$catdog" "${args[@]}" --out "$work/local" \
  > "$work/local.log" 2>&1 || { cat "$work/local.log"; exit 1; }

echo "== two namespaces, TCP over the veth pair"
timeout 300 ip netns exec "$a" mpirun "${root[@]}" --bind-to none \
  --host 10.199.0.1:1,10.199.0.2:1 -np 2 \
  --mca plm_rsh_agent "$work/netns-shell" --mca btl self,tcp \
  --mca btl_tcp_if_include 10.199.0.0/24 --mca oob_tcp_if_include 10.199.0.0/24 \
  -x PATH -x CATDOG_THREADS=1 "$catdog" "${args[@]}" --out "$work/hosts" > "$work/hosts.log" 2>&1 ||
  { cat "$work/hosts.log"; exit 1; }
grep -qx "10.199.0.2 $b" "$work/netns-shell.log" ||
  { echo "FAIL: no rank was started in namespace $b"; exit 1; }
grep -q ", 2 ranks" "$work/hosts.log" || { cat "$work/hosts.log"; echo "FAIL: not 2 ranks"; exit 1; }

# Every column but the wall time.
diff <(cut -d, -f1-5 "$work/local/history.csv") <(cut -d, -f1-5 "$work/hosts/history.csv") ||
  { echo "FAIL: the two-host run's history.csv differs from the one-host run's"; exit 1; }
echo "PASS: 2 ranks across two network namespaces over TCP match the shared-memory run"
cat "$work/hosts/history.csv"
