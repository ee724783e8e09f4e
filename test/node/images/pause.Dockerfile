# syntax=docker/dockerfile:1
# The pod sandbox image of the dev cluster's containerd (test/harness: pinned as its sandbox image),
# from the static binary bin/pause (test/envtest/pause, `make envtest-assets`), as
# localhost/webui-operator/pause:dev. Built by `node scripts/build-images.ts --dev-cluster`, whose build
# context is a directory holding only the binary. Same shape as registry.k8s.io/pause: one binary,
# uid 65535, no shell.
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
