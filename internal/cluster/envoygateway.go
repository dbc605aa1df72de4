package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
)

// The Envoy Gateway host: the cluster has no kubelet, so this process does for the Envoy
// Gateway controller Deployment what a kubelet would do for its pod, with the pinned
// envoy-gateway binary (scripts/tools.sh envoy-gateway, built with
// tools/egctl/patches/host-process.patch) instead of the image:
//
//   - it finds the Deployment named envoy-gateway whose container envoy-gateway runs `server`
//     (what the gateway-helm chart installs), in any namespace;
//   - it waits, as a kubelet would, until every volume the container mounts exists (the
//     ConfigMap envoy-gateway-config, the Secret envoy-gateway) and the ServiceAccount exists;
//   - it writes those volumes under its root directory, at the container's mount paths, and a
//     token of the pod's ServiceAccount (TokenRequest), so the controller runs with the RBAC
//     the chart gave it, never as cluster admin;
//   - it starts the controller with the container's own args and env, the paths moved under the
//     root (UPSTREAM_TLS_EG_ROOT) and its listeners on free loopback ports
//     (UPSTREAM_TLS_EG_ADDR_*), and restarts it whenever the pod template, a mounted object or
//     the token changes; it stops it when the Deployment or a volume goes away.
//
// What it decided is in <dir>/envoy-gateway/status.json and its log in
// <dir>/logs/envoy-gateway.log. The Deployment itself never becomes Available: the host writes
// no pod or Deployment status.

// EnvoyGatewayHost is the process name of the host (cmd/cluster's `envoy-gateway-host`).
const EnvoyGatewayHost = "envoy-gateway-host"

// EnvoyGatewayBinary is the controller binary in Options.Bin.
const EnvoyGatewayBinary = "envoy-gateway"

// HostBinary is the file name cmd/cluster is built as; the host process runs it.
const HostBinary = "upstream-tls-cluster"

// ControllerStatus is what the host last decided, in <dir>/envoy-gateway/status.json.
type ControllerStatus struct {
	// State is "waiting" (no Deployment, or a volume it mounts is missing), "running" or
	// "stopped" (the host exited).
	State string `json:"state"`
	// Reason says why the controller waits, in a kubelet's words.
	Reason string `json:"reason,omitempty"`
	// Deployment is namespace/name of the Deployment run.
	Deployment string `json:"deployment,omitempty"`
	// PID of the controller process while running.
	PID int `json:"pid,omitempty"`
	// Ready is true once the controller's /readyz answered.
	Ready bool `json:"ready"`
	// Addresses are the controller's listeners by UPSTREAM_TLS_EG_ADDR_ name.
	Addresses map[string]string `json:"addresses,omitempty"`
	// Since is when the state was entered, RFC 3339.
	Since string `json:"since"`
}

// ReadControllerStatus reads the host's status of the cluster in dir.
func ReadControllerStatus(dir string) (*ControllerStatus, error) {
	b, err := os.ReadFile(filepath.Join(dir, "envoy-gateway", "status.json"))
	if err != nil {
		return nil, err
	}
	var s ControllerStatus
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("cluster: envoy-gateway status: %w", err)
	}
	return &s, nil
}

// hostListeners are the controller's listeners the host moves to free loopback ports.
var hostListeners = []string{"XDS", "WASM", "HEALTH", "CONTROLLER_METRICS", "WEBHOOK", "ADMIN", "METRICS"}

// tokenLifetime is the requested lifetime of the controller's ServiceAccount token; the host
// renews it at half its life (client-go rereads a kubeconfig's tokenFile).
const tokenLifetime = 24 * time.Hour

