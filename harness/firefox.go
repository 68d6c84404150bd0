package harness

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsslab/wsslab/bidi"
	"github.com/wsslab/wsslab/geckonet"
)

// ErrNoFirefox is wrapped by StartFirefox's error when Firefox or certutil
// is missing; it wraps ErrNotInstalled and names the command that fixes it.
var ErrNoFirefox = fmt.Errorf("Firefox and certutil are needed for the firefox client: run `apt-get install -y --no-install-recommends firefox-esr libnss3-tools` (or set WSSLAB_FIREFOX to a Firefox binary): %w", ErrNotInstalled)

// FirefoxInfo is the Firefox client's declaration (Version is filled in by
// a running Firefox).
var FirefoxInfo = ClientInfo{ID: FirefoxID, Name: "Firefox (headless Firefox ESR)", Class: BrowserClass, Reasons: FirefoxReasons}

// FindFirefox returns the Firefox binary: $WSSLAB_FIREFOX, else the first of
// firefox-esr, firefox on PATH.
func FindFirefox() (string, error) {
	if p := os.Getenv("WSSLAB_FIREFOX"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("WSSLAB_FIREFOX=%s: %w", p, ErrNoFirefox)
		}
		return p, nil
	}
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no firefox-esr on PATH: %w", ErrNoFirefox)
}

// CheckFirefoxTools reports whether the Firefox client can run here.
func CheckFirefoxTools() error {
	if _, err := FindFirefox(); err != nil {
		return err
	}
	if _, err := exec.LookPath("certutil"); err != nil {
		return fmt.Errorf("no certutil on PATH: %w", ErrNoFirefox)
	}
	return nil
}

// FirefoxConfig configures StartFirefox.
type FirefoxConfig struct {
	// Roots are trusted through the profile's own NSS database (cert9.db);
	// Firefox's built-in roots stay, but no public CA signs a wsslab
	// certificate.
	Roots []*x509.Certificate
	// PageHost and PageCert serve the page over HTTPS (the same page, and
	// so the same Origin, as Chrome's).
	PageHost string
	PageCert tls.Certificate
	// PageOrigin, when set ("https://HOST" or "https://HOST:PORT"), is the
	// origin the page is loaded from instead of https://PageHost:PORT, as
	// BrowserConfig.PageOrigin: network.socket.forcePort sends PORT (443
	// when absent) to the page server's port. That pref remaps the port for
	// every host, so no target may use PORT. PageCert must be for HOST.
	PageOrigin string
	// Timeout bounds one dial (default 10s).
	Timeout time.Duration
	// Parallel is how many sockets a batch has connecting at once (default
	// 2). Firefox lets one WebSocket per host be connecting at a time
	// (RFC 6455 §4.1), so more gains nothing.
	Parallel int
	// TempDir is where the run's temp dir goes (default os.TempDir).
	TempDir string
}

// Firefox is one headless Firefox driven over WebDriver BiDi. Each DialAll
// batch runs in a user context of its own (cookies, TLS sessions, sockets
// and Firefox's WebSocket reconnect back-off are per user context), in one
// tab that loads the page.
type Firefox struct {
	cfg       FirefoxConfig
	dir       string
	cmd       *exec.Cmd
	exited    chan struct{}
	stderr    *tailBuffer
	conn      *bidi.Conn
	stop      func()
	page      *http.Server
	pageURL   string
	version   string
	closeOnce sync.Once

	mu      sync.Mutex
	batches map[string]*ffBatch // by browsing context (tab) id
}

// bidiListening is the line Firefox prints on stderr once its BiDi server
// listens (--remote-debugging-port 0 picks a free port).
var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

