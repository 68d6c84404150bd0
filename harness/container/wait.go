package container

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/testcontainers/testcontainers-go/wait"
)

// tlsAnswers waits until a TLS handshake completes on a published port:
// the server inside listens and speaks TLS. It is the harness's own probe,
// not a client under test, so it does not verify the certificate (the
// clients do).
type tlsAnswers struct {
	port string
}

func (w tlsAnswers) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	var last error
	for {
		if st, err := target.State(ctx); err == nil && !st.Running {
			return fmt.Errorf("container exited with code %d before %s answered TLS (last: %v)", st.ExitCode, w.port, last)
		}
		p, err := target.MappedPort(ctx, w.port)
		if err == nil {
			last = tlsProbe(ctx, net.JoinHostPort("127.0.0.1", p.Port()))
			if last == nil {
				return nil
			}
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never answered TLS: %w (last: %v)", w.port, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func tlsProbe(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}
