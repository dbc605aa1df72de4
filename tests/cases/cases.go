// Package cases loads the inputs the test tiers share: the golden plan cases
// (components/plan/testdata/*.in.yaml) and the committed stacks (Pulumi.<stack>.yaml).
package cases

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/upstream-tls/upstream-tls/components/plan"
	"github.com/upstream-tls/upstream-tls/components/stackconfig"
)

// Case is one configuration with its plan, or the error planning it gave.
type Case struct {
	// Name is the file name of the input.
	Name string
	// Args are the decoded inputs.
	Args plan.Args
	// Plan is nil when Err is set.
	Plan *plan.Plan
	// Err is the planning error (the golden cases include invalid configurations).
	Err error
}

// Golden loads every golden case below root (the repository root). Decoding errors are returned;
// planning errors are kept in Case.Err.
func Golden(root string) ([]Case, error) {
	inputs, err := filepath.Glob(filepath.Join(root, "components", "plan", "testdata", "*.in.yaml"))
	if err != nil || len(inputs) == 0 {
		return nil, fmt.Errorf("no golden inputs under %s: %v", root, err)
	}
	var out []Case
	for _, in := range inputs {
		raw, err := os.ReadFile(in)
		if err != nil {
			return nil, err
		}
		a, err := stackconfig.FromArgsYAML(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
		p, perr := plan.Build(a)
		out = append(out, Case{Name: filepath.Base(in), Args: a, Plan: p, Err: perr})
	}
	return out, nil
}

// Stacks loads every committed Pulumi.<stack>.yaml below root.
func Stacks(root string) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(root, "Pulumi.*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no stack files under %s: %v", root, err)
	}
	var out []Case
	for _, f := range files {
		st, err := stackconfig.FromFile(f)
		if err != nil {
			return nil, err
		}
		p, perr := plan.Build(st.Args)
		out = append(out, Case{Name: filepath.Base(f), Args: st.Args, Plan: p, Err: perr})
	}
	return out, nil
}
