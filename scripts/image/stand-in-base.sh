#!/usr/bin/env bash
# Makes a local stand-in for the Dockerfile's base image (its first FROM, node:20-bookworm-slim)
# where no image registry can be reached: Debian bookworm from debootstrap (--variant=minbase)
# with this machine's Node.js and npm in /usr/local and the `node` user (uid 1000), as in the
# real image. It is tagged with the FROM name, so `podman build --pull=never` builds on it.
#
# An image of that name that is no stand-in (a real one, pulled) is left alone. A stand-in is
# reused when made from the same inputs (this script, the node and npm versions): the same
# name with other contents would make builds that cannot be compared.
#
#   scripts/image/stand-in-base.sh          DEBIAN_MIRROR=http://... to use another mirror
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
podman=("$here/podman.sh")
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

from=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$repo/Dockerfile")
case "$from" in
  node:*-bookworm-slim) ;;
  *) echo "stand-in-base: the Dockerfile builds FROM $from; this script makes node:N-bookworm-slim only" >&2; exit 1 ;;
esac
# Podman's name for a short Docker Hub name.
image="docker.io/library/$from"
major=${from#node:}
major=${major%%-*}

node_bin=$(readlink -f "$(command -v node)")
node_version=$(node -p 'process.versions.node')
if [ "${node_version%%.*}" != "$major" ]; then
  echo "stand-in-base: this machine has Node.js $node_version; $from needs Node.js $major" >&2
  exit 1
fi
npm_dir="$(npm root -g)/npm"
npm_version=$(node -p "require('$npm_dir/package.json').version")
key=$( (cat "${BASH_SOURCE[0]}"; echo "$node_version $npm_version $mirror") | sha256sum | cut -c1-16)

if "${podman[@]}" image exists "$image"; then
  found=$("${podman[@]}" image inspect --format '{{index .Labels "hooksd.stand-in"}}' "$image")
  if [ -z "$found" ] || [ "$found" = "<no value>" ]; then
    echo "stand-in-base: $image is a real image (not a stand-in): building on it"
    exit 0
  fi
  if [ "$found" = "$key" ]; then
    echo "stand-in-base: reusing the stand-in $image (Node.js $node_version, npm $npm_version)"
    exit 0
  fi
  echo "stand-in-base: the stand-in $image was made from other inputs: making it again"
fi

command -v debootstrap >/dev/null || { echo "stand-in-base: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
started=$(date +%s)
root=$(mktemp -d /var/tmp/hooksd-stand-in.XXXXXX)
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -n 20 "$root.log" >&2
  rm -f "$root.log"
  echo "stand-in-base: debootstrap failed (above)" >&2
  exit 1
}
rm -f "$root.log"

# Node.js and npm where the real image has them.
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# The real image's package sources (with updates and security), and no package lists.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: ${mirror}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror}-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*

tar -C "$root" -c . | "${podman[@]}" import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=$node_version" \
  --change "LABEL hooksd.stand-in=$key" \
  --change 'CMD ["node"]' \
  --quiet - "$image" >/dev/null
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$image")
echo "stand-in-base: made $image in $(($(date +%s) - started)) s: Debian bookworm (minbase)," \
  "Node.js $node_version, npm $npm_version, $((size / 1000000)) MB"
