package harness

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPStatus is what an OCSPResponder says of every certificate it is asked
// about.
type OCSPStatus string

const (
	OCSPGood    OCSPStatus = "good"
	OCSPRevoked OCSPStatus = "revoked"
)

// OCSPResponder is an OCSP responder (RFC 6960) on a loopback port, signing
// for one issuer (the CA that issued the leaves that name its URL): the
// AIA responder of a CA, which a client may ask during the handshake.
type OCSPResponder struct {
	// URL is what a leaf's AIA extension names: http://HOST:PORT/.
	URL    string
	srv    *http.Server
	mu     sync.Mutex
	asked  int
	status OCSPStatus
}

// NewOCSPResponder starts a responder answering status for every serial,
// signed by issuer. host is the URL's host (mapped to 127.0.0.1 by the
// browsers, like every scenario host).
func NewOCSPResponder(host string, issuer *x509.Certificate, key crypto.Signer, status OCSPStatus) (*OCSPResponder, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("harness: ocsp responder: %w", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	o := &OCSPResponder{URL: "http://" + net.JoinHostPort(host, port) + "/", status: status}
	o.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var der []byte
		switch r.Method {
		case http.MethodPost:
			der, err = io.ReadAll(io.LimitReader(r.Body, 64<<10))
		default:
			http.Error(w, "POST an OCSP request", http.StatusMethodNotAllowed)
			return
		}
		req, err := ocsp.ParseRequest(der)
		if err != nil {
			http.Error(w, "bad OCSP request", http.StatusBadRequest)
			return
		}
		o.mu.Lock()
		o.asked++
		o.mu.Unlock()
		now := time.Now()
		tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour)}
		if status == OCSPRevoked {
			tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, now.Add(-2*time.Hour), ocsp.KeyCompromise
		}
		resp, err := ocsp.CreateResponse(issuer, issuer, tmpl, key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(resp)
	}), ReadHeaderTimeout: 5 * time.Second, ErrorLog: discardLogger()}
	go o.srv.Serve(ln)
	return o, nil
}

// Asked is how many OCSP requests the responder answered.
func (o *OCSPResponder) Asked() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.asked
}

// Status is what the responder answers.
func (o *OCSPResponder) Status() OCSPStatus { return o.status }

// Close stops the responder.
func (o *OCSPResponder) Close() { o.srv.Close() }

// String describes the responder for evidence lines.
func (o *OCSPResponder) String() string {
	return fmt.Sprintf("OCSP responder %s (%s): asked %d times", strings.TrimSuffix(o.URL, "/"), o.status, o.Asked())
}
