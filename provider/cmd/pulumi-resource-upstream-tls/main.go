// Command pulumi-resource-upstream-tls is the upstream-tls Pulumi provider plugin. It serves:
//
//   - upstream-tls:index:CertificateBundle, a custom resource that generates a serving
//     certificate (optionally with its own CA) once and keeps it in the stack state, the private
//     key as a secret, so later runs change nothing;
//   - upstream-tls:index:UpstreamTls, the whole component, for Pulumi programs in other
//     languages (C#, TypeScript, Python, YAML) through generated SDKs.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/upstream-tls/upstream-tls/provider"
)

// Version is the version the plugin reports; scripts may stamp another at build time
// (-X main.Version=...).
var Version = provider.Version

func main() {
	p, err := provider.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "upstream-tls provider:", err)
		os.Exit(1)
	}
	if err := p.Run(context.Background(), provider.Name, Version); err != nil {
		fmt.Fprintln(os.Stderr, "upstream-tls provider:", err)
		os.Exit(1)
	}
}
