package bidi

import "strings"

// Event methods wsslab subscribes to.
const (
	BeforeRequestSent = "network.beforeRequestSent"
	ResponseStarted   = "network.responseStarted"
	FetchError        = "network.fetchError"
	LogEntryAdded     = "log.entryAdded"
)

// Header is a network header; Value is a BytesValue (type "string" or
// "base64").
type Header struct {
	Name  string `json:"name"`
	Value struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"value"`
}

// Request is network.RequestData.
type Request struct {
	Request string   `json:"request"`
	URL     string   `json:"url"`
	Method  string   `json:"method"`
	Headers []Header `json:"headers"`
}

// Header returns the value of the first header called name
// (case-insensitive), or "".
func (r Request) Header(name string) string {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value.Value
		}
	}
	return ""
}

// Response is network.ResponseData.
type Response struct {
	URL        string   `json:"url"`
	Protocol   string   `json:"protocol"`
	Status     int      `json:"status"`
	StatusText string   `json:"statusText"`
	Headers    []Header `json:"headers"`
}

// NetworkEvent holds the params of network.beforeRequestSent,
// network.responseStarted and network.fetchError (each fills its part).
type NetworkEvent struct {
	Context       string   `json:"context"`
	Navigation    *string  `json:"navigation"`
	RedirectCount int      `json:"redirectCount"`
	Request       Request  `json:"request"`
	Timestamp     float64  `json:"timestamp"`
	Response      Response `json:"response"`
	// ErrorText: network.fetchError's.
	ErrorText string `json:"errorText"`
}

// LogEntry is log.entryAdded's params.
type LogEntry struct {
	Type   string `json:"type"`
	Level  string `json:"level"`
	Text   string `json:"text"`
	Source struct {
		Realm   string `json:"realm"`
		Context string `json:"context"`
	} `json:"source"`
	Timestamp float64 `json:"timestamp"`
}