// firefoxPrefs is the profile's user.js: the host map, and every background
// service that would dial out switched off. None touches certificate
// verification: no pref here accepts a certificate Firefox would refuse.
var firefoxPrefs = []struct {
	name  string
	value any
}{
	// Every host except localhost and 127.0.0.1 resolves to loopback; the
	// URL's host is still what TLS sends (SNI) and checks the certificate
	// against.
	{"network.dns.forceResolve", "127.0.0.1"},
	{"network.proxy.type", 0},
	{"network.trr.mode", 5},
	{"network.dns.disablePrefetch", true},
	{"network.prefetch-next", false},
	{"network.predictor.enabled", false},
	{"network.http.speculative-parallel-limit", 0},
	{"browser.urlbar.speculativeConnect.enabled", false},
	{"browser.places.speculativeConnect.enabled", false},
	{"network.captive-portal-service.enabled", false},
	{"network.connectivity-service.enabled", false},
	{"captivedetect.canonicalURL", ""},
	{"security.enterprise_roots.enabled", false},
	{"security.certerrors.mitm.priming.enabled", false},
	{"security.certerrors.mitm.auto_enable_enterprise_roots", false},
	{"security.remote_settings.intermediates.enabled", false},
	{"security.remote_settings.crlite_filters.enabled", false},
	{"services.settings.server", "data:,"},
	{"app.update.disabledForTesting", true},
	{"app.update.auto", false},
	{"app.update.checkInstallTime", false},
	{"app.normandy.enabled", false},
	{"app.normandy.api_url", ""},
	{"app.shield.optoutstudies.enabled", false},
	{"datareporting.healthreport.uploadEnabled", false},
	{"datareporting.policy.dataSubmissionEnabled", false},
	{"toolkit.telemetry.enabled", false},
	{"toolkit.telemetry.unified", false},
	{"toolkit.telemetry.archive.enabled", false},
	{"toolkit.telemetry.server", ""},
	{"browser.ping-centre.telemetry", false},
	{"browser.safebrowsing.malware.enabled", false},
	{"browser.safebrowsing.phishing.enabled", false},
	{"browser.safebrowsing.downloads.enabled", false},
	{"browser.safebrowsing.downloads.remote.enabled", false},
	{"browser.safebrowsing.blockedURIs.enabled", false},
	{"browser.safebrowsing.provider.google4.updateURL", ""},
	{"browser.safebrowsing.provider.google.updateURL", ""},
	{"browser.safebrowsing.provider.mozilla.updateURL", ""},
	{"extensions.update.enabled", false},
	{"extensions.systemAddon.update.enabled", false},
	{"extensions.getAddons.cache.enabled", false},
	{"extensions.blocklist.enabled", false},
	{"media.gmp-manager.updateEnabled", false},
	{"media.gmp-manager.url", ""},
	{"media.gmp-gmpopenh264.enabled", false},
	{"dom.push.enabled", false},
	{"dom.push.connection.enabled", false},
	{"dom.push.serverURL", ""},
	{"geo.enabled", false},
	{"geo.provider.network.url", ""},
	{"browser.region.network.url", ""},
	{"browser.region.update.enabled", false},
	{"browser.search.update", false},
	{"browser.newtabpage.enabled", false},
	{"browser.startup.page", 0},
	{"browser.startup.homepage", "about:blank"},
	{"browser.shell.checkDefaultBrowser", false},
	{"browser.aboutwelcome.enabled", false},
	{"browser.discovery.enabled", false},
	{"browser.topsites.contile.enabled", false},
	{"browser.translations.enable", false},
	{"identity.fxaccounts.enabled", false},
	{"browser.sessionstore.resume_from_crash", false},
	{"toolkit.startup.max_resumed_crashes", -1},
}

// UserJS is the user.js wsslab writes into a Firefox profile.
func UserJS() string {
	var b strings.Builder
	b.WriteString("// wsslab: loopback only, no background connections; verification untouched.\n")
	for _, p := range firefoxPrefs {
		v, _ := json.Marshal(p.value)
		fmt.Fprintf(&b, "user_pref(%q, %s);\n", p.name, v)
	}
	return b.String()
}

// FirefoxEnv is the environment Firefox runs with, besides BrowserEnv's:
// headless, no crash reporter, and MOZ_DISABLE_NONLOCAL_CONNECTIONS, which
// makes a release build refuse any connection that is not to loopback
// (without it remote settings keep dialing out whatever the prefs say).
var FirefoxEnv = []string{"MOZ_HEADLESS=1", "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_DISABLE_NONLOCAL_CONNECTIONS=1"}

