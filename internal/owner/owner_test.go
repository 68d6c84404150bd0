package owner

import (
	"os/exec"
	"testing"
	"time"
)

func TestSelfIsLocalAndAlive(t *testing.T) {
	id := Self()
	if !id.Local() || id.Dead() || id.Stale(time.Now(), 0) {
		t.Fatalf("own identity %+v: local %v dead %v", id, id.Local(), id.Dead())
	}
	back, err := Parse(id.String())
	if err != nil || back != id {
		t.Fatalf("round trip: %+v, %v; want %+v", back, err, id)
	}
	if l, ok := FromLabels("p", id.Labels("p")); !ok || l != id {
		t.Fatalf("labels round trip: %+v %v", l, ok)
	}
}

func TestDeadProcessIsDead(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	id := Self()
	id.PID, id.Start = cmd.Process.Pid, StartTicks(cmd.Process.Pid)
	cmd.Wait()
	if id.Start == 0 {
		id.Start = 1
	}
	if !id.Dead() || !id.Stale(time.Now(), 0) {
		t.Fatalf("%+v of an exited process is not dead", id)
	}
}

func TestReusedPIDIsDead(t *testing.T) {
	id := Self()
	id.Start++ // same PID, another start time: the PID was reused
	if !id.Dead() {
		t.Fatal("a PID with another start time is the same process")
	}
}

func TestForeignOwnerIsNeverDead(t *testing.T) {
	now := time.Now()
	for name, mod := range map[string]func(*ID){
		"other pid namespace": func(id *ID) { id.PIDNS = "pid:[1]"; id.PID = 999999 },
		"other boot":          func(id *ID) { id.Boot = "x"; id.PID = 999999 },
		"other host":          func(id *ID) { id.Host = "elsewhere"; id.PID = 999999 },
	} {
		id := Self()
		mod(&id)
		if id.Dead() || id.Stale(now, 0) {
			t.Errorf("%s: a live-for-all-we-know owner is stale", name)
		}
		id.Created = now.Add(-ForeignMaxAge - time.Minute)
		if !id.Stale(now, 0) {
			t.Errorf("%s: older than ForeignMaxAge and not stale", name)
		}
	}
}

func TestParseRefusesOtherFiles(t *testing.T) {
	for _, s := range []string{"", "hello", "wsslab-owner v1 pid=x", "wsslab-owner v2 pid=1 start=1 created=2026-01-01T00:00:00Z"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
}
