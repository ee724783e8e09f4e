#!/bin/sh
# Debian's nginx binary for the latency benchmark's floor and the Ingress routing test, unpacked into
# .tools/nginx from the machine's own apt sources (apt-get download + dpkg-deb -x). Nothing is
# installed: no service is registered or started (a package install would start one on port 80), and
# no root is needed once the package lists exist. The binary needs only libraries every Debian has
# (libc, libcrypt, pcre2, zlib, libssl3); the tests give it its whole configuration, temp paths and logs
# included. The same binary everywhere: a system nginx, if any, is not used.
#   sh scripts/bootstrap/nginx.sh
set -eu
dest=.tools/nginx
if [ -x "$dest/usr/sbin/nginx" ] && "$dest/usr/sbin/nginx" -v >/dev/null 2>&1; then
  echo "nginx: $dest is up to date ($("$dest/usr/sbin/nginx" -v 2>&1))"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || { echo "nginx: this machine has no apt-get to download Debian's nginx package from" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# `apt-get download` needs package lists; refresh them once when the package is unknown.
if ! (cd "$tmp" && apt-get download -qq nginx 2>/dev/null); then
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq; else echo "nginx: apt-get download nginx failed; run apt-get update (as root) first" >&2; exit 1; fi
  (cd "$tmp" && apt-get download -qq nginx)
fi
rm -rf "$dest" && mkdir -p "$dest"
dpkg-deb -x "$tmp"/nginx_*.deb "$dest"
"$dest/usr/sbin/nginx" -v
