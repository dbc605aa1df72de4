package cluster

import (
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// The service network: what cluster DNS and kube-proxy do for a Service, for the proxies the
// host runs. An Envoy Gateway Backend names a Service by its FQDN
// (<service>.<namespace>.svc.cluster.local), which Envoy resolves and connects to at the
// Service's port; on this host no cluster DNS answers that name and no kube-proxy forwards the
// Service's port. So the host gives each Service that selects an echo-server workload an
// address of its own in 127.0.1.0/24, answers its FQDN with that address from a DNS server on
// a free loopback port (every proxy's bootstrap names it as Envoy's DNS resolver), and
// forwards each Service port at that address to the workload's host port. Names it does not
// know get NXDOMAIN. Binding a Service port below 1024 (443) needs root or
// CAP_NET_BIND_SERVICE; without it that port is left out and the host logs why.

// ServiceDomain is the DNS suffix of Service FQDNs the host answers.
const ServiceDomain = "svc.cluster.local."

type serviceNet struct {
	dns  net.PacketConn
	log  func(format string, a ...any)
	mu   sync.Mutex
	ips  map[string]net.IP     // "<service>.<namespace>" -> address
	fwds map[string]*forwarder // "ip:port" -> forwarder
	want map[string]string     // "ip:port" -> target, this round
	bad  map[string]string     // "ip:port" -> why it cannot listen (logged once)
}

type forwarder struct {
	l      net.Listener
	target string
	mu     sync.Mutex
}

// startServiceNet starts the DNS server.
func startServiceNet(logf func(string, ...any)) (*serviceNet, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("the service network's DNS server: %w", err)
	}
	s := &serviceNet{dns: pc, log: logf, ips: map[string]net.IP{}, fwds: map[string]*forwarder{}, bad: map[string]string{}}
	go s.serveDNS()
	return s, nil
}

// DNSAddr is the DNS server's address, host:port.
func (s *serviceNet) DNSAddr() string { return s.dns.LocalAddr().String() }

// address returns the Service's address, allocating the next free one.
func (s *serviceNet) address(service, namespace string) net.IP {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := service + "." + namespace
	if ip, ok := s.ips[key]; ok {
		return ip
	}
	ip := net.IPv4(127, 0, 1, byte(len(s.ips)+1)).To4()
	s.ips[key] = ip
	return ip
}

// begin starts a round of forward calls; end stops the forwarders not asked for since begin.
func (s *serviceNet) begin() { s.want = map[string]string{} }

// forward makes ip:port forward to target (host:port).
func (s *serviceNet) forward(ip net.IP, port int, target string) {
	key := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	s.want[key] = target
	if f, ok := s.fwds[key]; ok {
		f.mu.Lock()
		f.target = target
		f.mu.Unlock()
		return
	}
	l, err := net.Listen("tcp", key)
	if err != nil {
		if s.bad[key] != err.Error() {
			s.bad[key] = err.Error()
			s.log("service network: cannot listen on %s (a Service port; run as root for ports below 1024): %v", key, err)
		}
		return
	}
	delete(s.bad, key)
	f := &forwarder{l: l, target: target}
	s.fwds[key] = f
	s.log("service network: %s forwards to %s", key, target)
	go f.serve()
}

func (s *serviceNet) end() {
	for key, f := range s.fwds {
		if _, ok := s.want[key]; !ok {
			_ = f.l.Close()
			delete(s.fwds, key)
		}
	}
}

// Forwards lists the forwarders, "ip:port -> target", sorted.
func (s *serviceNet) Forwards() []string {
	var out []string
	for key, f := range s.fwds {
		f.mu.Lock()
		out = append(out, key+" -> "+f.target)
		f.mu.Unlock()
	}
	sort.Strings(out)
	return out
}

func (s *serviceNet) close() {
	_ = s.dns.Close()
	for key, f := range s.fwds {
		_ = f.l.Close()
		delete(s.fwds, key)
	}
}

func (f *forwarder) serve() {
	for {
		c, err := f.l.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		target := f.target
		f.mu.Unlock()
		go func() {
			defer c.Close()
			u, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer u.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(u, c); closeWrite(u); done <- struct{}{} }()
			go func() { _, _ = io.Copy(c, u); closeWrite(c); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

func closeWrite(c net.Conn) {
	if t, ok := c.(*net.TCPConn); ok {
		_ = t.CloseWrite()
	}
}

// serveDNS answers A queries for the Services' FQDNs; AAAA of a known name is answered with no
// record, any other name with NXDOMAIN.
func (s *serviceNet) serveDNS() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.dns.ReadFrom(buf)
		if err != nil {
			return
		}
		if out := s.answer(buf[:n]); out != nil {
			_, _ = s.dns.WriteTo(out, from)
		}
	}
}

func (s *serviceNet) answer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	resp := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeSuccess}
	name := strings.ToLower(q.Name.String())
	var ip net.IP
	if rest, ok := strings.CutSuffix(name, "."+ServiceDomain); ok {
		s.mu.Lock()
		ip = s.ips[rest]
		s.mu.Unlock()
	}
	if ip == nil {
		resp.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, resp)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil
	}
	if ip != nil && q.Type == dnsmessage.TypeA {
		var a [4]byte
		copy(a[:], ip.To4())
		if b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 5}, dnsmessage.AResource{A: a}) != nil {
			return nil
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}
