package verify

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/render"
)

// ValidateSchema runs kubectl-validate on objs against crdDirs (CRD schemas with their CEL
// rules) and the built-in Kubernetes 1.32 schemas. It returns the validator's report and a
// non-nil error when any object is invalid.
func ValidateSchema(ctx context.Context, validator string, crdDirs []string, objs []core.Object) (string, error) {
	dir, err := os.MkdirTemp("", "verify-schema")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	for i, o := range objs {
		doc, err := render.Documents([]core.Object{o})
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d-%s", i, render.FileName(o))), doc, 0o644); err != nil {
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
