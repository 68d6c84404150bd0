package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"math/big"
)

// captureCertificates reads the certificate list a server sends without
// depending on Go's TLS client accepting it: a TLS 1.2 handshake (whose
// Certificate message is not encrypted) is recorded, and the message is
// taken from the records whatever Go then made of it. It returns nil when
// the server does not speak TLS 1.2 or sent no Certificate message. cfg is
// the offer (at most TLS 1.2, whose Certificate message is in the clear).
func (p prober) captureCertificates(ctx context.Context, cfg *tls.Config) [][]byte {
	raw, err := p.dial(ctx)
	if err != nil {
		return nil
	}
	defer raw.Close()
	if d, ok := ctx.Deadline(); ok {
		raw.SetDeadline(d)
	}
	rec := &recorder{Conn: raw, keepAll: true}
	cfg = cfg.Clone()
	cfg.ServerName = p.sni
	cfg.InsecureSkipVerify = true // nothing is trusted here: the bytes are what is wanted
	tls.Client(rec, cfg).HandshakeContext(ctx)
	return certificatesFromRecords(rec.all)
}

// certificatesFromRecords finds the first Certificate handshake message
// (RFC 5246 7.4.2) in plaintext TLS records and splits its list.
func certificatesFromRecords(b []byte) [][]byte {
	var hs []byte
	for len(b) >= 5 {
		n := int(b[3])<<8 | int(b[4])
		if len(b) < 5+n {
			break
		}
		if b[0] == 22 { // handshake
			hs = append(hs, b[5:5+n]...)
		}
		b = b[5+n:]
	}
	for len(hs) >= 4 {
		typ, n := hs[0], int(hs[1])<<16|int(hs[2])<<8|int(hs[3])
		if len(hs) < 4+n {
			return nil
		}
		body := hs[4 : 4+n]
		hs = hs[4+n:]
		if typ != 11 { // certificate
			continue
		}
		if len(body) < 3 {
			return nil
		}
		list := body[3:]
		var out [][]byte
		for len(list) >= 3 && len(out) < maxServed {
			l := int(list[0])<<16 | int(list[1])<<8 | int(list[2])
			if len(list) < 3+l {
				break
			}
			out = append(out, list[3:3+l])
			list = list[3+l:]
		}
		return out
	}
	return nil
}

// parseCertificate parses DER as Chrome's parser would accept it. Chrome
// takes a negative serial number with a warning (measured: a chain with one
// is judged on its signature and names); Go refuses it. So a negative
// serial is read as positive, and the original bytes are put back so that
// signatures, fingerprints and trust are checked on what was sent.
func parseCertificate(der []byte) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(der)
	if err == nil {
		return c, nil
	}
	tbs, at := serialOffset(der)
	if at < 0 || der[at]&0x80 == 0 {
		return nil, err
	}
	patched := append([]byte(nil), der...)
	patched[at] &^= 0x80
	c, perr := x509.ParseCertificate(patched)
	if perr != nil {
		return nil, err
	}
	c.Raw, c.RawTBSCertificate = der, tbs
	c.SerialNumber = new(big.Int).Sub(c.SerialNumber, new(big.Int).Lsh(big.NewInt(1), uint(8*serialLen(der, at)-1)))
	return c, nil
}

// serialOffset walks Certificate -> TBSCertificate -> [0] version ->
// serialNumber and returns the TBS bytes and the offset of the serial's
// first content byte, or -1.
func serialOffset(der []byte) ([]byte, int) {
	_, certBody, certHdr, ok := tlv(der)
	if !ok {
		return nil, -1
	}
	tag, tbsBody, tbsHdr, ok := tlv(certBody)
	if !ok || tag != 0x30 {
		return nil, -1
	}
	tbs := certBody[:tbsHdr+len(tbsBody)]
	off := certHdr + tbsHdr
	rest := tbsBody
	if tag, v, h, ok := tlv(rest); ok && tag == 0xa0 {
		off += h + len(v)
		rest = rest[h+len(v):]
	}
	tag, v, h, ok := tlv(rest)
	if !ok || tag != 0x02 || len(v) == 0 {
		return nil, -1
	}
	return tbs, off + h
}

func serialLen(der []byte, at int) int {
	n := 0
	// The length byte(s) precede at; serials are short (short form).
	if at >= 1 {
		n = int(der[at-1])
	}
	return n
}

// tlv reads one DER tag-length-value: tag, value, header length.
func tlv(b []byte) (byte, []byte, int, bool) {
	if len(b) < 2 {
		return 0, nil, 0, false
	}
	tag, l, h := b[0], int(b[1]), 2
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return 0, nil, 0, false
		}
		l = 0
		for _, x := range b[2 : 2+k] {
			l = l<<8 | int(x)
		}
		h += k
	}
	if len(b) < h+l {
		return 0, nil, 0, false
	}
	return tag, b[h : h+l], h, true
}
