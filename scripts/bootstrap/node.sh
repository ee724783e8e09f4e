#!/bin/sh
# Installs Node and npm into <dir> from the npm registry, pinned and checked, with nothing but a
# POSIX shell, tar, sha512sum and curl or wget: the path `make` takes on a machine whose Node is
# missing or older than 22 (a fresh Debian has no Node, or an old one, and may have no npm).
#   sh scripts/bootstrap/node.sh .tools/node
# Layout: <dir>/dist (Node, with its headers for native addons), <dir>/npm, and <dir>/bin with
# node, npm and npx, which the Makefile puts first on PATH.
set -eu

NODE_VERSION=24.21.0
NPM_VERSION=11.19.1
# sha512 of the registry tarballs (their `dist.integrity`, in hex).
NODE_SHA512_X64=de750bb336795f47dc898a46d2de93add029273027f3e16520d3fa3a2317ed5f07aefa404cf37ddfa5352e545e389ae22d16b87bcc84a900580a72f23cd02ced
NODE_SHA512_ARM64=1692513c4cf63afbd32df8c83a5346158f492cf30a825e66f9de2819804b836e242759a6bcdd5997f1cf2601781c3689e752127afd65d5c459fc333e91e5d6e6
NPM_SHA512=cedb312b1b7f92421a02cfb68b4194e88f8346651dacd6acc5364a25ef5309d4a32b19616a1ff8aff865e7280c0fa5c0835a99f5cd93368991e2a80ec9da75d2

dir=${1:?usage: bootstrap/node.sh <dir>}
registry=${npm_config_registry:-${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}}
registry=${registry%/}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) arch=x64 node_sha512=$NODE_SHA512_X64 ;;
  Linux-aarch64 | Linux-arm64) arch=arm64 node_sha512=$NODE_SHA512_ARM64 ;;
  *)
    echo "bootstrap: no pinned Node build for $(uname -s) $(uname -m); install Node 22 or newer (https://nodejs.org) and run make again" >&2
    exit 1
    ;;
esac

fetch() { # <url> <file>
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    echo "bootstrap: Node 22 or newer is needed, and there is no curl or wget to fetch it: sudo apt-get install -y curl" >&2
    exit 1
  fi
}

check() { # <file> <sha512>
  if ! echo "$2  $1" | sha512sum -c --status; then
    echo "bootstrap: $(basename "$1") from $registry does not match its pinned sha512; nothing was installed" >&2
    exit 1
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "bootstrap: Node $NODE_VERSION and npm $NPM_VERSION from $registry into $dir"
fetch "$registry/node-linux-$arch/-/node-linux-$arch-$NODE_VERSION.tgz" "$tmp/node.tgz"
check "$tmp/node.tgz" "$node_sha512"
fetch "$registry/npm/-/npm-$NPM_VERSION.tgz" "$tmp/npm.tgz"
check "$tmp/npm.tgz" "$NPM_SHA512"

rm -rf "$dir"
mkdir -p "$dir/dist" "$dir/npm" "$dir/bin"
tar xzf "$tmp/node.tgz" -C "$dir/dist" --strip-components=1
tar xzf "$tmp/npm.tgz" -C "$dir/npm" --strip-components=1
ln -s ../dist/bin/node "$dir/bin/node"
ln -s ../npm/bin/npm-cli.js "$dir/bin/npm"
ln -s ../npm/bin/npx-cli.js "$dir/bin/npx"
"$dir/bin/node" --version >/dev/null
