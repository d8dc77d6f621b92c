#!/bin/sh
# Makes sure nats-server (2.9+, with JetStream) is installed. hooksd starts it itself when
# no nats.servers are configured, and the test suite runs it.
# Installs the Debian/Ubuntu package; anywhere else it says what to do and exits 1.
set -eu

if command -v nats-server >/dev/null 2>&1; then
  echo "install-nats: nats-server is already installed at $(command -v nats-server) ($(nats-server --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

cannot_install() {
  echo "install-nats: $1" >&2
  echo "install-nats: install nats-server 2.9+ with your package manager (or from https://github.com/nats-io/nats-server/releases)," >&2
  echo "install-nats: or point hooksd at a running NATS with JetStream by setting nats.servers in hooks.config.yaml." >&2
  exit 1
}

if ! command -v apt-get >/dev/null 2>&1 || [ ! -f /etc/debian_version ]; then
  cannot_install "nats-server is not installed, and this is not Debian or Ubuntu (no apt-get), so it cannot be installed automatically."
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  cannot_install "nats-server is not installed, and installing it needs root: run this script as root, or install sudo."
fi

echo "install-nats: installing nats-server with apt-get${as_root:+ (via sudo)}"
if ! { $as_root apt-get update && $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y nats-server; }; then
  cannot_install "apt-get could not install the nats-server package."
fi

if ! command -v nats-server >/dev/null 2>&1; then
  cannot_install "apt-get finished, but nats-server is still not on PATH (Debian installs it to /usr/sbin; is that on PATH?)."
fi
echo "install-nats: installed $(nats-server --version 2>/dev/null || echo nats-server)"
