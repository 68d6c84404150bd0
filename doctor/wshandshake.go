package doctor

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/wsslab/wsslab/chromenet"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Handshake is one WebSocket upgrade attempt as doctor saw it.
type Handshake struct {
	Origin       string   `json:"origin,omitempty"`
	Subprotocols []string `json:"subprotocols,omitempty"`
	Status       int      `json:"status,omitempty"`
	// Subprotocol the server selected.
	Subprotocol string `json:"subprotocol,omitempty"`
	// ChromeError is the text Chrome would report for this response
	// (DevTools shows it after "Error during WebSocket handshake: "), ""
	// when Chrome would accept it.
	ChromeError string `json:"chrome_error,omitempty"`
	// Err: doctor got no answer (timed out, interrupted).
	Err string `json:"error,omitempty"`
	// First is the start of what the server answered, made printable;
	// Received counts the bytes read.
	First    string `json:"first_bytes,omitempty"`
	Received int    `json:"received,omitempty"`
	// TLSPort: on ws://, the port also answers a TLS handshake.
	TLSPort bool `json:"tls_port,omitempty"`
}

// wsKeyGUID is RFC 6455's magic string.
const wsKeyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// maxResponseHeaders is Chrome's limit on the size of a response's headers
// (net/http/http_stream_parser.cc, kMaxHeaderBufSize): past it Chrome fails
// with net::ERR_RESPONSE_HEADERS_TOO_BIG (measured with 1 MiB of headers).
// doctor reads exactly as far, so its own limit never hides the answer.
const maxResponseHeaders = 256 << 10

// Chrome's texts for a response that is not a usable HTTP response, each
// measured with Chromium 156 against a server sending such bytes.
const (
	// Not HTTP at all (SSH banner, TLS alert, garbage, "hello\n"): Chrome
	// would take it for HTTP/0.9, which it refuses for WebSockets.
	errInvalidHTTP = "net::ERR_INVALID_HTTP_RESPONSE"
	// ws://: the connection closed in the middle of the headers.
	errClosedMidHeaders = "net::ERR_CONNECTION_CLOSED"
	// wss://: the same, over TLS (Chrome parses no partial headers there).
	errTruncated = "net::ERR_RESPONSE_HEADERS_TRUNCATED"
	errTooBig    = "net::ERR_RESPONSE_HEADERS_TOO_BIG"
	errReset     = "net::ERR_CONNECTION_RESET"
	// Closed without sending a byte: no net error, and no "Error during
	// WebSocket handshake" prefix on the console.
	errClosedNoResponse = "Connection closed before receiving a handshake response"
)

// upgrade sends a browser-like upgrade request on conn and judges the
// response with Chrome's rules (net/websockets/websocket_basic_handshake_stream.cc).
// overTLS says whether conn is a TLS connection (Chrome treats a response
// cut short differently there). Every read ends at ctx's deadline, or at once
// when ctx is cancelled.
func upgrade(ctx context.Context, conn net.Conn, t Target, origin string, protos []string, cookie string, overTLS bool) Handshake {
	h := Handshake{Origin: origin, Subprotocols: protos}
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n", t.Path, t.HostHeader())
	b.WriteString("User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 wsslab-doctor\r\n")
	b.WriteString("Upgrade: websocket\r\n")
	if origin != "" {
		fmt.Fprintf(&b, "Origin: %s\r\n", origin)
	}
	fmt.Fprintf(&b, "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n", key)
	b.WriteString("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")
	if len(protos) > 0 {
		fmt.Fprintf(&b, "Sec-WebSocket-Protocol: %s\r\n", strings.Join(protos, ", "))
	}
	if cookie != "" {
		fmt.Fprintf(&b, "Cookie: %s\r\n", cookie)
	}
	b.WriteString("\r\n")
	stop := bindDeadline(ctx, conn)
	defer stop()
	if _, err := io.WriteString(conn, b.String()); err != nil {
		h.Err = "sending the upgrade request: " + describeReadErr(ctx, err)
		return h
	}
	raw, verdict, err := readHeaders(conn, overTLS)
	h.First = printable(raw[:min(len(raw), 64)])
	h.Received = len(raw)
	if err != nil {
		h.Err = "reading the upgrade response: " + describeReadErr(ctx, err)
		return h
	}
	if verdict != "" {
		h.ChromeError = verdict
		return h
	}
	resp := parseResponse(raw)
	h.Status = resp.StatusCode
	h.Subprotocol = resp.Header.Get("Sec-WebSocket-Protocol")
	h.ChromeError = judgeUpgrade(resp, key, protos)
	return h
}

// bindDeadline makes conn's reads and writes end at ctx's deadline, and at
// once when ctx is cancelled (an interrupt). stop releases it.
func bindDeadline(ctx context.Context, conn net.Conn) (stop func()) {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	after := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return func() { after() }
}

// readHeaders reads the response's headers the way Chrome's HttpStreamParser
// does. It returns what was read (from the status line on, through the
// blank line) and, when Chrome would fail at this layer, its error text. err
// is set only when doctor got no answer: a timeout, an interrupt.
func readHeaders(conn net.Conn, overTLS bool) (raw []byte, chromeErr string, err error) {
	var buf []byte
	chunk := make([]byte, 4096)
	for {
		start := statusLineStart(buf)
		if start == notHTTP {
			return buf, errInvalidHTTP, nil
		}
		if start >= 0 {
			if end := headersEnd(buf[start:]); end >= 0 {
				return buf[start : start+end], "", nil
			}
		}
		if len(buf) > maxResponseHeaders {
			return buf, errTooBig, nil
		}
		n, rerr := conn.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if rerr == nil {
			continue
		}
		var ne net.Error
		switch {
		case errors.As(rerr, &ne) && ne.Timeout():
			return buf, "", rerr
		case errors.Is(rerr, syscall.ECONNRESET):
			return buf, errReset, nil
		case !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF):
			return buf, "", rerr
		}
		// The server closed the connection.
		switch {
		case len(buf) == 0:
			return buf, errClosedNoResponse, nil
		case overTLS:
			return buf, errTruncated, nil
		case statusLineStart(buf) < 0:
			return buf, errInvalidHTTP, nil
		}
		return buf, errClosedMidHeaders, nil
	}
}

