// Package owner is who made a wsslab resource (a temp dir, a container, an
// image) and whether that maker is provably gone. Names prove nothing: a
// resource is wsslab's only when it carries an owner record written when it
// was made (a marker file in a temp dir, labels on a container), and it may
// be swept only when that record's process is provably dead — which a
// process can tell only for owners of its own host, boot and PID namespace.
// Everything else (another PID namespace: a CI job in a container, a
// docker-in-docker run) is left alone until it is older than ForeignMaxAge.
package owner

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ForeignMaxAge is how old a resource of an owner whose liveness cannot be
// checked (another host, boot or PID namespace) must be before a sweep
// removes it: longer than any run, so a live run elsewhere is never hurt.
const ForeignMaxAge = 24 * time.Hour

// ID identifies a process across PID reuse and PID namespaces.
type ID struct {
	Host  string `json:"host"`
	Boot  string `json:"boot"`  // /proc/sys/kernel/random/boot_id
	PIDNS string `json:"pidns"` // the target of /proc/self/ns/pid, "pid:[4026531836]"
	PID   int    `json:"pid"`
	// Start is the process's start time in clock ticks after boot
	// (/proc/PID/stat field 22): a reused PID has another.
	Start   uint64    `json:"start"`
	Created time.Time `json:"created"`
}

// Self is this process's identity, with Created = now.
func Self() ID {
	host, _ := os.Hostname()
	return ID{
		Host:    host,
		Boot:    bootID(),
		PIDNS:   pidNS(),
		PID:     os.Getpid(),
		Start:   StartTicks(os.Getpid()),
		Created: time.Now().UTC().Truncate(time.Second),
	}
}

func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}

func pidNS() string {
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return ns
}

// StartTicks is field 22 of /proc/PID/stat, 0 when unknown.
func StartTicks(pid int) uint64 {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); field 22 is f[19].
	if len(f) < 20 {
		return 0
	}
	n, _ := strconv.ParseUint(f[19], 10, 64)
	return n
}

// Local reports whether id's liveness can be checked from this process:
// same host, same boot, same PID namespace, and every field known.
func (id ID) Local() bool {
	self := Self()
	return id.Host == self.Host && id.Boot != "" && id.Boot == self.Boot &&
		id.PIDNS != "" && id.PIDNS == self.PIDNS && id.PID > 0 && id.Start != 0
}

// Dead reports whether id's process is provably gone: a local owner whose
// PID no longer runs, is a zombie, or now belongs to a process started at
// another time. An owner that is not Local is never provably dead.
func (id ID) Dead() bool {
	if !id.Local() {
		return false
	}
	if !Alive(id.PID) {
		return true
	}
	return StartTicks(id.PID) != id.Start
}

// Stale reports whether a resource made by id may be swept now: its owner
// is Dead, or its liveness cannot be checked and it is older than maxAge
// (ForeignMaxAge when maxAge is 0).
func (id ID) Stale(now time.Time, maxAge time.Duration) bool {
	if maxAge == 0 {
		maxAge = ForeignMaxAge
	}
	if id.Local() {
		return id.Dead()
	}
	return !id.Created.IsZero() && now.Sub(id.Created) > maxAge
}

// Alive reports whether pid runs (a zombie does not count: its parent may
// never reap it, as in containers whose init does not).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !os.IsNotExist(err)
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// Labels is id as container labels under prefix ("wsslab.owner").
func (id ID) Labels(prefix string) map[string]string {
	return map[string]string{
		prefix + ".host":    id.Host,
		prefix + ".boot":    id.Boot,
		prefix + ".pidns":   id.PIDNS,
		prefix + ".pid":     strconv.Itoa(id.PID),
		prefix + ".start":   strconv.FormatUint(id.Start, 10),
		prefix + ".created": id.Created.Format(time.RFC3339),
	}
}

// FromLabels reads what Labels wrote; ok is false when the record is not
// there or is malformed (such a resource is not provably wsslab's).
func FromLabels(prefix string, l map[string]string) (id ID, ok bool) {
	pid, err1 := strconv.Atoi(l[prefix+".pid"])
	start, err2 := strconv.ParseUint(l[prefix+".start"], 10, 64)
	created, err3 := time.Parse(time.RFC3339, l[prefix+".created"])
	if err1 != nil || err2 != nil || err3 != nil {
		return ID{}, false
	}
	return ID{Host: l[prefix+".host"], Boot: l[prefix+".boot"], PIDNS: l[prefix+".pidns"],
		PID: pid, Start: start, Created: created}, true
}

// Marker is the name of the owner record in a temp dir wsslab made.
const Marker = ".wsslab-owner"

// String is the marker's content: one line of key=value fields.
func (id ID) String() string {
	return fmt.Sprintf("wsslab-owner v1 host=%s boot=%s pidns=%s pid=%d start=%d created=%s\n",
		id.Host, id.Boot, id.PIDNS, id.PID, id.Start, id.Created.Format(time.RFC3339))
}

// Parse reads what String wrote.
func Parse(s string) (ID, error) {
	f := strings.Fields(s)
	if len(f) < 2 || f[0] != "wsslab-owner" || f[1] != "v1" {
		return ID{}, errors.New("owner: not a wsslab owner record")
	}
	l := map[string]string{}
	for _, kv := range f[2:] {
		k, v, _ := strings.Cut(kv, "=")
		l["o."+k] = v
	}
	id, ok := FromLabels("o", l)
	if !ok {
		return ID{}, errors.New("owner: malformed owner record")
	}
	return id, nil
}
