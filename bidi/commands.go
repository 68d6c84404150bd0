package bidi

import (
	"context"
	"encoding/json"
	"fmt"
)

// Capabilities are session.new's alwaysMatch capabilities wsslab asks for.
type Capabilities struct {
	// AcceptInsecureCerts must stay false for wsslab: the browser verifies
	// certificates as it would for a user. It is sent explicitly.
	AcceptInsecureCerts bool `json:"acceptInsecureCerts"`
}

// Session is session.new's result.
type Session struct {
	SessionID    string `json:"sessionId"`
	Capabilities struct {
		BrowserName         string `json:"browserName"`
		BrowserVersion      string `json:"browserVersion"`
		AcceptInsecureCerts bool   `json:"acceptInsecureCerts"`
		UserAgent           string `json:"userAgent"`
	} `json:"capabilities"`
}

// NewSession starts the BiDi session (one per browser).
func (c *Conn) NewSession(ctx context.Context, caps Capabilities) (*Session, error) {
	var s Session
	params := map[string]any{"capabilities": map[string]any{"alwaysMatch": caps}}
	if err := c.Call(ctx, "session.new", params, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Subscribe subscribes to events (e.g. "network.fetchError"), in every
// browsing context, or only in contexts when given. It returns the
// subscription's id.
func (c *Conn) Subscribe(ctx context.Context, events []string, contexts ...string) (string, error) {
	params := map[string]any{"events": events}
	if len(contexts) > 0 {
		params["contexts"] = contexts
	}
	var r struct {
		Subscription string `json:"subscription"`
	}
	if err := c.Call(ctx, "session.subscribe", params, &r); err != nil {
		return "", err
	}
	return r.Subscription, nil
}

// Unsubscribe removes subscriptions by id.
func (c *Conn) Unsubscribe(ctx context.Context, ids ...string) error {
	return c.Call(ctx, "session.unsubscribe", map[string]any{"subscriptions": ids}, nil)
}

// CreateUserContext makes a user context: a partition of its own (cookies,
// storage, TLS session cache, connections).
func (c *Conn) CreateUserContext(ctx context.Context) (string, error) {
	var r struct {
		UserContext string `json:"userContext"`
	}
	if err := c.Call(ctx, "browser.createUserContext", nil, &r); err != nil {
		return "", err
	}
	return r.UserContext, nil
}

// RemoveUserContext closes a user context and every tab in it.
func (c *Conn) RemoveUserContext(ctx context.Context, userContext string) error {
	return c.Call(ctx, "browser.removeUserContext", map[string]any{"userContext": userContext}, nil)
}

// CreateTab opens a tab in userContext ("" for the default one) and returns
// its browsing context id.
func (c *Conn) CreateTab(ctx context.Context, userContext string) (string, error) {
	params := map[string]any{"type": "tab"}
	if userContext != "" {
		params["userContext"] = userContext
	}
	var r struct {
		Context string `json:"context"`
	}
	if err := c.Call(ctx, "browsingContext.create", params, &r); err != nil {
		return "", err
	}
	return r.Context, nil
}

// CloseContext closes a browsing context.
func (c *Conn) CloseContext(ctx context.Context, context string) error {
	return c.Call(ctx, "browsingContext.close", map[string]any{"context": context}, nil)
}

// Navigation is browsingContext.navigate's result.
type Navigation struct {
	Navigation string `json:"navigation"`
	URL        string `json:"url"`
}

// Navigate loads url in context and waits until the document is complete.
func (c *Conn) Navigate(ctx context.Context, context, url string) (*Navigation, error) {
	var r Navigation
	params := map[string]any{"context": context, "url": url, "wait": "complete"}
	if err := c.Call(ctx, "browsingContext.navigate", params, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// RemoteValue is a serialized script value; Value is raw JSON (a string for
// type "string", a number, …; objects and arrays come as lists of
// RemoteValues and key/value pairs).
type RemoteValue struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value,omitempty"`
}

// String returns a "string" RemoteValue's value.
func (v RemoteValue) String() (string, error) {
	if v.Type != "string" {
		return "", fmt.Errorf("bidi: remote value of type %q, not string", v.Type)
	}
	var s string
	err := json.Unmarshal(v.Value, &s)
	return s, err
}

// ExceptionError is a script that threw (or a promise that rejected).
type ExceptionError struct {
	Text string
}

func (e *ExceptionError) Error() string { return "bidi: script threw: " + e.Text }

type scriptResult struct {
	Type             string      `json:"type"`
	Result           RemoteValue `json:"result"`
	ExceptionDetails struct {
		Text string `json:"text"`
	} `json:"exceptionDetails"`
}

func (r scriptResult) value() (RemoteValue, error) {
	if r.Type == "exception" {
		return RemoteValue{}, &ExceptionError{Text: r.ExceptionDetails.Text}
	}
	return r.Result, nil
}

// Evaluate runs expression in context's page, awaiting a promise it
// returns. A script that throws is an *ExceptionError.
func (c *Conn) Evaluate(ctx context.Context, context, expression string) (RemoteValue, error) {
	params := map[string]any{
		"expression": expression, "target": map[string]any{"context": context},
		"awaitPromise": true, "resultOwnership": "none",
	}
	var r scriptResult
	if err := c.Call(ctx, "script.evaluate", params, &r); err != nil {
		return RemoteValue{}, err
	}
	return r.value()
}

// StringArg is a string argument for CallFunction.
func StringArg(s string) any { return map[string]any{"type": "string", "value": s} }

// CallFunction calls functionDeclaration ("(a, b) => …") with args (local
// values such as StringArg) in context's page, awaiting a promise it
// returns. A function that throws is an *ExceptionError.
func (c *Conn) CallFunction(ctx context.Context, context, functionDeclaration string, args ...any) (RemoteValue, error) {
	if args == nil {
		args = []any{}
	}
	params := map[string]any{
		"functionDeclaration": functionDeclaration, "arguments": args,
		"target": map[string]any{"context": context}, "awaitPromise": true, "resultOwnership": "none",
	}
	var r scriptResult
	if err := c.Call(ctx, "script.callFunction", params, &r); err != nil {
		return RemoteValue{}, err
	}
	return r.value()
}

// CloseBrowser asks the browser to close (browser.close). The connection
// ends with it.
func (c *Conn) CloseBrowser(ctx context.Context) error {
	return c.Call(ctx, "browser.close", nil, nil)
}
