package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/upstream-tls/upstream-tls/components/plan"
)

// BackendDisabledEnv is the environment variable the egctl built by EnsureEgctl reads: "true"
// translates with Envoy Gateway's Backend API disabled. Upstream egctl v1.9.1 hardcodes
// BackendEnabled: true in `x translate` (internal/cmd/egctl/translate.go) and reads no
// EnvoyGateway config, so without this one-line patch a disabled Backend API cannot be shown.
const BackendDisabledEnv = "UPSTREAM_TLS_EG_BACKEND_DISABLED"

const (
	gatewayModule    = "github.com/envoyproxy/gateway"
	translateFile    = "internal/cmd/egctl/translate.go"
	backendEnabledOn = "BackendEnabled:          true,"
	backendEnabledEx = "BackendEnabled:          os.Getenv(\"" + BackendDisabledEnv + "\") != \"true\","
)

// EnsureEgctl returns the path of egctl-verify in cacheDir/bin: egctl of Envoy Gateway
// plan.DefaultEnvoyGatewayVersion, built with the pinned wrapper module repoRoot/tools/egctl,
// whose only change is that `x translate` honours BackendDisabledEnv. It is rebuilt only when
// missing or when its inputs (patched source, wrapper go.mod/go.sum, Go version) change; a
// build needs the module cache or the Go module proxy.
func EnsureEgctl(ctx context.Context, repoRoot, cacheDir string) (string, error) {
	wrapperDir := filepath.Join(repoRoot, "tools", "egctl")
	gomod, err := os.ReadFile(filepath.Join(wrapperDir, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("read egctl wrapper module: %w", err)
	}
	gosum, err := os.ReadFile(filepath.Join(wrapperDir, "go.sum"))
	if err != nil {
		return "", fmt.Errorf("read egctl wrapper module: %w", err)
	}
	ver := plan.DefaultEnvoyGatewayVersion
	dl, err := goCmd(ctx, wrapperDir, "mod", "download", "-json", gatewayModule+"@"+ver)
	if err != nil {
		return "", err
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(dl, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("locate %s@%s in the module cache: %v", gatewayModule, ver, err)
	}
	src, err := os.ReadFile(filepath.Join(mod.Dir, translateFile))
	if err != nil {
		return "", fmt.Errorf("read egctl source: %w", err)
	}
	if n := strings.Count(string(src), backendEnabledOn); n != 3 {
		return "", fmt.Errorf("%s@%s %s: found %d `%s`, want 3: the patch no longer applies", gatewayModule, ver, translateFile, n, backendEnabledOn)
	}
	patched := strings.ReplaceAll(string(src), backendEnabledOn, backendEnabledEx)
	goVersion, err := goCmd(ctx, wrapperDir, "env", "GOVERSION")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(ver), []byte(patched), gomod, gosum, goVersion} {
		h.Write(part)
		h.Write([]byte{0})
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]

	bin := filepath.Join(cacheDir, "bin", "egctl-verify")
	stamp := filepath.Join(cacheDir, "stamps", "egctl-verify")
	if have, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(have)) == key {
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}

	work := filepath.Join(cacheDir, "src", "egctl-verify")
	if err := os.RemoveAll(work); err != nil {
		return "", fmt.Errorf("clear %s: %w", work, err)
	}
	gw := filepath.Join(work, "gateway")
	if err := os.CopyFS(gw, os.DirFS(mod.Dir)); err != nil {
		return "", fmt.Errorf("copy %s: %w", mod.Dir, err)
	}
	if err := os.WriteFile(filepath.Join(gw, translateFile), []byte(patched), 0o644); err != nil {
		return "", fmt.Errorf("patch egctl: %w", err)
	}
	wrap := filepath.Join(work, "wrap")
	if err := os.MkdirAll(wrap, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", wrap, err)
	}
	if err := os.WriteFile(filepath.Join(wrap, "go.mod"), gomod, 0o644); err != nil {
		return "", fmt.Errorf("write wrapper go.mod: %w", err)
	}
	if err := os.WriteFile(filepath.Join(wrap, "go.sum"), gosum, 0o644); err != nil {
		return "", fmt.Errorf("write wrapper go.sum: %w", err)
	}
	if _, err := goCmd(ctx, wrap, "mod", "edit", "-replace", gatewayModule+"="+gw); err != nil {
		return "", err
	}
	for _, dir := range []string{filepath.Dir(bin), filepath.Dir(stamp)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("create %s: %w", dir, err)
		}
	}
	if _, err := goCmd(ctx, wrap, "build", "-mod=mod",
		"-ldflags", "-s -w -X "+gatewayModule+"/internal/cmd/version.envoyGatewayVersion="+ver,
		"-o", bin+".tmp", gatewayModule+"/cmd/egctl"); err != nil {
		return "", err
	}
	if err := os.Rename(bin+".tmp", bin); err != nil {
		return "", fmt.Errorf("install egctl-verify: %w", err)
	}
	if err := os.WriteFile(stamp, []byte(key+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("write stamp: %w", err)
	}
	return bin, nil
}

// DefaultCacheDir is $UPSTREAM_TLS_CACHE, else ~/.cache/upstream-tls (as scripts/tools.sh).
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("UPSTREAM_TLS_CACHE"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cache dir: %w", err)
	}
	return filepath.Join(home, ".cache", "upstream-tls"), nil
}

// goCmd runs `nice -n 15 go args...` in dir with the reproducible settings of scripts/tools.sh
// and returns stdout.
func goCmd(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "nice", append([]string{"-n", "15", "go"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-trimpath -buildvcs=false", "CGO_ENABLED=0", "GOWORK=off")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s (in %s): %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
