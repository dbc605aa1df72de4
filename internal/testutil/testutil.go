// Package testutil holds what the test tiers share: the repository root, the version pins,
// module directories in the Go module cache, the golden cases and committed stacks, and the
// Pulumi mocks of the component tests.
package testutil

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/upstream-tls/upstream-tls/internal/cluster"
	"github.com/upstream-tls/upstream-tls/internal/kube"
)

// RepoRoot returns the repository root (the directory of the main go.mod), searching upwards
// from the working directory.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if raw, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(raw, []byte("module github.com/upstream-tls/upstream-tls\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no upstream-tls go.mod at or above %s", wd)
		}
	}
}

// MustRepoRoot is RepoRoot for TestMain and helpers; it panics when the root is not found.
func MustRepoRoot() string {
	root, err := RepoRoot()
	if err != nil {
		panic(err)
	}
	return root
}

// Pins reads tools/versions.env.
func Pins(root string) (map[string]string, error) {
	f, err := os.Open(filepath.Join(root, "tools", "versions.env"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pins := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("tools/versions.env: %q is not KEY=VALUE", line)
		}
		pins[k] = v
	}
	return pins, sc.Err()
}

// ModuleDir returns the directory of module@version in the Go module cache, downloading it
// through the module proxy when missing.
func ModuleDir(modVersion string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", modVersion, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %v %s", modVersion, err, m.Error)
	}
	return m.Dir, nil
}

// Tools builds (when missing) the pinned tools with scripts/tools.sh and returns the directory
// holding them.
func Tools(root string, names ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{"-o", "pipefail", filepath.Join(root, "scripts", "tools.sh")}, names...)...)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/tools.sh %s: %w", strings.Join(names, " "), err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// OfflineInputs prepares the offline install inputs (charts and CRDs from the pinned modules)
// into dest with scripts/offline-inputs.sh (a no-op when they are up to date) and returns the
// CRD directories the schema tier validates against.
func OfflineInputs(root, dest string) ([]string, error) {
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "offline-inputs.sh"), dest)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("scripts/offline-inputs.sh: %w", err)
	}
	return []string{filepath.Join(dest, "gateway-api-crds"), filepath.Join(dest, "envoy-gateway-crds"), filepath.Join(dest, "lbc-crds")}, nil
}

// ClusterHost builds this checkout's cluster command (cmd/cluster) into a new directory under
// dir as cluster.HostBinary ("upstream-tls-cluster", the name a local cluster runs as its
// Envoy Gateway host) and returns its path.
func ClusterHost(root, dir string) (string, error) {
	out := filepath.Join(dir, "upstream-tls-cluster")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./cmd/cluster")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build cmd/cluster: %v\n%s", err, b)
	}
	return out, nil
}

// ScratchCluster is a fresh, ephemeral local cluster for one test binary.
type ScratchCluster struct {
	// Dir holds the cluster (its kubeconfig is cluster.Kubeconfig(Dir)).
	Dir string
	// State is what Start recorded: ports, PIDs, the server URL.
	State *cluster.State
	// Admin is a client with the cluster's admin identity.
	Admin *kube.Client
	tmp   string
}

// Stop stops the cluster's processes and removes its directory.
func (s *ScratchCluster) Stop() {
	_ = cluster.Stop(s.Dir)
	_ = os.RemoveAll(s.tmp)
}

// StartScratchCluster builds what is missing (the cluster tools, this checkout's host) and
// starts a new ephemeral cluster in a new directory under the system's temporary directory.
// log receives the cluster's progress lines (nil: discarded).
func StartScratchCluster(ctx context.Context, root string, log io.Writer) (*ScratchCluster, error) {
	bin, err := Tools(root, "cluster")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "upstream-tls-scratch")
	if err != nil {
		return nil, err
	}
	host, err := ClusterHost(root, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &ScratchCluster{Dir: filepath.Join(dir, "cluster"), tmp: dir}
	if s.State, err = cluster.Start(ctx, cluster.Options{Dir: s.Dir, Bin: bin, Host: host, Ephemeral: true, Log: log}); err != nil {
		s.Stop()
		return nil, err
	}
	if s.Admin, err = kube.FromKubeconfig(cluster.Kubeconfig(s.Dir), ""); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}
