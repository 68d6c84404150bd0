package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/wsslab/wsslab/fixtures"
)

// BrowserConfig configures StartBrowser.
type BrowserConfig struct {
	// Roots are trusted through a throwaway NSS database; nothing else is.
	Roots []*x509.Certificate
	// PageHost and PageCert serve the page over HTTPS (so mixed content
	// rules apply, as for a real deployed app). PageCert must chain to Roots.
	PageHost string
	PageCert tls.Certificate
	// ResolverRules map scenario names to loopback, so SNI and name checks
	// see the real name while traffic stays on 127.0.0.1. Default:
	// "MAP *.wsslab.test 127.0.0.1".
	ResolverRules string
	// Timeout bounds one dial (default 10s).
	Timeout time.Duration
	// TempDir is where the throwaway HOME and profile go (default os.TempDir).
	TempDir string
	// Screenshots makes every Dial capture the page as the browser rendered
	// it after the dial (Observation.Screenshot, PNG), for reports.
	Screenshots bool
}

// Browser is one headless Chromium process. Each Dial runs in its own
// browser context (a fresh profile-like partition: no shared sockets, TLS
// sessions, cookies or cache), so scenarios cannot influence each other.
type Browser struct {
	cfg      BrowserConfig
	dir      string
	ctx      context.Context
	cancel   context.CancelFunc
	page     *http.Server
	pageURL  string
	version  string
	closeErr sync.Once
}

// StartBrowser starts Chromium. The caller must Close it; on error nothing is
// left running and the temp dir is removed.
func StartBrowser(ctx context.Context, cfg BrowserConfig) (_ *Browser, err error) {
	if err := CheckBrowserTools(); err != nil {
		return nil, err
	}
	exe, _ := FindChromium()
	if cfg.ResolverRules == "" {
		cfg.ResolverRules = "MAP *.wsslab.test 127.0.0.1"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.PageHost == "" {
		cfg.PageHost = "app.wsslab.test"
	}
	dir, err := os.MkdirTemp(cfg.TempDir, "wsslab-browser-")
	if err != nil {
		return nil, fmt.Errorf("harness: browser temp dir: %w", err)
	}
	b := &Browser{cfg: cfg, dir: dir}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	home, err := NewTrustHome(dir, cfg.Roots)
	if err != nil {
		return nil, err
	}
	if err := b.startPage(); err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(dir+"/profile"),
		chromedp.DisableGPU,
		// HOME points Chromium at the throwaway NSS database.
		chromedp.Env("HOME="+home),
		chromedp.Flag("host-resolver-rules", cfg.ResolverRules),
		// QUIC would bypass nothing here but adds noise; keep plain TCP+TLS.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-proxy-server", true),
	)
	if os.Geteuid() == 0 {
		// Chromium's sandbox cannot run as root; this does not touch TLS.
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(allocCtx)
	b.ctx = bctx
	b.cancel = func() { cancelB(); cancelAlloc() }
	startCtx, cancelStart := context.WithTimeout(ctx, 30*time.Second)
	defer cancelStart()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	select {
	case err := <-started:
		if err != nil {
			return nil, fmt.Errorf("harness: start chromium (%s): %w", exe, err)
		}
	case <-startCtx.Done():
		return nil, fmt.Errorf("harness: start chromium (%s): %w", exe, startCtx.Err())
	}
	v, err := chromedp.CallBrowser(bctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		return nil, fmt.Errorf("harness: chromium version: %w", err)
	}
	b.version = v.Product
	return b, nil
}

func (b *Browser) startPage() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("harness: page server: %w", err)
	}
	b.page = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Write(fixtures.Page)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          discardLogger(),
	}
	tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{b.cfg.PageCert}, NextProtos: []string{"http/1.1"}})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	b.pageURL = "https://" + net.JoinHostPort(b.cfg.PageHost, port) + "/"
	go b.page.Serve(tlsLn)
	return nil
}

