#!/bin/sh
# Makes sure Debian packages are installed: installs the missing ones with apt-get when run as root
# (or with sudo when it needs no password), otherwise stops with one line naming the command.
#   sh scripts/bootstrap/apt.sh "<what needs them>" pkg...
set -eu
what=$1
shift
missing=
for p in "$@"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
missing=${missing# }
if [ -z "$missing" ]; then
  echo "$what: Debian packages present ($*)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$what needs these Debian packages, and this machine has no apt-get: $missing" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=sudo
else
  echo "$what needs Debian packages that are missing; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing" >&2
  exit 1
fi
echo "$what: installing $missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