// RunEnvoyGatewayHost runs the host loop for the cluster in dir until ctx ends, then stops the
// controller. bin holds the envoy-gateway binary.
func RunEnvoyGatewayHost(ctx context.Context, dir, bin string, logw io.Writer) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	st, err := readState(dir)
	if err != nil {
		return fmt.Errorf("envoy-gateway host: %w", err)
	}
	admin, err := adminClient(dir)
	if err != nil {
		return err
	}
	h := &egHost{dir: dir, bin: filepath.Join(bin, EnvoyGatewayBinary), binDir: bin, server: st.Server, api: admin, log: logw}
	if err := os.MkdirAll(h.home(), 0o700); err != nil {
		return fmt.Errorf("envoy-gateway host: %w", err)
	}
	h.setStatus(ControllerStatus{State: "waiting", Reason: "looking for the Envoy Gateway Deployment"})
	if h.svc, err = startServiceNet(h.logf); err != nil {
		return fmt.Errorf("envoy-gateway host: %w", err)
	}
	defer h.svc.close()
	h.slices = map[string]string{}
	h.logf("service network: DNS for *.%s at %s", ServiceDomain, h.svc.DNSAddr())
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		h.pass = map[string]*nsObjects{} // (each pass reads the cluster afresh)
		h.reconcile(ctx)
		h.reconcileWorkloads(ctx)
		select {
		case <-ctx.Done():
			h.stopWorkloads()
			h.stop("the host is stopping")
			h.setStatus(ControllerStatus{State: "stopped", Reason: "the cluster was stopped"})
			return nil
		case <-tick.C:
		}
	}
}

type egHost struct {
	dir, bin, server string
	binDir           string                // Options.Bin: the workloads' binaries
	workloads        map[string]*workload  // by Deployment namespace/name
	slices           map[string]string     // EndpointSlices applied, by Service namespace/name
	pass             map[string]*nsObjects // this pass's reads, by namespace (passObjects)
	svc              *serviceNet
	api              *http.Client
	log              io.Writer

	pid       int
	done      chan struct{}
	hash      string
	tokenAt   time.Time
	status    ControllerStatus
	addresses map[string]string
}

func (h *egHost) home() string { return filepath.Join(h.dir, "envoy-gateway") }
func (h *egHost) root() string { return filepath.Join(h.home(), "root") }

