#!/usr/bin/env bash
# Builds the real Kubernetes components (kube-apiserver, kube-controller-manager,
# kube-scheduler, embedded etcd, kubectl, kubelet, kube-proxy) as one multi-call
# binary, plus symlinks named like each component, and the pod sandbox program
# `pause`, into $OUT (default: <repo>/bin). Version ldflags make
# /version report the real Kubernetes version.
set -euo pipefail
cd "$(dirname "$0")"
OUT=${OUT:-$(cd ../.. && pwd)/bin}
mkdir -p "$OUT"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
v=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
x=${v#v}; maj=${x%%.*}; r=${x#*.}; min=${r%%.*}
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $p.gitVersion=$v -X $p.gitMajor=$maj -X $p.gitMinor=$min -X $p.gitTreeState=clean -X $p.buildDate=2000-01-01T00:00:00Z"
done
go build -trimpath -tags notest,selinux -ldflags "$ld" -o "$OUT/k8s-envtest.tmp" .
mv "$OUT/k8s-envtest.tmp" "$OUT/k8s-envtest"
for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy etcd kubectl; do ln -sf k8s-envtest "$OUT/$c"; done
# The dev cluster's pod sandbox (containerd's sandbox image): a static binary of a few lines.
go build -trimpath -ldflags "-s -w" -o "$OUT/pause" ./pause
# Stamp: lets .ci/run and make skip the build when the inputs did not change.
cat go.mod go.sum main.go pause/main.go build.sh | sha256sum | cut -d' ' -f1 > "$OUT/.k8s-envtest.stamp"
echo "built $OUT/k8s-envtest ($v)"
