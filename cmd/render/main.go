// Command render is the engine-free renderer behind `make render STACK=<stack>`: it reads
// Pulumi.<stack>.yaml, plans the environment exactly as the Pulumi program would, and writes
// the planned objects as YAML into out/render/<stack>/. Invalid configuration fails with the
// same messages `pulumi preview` gives, and writes nothing.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/upstream-tls/upstream-tls/components/manifest"
	"github.com/upstream-tls/upstream-tls/components/plan"
	"github.com/upstream-tls/upstream-tls/components/stackconfig"
)

func main() {
	stack := flag.String("stack", "dev", "stack name: reads Pulumi.<stack>.yaml")
	config := flag.String("config", "", "stack config file (default Pulumi.<stack>.yaml in the current directory)")
	out := flag.String("out", "", "output directory (default out/render/<stack>)")
	flag.Parse()
	if *config == "" {
		*config = "Pulumi." + *stack + ".yaml"
	}
	if *out == "" {
		*out = filepath.Join("out", "render", *stack)
	}
	if err := run(*config, *out); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}

func run(configPath, out string) error {
	st, err := stackconfig.FromFile(configPath)
	if err != nil {
		return err
	}
	p, err := plan.Build(st.Args)
	if err != nil {
		return err
	}
	if err := manifest.WriteDir(out, p); err != nil {
		return err
	}
	for _, w := range p.Warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	fmt.Printf("rendered %d objects and install.yaml into %s\n\n%s", len(p.AllObjects()), out, p.Posture())
	return nil
}
