// Command pause is the infrastructure container of every pod on the dev
// cluster's node (containerd's sandbox image). No registry is reachable here,
// so the usual registry.k8s.io/pause image cannot be pulled: this is the same
// job in a few lines. It holds the pod's namespaces open, reaps the zombies
// it inherits as PID 1 of a shared PID namespace, and exits on SIGTERM or
// SIGINT.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
