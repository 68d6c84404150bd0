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
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

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
	// PageOrigin, when set ("https://HOST" or "https://HOST:PORT"), is the
	// origin the page is loaded from instead of https://PageHost:PORT: a
	// resolver rule maps HOST:PORT to the page server, so the Origin
	// header Chrome sends is exactly this one. PageCert must be for HOST.
	PageOrigin string
	// ResolverRules map scenario names to loopback, so SNI and name checks
	// see the real name while traffic stays on 127.0.0.1. Default:
	// "MAP *.wsslab.test 127.0.0.1".
	ResolverRules string
	// Timeout bounds one dial (default 10s).
	Timeout time.Duration
	// Parallel is how many sockets a batch (DialAll) has connecting at
	// once (default 2). Chrome delays a renderer's new WebSocket
	// connections exponentially in the number pending, so more is slower.
	Parallel int
	// TempDir is where the throwaway HOME and profile go (default os.TempDir).
	TempDir string
	// Screenshots makes every dial capture its panel of the page as the
	// browser rendered it (Observation.Screenshot, PNG), for reports.
	Screenshots bool
}

// Browser is one headless Chromium process. Each Dial, and each DialAll
// batch, runs in its own browser context (a fresh profile-like partition: no
// shared sockets, TLS sessions, cookies or cache).
type Browser struct {
	cfg       BrowserConfig
	dir       string
	ctx       context.Context
	cancel    context.CancelFunc
	page      *http.Server
	pageURL   string
	pageRule  string // resolver rule for PageOrigin
	version   string
	closeOnce sync.Once
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
	if cfg.Parallel <= 0 {
		cfg.Parallel = 2
	}
	if cfg.PageHost == "" {
		cfg.PageHost = "app.wsslab.test"
	}
	// A run killed by -timeout or SIGKILL cannot clean up after itself; the
	// next run does.
	SweepStale(cfg.TempDir)
	dir, err := MkdirTemp(cfg.TempDir, "browser")
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
	if b.pageRule != "" {
		cfg.ResolverRules = b.pageRule + ", " + cfg.ResolverRules
	}
	opts := append(AllocatorOptions(exe, filepath.Join(dir, "profile")),
		// HOME points Chromium at the throwaway NSS database.
		chromedp.Env("HOME="+home),
		chromedp.Flag("host-resolver-rules", cfg.ResolverRules),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// chromedp logs protocol errors with the log package; a failed start is
	// reported once, as the returned error, instead.
	bctx, cancelB := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(string, ...any) {}))
	b.ctx = bctx
	b.cancel = func() { cancelB(); cancelAlloc() }
	startCtx, cancelStart := context.WithTimeout(ctx, 30*time.Second)
	defer cancelStart()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	select {
	case err := <-started:
		if err != nil {
			// Chromium's own output can span lines; the error is one line.
			return nil, fmt.Errorf("harness: start chromium (%s): %s", exe, oneLine(err.Error()))
		}
	case <-startCtx.Done():
		return nil, fmt.Errorf("harness: start chromium (%s): %w", exe, startCtx.Err())
	}
	if err := TrackBrowser(bctx, dir); err != nil {
		return nil, err
	}
	v, err := chromedp.CallBrowser(bctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		return nil, fmt.Errorf("harness: chromium version: %w", err)
	}
	b.version = v.Product
	return b, nil
}

func (b *Browser) startPage() error {
	page, url, err := ServePage(b.cfg.PageHost, b.cfg.PageCert)
	if err != nil {
		return err
	}
	b.page, b.pageURL = page, url
	if o := strings.TrimSuffix(b.cfg.PageOrigin, "/"); o != "" {
		// The page is served at the origin asked for: Chrome maps that
		// host:port to the page server, so the socket's Origin is it.
		_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/"))
		hostPort := strings.TrimPrefix(o, "https://")
		if _, _, err := net.SplitHostPort(hostPort); err != nil {
			hostPort += ":443"
		}
		b.pageURL = o + "/"
		b.pageRule = "MAP " + hostPort + " 127.0.0.1:" + port
	}
	return nil
}

