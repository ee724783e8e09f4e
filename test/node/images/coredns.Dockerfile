# syntax=docker/dockerfile:1
# CoreDNS for the dev cluster (test/harness: the cluster.local add-on), from the static binary
# bin/coredns (`make node-assets`), as localhost/webui-operator/coredns:dev. Built by
# `node scripts/build-images.ts --dev-cluster`, whose build context is a directory holding only
# the binary (bin/ itself is large and in .dockerignore).
# Like the upstream image it runs as the distroless `nonroot` uid; unlike it there are no CA
# certificates (the dev cluster forwards nowhere) and no file capability for port 53: the harness
# listens on 1053, and containerd >= 2.0 lets pods bind low ports anyway (ip_unprivileged_port_start=0).
FROM scratch
COPY coredns /coredns
USER 65532:65532
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