func (h *egHost) logf(format string, a ...any) {
	fmt.Fprintf(h.log, "%s envoy-gateway host: %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, a...))
}

func (h *egHost) setStatus(s ControllerStatus) {
	if s.State == h.status.State && s.Reason == h.status.Reason && s.PID == h.status.PID && s.Ready == h.status.Ready {
		return
	}
	s.Since = time.Now().UTC().Format(time.RFC3339)
	h.status = s
	if s.Reason != "" {
		h.logf("%s: %s", s.State, s.Reason)
	} else {
		h.logf("%s (pid %d, ready %v)", s.State, s.PID, s.Ready)
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	tmp := filepath.Join(h.home(), ".status.json.tmp")
	if os.WriteFile(tmp, append(b, '\n'), 0o600) == nil {
		_ = os.Rename(tmp, filepath.Join(h.home(), "status.json"))
	}
}

// egPod is everything the controller's pod would be made of.
type egPod struct {
	deployment *appsv1.Deployment
	container  corev1.Container
	volumes    map[string]map[string][]byte // mount path -> file name -> content
	account    string
}

func (h *egHost) reconcile(ctx context.Context) {
	if h.running() && !h.alive() {
		h.logf("controller (pid %d) exited; see %s", h.pid, filepath.Join(h.dir, "logs", EnvoyGatewayBinary+".log"))
		h.pid, h.hash = 0, ""
	}
	pod, waiting, err := h.observe(ctx)
	if err != nil {
		h.setStatus(ControllerStatus{State: h.status.State, Reason: "cannot read the cluster: " + err.Error(), PID: h.pid})
		return
	}
	if pod == nil {
		h.stop(waiting)
		h.setStatus(ControllerStatus{State: "waiting", Reason: waiting})
		return
	}
	hash := pod.hash()
	renew := time.Since(h.tokenAt) > tokenLifetime/2
	if h.running() && hash == h.hash && !renew {
		if !h.status.Ready {
			if err := get(&http.Client{Timeout: time.Second}, "http://"+h.addresses["HEALTH"]+"/readyz", "ok"); err == nil {
				s := h.status
				s.Ready = true
				h.setStatus(s)
			}
		}
		return
	}
	if h.running() && hash == h.hash && renew {
		if err := h.writeToken(ctx, pod); err != nil {
			h.logf("renew the ServiceAccount token: %v", err)
		}
		return
	}
	if h.running() {
		h.stop("the pod template or a mounted object changed")
	}
	if err := h.start(ctx, pod); err != nil {
		h.setStatus(ControllerStatus{State: "waiting", Reason: err.Error(), Deployment: pod.name()})
		return
	}
	h.hash = hash
	h.setStatus(ControllerStatus{State: "running", Deployment: pod.name(), PID: h.pid, Addresses: h.addresses})
}

func (p *egPod) name() string { return p.deployment.Namespace + "/" + p.deployment.Name }

// hash covers what the controller's process is made of: the container and the volumes' content.
func (p *egPod) hash() string {
	sum := sha256.New()
	c, _ := json.Marshal(p.container)
	sum.Write(c)
	paths := make([]string, 0, len(p.volumes))
	for path := range p.volumes {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		files := make([]string, 0, len(p.volumes[path]))
		for f := range p.volumes[path] {
			files = append(files, f)
		}
		sort.Strings(files)
		for _, f := range files {
			fmt.Fprintf(sum, "%s/%s\x00%s\x00", path, f, p.volumes[path][f])
		}
	}
	fmt.Fprint(sum, p.account)
	return hex.EncodeToString(sum.Sum(nil))
}

// observe reads the Deployment and what its pod mounts; a nil pod comes with the reason the pod
// could not start.
func (h *egHost) observe(ctx context.Context) (*egPod, string, error) {
	var list appsv1.DeploymentList
	if err := h.getJSON(ctx, "/apis/apps/v1/deployments?fieldSelector="+url.QueryEscape("metadata.name=envoy-gateway"), &list); err != nil {
		return nil, "", err
	}
	var found []*appsv1.Deployment
	for i := range list.Items {
		d := &list.Items[i]
		if d.DeletionTimestamp == nil && controllerContainer(d) != nil {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return nil, "no Deployment envoy-gateway running `envoy-gateway server` (the gateway-helm chart installs it)", nil
	case 1:
	default:
		return nil, fmt.Sprintf("%d Envoy Gateway Deployments (%s/%s, %s/%s): run one per cluster", len(found), found[0].Namespace, found[0].Name, found[1].Namespace, found[1].Name), nil
	}
	d := found[0]
	pod := &egPod{deployment: d, container: *controllerContainer(d), volumes: map[string]map[string][]byte{}, account: d.Spec.Template.Spec.ServiceAccountName}
	if pod.account == "" {
		pod.account = "default"
	}
	ns := d.Namespace
	var sa corev1.ServiceAccount
	if err := h.getJSON(ctx, "/api/v1/namespaces/"+ns+"/serviceaccounts/"+pod.account, &sa); err != nil {
		if isNotFound(err) {
			return nil, fmt.Sprintf("ServiceAccount %s/%s not found", ns, pod.account), nil
		}
		return nil, "", err
	}
	volumes, waiting, err := h.mount(ctx, d, &pod.container)
	if volumes == nil {
		return nil, waiting, err
	}
	pod.volumes = volumes
	return pod, "", nil
}

// controllerContainer is the container named envoy-gateway whose first arg is `server`.
func controllerContainer(d *appsv1.Deployment) *corev1.Container {
	for i := range d.Spec.Template.Spec.Containers {
		c := &d.Spec.Template.Spec.Containers[i]
		if c.Name == "envoy-gateway" && len(c.Args) > 0 && c.Args[0] == "server" {
			return c
		}
	}
	return nil
}

func (h *egHost) running() bool { return h.pid != 0 }

func (h *egHost) alive() bool {
	select {
	case <-h.done:
		return false
	default:
		return true
	}
}

// start mounts the pod's volumes and token under the root and starts the controller.
func (h *egHost) start(ctx context.Context, pod *egPod) error {
	if _, err := os.Stat(h.bin); err != nil {
		return fmt.Errorf("%s not found; fix: run scripts/tools.sh cluster", h.bin)
	}
	if err := os.RemoveAll(h.root()); err != nil {
		return err
	}
	for path, files := range pod.volumes {
		d := filepath.Join(h.root(), path)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(d, name), content, 0o600); err != nil {
				return err
			}
		}
	}
	if err := h.writeToken(ctx, pod); err != nil {
		return fmt.Errorf("ServiceAccount token for %s/%s: %w", pod.deployment.Namespace, pod.account, err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + h.root(),
		"KUBECONFIG=" + filepath.Join(h.home(), "kubeconfig"),
		"UPSTREAM_TLS_EG_ROOT=" + h.root(),
	}
	for _, e := range pod.container.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env = append(env, e.Name+"="+pod.deployment.Namespace)
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		default:
			return fmt.Errorf("env %s: only values and metadata.namespace are run here", e.Name)
		}
	}
	h.addresses = map[string]string{}
	taken := map[string]int{}
	for _, l := range hostListeners {
		p, err := freePort(0, taken)
		if err != nil {
			return err
		}
		taken[l] = p
		h.addresses[l] = "127.0.0.1:" + strconv.Itoa(p)
		env = append(env, "UPSTREAM_TLS_EG_ADDR_"+l+"="+h.addresses[l])
	}
	// Arguments naming a mounted path (--config-path=/config/envoy-gateway.yaml) move under
	// the root, as the files did.
	args := make([]string, 0, len(pod.container.Args))
	for _, a := range pod.container.Args {
		for path := range pod.volumes {
			if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(v, path+"/") {
				a = k + "=" + filepath.Join(h.root(), v)
			}
		}
		args = append(args, a)
	}
	pid, done, err := startProcessEnv(h.dir, EnvoyGatewayBinary, h.bin, args, env)
	if err != nil {
		return err
	}
	h.pid, h.done = pid, done
	h.logf("started %s %s for Deployment %s (pid %d)", EnvoyGatewayBinary, strings.Join(args, " "), pod.name(), pid)
	return nil
}

