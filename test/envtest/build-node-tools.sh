#!/usr/bin/env bash
# Builds the dev cluster's container runtime and DNS from Go modules into $OUT
# (default: <repo>/bin): containerd, its runc shim and ctr, and CoreDNS. No
# release binaries can be downloaded here, but the Go module proxy serves both
# projects. runc and the CNI plugins come from Debian (`make node-packages`).
# The versions below are the single place they are pinned; the stamp covers
# this file, so changing a version rebuilds.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")"
OUT=${OUT:-$(cd ../.. && pwd)/bin}
mkdir -p "$OUT"
CONTAINERD_VERSION=v2.4.2
COREDNS_VERSION=v1.15.0
export GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$OUT" GOFLAGS=
# no_btrfs: no btrfs headers are needed (the node uses overlayfs).
go install -trimpath -tags no_btrfs \
  -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
  "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
  "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
  "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION"
go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
sha256sum < "$self" | cut -d' ' -f1 > "$OUT/.node-tools.stamp"
echo "built $OUT/containerd ($CONTAINERD_VERSION) and $OUT/coredns ($COREDNS_VERSION)"
