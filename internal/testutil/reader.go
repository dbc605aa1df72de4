package testutil

// StackHead starts a stack file.
const StackHead = "config:\n  upstream-tls:environment: dev\n"

// ReaderRefusal is a stack file the reader refuses, and a text the refusal must contain.
type ReaderRefusal struct {
	Name, File, Want string
}

// ReaderRefusals are stack files refused by the reader itself (Pulumi's loader, the key checks
// and the decoder): what Pulumi's loader would silently decide (or decide at random) and what
// no field accepts, named by key or configuration path.
func ReaderRefusals() []ReaderRefusal {
	type rr = ReaderRefusal
	return []ReaderRefusal{
		rr{"unknown field with its path", StackHead + "  upstream-tls:backends:\n    - name: a\n      tls: {mode: ca, ca: {clusterTrustBundle: x}}\n",
			`backends[0].tls.ca.clusterTrustBundle: unknown field; fix: use one of the fields known here: pem, configMap, secret, generate`},
		rr{"misspelt field suggests", StackHead + "  upstream-tls:backends:\n    - name: a\n      tls: {mdoe: ca}\n", `unknown field (did you mean "mode"?)`},
		rr{"port as a string", StackHead + "  upstream-tls:backends:\n    - name: a\n      service: {ports: [{name: https, port: \"443\"}]}\n      tls: {mode: insecure}\n",
			`backends[0].service.ports[0].port: must be an integer, not the string "443"`},
		rr{"yes is a string", StackHead + "  upstream-tls:backends:\n    - name: a\n      service: {existing: yes}\n      tls: {mode: insecure}\n",
			`backends[0].service.existing: must be true or false, not the string "yes"`},
		rr{"allowInsecureBackends: on", StackHead + "  upstream-tls:allowInsecureBackends: on\n", `allowInsecureBackends: must be true or false, not "on"`},
		rr{"allowInsecureBackends: 1", StackHead + "  upstream-tls:allowInsecureBackends: 1\n", `allowInsecureBackends: must be true or false, not "1"`},
		rr{"key with and without namespace", StackHead + "  upstream-tls:gateway: {name: a}\n  gateway: {name: b}\n", "is upstream-tls:gateway again"},
		rr{"key in the :config: form", StackHead + "  upstream-tls:gateway: {name: a}\n  upstream-tls:config:gateway: {name: b}\n", "is upstream-tls:gateway again"},
		rr{"duplicate key", StackHead + "  upstream-tls:gateway: {name: a}\n  upstream-tls:gateway: {name: b}\n", `mapping key "upstream-tls:gateway" already defined at line 3`},
		rr{"unknown key", StackHead + "  upstream-tls:backend: []\n", "unknown key upstream-tls:backend"},
		rr{"list where an object goes", StackHead + "  upstream-tls:gateway: [a]\n", "gateway: must be an object with the fields name, namespace, listeners, backendClientCertificate, not a list"},
		rr{"encrypted product key", StackHead + "  upstream-tls:gateway:\n    secure: v1:abc\n", "is encrypted"},
	}
}