// ServePage serves the browser clients' page (fixtures.Page) over HTTPS on
// a loopback port with cert, and returns the server and the page's URL on
// host (which the browser maps to 127.0.0.1). Every browser loads the same
// page, so each sends the same Origin.
func ServePage(host string, cert tls.Certificate) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("harness: page server: %w", err)
	}
	page := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == WarmPath {
				serveWarm(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Write(fixtures.Page)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          discardLogger(),
	}
	tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	go page.Serve(tlsLn)
	return page, "https://" + net.JoinHostPort(host, port) + "/", nil
}

// WarmPath is the page server's WebSocket endpoint that always connects.
// Chrome delays each new WebSocket of a renderer by
// rand(1,5) s × 2^min(pending + failed/(succeeded+1), 16) / 65536
// (services/network/websocket_throttler.cc), so a batch of mostly failing
// dials slows down exponentially: measured, 10 failing dials in a fresh
// context took 120–250 ms, and in a 100-case batch single dials waited up
// to 3 s. The page keeps failed/(succeeded+1) below 4 by opening a socket
// to WarmPath whenever it reaches 4; those sockets are left out of every
// observation. Only the delay changes: each target's socket, its events
// and the page's view of it are the same.
const WarmPath = "/wsslab-warm"

var (
	warmUpgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	// warmSockets counts the warm-up sockets served (for tests).
	warmSockets atomic.Int64
)

// serveWarm accepts the socket and holds it until the page closes it.
func serveWarm(w http.ResponseWriter, r *http.Request) {
	c, err := warmUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	warmSockets.Add(1)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

// Version is the browser's product string, e.g. "Chrome/156.0.8078.79".
func (b *Browser) Version() string { return b.version }

// PageURL is the page's URL; its origin is the Origin the browser sends.
func (b *Browser) PageURL() string { return b.pageURL }

// warmURL is the page server's WarmPath as the page dials it (and as Chrome
// names the socket in Network.webSocketCreated).
func (b *Browser) warmURL() string {
	return "wss://" + strings.TrimSuffix(strings.TrimPrefix(b.pageURL, "https://"), "/") + WarmPath
}

// Info implements Client. The reason is in Chrome's words: the net::ERR_…
// DevTools reports, or Chromium's WebSocket handshake error text.
func (b *Browser) Info() ClientInfo {
	info := ChromeInfo
	info.Version = b.version
	return info
}

// ChromeInfo is the Chrome client's declaration (Version is filled in by a
// running Browser).
var ChromeInfo = ClientInfo{ID: ChromeID, Name: "Chrome (headless Chromium)", Class: BrowserClass, Reasons: ChromeReasons}

// Close stops Chromium and the page server and removes the temp dir.
func (b *Browser) Close() {
	b.closeOnce.Do(func() {
		if b.cancel != nil {
			b.cancel()
		}
		if b.page != nil {
			b.page.Close()
		}
		// Chromium children (zygote, crashpad) can outlive the main process
		// for a moment and write into the profile while it is removed.
		KillTracked(b.dir)
		RemoveSingletonDir(filepath.Join(b.dir, "profile"))
		os.RemoveAll(b.dir)
	})
}

// ChromiumCycle is one bare Chromium start and quit: the browser with a
// fresh profile (in a temp dir under parent) up to its first DevTools
// answer, then closed. It is the unit wsslab states its costs in (the
// benchmarks' cycles metrics), measured on the same machine in the same run.
func ChromiumCycle(parent string) (time.Duration, error) {
	exe, err := FindChromium()
	if err != nil {
		return 0, err
	}
	dir, err := MkdirTemp(parent, "cycle")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), AllocatorOptions(exe, filepath.Join(dir, "profile"))...)
	ctx, cancel := chromedp.NewContext(actx)
	err = chromedp.Do(ctx)
	cancel()
	cancelAlloc()
	if err != nil {
		return 0, fmt.Errorf("harness: chromium cycle: %w", err)
	}
	return time.Since(start), nil
}

