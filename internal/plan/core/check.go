package core

import (
	"fmt"
	"net"
	"strings"

	"github.com/Masterminds/semver/v3"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The validators below decide with apimachinery's own rules (k8s.io/apimachinery/pkg/util/
// validation), the ones the API server applies, and report in this project's words: what is
// wrong with the value and how to fix it. Each returns whether the value is valid.
//
// isDNS1123Label and isDNS1123Subdomain accept, without a regular expression, the values that
// are plainly valid (the common case, thousands per plan); every value they do not accept is
// decided by apimachinery. They never accept what apimachinery rejects (TestFastDNSAgrees
// compares them with apimachinery over generated values).

// dns1123LabelChars reports whether s is [a-z0-9]([-a-z0-9]*[a-z0-9])? (no length limit).
func dns1123LabelChars(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// isDNS1123Label is validation.IsDNS1123Label(s) reporting no errors.
func isDNS1123Label(s string) bool {
	if len(s) <= validation.DNS1123LabelMaxLength && dns1123LabelChars(s) {
		return true
	}
	return len(validation.IsDNS1123Label(s)) == 0
}

// isDNS1123Subdomain is validation.IsDNS1123Subdomain(s) reporting no errors.
func isDNS1123Subdomain(s string) bool {
	if len(s) <= validation.DNS1123SubdomainMaxLength {
		fast, rest := true, s
		for fast {
			label, after, more := strings.Cut(rest, ".")
			fast = dns1123LabelChars(label)
			if !more {
				break
			}
			rest = after
		}
		if fast {
			return true
		}
	}
	return len(validation.IsDNS1123Subdomain(s)) == 0
}

// DNSLabel checks a required RFC 1123 label (object names that are labels: namespaces, listener
// and backend names). what names the thing in the message ("namespace", "listener name").
func (p *Problems) DNSLabel(path *field.Path, value, what string) bool {
	switch {
	case value == "":
		p.Required(path, what+" is required", "set it to a lowercase DNS label such as \"my-"+strings.ToLower(strings.ReplaceAll(what, " ", "-"))+"\"")
	case !isDNS1123Label(value):
		p.Add(path, fmt.Sprintf("%q is not a DNS label", value), "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit")
	default:
		return true
	}
	return false
}

// IsObjectName reports whether value is a valid name for most Kubernetes objects (an RFC 1123
// subdomain: Secrets, ConfigMaps, GatewayClasses, TargetGroupConfigurations).
func IsObjectName(value string) bool {
	return value != "" && isDNS1123Subdomain(value)
}

// ObjectName checks an optional object name; empty is valid. problem and fix describe a bad
// value; problem gets the quoted value prepended.
func (p *Problems) ObjectName(path *field.Path, value, problem, fix string) bool {
	if value == "" || IsObjectName(value) {
		return true
	}
	p.Add(path, fmt.Sprintf("%q %s", value, problem), fix)
	return false
}

// PortNumber checks a TCP port number (1-65535). what prefixes the message ("port", "port 80
// of listener \"http\"").
func (p *Problems) PortNumber(path *field.Path, port int, what string) bool {
	if len(validation.IsValidPortNum(port)) == 0 {
		return true
	}
	p.Add(path, fmt.Sprintf("%s is out of range", what), "use a port between 1 and 65535")
	return false
}

// IsPortNumber reports whether port is 1-65535.
func IsPortNumber(port int) bool { return len(validation.IsValidPortNum(port)) == 0 }

// PortName checks the name of a port that also names a container port: an IANA service name
// (at most 15 characters of lowercase letters, digits and '-', at least one letter, no leading,
// trailing or consecutive '-'), which the API server requires of ContainerPort.name.
func (p *Problems) PortName(path *field.Path, value string) bool {
	if value == "" {
		p.Required(path, "port name is required", "name the port, such as \"https\" (BackendTLSPolicy targets a port by name)")
		return false
	}
	errs := validation.IsValidPortName(value)
	if len(errs) == 0 {
		return true
	}
	p.Add(path, fmt.Sprintf("port name %q is not an IANA service name, which Kubernetes requires of a container port name (%s)", value, strings.Join(errs, "; ")),
		"use at most 15 lowercase letters, digits and '-', with at least one letter and no \"--\", such as \"https\" or \"https-8443\"")
	return false
}

// Hostname checks a listener or route host name: lowercase RFC 1123, optionally with a leading
// `*.`, not an IP address (Gateway API's Hostname). what is "listener" or "route".
func (p *Problems) Hostname(path *field.Path, value, what string) bool {
	if IsHostname(value) {
		return true
	}
	p.Add(path, fmt.Sprintf("%q is not a valid %s hostname", value, what), "use a lowercase DNS name, optionally starting with \"*.\"")
	return false
}

// IsHostname reports whether value is a Gateway API Hostname: a lowercase RFC 1123 subdomain,
// optionally with a leading `*.`, not an IP address.
func IsHostname(value string) bool {
	if value == "" || net.ParseIP(value) != nil {
		return false
	}
	if strings.HasPrefix(value, "*.") {
		return len(validation.IsWildcardDNS1123Subdomain(value)) == 0
	}
	return isDNS1123Subdomain(value)
}

// PreciseHostname checks a BackendTLSPolicy hostname (SNI and verified name): lowercase RFC
// 1123, no wildcard, no IP.
func (p *Problems) PreciseHostname(path *field.Path, value string) bool {
	switch {
	case strings.Contains(value, "*"):
		p.Add(path, fmt.Sprintf("%q contains a wildcard; the gateway sends it as SNI and verifies it, so it must be one exact name", value),
			"use the exact DNS name on the backend's certificate; to accept several names, list them in tls.subjectAltNames")
	case net.ParseIP(value) != nil:
		p.Add(path, fmt.Sprintf("%q is an IP address; BackendTLSPolicy hostnames must be DNS names", value),
			"use a DNS name carried as a DNS SAN by the backend's certificate, such as <service>.<namespace>.svc")
	case value != strings.ToLower(value):
		p.Add(path, fmt.Sprintf("%q has upper-case letters", value), fmt.Sprintf("write it in lower case: %q", strings.ToLower(value)))
	case !isDNS1123Subdomain(value):
		p.Add(path, fmt.Sprintf("%q is not a valid DNS name", value), "use lowercase labels of letters, digits and '-', separated by dots")
	default:
		return true
	}
	return false
}

// HostnameCovers reports whether a route host name h attaches under a listener host name l
// (Gateway API hostname matching): an empty listener host name covers everything; `*.x` covers
// any name ending in `.x` with at least one more label, and a route wildcard `*.y.x` under it.
func HostnameCovers(l, h string) bool {
	switch {
	case l == "":
		return true
	case l == h:
		return true
	case strings.HasPrefix(l, "*."):
		suffix := l[1:] // ".x"
		name := strings.TrimPrefix(h, "*.")
		if strings.HasPrefix(h, "*.") {
			name = "x." + name
		}
		return strings.HasSuffix(name, suffix) && len(name) > len(suffix)
	case strings.HasPrefix(h, "*."):
		// A wildcard route host name attaches to a precise listener host name it covers.
		return strings.HasSuffix(l, h[1:]) && len(l) > len(h)-1
	}
	return false
}

// IsInClusterName reports whether h is a Service DNS name only cluster DNS resolves
// (`<svc>.<ns>.svc`, `*.svc.<cluster domain>`, `*.cluster.local`), which no public CA
// certifies.
func IsInClusterName(h string) bool {
	return strings.HasSuffix(h, ".svc") || strings.Contains(h, ".svc.") || strings.HasSuffix(h, ".cluster.local")
}

// Int32 checks that v fits the int32 field Kubernetes stores it in and is at least lo.
func (p *Problems) Int32(path *field.Path, v, lo int, what string) bool {
	const maxInt32 = 1<<31 - 1
	if v < lo || v > maxInt32 {
		p.Add(path, fmt.Sprintf("%s %d is out of range", what, v), fmt.Sprintf("use %d to %d", lo, maxInt32))
		return false
	}
	return true
}

// ChartVersion reports whether v (without a leading v) is an exact chart version: a strict
// semantic version (MAJOR.MINOR.PATCH, optional pre-release and build), parsed by
// github.com/Masterminds/semver/v3, the library Helm uses for chart versions. A partial version
// such as 1.9 is refused although Helm would read it as a range: the version also selects the
// chart files and CRDs the component installs, so it must name one release.
func ChartVersion(v string) bool {
	_, err := semver.StrictNewVersion(v)
	return err == nil
}
