// Package bidi is a small WebDriver BiDi client (https://w3c.github.io/webdriver-bidi/)
// on gorilla/websocket: the few commands wsslab needs to drive Firefox's
// built-in BiDi server, typed. Commands carry ids and wait for their reply;
// an error reply is an *Error; events go to listeners through unbounded
// queues, so a slow listener never blocks the connection's read loop (and
// so never delays the replies other commands wait for).
package bidi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// Error is an error reply from the remote end: its error code ("no such
// frame", "invalid argument", "session not created", …) and message.
type Error struct {
	Method     string
	Code       string
	Message    string
	Stacktrace string
}

func (e *Error) Error() string {
	return fmt.Sprintf("bidi: %s: %s: %s", e.Method, e.Code, e.Message)
}

// ErrClosed is returned by commands on a connection that is closed (by
// Close or by the remote end).
var ErrClosed = errors.New("bidi: connection closed")

// Event is one event message: its method ("network.fetchError") and raw
// params (decode them into the event's type with Decode).
type Event struct {
	Method string
	Params json.RawMessage
}

// Decode unmarshals the event's params into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Params, v); err != nil {
		return fmt.Errorf("bidi: decode %s: %w", e.Method, err)
	}
	return nil
}

// message is any message from the remote end.
type message struct {
	Type       string          `json:"type"`
	ID         *int64          `json:"id"`
	Result     json.RawMessage `json:"result"`
	Error      string          `json:"error"`
	Message    string          `json:"message"`
	Stacktrace string          `json:"stacktrace"`
	Method     string          `json:"method"`
	Params     json.RawMessage `json:"params"`
}

type command struct {
	ID     int64  `json:"id"`
	Method string `json:"method"`
	Params any    `json:"params"`
}

type call struct {
	method string
	done   chan message
}

// Conn is one BiDi connection. Its methods may be called concurrently.
type Conn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex

	mu        sync.Mutex
	nextID    int64
	pending   map[int64]call
	listeners map[int]*listener
	nextL     int
	err       error // why the read loop stopped
	done      chan struct{}
}

// Dial connects to a BiDi endpoint (ws://127.0.0.1:PORT/session for a
// browser started with --remote-debugging-port). No Origin header is sent:
// Firefox refuses connections that carry one it does not allow.
func Dial(ctx context.Context, url string) (*Conn, error) {
	d := websocket.Dialer{}
	ws, resp, err := d.DialContext(ctx, url, http.Header{})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("bidi: dial %s: %w (HTTP %d)", url, err, resp.StatusCode)
		}
		return nil, fmt.Errorf("bidi: dial %s: %w", url, err)
	}
	// Events of a busy page can be large (headers, stack traces).
	ws.SetReadLimit(64 << 20)
	c := &Conn{ws: ws, pending: map[int64]call{}, listeners: map[int]*listener{}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *Conn) read() {
	var err error
	for {
		var m message
		if err = c.ws.ReadJSON(&m); err != nil {
			break
		}
		switch {
		case m.ID != nil && (m.Type == "success" || m.Type == "error" || m.Type == ""):
			c.mu.Lock()
			cl, ok := c.pending[*m.ID]
			delete(c.pending, *m.ID)
			c.mu.Unlock()
			if ok {
				cl.done <- m // buffered, never blocks
			}
		case m.Type == "event":
			ev := Event{Method: m.Method, Params: m.Params}
			c.mu.Lock()
			for _, l := range c.listeners {
				l.push(ev)
			}
			c.mu.Unlock()
		}
	}
	c.mu.Lock()
	c.err = err
	pending := c.pending
	c.pending = map[int64]call{}
	listeners := c.listeners
	c.listeners = map[int]*listener{}
	c.mu.Unlock()
	close(c.done)
	for _, l := range listeners {
		l.stop()
	}
	_ = pending // their Call sees done
}

// Done is closed when the connection is gone.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Call sends method with params and waits for its reply, decoding the
// result into result (unless nil). An error reply is an *Error. A
// cancelled ctx abandons the wait (the reply, if it comes, is dropped).
func (c *Conn) Call(ctx context.Context, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	c.mu.Lock()
	if c.isDone() {
		c.mu.Unlock()
		return ErrClosed
	}
	c.nextID++
	id := c.nextID
	cl := call{method: method, done: make(chan message, 1)}
	c.pending[id] = cl
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}

	c.writeMu.Lock()
	if dl, ok := ctx.Deadline(); ok {
		c.ws.SetWriteDeadline(dl)
	} else {
		c.ws.SetWriteDeadline(timeZero)
	}
	err := c.ws.WriteJSON(command{ID: id, Method: method, Params: params})
	c.writeMu.Unlock()
	if err != nil {
		forget()
		return fmt.Errorf("bidi: %s: %w", method, err)
	}
	select {
	case m := <-cl.done:
		if m.Type == "error" {
			return &Error{Method: method, Code: m.Error, Message: m.Message, Stacktrace: m.Stacktrace}
		}
		if result == nil || len(m.Result) == 0 {
			return nil
		}
		if err := json.Unmarshal(m.Result, result); err != nil {
			return fmt.Errorf("bidi: %s: decode result: %w", method, err)
		}
		return nil
	case <-c.done:
		return fmt.Errorf("bidi: %s: %w", method, ErrClosed)
	case <-ctx.Done():
		forget()
		return fmt.Errorf("bidi: %s: %w", method, ctx.Err())
	}
}

func (c *Conn) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Close closes the connection. Commands waiting for a reply return
// ErrClosed; listeners stop after delivering what they have queued.
func (c *Conn) Close() error {
	c.writeMu.Lock()
	c.ws.SetWriteDeadline(timeNow().Add(closeWait))
	c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c.writeMu.Unlock()
	err := c.ws.Close()
	<-c.done
	return err
}

// listener delivers events to fn, in order, on a goroutine of its own; push
// only appends to its queue.
type listener struct {
	fn      func(Event)
	mu      sync.Mutex
	queue   []Event
	wake    chan struct{}
	stopped bool
	exited  chan struct{}
}

func (l *listener) push(ev Event) {
	l.mu.Lock()
	if !l.stopped {
		l.queue = append(l.queue, ev)
	}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *listener) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *listener) run() {
	defer close(l.exited)
	for {
		l.mu.Lock()
		q := l.queue
		l.queue = nil
		stopped := l.stopped
		l.mu.Unlock()
		for _, ev := range q {
			l.fn(ev)
		}
		if stopped && len(q) == 0 {
			return
		}
		if len(q) == 0 {
			<-l.wake
		}
	}
}

// Listen calls fn with every event the connection receives from now on (of
// the methods subscribed to with Subscribe), in order, on a goroutine of its
// own: fn may take its time without holding up the connection. The returned
// function stops the listener; it returns once fn is no longer running.
func (c *Conn) Listen(fn func(Event)) (stop func()) {
	l := &listener{fn: fn, wake: make(chan struct{}, 1), exited: make(chan struct{})}
	c.mu.Lock()
	if c.isDone() {
		c.mu.Unlock()
		close(l.exited)
		return func() {}
	}
	c.nextL++
	key := c.nextL
	c.listeners[key] = l
	c.mu.Unlock()
	go l.run()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.listeners, key)
			c.mu.Unlock()
			l.stop()
			<-l.exited
		})
	}
}