// AllocatorOptions are the Chromium flags every wsslab browser runs with:
// chromedp's defaults, headless, quiet on the closed network, plain TCP+TLS,
// no proxy from the environment, and no sandbox when root (Chromium's
// sandbox cannot run as root). None of them touches certificate checks.
//
// profile must be DIR/profile for a DIR made by MkdirTemp: HOME, the XDG
// dirs and (when its paths stay short enough for a unix socket) TMPDIR
// point inside DIR, so the browser writes nothing into the user's HOME,
// config or cache. The browser leads a process group of its own and dies
// with the thread that started it (Pdeathsig); TrackBrowser records the
// group in DIR so that only it is killed at cleanup.
func AllocatorOptions(exe, profile string) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.DisableGPU,
		// QUIC would bypass nothing here but adds noise; keep plain TCP+TLS.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
			cmd.Env = append(cmd.Env, BrowserEnv(filepath.Dir(profile))...)
		}),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	return opts
}

// maxSocketPath is what a unix socket path may hold (sun_path, 108 bytes,
// with its NUL), less room for Chromium's org.chromium.Chromium.XXXXXX/
// SingletonSocket below TMPDIR.
const maxSocketPath = 107 - len("/org.chromium.Chromium.XXXXXX/SingletonSocket")

// BrowserEnv makes home/, tmp/ and xdg/{config,cache,data,state,runtime}
// inside dir and returns the environment that points a browser at them.
// TMPDIR moves only when dir is short enough for Chromium's singleton
// socket below it; otherwise the socket's dir stays in the usual TMPDIR
// (RemoveSingletonDir removes it).
func BrowserEnv(dir string) []string {
	vars := []struct{ name, sub string }{
		{"HOME", "home"},
		{"XDG_CONFIG_HOME", "xdg/config"}, {"XDG_CACHE_HOME", "xdg/cache"},
		{"XDG_DATA_HOME", "xdg/data"}, {"XDG_STATE_HOME", "xdg/state"},
		{"XDG_RUNTIME_DIR", "xdg/runtime"},
	}
	if len(filepath.Join(dir, "tmp")) <= maxSocketPath {
		vars = append(vars, struct{ name, sub string }{"TMPDIR", "tmp"})
	}
	var env []string
	for _, v := range vars {
		p := filepath.Join(dir, v.sub)
		os.MkdirAll(p, 0o700)
		env = append(env, v.name+"="+p)
	}
	return env
}

// RemoveSingletonDir removes the $TMPDIR/org.chromium.Chromium.XXXXXX
// directory that holds Chromium's singleton socket; the profile's
// SingletonSocket symlink points into it. A stopped (or killed) Chromium
// leaves it behind. Moving TMPDIR into the browser's dir instead breaks
// Chromium when the path is long: a unix socket path is limited to 108 bytes.
func RemoveSingletonDir(profile string) {
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
	// Ms is how long the page waited for this socket, in milliseconds.
	Ms          float64 `json:"ms"`
	Opened      bool    `json:"opened"`
	Error       bool    `json:"error"`
	Echo        *string `json:"echo"`
	CloseCode   int     `json:"closeCode"`
	CloseReason string  `json:"closeReason"`
	Protocol    string  `json:"protocol"`
	Thrown      string  `json:"thrown"`
	TimedOut    bool    `json:"timedOut"`
	// LoginError: the page's login fetch (Target.Login) failed.
	LoginError string `json:"loginError"`
	// Socket is this dial's position among the sockets the page created
	// (-1: the constructor threw): how its DevTools events are found, since
	// two targets of a batch may have the same URL.
	Socket int `json:"socket"`
	// Panel is this dial's panel on the page (the order of the page's
	// wsslabDial calls), for its screenshot.
	Panel int `json:"panel"`
}

