// Package cluster runs a local Kubernetes control plane for upstream-tls: etcd,
// kube-apiserver and kube-controller-manager as host processes on loopback addresses and free
// ports, built from the pinned modules by scripts/tools.sh (`scripts/tools.sh cluster`).
//
// Everything a cluster has lives in its directory (Options.Dir): the PKI and kubeconfigs the
// package generates with Go's crypto, etcd's data, the ports and process IDs it recorded
// (cluster.json) and one log file per process. A stopped cluster started again reuses its PKI,
// its data and, when they are still free, its ports, so objects and kubeconfigs survive a
// restart. Several clusters run side by side in different directories.
//
// The cluster has no scheduler, kubelet or container runtime: no pod ever runs, Deployments
// never become Available. kube-controller-manager runs so that namespaces get their default
// ServiceAccount and deleted namespaces and owned objects are really removed.
package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options locate a cluster and its binaries.
type Options struct {
	// Dir holds everything of the cluster (created when missing).
	Dir string
	// Bin is the directory with etcd, kube-apiserver, kube-controller-manager and envoy-gateway
	// (the shared tool cache, `scripts/tools.sh cluster`).
	Bin string
	// Host is the path of this project's cluster command (cmd/cluster, built as HostBinary),
	// which the cluster runs as its Envoy Gateway host (see RunEnvoyGatewayHost).
	Host string
	// Ephemeral trades durability for speed: etcd does not fsync. For test clusters only; a
	// cluster whose host crashes may lose its data.
	Ephemeral bool
	// Log receives progress lines (nil: discarded).
	Log io.Writer
}

// Process names, in start order.
const (
	Etcd                  = "etcd"
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
)

var processes = []string{Etcd, KubeAPIServer, KubeControllerManager, EnvoyGatewayHost}

// ProcessCount is how many processes a running cluster has.
func ProcessCount() int { return len(processes) }

// binary is the file name process name runs.
func binary(name string) string {
	if name == EnvoyGatewayHost {
		return HostBinary
	}
	return name
}

// path is the executable of process name.
func (o Options) path(name string) string {
	if name == EnvoyGatewayHost {
		return o.Host
	}
	return filepath.Join(o.Bin, name)
}

// State is what a running (or last started) cluster recorded in Dir/cluster.json.
type State struct {
	// Ports by use: etcd-client, etcd-peer, apiserver, controller-manager.
	Ports map[string]int `json:"ports"`
	// PIDs of the processes by name (see Etcd, KubeAPIServer, KubeControllerManager).
	PIDs map[string]int `json:"pids"`
	// Server is the API server's URL.
	Server string `json:"server"`
}

// Kubeconfig is the path of the admin kubeconfig of the cluster in dir.
func Kubeconfig(dir string) string { return filepath.Join(dir, "kubeconfig") }

// Start starts the cluster in opts.Dir unless it is already running, and waits until the API
// server is ready and kube-controller-manager is healthy. It is idempotent: a running cluster
// is left alone; a partly running one (a process died) is stopped and started again.
func Start(ctx context.Context, opts Options) (*State, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o700); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", dir, err)
	}
	unlock, err := lock(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	prev, _ := readState(dir)
	if prev != nil {
		switch alive := running(dir, prev); {
		case alive == len(processes):
			if err := waitReady(ctx, dir, prev, 30*time.Second); err == nil {
				fmt.Fprintf(logw, "cluster %s already running at %s\n", dir, prev.Server)
				return prev, nil
			}
			fmt.Fprintf(logw, "cluster %s: processes run but do not answer; restarting\n", dir)
			stopProcesses(dir, prev)
		case alive > 0:
			fmt.Fprintf(logw, "cluster %s: %d of %d processes running; restarting\n", dir, alive, len(processes))
			stopProcesses(dir, prev)
		}
	}
	for _, p := range append(processes[:len(processes):len(processes)], EnvoyGatewayBinary) {
		path := opts.path(p)
		if p == EnvoyGatewayBinary {
			path = filepath.Join(opts.Bin, p)
		}
		if p == EnvoyGatewayHost && (opts.Host == "" || filepath.Base(opts.Host) != HostBinary) {
			return nil, fmt.Errorf("cluster: Options.Host must be the cluster command built as %s (go build -o .../%s ./cmd/cluster), not %q", HostBinary, HostBinary, opts.Host)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("cluster: %s not found at %s; fix: run scripts/tools.sh cluster", p, path)
		}
	}
	if err := ensurePKI(filepath.Join(dir, "pki")); err != nil {
		return nil, err
	}
	if err := ensurePublicCA(filepath.Join(dir, "pki")); err != nil {
		return nil, err
	}
	st := &State{Ports: map[string]int{}, PIDs: map[string]int{}}
	for _, use := range []string{"etcd-client", "etcd-peer", "apiserver", "controller-manager"} {
		want := 0
		if prev != nil {
			want = prev.Ports[use]
		}
		port, err := freePort(want, st.Ports)
		if err != nil {
			return nil, fmt.Errorf("cluster: port for %s: %w", use, err)
		}
		st.Ports[use] = port
	}
	st.Server = fmt.Sprintf("https://127.0.0.1:%d", st.Ports["apiserver"])
	if err := writeKubeconfigs(dir, st.Server); err != nil {
		return nil, err
	}
	start := time.Now()
	for _, name := range processes {
		pid, err := startProcess(dir, name, opts.path(name), args(name, dir, st, opts))
		if err != nil {
			return nil, failed(dir, st, err)
		}
		st.PIDs[name] = pid
		if err := writeState(dir, st); err != nil {
			return nil, failed(dir, st, err)
		}
		// Each process waits for the one before it: kube-controller-manager exits when it
		// starts before the API server has bootstrapped its RBAC roles.
		switch name {
		case Etcd:
			err = waitEtcd(ctx, dir, st, 30*time.Second)
		case KubeAPIServer:
			err = waitAPIServer(ctx, dir, st, 90*time.Second)
		default:
			err = waitReady(ctx, dir, st, 90*time.Second)
		}
		if err != nil {
			return nil, failed(dir, st, err)
		}
	}
	fmt.Fprintf(logw, "cluster %s ready at %s in %.1fs (kubeconfig %s)\n", dir, st.Server, time.Since(start).Seconds(), Kubeconfig(dir))
	return st, nil
}

