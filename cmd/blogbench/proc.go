package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go runs on.
const clockTicks = 100

// procSample is a process's CPU time so far and its resident memory.
type procSample struct {
	at    time.Time
	ticks uint64 // utime + stime
	rss   int64  // bytes
	hwm   int64  // bytes: the peak RSS since the process started
}

// sampleProc reads /proc for pid (0: this process).
func sampleProc(pid int) (procSample, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, err
	}
	// Fields after the command name, which may hold spaces: state is
	// field 3, utime 14 and stime 15.
	i := bytes.LastIndexByte(stat, ')')
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("%s/stat: too few fields", dir)
	}
	for _, v := range f[11:13] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return s, fmt.Errorf("%s/stat: %w", dir, err)
		}
		s.ticks += n
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		name, v, _ := strings.Cut(line, ":")
		field := map[string]*int64{"VmRSS": &s.rss, "VmHWM": &s.hwm}[name]
		if field == nil {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return s, fmt.Errorf("%s/status: %w", dir, err)
		}
		*field = kb << 10
	}
	return s, nil
}

// sampleProcs adds up the samples of several processes (the replicas of
// one run).
func sampleProcs(pids []int) (procSample, error) {
	var sum procSample
	for i, pid := range pids {
		s, err := sampleProc(pid)
		if err != nil {
			return sum, err
		}
		if i == 0 {
			sum.at = s.at
		}
		sum.ticks += s.ticks
		sum.rss += s.rss
		sum.hwm += s.hwm
	}
	return sum, nil
}

// cpuPercent is the CPU used between a and b in % of one core.
func cpuPercent(a, b procSample) float64 {
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(b.ticks-a.ticks) / clockTicks / secs * 100
}

// cpuSplit is the CPU a phase cost the server and this client, in seconds.
type cpuSplit struct {
	Server float64 `json:"server_seconds"`
	Client float64 `json:"client_seconds"`
	Wall   float64 `json:"wall_seconds"`
}

// cpuMeter measures a phase's cpuSplit.
type cpuMeter struct {
	pids         []int
	server, self procSample
	aside        uint64 // this client's ticks spent in work set aside
}

// setAside runs f and leaves this client's CPU for it out of the phase's:
// the fan-out's forced collections are the load client's housekeeping,
// not the cost of delivering a comment.
func (m *cpuMeter) setAside(f func()) {
	before, err := sampleProc(0)
	f()
	if after, err2 := sampleProc(0); err == nil && err2 == nil {
		m.aside += after.ticks - before.ticks
	}
}

func startCPU(pids []int) *cpuMeter {
	m := &cpuMeter{pids: pids}
	if len(pids) > 0 {
		m.server, _ = sampleProcs(pids)
	}
	m.self, _ = sampleProc(0)
	return m
}

func (m *cpuMeter) stop() cpuSplit {
	var c cpuSplit
	self, err := sampleProc(0)
	if err == nil {
		c.Client = float64(self.ticks-m.self.ticks-m.aside) / clockTicks
		c.Wall = self.at.Sub(m.self.at).Seconds()
	}
	if len(m.pids) > 0 {
		if s, err := sampleProcs(m.pids); err == nil {
			c.Server = float64(s.ticks-m.server.ticks) / clockTicks
		}
	}
	return c
}