// consoleLine is one Log.entryAdded line; used once it is matched to a socket.
type consoleLine struct {
	text string
	// request is the network request id DevTools gives the entry, if any.
	request network.RequestID
	used    bool
}

// socketEvents is what DevTools said about one WebSocket.
type socketEvents struct {
	url      string
	frameErr []string
	evidence []string
	closed   bool
}

// devtools collects, per socket, the events that carry the reason the page
// never sees. Its listener runs inside chromedp's read loop, so it only
// records.
type devtools struct {
	mu      sync.Mutex
	sockets map[network.RequestID]*socketEvents
	// created lists the sockets in the order Chrome created them, which is
	// the order the page's constructors ran (pageResult.Socket indexes it).
	created []network.RequestID
	console []consoleLine
	// requests maps HTTP requests (the page's login fetches) to their URLs,
	// failed their URLs to the net error Chrome gave (Network.loadingFailed).
	requests map[network.RequestID]string
	failed   map[string]string
	// changed is signalled (without blocking) whenever a socket closes.
	changed chan struct{}
	// warm is the page's warm-up socket URL (WarmPath): its sockets are
	// nobody's observation, so their events are dropped.
	warm    string
	ignored map[network.RequestID]bool
}

func newDevtools(warm string) *devtools {
	return &devtools{sockets: map[network.RequestID]*socketEvents{}, changed: make(chan struct{}, 1),
		requests: map[network.RequestID]string{}, failed: map[string]string{}, warm: warm, ignored: map[network.RequestID]bool{}}
}

func (d *devtools) socket(id network.RequestID) *socketEvents {
	s := d.sockets[id]
	if s == nil {
		s = &socketEvents{}
		d.sockets[id] = s
	}
	return s
}

func (d *devtools) on(ev any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventWebSocketCreated:
		if d.warm != "" && ev.URL == d.warm {
			d.ignored[ev.RequestID] = true
			return
		}
		s := d.socket(ev.RequestID)
		s.url = ev.URL
		d.created = append(d.created, ev.RequestID)
		s.evidence = append(s.evidence, "Network.webSocketCreated "+ev.URL)
	case *network.EventWebSocketHandshakeResponseReceived:
		if d.ignored[ev.RequestID] {
			return
		}
		if ev.Response != nil {
			s := d.socket(ev.RequestID)
			s.evidence = append(s.evidence, fmt.Sprintf("Network.webSocketHandshakeResponseReceived %d %s", ev.Response.Status, ev.Response.StatusText))
		}
	case *network.EventWebSocketFrameError:
		if d.ignored[ev.RequestID] {
			return
		}
		s := d.socket(ev.RequestID)
		s.frameErr = append(s.frameErr, ev.ErrorMessage)
		s.evidence = append(s.evidence, "Network.webSocketFrameError "+ev.ErrorMessage)
	case *network.EventWebSocketClosed:
		if d.ignored[ev.RequestID] {
			return
		}
		s := d.socket(ev.RequestID)
		s.closed = true
		s.evidence = append(s.evidence, "Network.webSocketClosed")
		select {
		case d.changed <- struct{}{}:
		default:
		}
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			d.requests[ev.RequestID] = ev.Request.URL
		}
	case *network.EventLoadingFailed:
		if u, ok := d.requests[ev.RequestID]; ok {
			d.failed[u] = ev.ErrorText
		}
	case *cdplog.EventEntryAdded:
		if e := ev.Entry; e != nil {
			d.console = append(d.console, consoleLine{text: fmt.Sprintf("[%s/%s] %s", e.Source, e.Level, e.Text), request: network.RequestID(e.NetworkRequestID)})
		}
	}
}

// openSockets counts sockets created but not yet closed.
func (d *devtools) openSockets() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, s := range d.sockets {
		if s.url != "" && !s.closed {
			n++
		}
	}
	return n
}

// Dial implements Client: a fresh browser context and tab load the page over
// HTTPS, which opens new WebSocket(t.URL), sends t.Message and reports back.
func (b *Browser) Dial(ctx context.Context, t Target) Observation {
	return b.DialAll(ctx, []Target{t})[0]
}