const (
	needMore = -1
	notHTTP  = -2
)

// statusLineStart is HttpUtil::LocateStartOfStatusLine: "HTTP" (any case)
// at one of the first five offsets (at most 4 bytes of leading junk).
func statusLineStart(buf []byte) int {
	for i := 0; i <= 4; i++ {
		if len(buf)-i < 4 {
			return needMore
		}
		if strings.EqualFold(string(buf[i:i+4]), "http") {
			return i
		}
	}
	return notHTTP
}

// headersEnd is HttpUtil::LocateEndOfHeaders: the offset just past the
// blank line ("\n\n" or "\n\r\n"), or -1.
func headersEnd(buf []byte) int {
	for i := 0; i < len(buf); i++ {
		if buf[i] != '\n' {
			continue
		}
		if i+1 < len(buf) && buf[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(buf) && buf[i+1] == '\r' && buf[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}

// parseResponse reads a status line and header lines as leniently as
// Chrome's HttpResponseHeaders: a missing status code is 200, a line without
// a colon is skipped.
func parseResponse(raw []byte) *http.Response {
	lines := strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n")
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}
	if f := strings.Fields(lines[0]); len(f) > 1 {
		code := f[1]
		n := 0
		for n < len(code) && code[n] >= '0' && code[n] <= '9' {
			n++
		}
		if c, err := strconv.Atoi(code[:n]); err == nil {
			resp.StatusCode = c
		}
	}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok || strings.TrimSpace(name) == "" {
			continue
		}
		resp.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return resp
}

func describeReadErr(ctx context.Context, err error) string {
	if ctx.Err() == context.Canceled {
		return "interrupted"
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "the server did not answer in time"
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return "the server closed the connection without an HTTP response"
	}
	return clip(err.Error())
}

// printable shows bytes a server sent as one safe line.
func printable(b []byte) string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c > 0x7e {
			return '.'
		}
		return c
	}, string(b))
}

// judgeUpgrade returns Chrome's error text for an upgrade response, in the
// order Chrome checks: status, Upgrade, Connection, Sec-WebSocket-Accept,
// subprotocol, extensions. Texts measured or taken from Chromium.
func judgeUpgrade(resp *http.Response, key string, protos []string) string {
	switch resp.StatusCode {
	case http.StatusSwitchingProtocols:
	case http.StatusUnauthorized, http.StatusProxyAuthRequired:
		// Measured: Chrome reports this without the usual prefix.
		return chromenet.HTTPAuthFailed
	default:
		return fmt.Sprintf("Unexpected response code: %d", resp.StatusCode)
	}
	up := resp.Header.Values("Upgrade")
	switch {
	case len(up) == 0:
		return "'Upgrade' header is missing"
	case len(up) > 1:
		return "'Upgrade' header must not appear more than once in a response"
	case !strings.EqualFold(strings.TrimSpace(up[0]), "websocket"):
		return "'Upgrade' header value is not 'WebSocket': " + up[0]
	}
	conn := resp.Header.Values("Connection")
	if len(conn) == 0 {
		return "'Connection' header is missing"
	}
	if !headerHasToken(conn, "upgrade") {
		return "'Connection' header value must contain 'Upgrade'"
	}
	acc := resp.Header.Values("Sec-WebSocket-Accept")
	switch {
	case len(acc) == 0:
		return "'Sec-WebSocket-Accept' header is missing"
	case len(acc) > 1:
		return "'Sec-WebSocket-Accept' header must not appear more than once in a response"
	case acc[0] != acceptFor(key):
		return "Incorrect 'Sec-WebSocket-Accept' header value"
	}
	sp := resp.Header.Values("Sec-WebSocket-Protocol")
	switch {
	case len(sp) > 1:
		return "'Sec-WebSocket-Protocol' header must not appear more than once in a response"
	case len(sp) == 1 && len(protos) == 0:
		return "Response must not include 'Sec-WebSocket-Protocol' header if not present in request: " + sp[0]
	case len(sp) == 1 && !contains(protos, sp[0]):
		return "'Sec-WebSocket-Protocol' header value '" + sp[0] + "' in response does not match any of sent values"
	case len(sp) == 0 && len(protos) > 0:
		return "Sent non-empty 'Sec-WebSocket-Protocol' header but no response was received"
	}
	for _, e := range resp.Header.Values("Sec-WebSocket-Extensions") {
		for _, ext := range strings.Split(e, ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(ext), ";")
			if name = strings.TrimSpace(name); name != "" && name != "permessage-deflate" {
				return "Found an unsupported extension '" + name + "' in 'Sec-WebSocket-Extensions' header"
			}
		}
	}
	return ""
}

func acceptFor(key string) string {
	h := sha1.Sum([]byte(key + wsKeyGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

func headerHasToken(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ValidHeaderValue reports whether s can go in a request header as is: no
// control characters but tab (a CR or LF would start a header of its own).
func ValidHeaderValue(s string) bool {
	for _, c := range []byte(s) {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// ValidSubprotocol reports whether s is a token (RFC 7230), as the
// WebSocket constructor requires (it throws a SyntaxError otherwise).
func ValidSubprotocol(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= 0x20 || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}
