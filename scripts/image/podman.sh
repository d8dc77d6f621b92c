#!/usr/bin/env bash
# Runs podman with the settings this kind of machine needs, in a containers.conf of its own
# (CONTAINERS_CONF), so the machine's own configuration is left as it is:
# - runc as the OCI runtime: crun refuses the hybrid cgroup layout (v1 controllers beside a
#   v2 mount) these machines have;
# - RLIMIT_NOFILE and RLIMIT_NPROC fixed at what the machine gives: podman asks for more by
#   default, and the VM refuses to raise them (runc fails with "error setting rlimits").
#   NPROC stays at or under 32768 (podman build's own default), the most a container got here.
#
#   scripts/image/podman.sh images
set -euo pipefail

conf="${TMPDIR:-/tmp}/hooksd-podman-containers.conf"
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
if [ "$nofile" = unlimited ]; then nofile=1048576; fi
if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
cat >"$conf.$$" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
CONF
mv "$conf.$$" "$conf"
CONTAINERS_CONF="$conf" exec podman "$@"
