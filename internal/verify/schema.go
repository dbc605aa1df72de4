package verify

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/upstream-tls/upstream-tls/internal/kube"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/render"
)

// FieldManager is the field manager of the schema tier's server-side applies.
const FieldManager = "upstream-tls-verify"

// PrepareSchemaCluster readies a scratch API server for DryRun: it installs, for real, the
// pinned CRDs (and the admission policies shipped next to them) from crdDirs and waits until
// they are served. Run it once per scratch cluster; never against a cluster you care about.
func PrepareSchemaCluster(ctx context.Context, c *kube.Client, crdDirs []string) error {
	if err := c.ApplyDirs(ctx, FieldManager, crdDirs...); err != nil {
		return fmt.Errorf("schema cluster: install the pinned CRDs: %w", err)
	}
	return nil
}

// DryRun asks the real API server behind c to apply every object of objs as a server-side
// dry run: the OpenAPI schemas of the core kinds and of the installed CRDs, their CEL rules
// (x-kubernetes-validations), defaulting and the validating admission policies all run, and
// nothing is persisted. The namespaces the objects live in are created for real first (a dry
// run into a missing namespace is refused), so the cluster must be a scratch one
// (PrepareSchemaCluster). It returns one line per refused object, "Kind ns/name: message", and
// a non-nil error when any object was refused.
func DryRun(ctx context.Context, c *kube.Client, objs []core.Object) (string, error) {
	namespaces := map[string]bool{}
	for _, o := range objs {
		if ns := o.Namespace(); ns != "" && !namespaces[ns] {
			if err := c.EnsureNamespace(ctx, ns); err != nil {
				return "", err
			}
			namespaces[ns] = true
		}
	}
	var problems []string
	for _, o := range objs {
		doc, err := render.Documents([]core.Object{o})
		if err != nil {
			return "", err
		}
		if _, err := c.Apply(ctx, doc, kube.ApplyOptions{FieldManager: FieldManager, DryRun: true}); err != nil {
			var se *kube.StatusError
			if !errors.As(err, &se) && !errors.Is(err, kube.ErrNoKind) {
				return "", err
			}
			problems = append(problems, err.Error())
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return strings.Join(problems, "\n"), fmt.Errorf("the API server refused %d of %d objects", len(problems), len(objs))
	}
	return fmt.Sprintf("the API server accepted all %d objects (server-side dry run)", len(objs)), nil
}