// failed stops what a failed start started and records that nothing runs.
func failed(dir string, st *State, err error) error {
	stopProcesses(dir, st)
	st.PIDs = map[string]int{}
	_ = writeState(dir, st)
	return err
}

// Stop stops the processes the cluster in dir recorded (SIGTERM, then SIGKILL after 15 s) and
// keeps its data. Processes whose PID now belongs to another program are left alone. Stopping
// a stopped cluster does nothing.
func Stop(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if !exists(filepath.Join(dir, "cluster.json")) {
		return nil
	}
	unlock, err := lock(dir)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := readState(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	stopProcesses(dir, st)
	st.PIDs = map[string]int{}
	return writeState(dir, st)
}

// Status reports the cluster's recorded state and how many of its processes run.
func Status(dir string) (*State, int, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, 0, err
	}
	st, err := readState(dir)
	if err != nil {
		return nil, 0, err
	}
	return st, running(dir, st), nil
}

// args are the command-line flags of process name.
func args(name, dir string, st *State, opts Options) []string {
	pki := func(f string) string { return filepath.Join(dir, "pki", f) }
	p := func(use string) string { return strconv.Itoa(st.Ports[use]) }
	switch name {
	case Etcd:
		client := "http://127.0.0.1:" + p("etcd-client")
		peer := "http://127.0.0.1:" + p("etcd-peer")
		a := []string{
			"--name=local", "--data-dir=" + filepath.Join(dir, "etcd"),
			"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
			"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=local=" + peer, "--listen-metrics-urls=",
			"--log-level=warn",
		}
		if opts.Ephemeral {
			a = append(a, "--unsafe-no-fsync")
		}
		return a
	case KubeAPIServer:
		return []string{
			"--etcd-servers=http://127.0.0.1:" + p("etcd-client"),
			"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + p("apiserver"),
			// The endpoint reconciler refuses a loopback address; nothing reaches the API
			// server through the in-cluster kubernetes Service here (no pod runs).
			"--endpoint-reconciler-type=none",
			"--cert-dir=" + filepath.Join(dir, "apiserver"),
			"--tls-cert-file=" + pki(apiserverCert), "--tls-private-key-file=" + pki(apiserverKey),
			"--client-ca-file=" + pki(caCert),
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + pki(saPub), "--service-account-signing-key-file=" + pki(saKey),
			"--service-cluster-ip-range=10.96.0.0/16",
			"--authorization-mode=RBAC",
			"--profiling=false",
			"--v=1",
		}
	case KubeControllerManager:
		kc := filepath.Join(dir, "kube-controller-manager.kubeconfig")
		return []string{
			"--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
			"--bind-address=127.0.0.1", "--secure-port=" + p("controller-manager"),
			"--cert-dir=" + filepath.Join(dir, "controller-manager"),
			"--service-account-private-key-file=" + pki(saKey), "--root-ca-file=" + pki(caCert),
			"--use-service-account-credentials=true",
			"--leader-elect=false",
			// Without this it creates /usr/libexec/kubernetes/kubelet-plugins on the host.
			"--flex-volume-plugin-dir=" + filepath.Join(dir, "flexvolume"),
			"--profiling=false",
			"--v=1",
		}
	case EnvoyGatewayHost:
		return []string{"-dir", dir, "-bin", opts.Bin, "envoy-gateway-host"}
	}
	panic("cluster: unknown process " + name)
}

