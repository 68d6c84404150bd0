package scenarios

import (
	"fmt"

	"github.com/wsslab/wsslab/harness"
)

// Column is one client's measurements kept beside that client instead of in
// every row of table.go: its reason per scenario (in its vocabulary) and the
// rows where it does not behave like its class. A column file calls
// addColumn from init; an id that names no scenario, or a reason or
// exception the row already has, panics at start (and so fails every test).
type Column struct {
	// Vocabulary the reasons are in (shared by clients that speak it).
	Vocabulary harness.Vocabulary
	// Reasons by scenario id: the client's exact reason where its class's
	// outcome is a failure.
	Reasons map[string]string
	// ClientID and Except: whole expectations for this client, by scenario
	// id, where it behaves unlike its class.
	ClientID string
	Except   map[string]Expect
	// Lessons by scenario id: where this client behaves unlike the row's
	// other clients, what it does and why; appended to the row's Lesson.
	Lessons map[string]string
}

// addColumn merges c into Table and ContainerTable.
func addColumn(c Column) {
	rows := map[string]*Scenario{}
	for _, t := range [][]Scenario{Table, ContainerTable} {
		for i := range t {
			rows[t[i].ID] = &t[i]
		}
	}
	at := func(id string) *Scenario {
		sc, ok := rows[id]
		if !ok {
			panic(fmt.Sprintf("scenarios: column %s/%s names unknown scenario %q", c.Vocabulary, c.ClientID, id))
		}
		return sc
	}
	for id, r := range c.Reasons {
		sc := at(id)
		if _, dup := sc.Want.Reasons[c.Vocabulary]; dup {
			panic(fmt.Sprintf("scenarios: %s already has a %s reason", id, c.Vocabulary))
		}
		if sc.Want.Reasons == nil {
			sc.Want.Reasons = Reasons{}
		} else {
			// Rows may share one Reasons map literal: copy before writing.
			cp := Reasons{}
			for k, v := range sc.Want.Reasons {
				cp[k] = v
			}
			sc.Want.Reasons = cp
		}
		sc.Want.Reasons[c.Vocabulary] = r
	}
	for id, l := range c.Lessons {
		sc := at(id)
		sc.Lesson += " " + l
	}
	for id, e := range c.Except {
		sc := at(id)
		if _, dup := sc.Want.Except[c.ClientID]; dup {
			panic(fmt.Sprintf("scenarios: %s already has an exception for %s", id, c.ClientID))
		}
		cp := map[string]Expect{}
		for k, v := range sc.Want.Except {
			cp[k] = v
		}
		cp[c.ClientID] = e
		sc.Want.Except = cp
	}
}
