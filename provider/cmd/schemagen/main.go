// Command schemagen writes the provider's schema (what GetSchema serves, with the schema
// contract applied) to a file: `make generate` commits it as
// provider/cmd/pulumi-resource-upstream-tls/schema.json, from which the SDKs are generated.
//
//	schemagen -out cmd/pulumi-resource-upstream-tls/schema.json
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/upstream-tls/upstream-tls/provider"
)

func main() {
	out := flag.String("out", "cmd/pulumi-resource-upstream-tls/schema.json", "file to write")
	flag.Parse()
	schema, err := provider.Schema()
	if err == nil {
		err = os.WriteFile(*out, []byte(schema+"\n"), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}
