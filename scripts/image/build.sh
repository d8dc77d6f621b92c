#!/usr/bin/env bash
# Builds the repository's Dockerfile with podman on this machine: scripts/image/build.sh [TAG]
# (default hooksd:local). The base image must be there already (stand-in-base.sh makes one).
# - --format docker: the OCI image format has no HEALTHCHECK, and podman would drop it;
# - --pull=never: no registry is reachable, the base is the local one;
# - --network host: RUN steps reach Debian's mirror (apt-get) and the npm registry (npm ci)
#   the way this machine does;
# - HTTPS here goes through a proxy with its own certificate authority, which npm inside the
#   build must trust: the machine's CA bundle and an .npmrc naming it are mounted as /root (the
#   builder's home, an empty folder in the base) for each RUN. A build's mounts are in no
#   layer, so the image keeps neither; npm's download cache lands there too.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
tag=${1:-hooksd:local}
ca_bundle=${HOOKSD_BUILD_CA:-/etc/ssl/certs/ca-certificates.crt}

home=$(mktemp -d /var/tmp/hooksd-build-home.XXXXXX)
trap 'rm -rf "$home"' EXIT
mounts=()
if [ -f "$ca_bundle" ]; then
  cp "$ca_bundle" "$home/ca-certificates.crt"
  echo "cafile=/root/ca-certificates.crt" >"$home/.npmrc"
  mounts=(--volume "$home:/root")
fi

"$here/podman.sh" build --format docker --pull=never --network host "${mounts[@]}" --tag "$tag" "$repo"