// Version is the browser's product string, e.g. "Chrome/156.0.8078.79".
func (b *Browser) Version() string { return b.version }

// PageURL is the page's URL; its origin is the Origin the browser sends.
func (b *Browser) PageURL() string { return b.pageURL }

// Name implements Client.
func (b *Browser) Name() string { return BrowserClient }

// Close stops Chromium and the page server and removes the temp dir.
func (b *Browser) Close() {
	b.closeErr.Do(func() {
		if b.cancel != nil {
			b.cancel()
		}
		if b.page != nil {
			b.page.Close()
		}
		removeSingletonDir(filepath.Join(b.dir, "profile"))
		os.RemoveAll(b.dir)
	})
}

// removeSingletonDir removes the $TMPDIR/org.chromium.Chromium.XXXXXX
// directory that holds Chromium's singleton socket; the profile's
// SingletonSocket symlink points into it. A stopped (killed) Chromium leaves
// it behind. Moving TMPDIR into the browser's dir instead breaks Chromium
// when the path is long: a unix socket path is limited to 108 bytes.
func removeSingletonDir(profile string) {
	target, err := os.Readlink(filepath.Join(profile, "SingletonSocket"))
	if err != nil {
		return
	}
	if dir := filepath.Dir(target); strings.HasPrefix(filepath.Base(dir), "org.chromium.") {
		os.RemoveAll(dir)
	}
}

// pageResult is what the page's wsslabDial resolves with.
type pageResult struct {
	Opened      bool    `json:"opened"`
	Error       bool    `json:"error"`
	Echo        *string `json:"echo"`
	CloseCode   int     `json:"closeCode"`
	CloseReason string  `json:"closeReason"`
	Protocol    string  `json:"protocol"`
	Thrown      string  `json:"thrown"`
	TimedOut    bool    `json:"timedOut"`
}

// devtools collects the events that carry the reason the page never sees.
// Its listener runs inside chromedp's read loop, so it only appends.
type devtools struct {
	mu       sync.Mutex
	created  bool
	frameErr []string
	console  []string
	closed   chan struct{}
	once     sync.Once
	evidence []string
}

func (d *devtools) on(ev any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventWebSocketCreated:
		d.created = true
		d.evidence = append(d.evidence, "Network.webSocketCreated "+ev.URL)
	case *network.EventWebSocketHandshakeResponseReceived:
		if ev.Response != nil {
			d.evidence = append(d.evidence, fmt.Sprintf("Network.webSocketHandshakeResponseReceived %d %s", ev.Response.Status, ev.Response.StatusText))
		}
	case *network.EventWebSocketFrameError:
		d.frameErr = append(d.frameErr, ev.ErrorMessage)
		d.evidence = append(d.evidence, "Network.webSocketFrameError "+ev.ErrorMessage)
	case *network.EventWebSocketClosed:
		d.evidence = append(d.evidence, "Network.webSocketClosed")
		d.once.Do(func() { close(d.closed) })
	case *cdplog.EventEntryAdded:
		if e := ev.Entry; e != nil {
			d.console = append(d.console, e.Text)
			d.evidence = append(d.evidence, fmt.Sprintf("Log.entryAdded [%s/%s] %s", e.Source, e.Level, e.Text))
		}
	}
}