// dialBatchOrRetry runs a browser's batch (dial fills out, one observation
// per target, for client): a failure of the browser itself (a tab that
// could not be opened, a page that did not load in time on a loaded
// machine) is not an observation of a server, so it tries once more, in a
// fresh context. It reports false, every observation Failed, when the
// second try failed too.
func dialBatchOrRetry(ctx context.Context, client, what string, targets []Target, dial func(context.Context, []Target, []Observation, time.Time) error) ([]Observation, bool) {
	start := time.Now()
	out := make([]Observation, len(targets))
	for i, t := range targets {
		out[i] = Observation{Client: client, URL: t.URL}
	}
	if len(targets) == 0 {
		return out, false
	}
	err := dial(ctx, targets, out, start)
	if err != nil && ctx.Err() == nil {
		first := err
		err = dial(ctx, targets, out, start)
		for i := range out {
			out[i].Evidence = append(out[i].Evidence, "first attempt: "+what+": "+first.Error())
		}
	}
	if err != nil {
		for i := range out {
			out[i].Outcome, out[i].Err = Failed, fmt.Errorf("harness: %s: %w", what, err)
			out[i].Error, out[i].Reason = out[i].Err.Error(), "browser failed"
			out[i].Duration = time.Since(start)
		}
		return out, false
	}
	return out, true
}

// DialAll dials every target at once from one page in one fresh browser
// context, and returns one observation per target, in order. Sockets to
// different host:port endpoints share nothing Chrome keys by endpoint (socket
// pools, TLS sessions, certificate verification results); the isolation test
// (TestBatchIsolation) checks that a scenario's outcome does not depend on
// what else ran in the batch, or in what order.
func (b *Browser) DialAll(ctx context.Context, targets []Target) []Observation {
	start := time.Now() // redone dials' durations count from here too
	out, ok := dialBatchOrRetry(ctx, ChromeID, "browser", targets, b.dialBatch)
	if !ok {
		return out
	}
	// Chrome aborts what is in flight with net::ERR_NETWORK_CHANGED when the
	// host's interfaces change (Docker adding a container's veth, say): that
	// is the machine, not the server. Those dials are redone, twice at most.
	for attempt := 0; attempt < 2 && ctx.Err() == nil; attempt++ {
		var redo []int
		for i, o := range out {
			if o.disturbed {
				redo = append(redo, i)
			}
		}
		if len(redo) == 0 {
			break
		}
		again := make([]Target, len(redo))
		for k, i := range redo {
			again[k] = targets[i]
		}
		retry := make([]Observation, len(redo))
		for k, i := range redo {
			retry[k] = Observation{Client: ChromeID, URL: targets[i].URL}
		}
		if err := b.dialBatch(ctx, again, retry, start); err != nil {
			break
		}
		for k, i := range redo {
			retry[k].Evidence = append([]string{fmt.Sprintf("redone: the host's network changed during the dial (%s)", out[i].disturbedBy)}, retry[k].Evidence...)
			out[i] = retry[k]
		}
	}
	return out
}

// dialBatch is one attempt of DialAll in a fresh browser context. It fills
// out, or returns an error when the browser (not the server) failed.
func (b *Browser) dialBatch(ctx context.Context, targets []Target, out []Observation, start time.Time) error {
	tabCtx, cancelTab := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout+10*time.Second)
	defer cancel()
	// Tie the tab to the caller's context without binding the browser to it.
	stop := context.AfterFunc(ctx, cancelTab)
	defer stop()

	dt := newDevtools(b.warmURL())
	results, err := b.runPage(tabCtx, dt, targets)
	if err != nil {
		return err
	}
	// Read what DevTools captured only after every socket is closed.
	grace := time.NewTimer(2 * time.Second)
	defer grace.Stop()
