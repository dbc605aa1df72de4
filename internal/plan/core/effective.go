package core

// Effective is the upstream TLS a backend actually gets: derived by the plan from the objects it
// planned (envoy.Derive), and by the verifier from what Envoy Gateway's translator configured.
// A TLS mode declares the Effective it must produce; any other outcome is a MISMATCH.
type Effective string

const (
	// EffectiveSystem is TLS verified against the gateway's system trust store.
	EffectiveSystem Effective = "system"
	// EffectiveCA is TLS verified against the CA the plan distributes (or the CA ConfigMap the
	// configuration names).
	EffectiveCA Effective = "ca"
	// EffectiveOtherCA is TLS verified against CA bytes that differ from the planned CA.
	EffectiveOtherCA Effective = "ca-other"
	// EffectiveInsecure is TLS without certificate verification.
	EffectiveInsecure Effective = "insecure"
	// EffectivePlain is plain text: nothing makes the gateway speak TLS to the backend.
	EffectivePlain Effective = "plaintext"
	// EffectiveConflict means two BackendTLSPolicies target the port the route uses: Envoy
	// Gateway applies one (the older) and marks the other Conflicted.
	EffectiveConflict Effective = "conflict"
	// EffectiveNone means the route reaches no upstream (no cluster was configured).
	EffectiveNone Effective = "none"
	// EffectiveMixed means the backend's endpoints, or the translator's xDS and IR, disagree.
	EffectiveMixed Effective = "mixed"
)

// Verified reports whether the gateway authenticates the backend's certificate.
func (e Effective) Verified() bool { return e == EffectiveSystem || e == EffectiveCA }

// Encrypted reports whether the connection to the backend is TLS.
func (e Effective) Encrypted() bool {
	return e.Verified() || e == EffectiveInsecure || e == EffectiveOtherCA
}
