package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Output is the part of `egctl x translate --to gateway-api,xds,ir -o json` the verifier reads:
// the translated Gateway API resources with their statuses, the xDS config dumps and the xDS IR.
type Output struct {
	GatewayClass       *Resource             `json:"gatewayClass"`
	Gateways           []Resource            `json:"gateways"`
	HTTPRoutes         []Resource            `json:"httpRoutes"`
	GRPCRoutes         []Resource            `json:"grpcRoutes"`
	BackendTLSPolicies []Resource            `json:"backendTLSPolicies"`
	Backends           []Resource            `json:"backends"`
	XdsIR              map[string]irGateway  `json:"xdsIR"`
	Xds                map[string]xdsConfigs `json:"xds"`
}

// Resource is a translated object's identity and status.
type Resource struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Status struct {
		Conditions []Condition `json:"conditions"`
		Parents    []struct {
			Conditions []Condition `json:"conditions"`
		} `json:"parents"`
		Ancestors []struct {
			Conditions []Condition `json:"conditions"`
		} `json:"ancestors"`
		Listeners []struct {
			Name       string      `json:"name"`
			Conditions []Condition `json:"conditions"`
		} `json:"listeners"`
	} `json:"status"`
}

// Condition is a status condition.
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

type irGateway struct {
	HTTP []struct {
		Routes []struct {
			Destination *struct {
				Name     string      `json:"name"`
				Settings []irSetting `json:"settings"`
			} `json:"destination"`
		} `json:"routes"`
	} `json:"http"`
}

// irSetting is one backend destination of an IR route with its upstream TLS.
type irSetting struct {
	Name string `json:"name"`
	TLS  *struct {
		SNI                 string `json:"sni"`
		UseSystemTrustStore bool   `json:"useSystemTrustStore"`
		InsecureSkipVerify  bool   `json:"insecureSkipVerify"`
		CACertificate       *struct {
			Name        string `json:"name"`
			Certificate []byte `json:"certificate"`
		} `json:"caCertificate"`
		// ClientCertificates are what the gateway presents to the backend (mTLS).
		ClientCertificates []struct {
			Name        string `json:"name"`
			Certificate []byte `json:"certificate"`
		} `json:"clientCertificates"`
	} `json:"tls"`
	Metadata struct {
		Kind      string `json:"kind"`
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

type xdsConfigs struct {
	Configs []json.RawMessage `json:"configs"`
}

// xdsCluster is the part of an Envoy Cluster that carries upstream TLS.
type xdsCluster struct {
	Name                   string     `json:"name"`
	TransportSocket        *xdsSocket `json:"transportSocket"`
	TransportSocketMatches []struct {
		TransportSocket *xdsSocket `json:"transportSocket"`
	} `json:"transportSocketMatches"`
	// TypedExtensionProtocolOptions carry the upstream HTTP options; autoSni there makes Envoy
	// send each request's host as the SNI.
	TypedExtensionProtocolOptions map[string]struct {
		UpstreamHTTPProtocolOptions *struct {
			AutoSNI bool `json:"autoSni"`
		} `json:"upstreamHttpProtocolOptions"`
	} `json:"typedExtensionProtocolOptions"`
}

// autoSNI reports whether the cluster sends each request's host as the SNI.
func (c xdsCluster) autoSNI() bool {
	for _, o := range c.TypedExtensionProtocolOptions {
		if o.UpstreamHTTPProtocolOptions != nil && o.UpstreamHTTPProtocolOptions.AutoSNI {
			return true
		}
	}
	return false
}

type xdsSocket struct {
	Name        string `json:"name"`
	TypedConfig struct {
		SNI              string `json:"sni"`
		CommonTLSContext *struct {
			// TLSCertificateSdsSecretConfigs name the SDS secrets of the client certificate the
			// upstream connection presents.
			TLSCertificateSdsSecretConfigs []struct {
				Name string `json:"name"`
			} `json:"tlsCertificateSdsSecretConfigs"`
			// TLSParams are the versions and cipher suites offered; AlpnProtocols the ALPN list.
			TLSParams *struct {
				Min     string   `json:"tlsMinimumProtocolVersion"`
				Max     string   `json:"tlsMaximumProtocolVersion"`
				Ciphers []string `json:"cipherSuites"`
			} `json:"tlsParams"`
			AlpnProtocols             []string `json:"alpnProtocols"`
			CombinedValidationContext *struct {
				ValidationContextSdsSecretConfig *struct {
					Name string `json:"name"`
				} `json:"validationContextSdsSecretConfig"`
			} `json:"combinedValidationContext"`
			ValidationContextSdsSecretConfig *struct {
				Name string `json:"name"`
			} `json:"validationContextSdsSecretConfig"`
			ValidationContext *struct {
				TrustedCA *struct {
					Filename string `json:"filename"`
				} `json:"trustedCa"`
			} `json:"validationContext"`
		} `json:"commonTlsContext"`
	} `json:"typedConfig"`
}

// Clusters returns every dynamic active cluster of every gateway's xDS config dump.
func (o *Output) Clusters() ([]xdsCluster, error) {
	var out []xdsCluster
	for gw, x := range o.Xds {
		for _, raw := range x.Configs {
			var dump struct {
				Type     string `json:"@type"`
				Clusters []struct {
					Cluster xdsCluster `json:"cluster"`
				} `json:"dynamicActiveClusters"`
			}
			if err := json.Unmarshal(raw, &dump); err != nil {
				return nil, fmt.Errorf("decode xds config of %s: %w", gw, err)
			}
			if !strings.HasSuffix(dump.Type, ".ClustersConfigDump") {
				continue
			}
			for _, c := range dump.Clusters {
				out = append(out, c.Cluster)
			}
		}
	}
	return out, nil
}

// Translate runs `egctl x translate` (the binary at egctl) on in.YAML and decodes its output.
// When in.EnableBackend is false it sets BackendDisabledEnv, which the egctl of EnsureEgctl
// honours (upstream egctl ignores it and always enables the Backend API; Derive then still
// reports the disabled case). A non-zero exit is an error carrying stderr.
func Translate(ctx context.Context, egctl string, in *Input) (*Output, error) {
	dir, err := os.MkdirTemp("", "verify-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "in.yaml")
	if err := os.WriteFile(file, in.YAML, 0o600); err != nil {
		return nil, fmt.Errorf("write translator input: %w", err)
	}
	cmd := exec.CommandContext(ctx, egctl, "x", "translate", "--from", "gateway-api",
		"--to", "gateway-api,xds,ir", "-t", "all", "-o", "json", "-f", file)
	if !in.EnableBackend {
		cmd.Env = append(os.Environ(), BackendDisabledEnv+"=true")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s x translate: %w: %s", egctl, err, strings.TrimSpace(stderr.String()))
	}
	var out Output
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("decode egctl output: %w", err)
	}
	return &out, nil
}
