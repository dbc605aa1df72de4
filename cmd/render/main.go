// Command render is the engine-free renderer behind `make render STACK=<stack>` (see
// render.Stack): Pulumi.<stack>.yaml → out/render/<stack>/.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/upstream-tls/upstream-tls/internal/render"
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
	if err := render.Stack(*config, *out, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}