// Dial implements Client: a fresh browser context and tab load the page over
// HTTPS, which opens new WebSocket(t.URL), sends t.Message and reports back.
func (b *Browser) Dial(ctx context.Context, t Target) Observation {
	start := time.Now()
	obs := Observation{Client: BrowserClient, URL: t.URL}
	defer func() { obs.Duration = time.Since(start) }()
	tabCtx, cancelTab := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout+5*time.Second)
	defer cancel()
	// Tie the tab to the caller's context without binding the browser to it.
	stop := context.AfterFunc(ctx, cancelTab)
	defer stop()

	dt := &devtools{closed: make(chan struct{})}
	res, err := b.runPage(tabCtx, dt, t)
	if err != nil {
		obs.Outcome, obs.Err = Failed, "browser: "+err.Error()
		return obs
	}
	if dt.isCreated() && !res.TimedOut {
		// Read what DevTools captured only after the socket is closed.
		select {
		case <-dt.closed:
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
		}
	}
	b.classify(&obs, res, dt, t)
	if b.cfg.Screenshots {
		// The page has already shown its final status: wsslabDial resolves
		// only after close (or a throw, or its timeout). The body is the
		// page's content, without the empty rest of the viewport.
		if png, err := chromedp.Run(tabCtx, chromedp.Screenshot(chromedp.CSS("body"))); err == nil {
			obs.Screenshot = png
		} else {
			obs.Evidence = append(obs.Evidence, "screenshot: "+err.Error())
		}
	}
	return obs
}

func (d *devtools) isCreated() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.created
}

func (b *Browser) runPage(tabCtx context.Context, dt *devtools, t Target) (pageResult, error) {
	var res pageResult
	if err := chromedp.Listen(tabCtx, dt.on); err != nil {
		return res, fmt.Errorf("open tab: %w", err)
	}
	if _, err := chromedp.Call(tabCtx, network.Enable, network.EnableParams{}); err != nil {
		return res, fmt.Errorf("Network.enable: %w", err)
	}
	if _, err := chromedp.Call(tabCtx, cdplog.Enable, cdp.Empty{}); err != nil {
		return res, fmt.Errorf("Log.enable: %w", err)
	}
	if err := chromedp.Do(tabCtx, chromedp.Navigate(b.pageURL)); err != nil {
		return res, fmt.Errorf("load page %s: %w", b.pageURL, err)
	}
	args, err := json.Marshal([]any{t.URL, t.Subprotocols, t.Message, b.cfg.Timeout.Milliseconds()})
	if err != nil {
		return res, err
	}
	js := "wsslabDial(..." + string(args) + ")"
	res, err = chromedp.Run(tabCtx, chromedp.Evaluate[pageResult](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return res, fmt.Errorf("run page script: %w", err)
	}
	return res, nil
}

func (b *Browser) classify(obs *Observation, res pageResult, dt *devtools, t Target) {
	dt.mu.Lock()
	defer dt.mu.Unlock()
	obs.Evidence = append(obs.Evidence, dt.evidence...)
	obs.Evidence = append(obs.Evidence, fmt.Sprintf("page: opened=%v error=%v close=%d thrown=%q", res.Opened, res.Error, res.CloseCode, res.Thrown))
	obs.CloseCode = res.CloseCode
	obs.Subprotocol = res.Protocol
	if res.Echo != nil {
		obs.Echo = *res.Echo
	}
	// The console line as DevTools shows it, the closest thing to what a
	// developer sees in the Console tab.
	for _, line := range dt.console {
		if strings.Contains(line, "WebSocket") || strings.Contains(line, "Mixed Content") {
			obs.Err = line
			break
		}
	}
	switch {
	case len(dt.frameErr) > 0:
		obs.NetError = BrowserReason(dt.frameErr[0])
		obs.Outcome = ClassifyNetError(dt.frameErr[0])
	case res.Thrown != "":
		obs.Outcome = ClassifyNetError(strings.Join(append(dt.console, res.Thrown), "\n"))
		if obs.Err == "" {
			obs.Err = res.Thrown
		}
	case res.Opened && res.Echo != nil && *res.Echo == t.Message:
		obs.Outcome = Connected
	case res.Opened:
		obs.Outcome = NoEcho
	case obs.Err != "":
		obs.NetError = BrowserReason(obs.Err)
		obs.Outcome = ClassifyNetError(obs.Err)
	case res.TimedOut:
		obs.Outcome = Unreachable
	default:
		obs.Outcome = Failed
	}
}
