package bidi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fake is a BiDi remote end: handle answers each command (nil: no answer).
type fake struct {
	t      *testing.T
	handle func(conn *websocket.Conn, cmd command) any
	mu     sync.Mutex
	conns  []*websocket.Conn
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") != "" {
		http.Error(w, "no Origin expected", http.StatusForbidden)
		return
	}
	conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.conns = append(f.conns, conn)
	f.mu.Unlock()
	var wmu sync.Mutex
	for {
		var raw struct {
			ID     int64           `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if err := conn.ReadJSON(&raw); err != nil {
			return
		}
		go func() {
			reply := f.handle(conn, command{ID: raw.ID, Method: raw.Method, Params: raw.Params})
			if reply != nil {
				wmu.Lock()
				conn.WriteJSON(reply)
				wmu.Unlock()
			}
		}()
	}
}

func start(t *testing.T, handle func(*websocket.Conn, command) any) *Conn {
	t.Helper()
	f := &fake{t: t, handle: handle}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	c, err := Dial(t.Context(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/session")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func success(id int64, result any) map[string]any {
	return map[string]any{"type": "success", "id": id, "result": result}
}

func TestCallMatchesRepliesByID(t *testing.T) {
	// Replies come back in reverse order of the commands; each call gets its own.
	c := start(t, func(_ *websocket.Conn, cmd command) any {
		var p struct{ N int }
		json.Unmarshal(cmd.Params.(json.RawMessage), &p)
		time.Sleep(time.Duration(10-p.N) * 5 * time.Millisecond)
		return success(cmd.ID, map[string]any{"n": p.N, "method": cmd.Method})
	})
	var wg sync.WaitGroup
	for n := range 10 {
		wg.Go(func() {
			var r struct {
				N      int
				Method string
			}
			if err := c.Call(t.Context(), "test.echo", map[string]int{"N": n}, &r); err != nil {
				t.Error(err)
			}
			if r.N != n || r.Method != "test.echo" {
				t.Errorf("call %d got %+v", n, r)
			}
		})
	}
	wg.Wait()
}

func TestErrorReplyIsTyped(t *testing.T) {
	c := start(t, func(_ *websocket.Conn, cmd command) any {
		return map[string]any{"type": "error", "id": cmd.ID, "error": "no such frame", "message": "Browsing context with id 42 not found", "stacktrace": "x@y:1"}
	})
	_, err := c.Navigate(t.Context(), "42", "https://example.test/")
	var e *Error
	if !errors.As(err, &e) || e.Code != "no such frame" || e.Method != "browsingContext.navigate" || !strings.Contains(e.Message, "42") {
		t.Fatalf("got %#v", err)
	}
}

func TestSessionNewSendsAcceptInsecureCertsFalse(t *testing.T) {
	var got json.RawMessage
	c := start(t, func(_ *websocket.Conn, cmd command) any {
		got = cmd.Params.(json.RawMessage)
		return success(cmd.ID, map[string]any{"sessionId": "s1", "capabilities": map[string]any{"browserName": "firefox", "browserVersion": "153.8.0", "acceptInsecureCerts": false}})
	})
	s, err := c.NewSession(t.Context(), Capabilities{})
	if err != nil {
		t.Fatal(err)
	}
	if s.SessionID != "s1" || s.Capabilities.BrowserVersion != "153.8.0" {
		t.Errorf("session %+v", s)
	}
	if !strings.Contains(string(got), `"acceptInsecureCerts":false`) {
		t.Errorf("session.new params %s: acceptInsecureCerts must be sent, false", got)
	}
}

func TestContextCancelsWait(t *testing.T) {
	c := start(t, func(*websocket.Conn, command) any { return nil }) // never answers
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Call(ctx, "test.hang", nil, nil) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	c.mu.Lock()
	n := len(c.pending)
	c.mu.Unlock()
	if n != 0 {
		t.Errorf("%d calls still pending after cancel", n)
	}
}

func TestCloseFailsPendingCalls(t *testing.T) {
	c := start(t, func(*websocket.Conn, command) any { return nil })
	done := make(chan error, 1)
	go func() { done <- c.Call(context.Background(), "test.hang", nil, nil) }()
	// Wait until the call is registered, then close.
	for {
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
	if err := c.Call(t.Context(), "test.after", nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after close: %v", err)
	}
}

// A listener that blocks holds up neither replies nor other listeners, and
// still gets every event, in order.
func TestSlowListenerBlocksNothing(t *testing.T) {
	const events = 500
	c := start(t, func(conn *websocket.Conn, cmd command) any {
		if cmd.Method == "test.flood" {
			for i := range events {
				conn.WriteJSON(map[string]any{"type": "event", "method": "log.entryAdded", "params": map[string]any{"text": "e", "timestamp": i}})
			}
		}
		return success(cmd.ID, map[string]any{})
	})
	release := make(chan struct{})
	var slow []float64
	var mu sync.Mutex
	stopSlow := c.Listen(func(ev Event) {
		<-release
		var e LogEntry
		ev.Decode(&e)
		mu.Lock()
		slow = append(slow, e.Timestamp)
		mu.Unlock()
	})
	fast := make(chan Event, events)
	stopFast := c.Listen(func(ev Event) { fast <- ev })
	defer stopFast()
	if err := c.Call(t.Context(), "test.flood", nil, nil); err != nil {
		t.Fatal(err)
	}
	// Replies still flow while the slow listener is stuck.
	if err := c.Call(t.Context(), "test.ping", nil, nil); err != nil {
		t.Fatal(err)
	}
	for range events {
		<-fast
	}
	close(release)
	// Stop delivers what was queued before the listener stops... eventually;
	// wait until all arrived, then stop.
	for {
		mu.Lock()
		n := len(slow)
		mu.Unlock()
		if n == events {
			break
		}
		time.Sleep(time.Millisecond)
	}
	stopSlow()
	for i, ts := range slow {
		if int(ts) != i {
			t.Fatalf("event %d out of order: %v", i, ts)
		}
	}
}

func TestScriptException(t *testing.T) {
	c := start(t, func(_ *websocket.Conn, cmd command) any {
		return success(cmd.ID, map[string]any{"type": "exception", "realm": "r", "exceptionDetails": map[string]any{"text": "ReferenceError: nope is not defined"}})
	})
	_, err := c.Evaluate(t.Context(), "ctx", "nope()")
	var e *ExceptionError
	if !errors.As(err, &e) || !strings.Contains(e.Text, "ReferenceError") {
		t.Fatalf("got %v", err)
	}
}

func TestNetworkEventDecode(t *testing.T) {
	raw := `{"context":"c1","navigation":null,"redirectCount":0,"request":{"request":"7","url":"https://h.test:1/","method":"GET","headers":[{"name":"Sec-Fetch-Mode","value":{"type":"string","value":"websocket"}}]},"timestamp":1,"errorText":"NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, SEC_ERROR_UNKNOWN_ISSUER)"}`
	var n NetworkEvent
	if err := (Event{Method: FetchError, Params: json.RawMessage(raw)}).Decode(&n); err != nil {
		t.Fatal(err)
	}
	if n.Context != "c1" || n.Request.Request != "7" || n.Request.Header("sec-fetch-mode") != "websocket" || !strings.Contains(n.ErrorText, "UNKNOWN_ISSUER") {
		t.Errorf("%+v", n)
	}
}