// writeToken asks the API server for a token of the pod's ServiceAccount and writes it with a
// kubeconfig that reads it (tokenFile, reread by client-go).
func (h *egHost) writeToken(ctx context.Context, pod *egPod) error {
	ns := pod.deployment.Namespace
	exp := int64(tokenLifetime.Seconds())
	req := authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: &exp}}
	req.APIVersion, req.Kind = "authentication.k8s.io/v1", "TokenRequest"
	var out authnv1.TokenRequest
	if err := h.postJSON(ctx, "/api/v1/namespaces/"+ns+"/serviceaccounts/"+pod.account+"/token", req, &out); err != nil {
		return err
	}
	sa := filepath.Join(h.home(), "serviceaccount")
	if err := os.MkdirAll(sa, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(sa, ".token.tmp")
	if err := os.WriteFile(tmp, []byte(out.Status.Token), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(sa, "token")); err != nil {
		return err
	}
	h.tokenAt = time.Now()
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: %s
  user:
    tokenFile: %s
contexts:
- name: local
  context: {cluster: local, user: %s, namespace: %s}
current-context: local
`, h.server, filepath.Join(h.dir, "pki", caCert), pod.account, filepath.Join(sa, "token"), pod.account, ns)
	return os.WriteFile(filepath.Join(h.home(), "kubeconfig"), []byte(kc), 0o600)
}

// stop stops the controller (SIGTERM, then SIGKILL after 10 s, inside the 15 s Stop gives the
// host), if it runs.
func (h *egHost) stop(why string) {
	if !h.running() {
		return
	}
	h.logf("stopping the controller (pid %d): %s", h.pid, why)
	terminate(h.pid, h.done, 10*time.Second)
	h.pid, h.hash = 0, ""
}

// terminate sends SIGTERM to pid, a child of this host whose reaper closes done, and SIGKILL
// when done is not closed within grace; it returns once the process has exited.
func terminate(pid int, done <-chan struct{}, grace time.Duration) {
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-done
	}
}

type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.code, e.msg) }

func isNotFound(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.code == http.StatusNotFound
}

// nsObjects are one namespace's Services, Secrets and ConfigMaps as one reconcile pass read
// them.
type nsObjects struct {
	services   []corev1.Service
	secrets    map[string]*corev1.Secret
	configMaps map[string]*corev1.ConfigMap
}

// passObjects lists ns's Services, Secrets and ConfigMaps once per reconcile pass: every
// workload of the namespace mounts and routes from the same three lists, so a pass costs the
// API server three requests per namespace instead of a few per workload (with 100 backends,
// hundreds of requests a second kept the API server, etcd and this host at about a core). A
// pass that writes such objects (issueMissing) forgets the namespace's reads (forget).
func (h *egHost) passObjects(ctx context.Context, ns string) (*nsObjects, error) {
	if o, ok := h.pass[ns]; ok {
		return o, nil
	}
	var svcs corev1.ServiceList
	if err := h.getJSON(ctx, "/api/v1/namespaces/"+ns+"/services", &svcs); err != nil {
		return nil, err
	}
	var secrets corev1.SecretList
	if err := h.getJSON(ctx, "/api/v1/namespaces/"+ns+"/secrets", &secrets); err != nil {
		return nil, err
	}
	var cms corev1.ConfigMapList
	if err := h.getJSON(ctx, "/api/v1/namespaces/"+ns+"/configmaps", &cms); err != nil {
		return nil, err
	}
	o := &nsObjects{services: svcs.Items, secrets: map[string]*corev1.Secret{}, configMaps: map[string]*corev1.ConfigMap{}}
	for i := range secrets.Items {
		o.secrets[secrets.Items[i].Name] = &secrets.Items[i]
	}
	for i := range cms.Items {
		o.configMaps[cms.Items[i].Name] = &cms.Items[i]
	}
	if h.pass == nil {
		h.pass = map[string]*nsObjects{}
	}
	h.pass[ns] = o
	return o, nil
}

// forget drops this pass's reads of ns (after a write there).
func (h *egHost) forget(ns string) { delete(h.pass, ns) }

func (h *egHost) getJSON(ctx context.Context, path string, out any) error {
	return h.do(ctx, http.MethodGet, path, nil, out)
}

func (h *egHost) postJSON(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return h.do(ctx, http.MethodPost, path, b, out)
}

func (h *egHost) do(ctx context.Context, method, path string, body []byte, out any) error {
	return h.doType(ctx, method, path, "application/json", body, out)
}

// doType sends body as contentType (a server-side apply: application/apply-patch+yaml).
func (h *egHost) doType(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, h.server+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := h.api.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &apiError{code: resp.StatusCode, msg: strings.TrimSpace(string(b))}
	}
	return json.Unmarshal(b, out)
}

// mount reads what container c of Deployment d mounts, as a kubelet would before it starts the
// pod: mount path -> file name -> content (a volume's items, when it lists them, choose and
// rename its keys). A nil map comes with the reason the pod could not start (a missing
// ConfigMap or Secret, in a kubelet's words) or an error reading the cluster.
func (h *egHost) mount(ctx context.Context, d *appsv1.Deployment, c *corev1.Container) (map[string]map[string][]byte, string, error) {
	ns := d.Namespace
	volumes := map[string]map[string][]byte{}
	for _, m := range c.VolumeMounts {
		var vol *corev1.Volume
		for i := range d.Spec.Template.Spec.Volumes {
			if d.Spec.Template.Spec.Volumes[i].Name == m.Name {
				vol = &d.Spec.Template.Spec.Volumes[i]
			}
		}
		if vol == nil {
			return nil, fmt.Sprintf("volume %q of container %s is not in the pod template", m.Name, c.Name), nil
		}
		data := map[string][]byte{}
		var items []corev1.KeyToPath
		switch {
		case vol.ConfigMap != nil:
			objs, err := h.passObjects(ctx, ns)
			if err != nil {
				return nil, "", err
			}
			cm, ok := objs.configMaps[vol.ConfigMap.Name]
			if !ok {
				return nil, fmt.Sprintf("MountVolume.SetUp failed for volume %q: configmap %q not found", m.Name, vol.ConfigMap.Name), nil
			}
			for k, v := range cm.Data {
				data[k] = []byte(v)
			}
			for k, v := range cm.BinaryData {
				data[k] = v
			}
			items = vol.ConfigMap.Items
		case vol.Secret != nil:
			objs, err := h.passObjects(ctx, ns)
			if err != nil {
				return nil, "", err
			}
			s, ok := objs.secrets[vol.Secret.SecretName]
			if !ok {
				return nil, fmt.Sprintf("MountVolume.SetUp failed for volume %q: secret %q not found", m.Name, vol.Secret.SecretName), nil
			}
			for k, v := range s.Data {
				data[k] = v
			}
			items = vol.Secret.Items
		case vol.EmptyDir != nil:
		default:
			return nil, fmt.Sprintf("volume %q: only configMap, secret and emptyDir volumes are run here", m.Name), nil
		}
		files := data
		if len(items) > 0 {
			files = map[string][]byte{}
			for _, it := range items {
				v, ok := data[it.Key]
				if !ok {
					return nil, fmt.Sprintf("MountVolume.SetUp failed for volume %q: key %q not found", m.Name, it.Key), nil
				}
				files[it.Path] = v
			}
		}
		volumes[m.MountPath] = files
	}
	return volumes, "", nil
}
