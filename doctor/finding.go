package doctor

// Severity says how bad a finding is, mkcert-style.
type Severity string

const (
	// Error: the browser fails because of it.
	Error Severity = "ERROR"
	// Warn: the browser connects, but something will break (other
	// clients, soon, or on another network).
	Warn Severity = "Warning"
	// Info: worth knowing, nothing to fix.
	Info Severity = "Note"
)

// Finding is one check's result: what is wrong and the command or change
// that fixes it. Check is a stable kebab-case id.
type Finding struct {
	Severity Severity `json:"severity"`
	Check    string   `json:"check"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
	// Recheck says how examining again would tell more: which part of
	// Config to set. Library text names no CLI flag; the caller words it.
	Recheck Recheck `json:"recheck,omitempty"`
}

// Recheck names a Config setting worth re-examining with.
type Recheck string

const (
	// RecheckCA: with the chain's root trusted (Config.Private).
	RecheckCA Recheck = "ca"
	// RecheckOrigin: with the Origin of the real front end (Config.Origin).
	RecheckOrigin Recheck = "origin"
	// RecheckSubprotocol: offering the subprotocol (Config.Subprotocols).
	RecheckSubprotocol Recheck = "subprotocol"
)

type findings []Finding

func (f *findings) add(sev Severity, check, msg, fix string) {
	for _, x := range *f {
		if x.Check == check && x.Message == msg {
			return
		}
	}
	*f = append(*f, Finding{Severity: sev, Check: check, Message: msg, Fix: fix})
}

// recheck sets how to re-examine on the last finding added.
func (f *findings) recheck(r Recheck) {
	if len(*f) > 0 {
		(*f)[len(*f)-1].Recheck = r
	}
}