// startProcess starts bin as process name in its own session (it outlives the caller) with
// its output in dir/logs/<name>.log, and returns its PID.
func startProcess(dir, name, bin string, argv []string) (int, error) {
	pid, _, err := startProcessEnv(dir, name, bin, argv, nil)
	return pid, err
}

// startProcessEnv starts bin as process name with environment env (nil: this program's), its
// output appended to dir/logs/<name>.log, in its own session. It returns the PID and a channel
// closed when the process exits.
func startProcessEnv(dir, name, bin string, argv, env []string) (int, chan struct{}, error) {
	return startWrapped(dir, name, nil, bin, argv, env)
}

// startWrapped is startProcessEnv with bin run through the command line wrap, which must end
// by exec'ing its arguments (bin and argv follow it), so that the PID is bin's once it runs.
func startWrapped(dir, name string, wrap []string, bin string, argv, env []string) (int, chan struct{}, error) {
	logf, err := os.OpenFile(filepath.Join(dir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, nil, fmt.Errorf("cluster: %s log: %w", name, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "---- %s started %s\n", name, time.Now().UTC().Format(time.RFC3339))
	cmd := exec.Command(bin, argv...)
	if len(wrap) > 0 {
		cmd = exec.Command(wrap[0], append(append(wrap[1:len(wrap):len(wrap)], bin), argv...)...)
	}
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("cluster: start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	// The process belongs to the cluster, not to this program: it outlives us. While we run, a
	// goroutine reaps it, so an early exit is seen at once (and leaves no zombie behind).
	c := child{dir: dir, name: filepath.Base(bin), done: make(chan struct{})}
	children.Store(pid, c)
	go func() { _ = cmd.Wait(); close(c.done) }()
	return pid, c.done, nil
}

// children maps the PIDs this program started to their child record.
var children sync.Map

// child is a process this program started: the cluster directory and binary name it was
// started for, and a channel closed when it exits.
type child struct {
	dir, name string
	done      chan struct{}
}

// procIsOurs reports whether /proc shows this program's PID namespace. In a sandbox that
// unshares the PID namespace without mounting a new /proc (seen on CI), /proc/<pid> names some
// other process, so nothing may be read from it.
var procIsOurs = sync.OnceValue(func() bool {
	link, err := os.Readlink("/proc/self")
	return err == nil && link == strconv.Itoa(os.Getpid())
})

// ours reports whether pid is alive and still runs the named binary of this cluster (a PID
// reused by another program after a reboot is not ours).
//
// A child this program started is alive until its reaper saw it exit. Any other PID is alive
// when signal 0 reaches it; where /proc shows our PID namespace, its command line must also
// name the binary and the cluster's directory, and a zombie counts as exited. Without a usable
// /proc (a PID namespace on a foreign /proc) the signal is all there is to go on.
func ours(dir, name string, pid int) bool {
	if pid <= 0 {
		return false
	}
	if v, ok := children.Load(pid); ok {
		// Our own child: the reaper knows. (/proc is no help right after the start: until the
		// new program's memory is set up its cmdline reads empty.)
		c := v.(child)
		select {
		case <-c.done:
			return false
		default:
			return c.dir == dir && c.name == binary(name)
		}
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if !procIsOurs() {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie (state Z) has exited.
	if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	if len(cmdline) == 0 {
		// A process in the middle of execve reads an empty cmdline for a moment (its new
		// argument pages are not set up yet); it answers signal 0, so it is taken as running.
		return true
	}
	argv := strings.Split(string(cmdline), "\x00")
	if filepath.Base(argv[0]) != binary(name) {
		return false
	}
	return strings.Contains(string(cmdline), dir)
}

func running(dir string, st *State) int {
	n := 0
	for _, name := range processes {
		if ours(dir, name, st.PIDs[name]) {
			n++
		}
	}
	return n
}

func stopProcesses(dir string, st *State) {
	for i := len(processes) - 1; i >= 0; i-- {
		name := processes[i]
		stopPID(dir, name, st.PIDs[name])
		if name == EnvoyGatewayHost {
			// The host stops its controller; one left behind by a host that was killed goes too.
			if cs, err := ReadControllerStatus(dir); err == nil {
				stopPID(dir, EnvoyGatewayBinary, cs.PID)
			}
			if ws, err := ReadWorkloads(dir); err == nil {
				for _, w := range ws.Workloads {
					stopPID(dir, w.Binary, w.PID)
				}
			}
		}
	}
}

// stopPID stops process name at pid if it is ours: SIGTERM, then SIGKILL after 15 s.
func stopPID(dir, name string, pid int) {
	if !ours(dir, name, pid) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(15 * time.Second)
	for ours(dir, name, pid) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if ours(dir, name, pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		for ours(dir, name, pid) {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// freePort returns want when it can be bound on 127.0.0.1 and is not taken by another use,
// otherwise a free port the kernel chooses.
func freePort(want int, taken map[string]int) (int, error) {
	used := func(p int) bool {
		for _, q := range taken {
			if q == p {
				return true
			}
		}
		return false
	}
	if want > 0 && !used(want) {
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(want))); err == nil {
			l.Close()
			return want, nil
		}
	}
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !used(p) {
			return p, nil
		}
	}
	return 0, errors.New("no free port on 127.0.0.1")
}

func waitEtcd(ctx context.Context, dir string, st *State, timeout time.Duration) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/health", st.Ports["etcd-client"])
	return poll(ctx, timeout, func() error {
		if !ours(dir, Etcd, st.PIDs[Etcd]) {
			return permanent{exited(dir, Etcd)}
		}
		return get(http.DefaultClient, url, `"health":"true"`)
	})
}

// waitAPIServer waits for etcd and the API server to run and the API server's /readyz.
func waitAPIServer(ctx context.Context, dir string, st *State, timeout time.Duration) error {
	admin, err := adminClient(dir)
	if err != nil {
		return err
	}
	return poll(ctx, timeout, func() error {
		for _, name := range []string{Etcd, KubeAPIServer} {
			if !ours(dir, name, st.PIDs[name]) {
				return permanent{exited(dir, name)}
			}
		}
		if err := get(admin, st.Server+"/readyz", "ok"); err != nil {
			return fmt.Errorf("kube-apiserver: %w", err)
		}
		return nil
	})
}

// waitReady waits for the API server's /readyz and kube-controller-manager's /healthz.
func waitReady(ctx context.Context, dir string, st *State, timeout time.Duration) error {
	admin, err := adminClient(dir)
	if err != nil {
		return err
	}
	kcm := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		// kube-controller-manager serves /healthz with a self-signed certificate it makes itself.
		InsecureSkipVerify: true, //nolint:gosec // loopback health probe of our own child process
	}}}
	return poll(ctx, timeout, func() error {
		// Every process started so far runs (Start starts them one after the other).
		for _, name := range processes {
			if _, started := st.PIDs[name]; started && !ours(dir, name, st.PIDs[name]) {
				return permanent{exited(dir, name)}
			}
		}
		if err := get(admin, st.Server+"/readyz", "ok"); err != nil {
			return fmt.Errorf("kube-apiserver: %w", err)
		}
		return get(kcm, fmt.Sprintf("https://127.0.0.1:%d/healthz", st.Ports["controller-manager"]), "ok")
	})
}

func adminClient(dir string) (*http.Client, error) {
	pki := filepath.Join(dir, "pki")
	cert, err := tls.LoadX509KeyPair(filepath.Join(pki, adminCert), filepath.Join(pki, adminKey))
	if err != nil {
		return nil, fmt.Errorf("cluster: admin certificate: %w", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(pki, caCert))
	if err != nil {
		return nil, fmt.Errorf("cluster: CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
	}}}, nil
}

func get(c *http.Client, url, want string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: %s %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// exited is the error of a process that stopped during start: its log's last line says why.
func exited(dir, name string) error {
	log := filepath.Join(dir, "logs", name+".log")
	last := ""
	if b, err := os.ReadFile(log); err == nil {
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for i := len(lines) - 1; i >= 0 && last == ""; i-- {
			if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "---- ") {
				last = l
			}
		}
	}
	if len(last) > 400 {
		last = last[:400] + "…"
	}
	return fmt.Errorf("cluster: %s exited during start: %s (full log: %s)", name, last, log)
}

// permanent marks an error poll does not retry.
type permanent struct{ error }

func poll(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return p.error
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: not ready after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func readState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cluster.json"))
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("cluster: %s: %w", filepath.Join(dir, "cluster.json"), err)
	}
	if st.PIDs == nil {
		st.PIDs = map[string]int{}
	}
	return &st, nil
}

func writeState(dir string, st *State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ".cluster.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, "cluster.json"))
}

// lock takes the cluster's lock file (one Start or Stop at a time per directory).
func lock(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cluster: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("cluster: lock: %w", err)
	}
	return func() { f.Close() }, nil
}
