#!/usr/bin/env bash
# Installs what the image check needs, from Debian's packages, when missing (as root, or with
# sudo): podman with runc (crun refuses these machines' hybrid cgroups), catatonit (the init
# process of `run --init`), netavark, aardvark-dns and iptables (the network for published
# ports), and debootstrap (the stand-in base image).
set -euo pipefail

packages=(podman runc catatonit netavark aardvark-dns iptables debootstrap)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-podman: already installed: ${packages[*]}"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-podman: missing ${missing[*]}, and this is not Debian or Ubuntu (no apt-get)" >&2
  exit 1
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
echo "install-podman: installing ${missing[*]}"
started=$(date +%s)
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-podman: installed ${missing[*]} in $(($(date +%s) - started)) s ($(podman --version))"
