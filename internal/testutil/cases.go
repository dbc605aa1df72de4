package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// GoldenNow is the clock of the golden cases (input certificates are checked against it).
var GoldenNow = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

// Case is one configuration with its plan, or the error planning it gave.
type Case struct {
	// Name is the file name of the input.
	Name string
	// Args are the decoded inputs.
	Args spec.Args
	// Plan is nil when Err is set.
	Plan *plan.Plan
	// Err is the decoding or planning error (the golden cases include invalid configurations).
	Err error
}

// Golden loads every golden case (internal/plan/testdata/*.in.yaml) below root, planned at
// GoldenNow.
func Golden(root string) ([]Case, error) {
	inputs, err := filepath.Glob(filepath.Join(root, "internal", "plan", "testdata", "*.in.yaml"))
	if err != nil || len(inputs) == 0 {
		return nil, fmt.Errorf("no golden inputs under %s: %v", root, err)
	}
	var out []Case
	for _, in := range inputs {
		raw, err := os.ReadFile(in)
		if err != nil {
			return nil, err
		}
		c := Case{Name: strings.TrimSuffix(filepath.Base(in), ".in.yaml")}
		if c.Args, c.Err = config.ArgsFromYAML(raw); c.Err == nil {
			c.Plan, c.Err = plan.BuildWith(c.Args, plan.Options{Now: GoldenNow})
		}
		out = append(out, c)
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
		st, err := config.FromFile(f)
		if err != nil {
			return nil, err
		}
		p, perr := plan.Build(st.Args)
		out = append(out, Case{Name: filepath.Base(f), Args: st.Args, Plan: p, Err: perr})
	}
	return out, nil
}