wait:
	for dt.openSockets() > 0 {
		select {
		case <-dt.changed:
		case <-grace.C:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	dt.mu.Lock()
	for i, t := range targets {
		classify(&out[i], results[i], dt, t)
		out[i].Duration = time.Since(start)
	}
	dt.mu.Unlock()
	if b.cfg.Screenshots {
		// The page has already shown each socket's final status: wsslabDial
		// resolves only after close (or a throw, or its timeout). Each socket
		// has its own panel, in the order the page dialed; a lone socket gets
		// the whole body.
		for i := range out {
			sel := fmt.Sprintf("#sockets > section:nth-of-type(%d)", results[i].Panel+1)
			if len(out) == 1 {
				sel = "body"
			}
			if png, err := chromedp.Run(tabCtx, chromedp.Screenshot(chromedp.CSS(sel))); err == nil {
				out[i].Screenshot = png
			} else {
				out[i].Evidence = append(out[i].Evidence, "screenshot: "+err.Error())
			}
		}
	}
	return nil
}

func (b *Browser) runPage(tabCtx context.Context, dt *devtools, targets []Target) ([]pageResult, error) {
	if err := chromedp.Listen(tabCtx, dt.on); err != nil {
		return nil, fmt.Errorf("open tab: %w", err)
	}
	if _, err := chromedp.Call(tabCtx, network.Enable, network.EnableParams{}); err != nil {
		return nil, fmt.Errorf("Network.enable: %w", err)
	}
	if _, err := chromedp.Call(tabCtx, cdplog.Enable, cdp.Empty{}); err != nil {
		return nil, fmt.Errorf("Log.enable: %w", err)
	}
	if err := Navigate(tabCtx, b.pageURL); err != nil {
		return nil, fmt.Errorf("load page %s: %w", b.pageURL, err)
	}
	type dialArgs struct {
		URL       string   `json:"url"`
		Protocols []string `json:"protocols"`
		Message   string   `json:"msg"`
		Login     string   `json:"login,omitempty"`
	}
	args := make([]dialArgs, len(targets))
	for i, t := range targets {
		args[i] = dialArgs{t.URL, t.Subprotocols, t.Message, t.Login}
	}
	js, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	warm, err := json.Marshal(b.warmURL())
	if err != nil {
		return nil, err
	}
	expr := fmt.Sprintf(countSockets+"wsslabDialAll(%s, %d, %d, %s)", js, b.cfg.Parallel, b.cfg.Timeout.Milliseconds(), warm)
	res, err := chromedp.Run(tabCtx, chromedp.Evaluate[[]pageResult](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run page script: %w", err)
	}
	if len(res) != len(targets) {
		return nil, fmt.Errorf("page returned %d results for %d sockets", len(res), len(targets))
	}
	return res, nil
}

// countSockets numbers the sockets the page creates, in constructor order —
// the order of DevTools' Network.webSocketCreated events — and tags each
// dial's result with its socket's number. wsslabDial constructs its socket
// synchronously, before it returns its promise; a constructor that throws
// (mixed content) creates none.
const countSockets = `(() => {
  if (window.wsslabCounted) return;
  window.wsslabCounted = true;
  let created = 0, calls = 0;
  window.WebSocket = new Proxy(window.WebSocket, { construct(t, args) { const ws = Reflect.construct(t, args); created++; return ws; } });
  const dial = window.wsslabDial;
  window.wsslabDial = (...args) => {
    const before = created, panel = calls++;
    const p = dial(...args);
    const socket = created > before ? created - 1 : -1;
    return p.then((r) => { r.socket = socket; r.panel = panel; return r; });
  };
})();
`

// Navigate loads url in the tab of ctx, loading it again (twice at most)
// when Chrome aborts the load with net::ERR_NETWORK_CHANGED: the host's
// interfaces changed (Docker starting a container), not the page.
func Navigate(ctx context.Context, url string) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = chromedp.Do(ctx, chromedp.Navigate(url)); err == nil || !strings.Contains(err.Error(), netErrNetworkChanged) {
			return err
		}
	}
	return err
}

