// Command k8s-envtest is a multi-call binary holding the real Kubernetes
// components used by our tests: the control plane (kube-apiserver,
// kube-controller-manager, kube-scheduler, an embedded etcd), kubectl, and a
// worker node's kubelet and kube-proxy (make dev-cluster). The component is
// chosen by the first argument or by the name the binary was invoked under
// (symlinks named like the component work too, as in the envtest layout).
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	_ "time/tzdata"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/component-base/version"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	apiserverapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxyapp "k8s.io/kubernetes/cmd/kube-proxy/app"
	schedulerapp "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubeletapp "k8s.io/kubernetes/cmd/kubelet/app"
)

const self = "k8s-envtest"

// exitWithParentEnv, when set (the test harness sets it), makes every
// component stop once the process that started it is gone. A test runner
// killed with SIGKILL cannot clean up, and orphaned control planes would
// keep eating CPU and memory on a shared machine.
const exitWithParentEnv = "K8S_ENVTEST_EXIT_WITH_PARENT"

func main() {
	name, args := filepath.Base(os.Args[0]), os.Args[1:]
	if name == self || name == "main" {
		if len(args) == 0 {
			usage()
			os.Exit(2)
		}
		name, args = args[0], args[1:]
	}
	if os.Getenv(exitWithParentEnv) != "" {
		go exitWithParent(os.Getppid())
	}
	switch name {
	case "kube-apiserver":
		c := apiserverapp.NewAPIServerCommand()
		c.SetArgs(args)
		os.Exit(cli.Run(c))
	case "kube-controller-manager":
		c := kcmapp.NewControllerManagerCommand()
		c.SetArgs(args)
		os.Exit(cli.Run(c))
	case "kube-scheduler":
		c := schedulerapp.NewSchedulerCommand()
		c.SetArgs(args)
		os.Exit(cli.Run(c))
	case "kubelet":
		c := kubeletapp.NewKubeletCommand(context.Background())
		c.SetArgs(args)
		os.Exit(cli.Run(c))
	case "kube-proxy":
		c := proxyapp.NewProxyCommand()
		c.SetArgs(args)
		os.Exit(cli.Run(c))
	case "kubectl":
		c := kubectlcmd.NewDefaultKubectlCommand()
		c.SetArgs(args)
		os.Exit(cli.Run(c))
	case "etcd":
		os.Exit(runEtcd(args))
	case "version":
		fmt.Println(version.Get().GitVersion)
	default:
		usage()
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: %s kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy|kubectl|etcd|version [flags]\n", self)
}

// exitWithParent polls the parent pid (orphans are re-parented, so it
// changes when the parent dies), then asks this process to shut down
// gracefully, and forces the exit if that takes too long.
func exitWithParent(parent int) {
	for os.Getppid() == parent {
		time.Sleep(time.Second)
	}
	fmt.Fprintf(os.Stderr, "%s: parent process %d is gone, shutting down\n", self, parent)
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	time.Sleep(10 * time.Second)
	os.Exit(1)
}

// runEtcd starts an embedded etcd (the version k8s.io/kubernetes itself
// selects) with the small flag set our harness needs, and stops on SIGTERM.
func runEtcd(args []string) int {
	fs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	dir := fs.String("data-dir", "", "data directory (required)")
	clientURL := fs.String("listen-client-urls", "http://127.0.0.1:2379", "client URL")
	fs.String("advertise-client-urls", "", "ignored: the listen URL is advertised")
	peerURL := fs.String("listen-peer-urls", "http://127.0.0.1:2380", "peer URL")
	noFsync := fs.Bool("unsafe-no-fsync", true, "skip fsync (test data only)")
	logLevel := fs.String("log-level", "warn", "log level")
	quota := fs.Int64("quota-backend-bytes", 0, "backend quota in bytes (0: etcd default)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "etcd: --data-dir is required")
		return 2
	}
	cu, err := url.Parse(*clientURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd: bad --listen-client-urls:", err)
		return 2
	}
	pu, err := url.Parse(*peerURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd: bad --listen-peer-urls:", err)
		return 2
	}
	cfg := embed.NewConfig()
	cfg.Dir = *dir
	cfg.LogLevel = *logLevel
	cfg.UnsafeNoFsync = *noFsync
	if *quota > 0 {
		cfg.QuotaBackendBytes = *quota
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd:", err)
		return 1
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		fmt.Fprintln(os.Stderr, "etcd: not ready after 60s")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	select {
	case <-ctx.Done():
		return 0
	case err := <-e.Err():
		fmt.Fprintln(os.Stderr, "etcd:", err)
		return 1
	}
}
