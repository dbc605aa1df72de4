package verify

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/upstream-tls/upstream-tls/components/manifest"
	"github.com/upstream-tls/upstream-tls/components/plan"
)

// SchemaTools locates the schema validator and the pinned CRDs, building or preparing them
// when missing: kubectl-validate through scripts/tools.sh, the Gateway API, Envoy Gateway and
// AWS Load Balancer Controller CRDs through scripts/offline-inputs.sh into dest (from the pinned
// Go modules).
func SchemaTools(ctx context.Context, repoRoot, dest string) (validator string, crdDirs []string, err error) {
	tools := exec.CommandContext(ctx, "bash", filepath.Join(repoRoot, "scripts", "tools.sh"), "kubectl-validate")
	tools.Stderr = os.Stderr
	out, err := tools.Output()
	if err != nil {
		return "", nil, fmt.Errorf("scripts/tools.sh kubectl-validate: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	validator = filepath.Join(lines[len(lines)-1], "kubectl-validate")
	inputs := exec.CommandContext(ctx, "bash", filepath.Join(repoRoot, "scripts", "offline-inputs.sh"), dest)
	inputs.Stdout, inputs.Stderr = os.Stderr, os.Stderr
	if err := inputs.Run(); err != nil {
		return "", nil, fmt.Errorf("scripts/offline-inputs.sh: %w", err)
	}
	return validator, []string{filepath.Join(dest, "gateway-api-crds"), filepath.Join(dest, "envoy-gateway-crds"), filepath.Join(dest, "lbc-crds")}, nil
}

// ValidateSchema runs kubectl-validate on objs against crdDirs (CRD schemas with their CEL
// rules) and the built-in Kubernetes 1.32 schemas. It returns the validator's report and a
// non-nil error when any object is invalid.
func ValidateSchema(ctx context.Context, validator string, crdDirs []string, objs []plan.Object) (string, error) {
	dir, err := os.MkdirTemp("", "verify-schema")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	for i, o := range objs {
		doc, err := manifest.Documents([]plan.Object{o})
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d-%s", i, manifest.FileName(o))), doc, 0o644); err != nil {
			return "", err
		}
	}
	cmd := exec.CommandContext(ctx, validator, "--local-crds", strings.Join(crdDirs, ","), "--version", "1.32", dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("schema validation failed: %w", err)
	}
	return string(out), nil
}
