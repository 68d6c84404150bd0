package doctor

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
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
	// Err: the exchange itself failed (closed, timed out, not HTTP).
	Err string `json:"error,omitempty"`
}

// wsKeyGUID is RFC 6455's magic string.
const wsKeyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// upgrade sends a browser-like upgrade request on conn and judges the
// response with Chrome's rules (net/websockets/websocket_basic_handshake_stream.cc).
func upgrade(conn net.Conn, t Target, origin string, protos []string, cookie string, timeout time.Duration) Handshake {
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
	if cookie = strings.Map(noCRLF, cookie); cookie != "" {
		fmt.Fprintf(&b, "Cookie: %s\r\n", cookie)
	}
	b.WriteString("\r\n")
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, b.String()); err != nil {
		h.Err = "sending the upgrade request: " + err.Error()
		return h
	}
	resp, err := http.ReadResponse(bufio.NewReader(io.LimitReader(conn, 64<<10)), nil)
	if err != nil {
		h.Err = "reading the upgrade response: " + describeReadErr(err)
		return h
	}
	resp.Body.Close()
	h.Status = resp.StatusCode
	h.Subprotocol = resp.Header.Get("Sec-WebSocket-Protocol")
	h.ChromeError = judgeUpgrade(resp, key, protos)
	return h
}

func describeReadErr(err error) string {
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "the server did not answer in time"
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return "the server closed the connection without an HTTP response"
	}
	return clip(err.Error())
}

// judgeUpgrade returns Chrome's error text for an upgrade response, in the
// order Chrome checks: status, Upgrade, Connection, Sec-WebSocket-Accept,
// subprotocol, extensions. Texts measured or taken from Chromium.
func judgeUpgrade(resp *http.Response, key string, protos []string) string {
	switch resp.StatusCode {
	case http.StatusSwitchingProtocols:
	case http.StatusUnauthorized, http.StatusProxyAuthRequired:
		// Measured: Chrome reports this without the usual prefix.
		return "HTTP Authentication failed; no valid credentials available"
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

// noCRLF drops line breaks from a header value a user typed.
func noCRLF(r rune) rune {
	if r == '\r' || r == '\n' {
		return -1
	}
	return r
}
