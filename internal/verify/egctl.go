package verify

// BackendDisabledEnv is the environment variable egctl-verify reads: "true" translates with
// Envoy Gateway's Backend API disabled. Upstream egctl v1.9.1 hardcodes BackendEnabled: true in
// `x translate` (internal/cmd/egctl/translate.go) and reads no EnvoyGateway config, so without
// this one-line patch (tools/egctl/patches/backend-disabled-env.patch, applied by
// scripts/tools.sh, which refuses to build when it stops applying) a disabled Backend API could
// not be shown.
const BackendDisabledEnv = "UPSTREAM_TLS_EG_BACKEND_DISABLED"
