// Command infra is the upstream-tls stack program for `pulumi up` with the Pulumi CLI's Go
// language host (Pulumi.yaml: runtime go, main infra/). The program itself is infra/program.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/infra/program"
)

func main() {
	pulumi.Run(program.Run)
}