// netErrNetworkChanged is what Chrome reports for requests in flight when
// the host's network configuration changes.
const netErrNetworkChanged = "net::ERR_NETWORK_CHANGED"

// classify turns what the page and DevTools saw for one target into an
// Observation. dt.mu is held.
func classify(obs *Observation, res pageResult, dt *devtools, t Target) {
	var sock *socketEvents
	if res.Socket >= 0 && res.Socket < len(dt.created) {
		sock = dt.sockets[dt.created[res.Socket]]
		obs.Evidence = append(obs.Evidence, sock.evidence...)
	}
	// The console line as DevTools shows it, the closest thing to what a
	// developer sees in the Console tab. It is matched by its request id
	// when DevTools gives one, else by the URL it names (and the socket's
	// own error, when it has one); each line belongs to one socket.
	var reqID network.RequestID
	if sock != nil {
		reqID = dt.created[res.Socket]
	}
	for i := range dt.console {
		line := &dt.console[i]
		switch {
		case line.used:
			continue
		case line.request != "":
			if line.request != reqID {
				continue
			}
		case !strings.Contains(line.text, "'"+t.URL+"'"):
			continue
		case sock != nil && len(sock.frameErr) > 0 && !strings.HasSuffix(line.text, sock.frameErr[0]):
			continue
		}
		line.used = true
		obs.Evidence = append(obs.Evidence, "Log.entryAdded "+line.text)
		if obs.Error == "" {
			_, obs.Error, _ = strings.Cut(line.text, "] ")
		}
	}
	obs.Evidence = append(obs.Evidence, fmt.Sprintf("page: opened=%v error=%v close=%d thrown=%q after %.0fms", res.Opened, res.Error, res.CloseCode, res.Thrown, res.Ms))
	obs.CloseCode = res.CloseCode
	obs.Subprotocol = res.Protocol
	if res.Echo != nil {
		obs.Echo = *res.Echo
	}
	loginNetErr := ""
	if res.LoginError != "" {
		loginNetErr = dt.failed[t.Login]
		obs.Evidence = append(obs.Evidence, "page: login fetch failed: "+res.LoginError)
		if loginNetErr != "" {
			obs.Evidence = append(obs.Evidence, "Network.loadingFailed "+t.Login+" "+loginNetErr)
		}
	}
	defer func() {
		// Chrome's own reason for a disturbance, wherever it surfaced. A
		// login fetch that failed for any other reason is the server's.
		switch {
		case obs.Reason == netErrNetworkChanged:
			obs.disturbed, obs.disturbedBy = true, netErrNetworkChanged
		case loginNetErr == netErrNetworkChanged:
			obs.disturbed, obs.disturbedBy = true, "the page's login fetch failed with "+netErrNetworkChanged
		}
	}()
	switch {
	case sock != nil && len(sock.frameErr) > 0:
		obs.Reason = BrowserReason(sock.frameErr[0])
		obs.Outcome = ClassifyNetError(sock.frameErr[0])
	case res.Thrown != "":
		// No socket: the constructor's exception is Chrome's reason (the
		// console line says why: "Mixed Content: …").
		obs.Outcome = ClassifyNetError(obs.Error + "\n" + res.Thrown)
		obs.Reason = res.Thrown
		if obs.Error == "" {
			obs.Error = res.Thrown
		}
	case res.Opened && res.Echo != nil && *res.Echo == t.Message:
		obs.Outcome = Connected
	case res.Opened:
		obs.Outcome, obs.Reason = NoEcho, "page: opened, no echo"
	case obs.Error != "":
		// The console line names the URL; the reason is what follows it.
		_, after, _ := strings.Cut(obs.Error, "' failed: ")
		obs.Reason = BrowserReason(after)
		obs.Outcome = ClassifyNetError(obs.Error)
	case res.TimedOut:
		obs.Outcome, obs.Reason = Unreachable, "page: timed out"
	default:
		obs.Outcome, obs.Reason = Failed, "page: failed without a reason"
	}
}
