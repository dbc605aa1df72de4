package render

import (
	"fmt"
	"io"

	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/plan"
)

// Stack is `make render STACK=<stack>`: it reads the stack configuration file at configPath as
// `pulumi preview` would (internal/config), plans it as the Pulumi program would, and writes the
// plan into out (WriteDir). Invalid configuration fails with the same messages `pulumi preview`
// gives, and writes nothing. The summary and the posture go to stdout, warnings to stderr.
func Stack(configPath, out string, stdout, stderr io.Writer) error {
	st, err := config.FromFile(configPath)
	if err != nil {
		return err
	}
	p, err := plan.Build(st.Args)
	if err != nil {
		return err
	}
	if err := WriteDir(out, p); err != nil {
		return err
	}
	for _, w := range p.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "rendered %d objects and install.yaml into %s\n\n%s", len(p.AllObjects()), out, p.Posture())
	return nil
}