// StartFirefox starts Firefox with a fresh profile in a temp dir that
// trusts cfg.Roots, and opens its BiDi session. The caller must Close it;
// on error nothing is left running and the temp dir is removed.
func StartFirefox(ctx context.Context, cfg FirefoxConfig) (_ *Firefox, err error) {
	if err := CheckFirefoxTools(); err != nil {
		return nil, err
	}
	exe, _ := FindFirefox()
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 2
	}
	if cfg.PageHost == "" {
		cfg.PageHost = "app.wsslab.test"
	}
	SweepStale(cfg.TempDir)
	dir, err := MkdirTemp(cfg.TempDir, "firefox")
	if err != nil {
		return nil, fmt.Errorf("harness: firefox temp dir: %w", err)
	}
	f := &Firefox{cfg: cfg, dir: dir, batches: map[string]*ffBatch{}, exited: make(chan struct{})}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	profile := filepath.Join(dir, "profile")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, fmt.Errorf("harness: firefox profile: %w", err)
	}
	if err := InstallRoots(profile, dir, cfg.Roots); err != nil {
		return nil, err
	}
	if f.page, f.pageURL, err = ServePage(cfg.PageHost, cfg.PageCert); err != nil {
		return nil, err
	}
	userJS := UserJS()
	if o := strings.TrimSuffix(cfg.PageOrigin, "/"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Scheme != "https" || u.Hostname() == "" {
			return nil, fmt.Errorf("harness: firefox: PageOrigin %q: want https://HOST[:PORT]", o)
		}
		from := u.Port()
		if from == "" {
			from = "443"
		}
		pu, _ := url.Parse(f.pageURL)
		f.pageURL = o + "/"
		// Only the port moves: the host still goes to 127.0.0.1.
		userJS += fmt.Sprintf("user_pref(%q, %q);\n", "network.socket.forcePort", from+"="+pu.Port())
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(userJS), 0o600); err != nil {
		return nil, fmt.Errorf("harness: firefox user.js: %w", err)
	}

	cmd := exec.Command(exe, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port", "0")
	env := append(os.Environ(), BrowserEnv(dir)...)
	// Firefox's sockets have no path limit to mind: TMPDIR always moves.
	env = append(env, "TMPDIR="+filepath.Join(dir, "tmp"))
	os.MkdirAll(filepath.Join(dir, "tmp"), 0o700)
	cmd.Env = append(env, FirefoxEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("harness: firefox: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("harness: start firefox (%s): %w", exe, err)
	}
	f.cmd = cmd
	if err := TrackProcess(dir, cmd.Process.Pid); err != nil {
		return nil, err
	}
	f.stderr = &tailBuffer{max: 20}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			f.stderr.add(line)
			if m := bidiListening.FindStringSubmatch(line); m != nil {
				select {
				case listening <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		cmd.Wait()
		close(f.exited)
	}()

	startCtx, cancelStart := context.WithTimeout(ctx, 60*time.Second)
	defer cancelStart()
	var wsURL string
	select {
	case wsURL = <-listening:
	case <-f.exited:
		return nil, fmt.Errorf("harness: start firefox (%s): exited before its BiDi server listened: %s", exe, f.stderr.String())
	case <-startCtx.Done():
		return nil, fmt.Errorf("harness: start firefox (%s): %w: %s", exe, startCtx.Err(), f.stderr.String())
	}
	if f.conn, err = bidi.Dial(startCtx, strings.TrimSuffix(wsURL, "/")+"/session"); err != nil {
		return nil, fmt.Errorf("harness: firefox: %w", err)
	}
	s, err := f.conn.NewSession(startCtx, bidi.Capabilities{AcceptInsecureCerts: false})
	if err != nil {
		return nil, fmt.Errorf("harness: firefox: %w", err)
	}
	if s.Capabilities.AcceptInsecureCerts {
		return nil, errors.New("harness: firefox: the session accepts insecure certificates; wsslab needs real verification")
	}
	f.version = "Firefox/" + s.Capabilities.BrowserVersion
	f.stop = f.conn.Listen(f.dispatch)
	if _, err := f.conn.Subscribe(startCtx, []string{bidi.BeforeRequestSent, bidi.ResponseStarted, bidi.FetchError, bidi.LogEntryAdded}); err != nil {
		return nil, fmt.Errorf("harness: firefox: %w", err)
	}
	return f, nil
}

// Version is Firefox's version, e.g. "Firefox/153.8.0".
func (f *Firefox) Version() string { return f.version }

// PageURL is the page's URL; its origin is the Origin Firefox sends.
func (f *Firefox) PageURL() string { return f.pageURL }

// Dir is the run's temp dir (profile, HOME, TMPDIR).
func (f *Firefox) Dir() string { return f.dir }

// Pid is the Firefox process, the leader of its own process group.
func (f *Firefox) Pid() int {
	if f.cmd == nil || f.cmd.Process == nil {
		return 0
	}
	return f.cmd.Process.Pid
}

// Info implements Client.
func (f *Firefox) Info() ClientInfo {
	info := FirefoxInfo
	info.Version = f.version
	return info
}

// Close kills Firefox's process group, stops the page server and removes
// the temp dir.
func (f *Firefox) Close() {
	f.closeOnce.Do(func() {
		if f.stop != nil {
			f.stop()
		}
		if f.cmd != nil && f.cmd.Process != nil {
			select {
			case <-f.exited:
				// Reaped: the group id may no longer be ours to signal.
			default:
				// Not yet reaped, so its pid (the group's id) cannot have
				// been reused: the whole group is Firefox's.
				syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
			}
			<-f.exited
		}
		if f.conn != nil {
			f.conn.Close()
		}
		if f.page != nil {
			f.page.Close()
		}
		KillTracked(f.dir)
		os.RemoveAll(f.dir)
	})
}

// tailBuffer keeps the last lines of a process's output, for errors.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tailBuffer) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return oneLine(strings.Join(t.lines, " | "))
}

// ffRequest is what BiDi said about one network request of a batch's tab.
type ffRequest struct {
	id        string
	url       string
	websocket bool
	status    int
	errorText string
	evidence  []string
	done      bool
}

// ffBatch collects the BiDi events of one batch's tab.
type ffBatch struct {
	mu       sync.Mutex
	requests []*ffRequest
	byID     map[string]*ffRequest
	console  []string
	changed  chan struct{}
}

func (b *ffBatch) request(id string) *ffRequest {
	r := b.byID[id]
	if r == nil {
		r = &ffRequest{id: id}
		b.byID[id] = r
		b.requests = append(b.requests, r)
	}
	return r
}

func (b *ffBatch) on(ev bidi.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev.Method {
	case bidi.BeforeRequestSent, bidi.ResponseStarted, bidi.FetchError:
		var n bidi.NetworkEvent
		if ev.Decode(&n) != nil {
			return
		}
		r := b.request(n.Request.Request)
		if r.url == "" {
			r.url = n.Request.URL
		}
		switch ev.Method {
		case bidi.BeforeRequestSent:
			r.websocket = r.websocket || strings.EqualFold(n.Request.Header("Sec-Fetch-Mode"), "websocket") || strings.EqualFold(n.Request.Header("Upgrade"), "websocket")
			r.evidence = append(r.evidence, fmt.Sprintf("network.beforeRequestSent %s %s", n.Request.Method, n.Request.URL))
		case bidi.ResponseStarted:
			r.status = n.Response.Status
			r.evidence = append(r.evidence, fmt.Sprintf("network.responseStarted %d %s", n.Response.Status, n.Response.StatusText))
		case bidi.FetchError:
			r.errorText, r.done = n.ErrorText, true
			r.evidence = append(r.evidence, "network.fetchError "+n.ErrorText)
		}
	case bidi.LogEntryAdded:
		var e bidi.LogEntry
		if ev.Decode(&e) != nil {
			return
		}
		b.console = append(b.console, fmt.Sprintf("[%s/%s] %s", e.Type, e.Level, e.Text))
	}
	select {
	case b.changed <- struct{}{}:
	default:
	}
}

// dispatch hands an event to the batch whose tab it concerns.
func (f *Firefox) dispatch(ev bidi.Event) {
	var src struct {
		Context string `json:"context"`
		Source  struct {
			Context string `json:"context"`
		} `json:"source"`
	}
	if json.Unmarshal(ev.Params, &src) != nil {
		return
	}
	id := src.Context
	if id == "" {
		id = src.Source.Context
	}
	f.mu.Lock()
	b := f.batches[id]
	f.mu.Unlock()
	if b != nil {
		b.on(ev)
	}
}

// DialAll implements Client: one fresh user context and tab load the page,
// which dials every target (at most cfg.Parallel connecting at once); one
// observation per target, in order.
func (f *Firefox) DialAll(ctx context.Context, targets []Target) []Observation {
	out, _ := dialBatchOrRetry(ctx, FirefoxID, "firefox", targets, f.dialBatch)
	return out
}

func (f *Firefox) dialBatch(ctx context.Context, targets []Target, out []Observation, start time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout+20*time.Second)
	defer cancel()
	uc, err := f.conn.CreateUserContext(ctx)
	if err != nil {
		return fmt.Errorf("user context: %w", err)
	}
	defer func() {
		// Closes the tab too. Bounded even when ctx is done.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer rcancel()
		f.conn.RemoveUserContext(rctx, uc)
	}()
	tab, err := f.conn.CreateTab(ctx, uc)
	if err != nil {
		return fmt.Errorf("open tab: %w", err)
	}
	b := &ffBatch{byID: map[string]*ffRequest{}, changed: make(chan struct{}, 1)}
	f.mu.Lock()
	f.batches[tab] = b
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.batches, tab)
		f.mu.Unlock()
	}()
	if _, err := f.conn.Navigate(ctx, tab, f.pageURL); err != nil {
		return fmt.Errorf("load page %s: %w", f.pageURL, err)
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
		return err
	}
	expr := fmt.Sprintf(countSockets+"wsslabDialAll(%s, %d, %d).then((r) => JSON.stringify(r))", js, f.cfg.Parallel, f.cfg.Timeout.Milliseconds())
	v, err := f.conn.Evaluate(ctx, tab, expr)
	if err != nil {
		return fmt.Errorf("run page script: %w", err)
	}
	s, err := v.String()
	if err != nil {
		return fmt.Errorf("run page script: %w", err)
	}
	var results []pageResult
	if err := json.Unmarshal([]byte(s), &results); err != nil {
		return fmt.Errorf("page result: %w", err)
	}
	if len(results) != len(targets) {
		return fmt.Errorf("page returned %d results for %d sockets", len(results), len(targets))
	}
	// The reason (network.fetchError) comes before the page's close event,
	// but on another path: wait, briefly, until every socket that failed
	// without a throw has its request's last event.
	grace := time.NewTimer(2 * time.Second)
	defer grace.Stop()
	for {
		b.mu.Lock()
		reqs := matchRequests(b.requests, targets, results)
		waiting := false
		for i, r := range results {
			if r.Thrown == "" && !r.Opened && !finished(reqs[i]) {
				waiting = true
			}
		}
		b.mu.Unlock()
		if !waiting {
			break
		}
		select {
		case <-b.changed:
			continue
		case <-grace.C:
		case <-ctx.Done():
		}
		break
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	reqs := matchRequests(b.requests, targets, results)
	used := make([]bool, len(b.console))
	for i, t := range targets {
		classifyFirefox(&out[i], results[i], reqs[i], b.console, used, t)
		out[i].Duration = time.Since(start)
	}
	return nil
}

