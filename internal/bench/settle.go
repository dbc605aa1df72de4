package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The cluster tier measures each no-change run on a cluster that has settled. Right after a
// first up, the local cluster's processes (Envoy Gateway's controller translating every route
// and writing its status, the proxies taking their configuration, the API server and etcd
// serving both) keep the CPU busy for a while; a preview measured then shares two cores with
// them and took up to twice as long in one round as in the next.

const (
	settleWindow  = 2 * time.Second  // one CPU sample
	settleIdle    = 0.80             // the machine's idle share over a window that counts as settled
	settleTimeout = 90 * time.Second // after that the run goes on (and the log says so)
)

// cpuTimes is the first line of /proc/stat: the machine's busy and total CPU time in ticks.
type cpuTimes struct{ idle, total uint64 }

// parseCPUTimes reads the aggregate "cpu" line of /proc/stat; idle counts idle and iowait.
func parseCPUTimes(stat string) (cpuTimes, error) {
	line, _, _ := strings.Cut(stat, "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return cpuTimes{}, fmt.Errorf("/proc/stat: no aggregate cpu line in %q", line)
	}
	var t cpuTimes
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return cpuTimes{}, fmt.Errorf("/proc/stat: field %d of %q: %w", i+1, line, err)
		}
		t.total += v
		if i == 3 || i == 4 { // idle, iowait
			t.idle += v
		}
	}
	return t, nil
}

func readCPUTimes() (cpuTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, err
	}
	return parseCPUTimes(string(b))
}

// idleShare is the machine's idle share between two samples.
func idleShare(a, b cpuTimes) float64 {
	if b.total <= a.total {
		return 1
	}
	return float64(b.idle-a.idle) / float64(b.total-a.total)
}

// settle waits until the machine has been at least settleIdle idle over one settleWindow, at
// most settleTimeout, and logs what it waited for (what).
func (o Options) settle(what string) {
	start := time.Now()
	prev, err := readCPUTimes()
	if err != nil {
		o.logf("%s: not waiting for the cluster to settle: %v", what, err)
		return
	}
	for {
		time.Sleep(settleWindow)
		cur, err := readCPUTimes()
		if err != nil {
			o.logf("%s: not waiting for the cluster to settle: %v", what, err)
			return
		}
		share := idleShare(prev, cur)
		switch {
		case share >= settleIdle:
			o.logf("%s: the machine settled in %s (%.0f%% idle)", what, time.Since(start).Round(time.Second), 100*share)
			return
		case time.Since(start) >= settleTimeout:
			o.logf("%s: the machine did not settle in %s (%.0f%% idle); measuring anyway", what, settleTimeout, 100*share)
			return
		}
		prev = cur
	}
}