// finished: the last of a socket's requests has failed or been answered.
func finished(reqs []*ffRequest) bool {
	if len(reqs) == 0 {
		return false
	}
	last := reqs[len(reqs)-1]
	// A 101 the page did not open is final too: Firefox refused the answer
	// and reports nothing more (no network.fetchError follows, measured).
	return last.done || last.status != 0
}

// httpURL is the URL BiDi gives a WebSocket's upgrade request: the
// WebSocket URL with its scheme's HTTP counterpart.
func httpURL(ws string) string {
	u, err := url.Parse(ws)
	if err != nil {
		return ws
	}
	switch u.Scheme {
	case "wss":
		u.Scheme = "https"
	case "ws":
		u.Scheme = "http"
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

// matchRequests finds each target's upgrade requests among a batch's: by
// URL, and among targets with the same URL by order (the page's sockets
// are numbered in constructor order, and Firefox starts their requests in
// that order).
func matchRequests(all []*ffRequest, targets []Target, results []pageResult) [][]*ffRequest {
	out := make([][]*ffRequest, len(targets))
	byURL := map[string][]int{}
	for i, t := range targets {
		if results[i].Socket >= 0 {
			u := httpURL(t.URL)
			byURL[u] = append(byURL[u], i)
		}
	}
	for u, idx := range byURL {
		sort.Slice(idx, func(a, b int) bool { return results[idx[a]].Socket < results[idx[b]].Socket })
		var reqs []*ffRequest
		for _, r := range all {
			if r.websocket && r.url == u {
				reqs = append(reqs, r)
			}
		}
		if len(idx) == 1 {
			out[idx[0]] = reqs
			continue
		}
		for k, i := range idx {
			if k < len(reqs) {
				out[i] = reqs[k : k+1]
			}
		}
	}
	return out
}

// classifyFirefox turns what the page and BiDi saw for one target into an
// Observation. The reason is the NSS error of the upgrade request's
// network.fetchError, the HTTP status of a refused upgrade, or the
// exception the page's constructor threw.
func classifyFirefox(obs *Observation, res pageResult, reqs []*ffRequest, console []string, used []bool, t Target) {
	var last *ffRequest
	for _, r := range reqs {
		obs.Evidence = append(obs.Evidence, r.evidence...)
		last = r
	}
	// Firefox's console line names the URL ("Firefox can’t establish a
	// connection to the server at wss://…"): it says nothing of why.
	for i, line := range console {
		if !used[i] && strings.Contains(line, t.URL) {
			used[i] = true
			obs.Evidence = append(obs.Evidence, "log.entryAdded "+line)
			if obs.Error == "" {
				_, obs.Error, _ = strings.Cut(line, "] ")
			}
		}
	}
	obs.Evidence = append(obs.Evidence, fmt.Sprintf("page: opened=%v error=%v close=%d thrown=%q after %.0fms", res.Opened, res.Error, res.CloseCode, res.Thrown, res.Ms))
	if res.LoginError != "" {
		obs.Evidence = append(obs.Evidence, "page: login fetch failed: "+res.LoginError)
	}
	obs.CloseCode = res.CloseCode
	obs.Subprotocol = res.Protocol
	if res.Echo != nil {
		obs.Echo = *res.Echo
	}
	switch {
	case res.Thrown != "":
		obs.Reason, obs.Error = res.Thrown, res.Thrown
		obs.Outcome = Failed
		if strings.HasPrefix(res.Thrown, "SecurityError") {
			obs.Outcome = Blocked
		}
	case res.Opened && res.Echo != nil && *res.Echo == t.Message:
		obs.Outcome = Connected
	case res.Opened:
		obs.Outcome, obs.Reason = NoEcho, "page: opened, no echo"
	case last != nil && (last.errorText != "" || last.status != 0):
		obs.Outcome = geckonet.Classify(last.errorText, last.status)
		name, isNSS := geckonet.SecurityError(last.errorText)
		switch {
		case isNSS:
			obs.Reason = name
		case last.status == 101:
			// Firefox refused a 101 answer and says nothing of why.
			obs.Reason = "HTTP 101 refused"
		case last.status != 0:
			obs.Reason = fmt.Sprintf("HTTP %d", last.status)
		default:
			obs.Reason = last.errorText
		}
		if last.errorText != "" {
			obs.Error = strings.TrimSpace(last.errorText + "; " + obs.Error)
			obs.Error = strings.TrimSuffix(obs.Error, ";")
		}
	case res.TimedOut:
		obs.Outcome, obs.Reason = Unreachable, "page: timed out"
	default:
		obs.Outcome, obs.Reason = Failed, "page: failed without a reason"
	}
}

// Conn is Firefox's BiDi connection, for tests and tools that drive it
// beyond DialAll. Closing it is Close's job.
func (f *Firefox) Conn() *bidi.Conn { return f.conn }
