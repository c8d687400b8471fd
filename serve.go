package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/internal/server"
	"github.com/vault-credential-process/vault-credential-process/internal/shellenv"
	"github.com/vault-credential-process/vault-credential-process/internal/smallfile"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// serveOptions are the flags of serve beyond the request flags.
type serveOptions struct {
	listen, format, tokenFile *string
	printEnv, imds, detach    *bool
}

// serveFlags binds serve's own flags.
func serveFlags(fs *flagSet) serveOptions {
	o := serveOptions{listen: new(string), format: new(string), tokenFile: new(string),
		printEnv: new(bool), imds: new(bool), detach: new(bool)}
	fs.boolVar(o.detach, &cmdspec.ServeDetach)
	fs.boolVar(o.printEnv, &cmdspec.ServePrintEnv)
	fs.stringVar(o.format, &cmdspec.ServeFormat)
	fs.stringVar(o.listen, &cmdspec.ServeListen)
	fs.stringVar(o.tokenFile, &cmdspec.ServeTokenFile)
	fs.boolVar(o.imds, &cmdspec.ServeIMDS)
	return o
}

// containerVars are the variables that point an SDK at a credentials server.
const (
	envFullURI   = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	envTokenFile = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
	envToken     = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
	envIMDS      = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
)

// shadowing are the variables that would win over the server in the SDKs'
// credential chains, or pair a stale value with it: --print-env unsets them.
var shadowing = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"}

func (c *cli) serve(ctx context.Context, args []string) int {
	fs := newFlagSet(cmdspec.Serve)
	o := serveFlags(fs)
	if code, done := c.parseCommand(fs, args); done {
		return code
	}
	if err := o.check(&fs.settings, fs.Args()); err != nil {
		return c.report(err)
	}
	// Taken before anything can start a child: no other process may speak
	// for this one to systemd.
	notify := server.TakeNotifySocket(os.Getenv, os.Unsetenv)
	// A socket from systemd is taken first: before a child (a token helper,
	// an mfa_command) could inherit it.
	activated, err := c.activated(*o.listen)
	if err != nil {
		return c.report(err)
	}
	if activated != nil {
		defer activated.Close()
	}
	// The child of serve --detach has a pipe to its parent; the parent
	// starts it and waits.
	detached := c.takeDetachPipe()
	switch {
	case *o.detach && (activated != nil || notify != ""):
		return c.report(usageError("serve: --detach under systemd: systemd runs the server in the background already"))
	case *o.detach && detached == nil:
		return c.detach()
	case detached != nil:
		defer detached.Close()
	}
	c.stderr = &lockedWriter{w: c.stderr}
	ctx, stop := signal.NotifyContext(ctx, stopSignals()...)
	defer stop()
	srv, first, err := c.newServer(ctx, &fs.settings, fs.Args(), *o.imds, "serve")
	var warm *warmError
	if errors.As(err, &warm) && unreachable(warm.err) && detached == nil {
		// Vault cannot be reached yet (serve started with the session,
		// before the network): serve anyway, answering 503 until the
		// background refresh gets through. A refusal ends the start, and
		// so does this under --detach, which promises credentials in
		// memory when it returns.
		c.warnf("serve: %v; answering 503 until Vault can be reached", warm.err)
		srv, err = warm.srv, nil
	}
	if err != nil {
		return c.report(err)
	}
	ln := activated
	if ln == nil {
		if ln, err = server.Listen(*o.listen); err != nil {
			return c.report(c.listenFailed(err, o, first.CacheDir))
		}
		defer ln.Close()
	}
	return c.serveOn(ctx, srv, ln, first.CacheDir, o, served{notify: notify, detached: detached})
}

// served are the parties told that the server is ready: systemd (the
// address of $NOTIFY_SOCKET) and the parent of serve --detach (a pipe).
type served struct {
	notify   string
	detached *os.File
}

// serveOn writes the token file, says where the server is, tells those
// waiting that it is ready, and serves on ln until ctx ends.
func (c *cli) serveOn(ctx context.Context, srv *server.Server, ln net.Listener, cacheDir string, o serveOptions, to served) int {
	tokenFile, err := c.writeTokenFile(*o.tokenFile, cacheDir, ln.Addr(), srv.Token())
	if err != nil {
		return c.report(err)
	}
	defer removeTokenFile(tokenFile, srv.Token())
	var env bytes.Buffer
	var daemon string
	if to.detached != nil {
		// The variables go to the parent, which prints them once this is
		// ready; the log from now on to a file.
		if daemon, err = c.daemonize(cacheDir, ln.Addr(), *o.format); err != nil {
			return c.report(err)
		}
		c.stdout = &env
	}
	if err := c.announce(srv, ln.Addr(), tokenFile, o); err != nil {
		return c.report(err)
	}
	if to.detached != nil {
		env.WriteString(daemon)
		if _, err := to.detached.Write(env.Bytes()); err != nil {
			return c.report(fmt.Errorf("serve: tell serve --detach the server is ready: %w", err))
		}
		to.detached.Close()
	}
	go c.notifySystemd(ctx, srv, to.notify, ln.Addr())
	if err := srv.Serve(ctx, ln); err != nil {
		return c.report(fmt.Errorf("serve: %w", err))
	}
	fmt.Fprintf(c.stderr, "%s: serve: shut down\n", name)
	return process.ExitOK
}

// notifySystemd tells systemd (a Type=notify service) that the server is
// ready once every profile has credentials in memory and it listens, and
// that it is stopping when ctx ends. Without $NOTIFY_SOCKET it does
// nothing.
func (c *cli) notifySystemd(ctx context.Context, srv *server.Server, addr string, listen net.Addr) {
	if addr == "" {
		return
	}
	select {
	case <-srv.Ready():
	case <-ctx.Done():
		return
	}
	status := fmt.Sprintf("READY=1\nSTATUS=serving %d profiles on %s", len(srv.Names()), listen)
	if err := server.Notify(addr, status); err != nil {
		c.warnf("serve: %v", err)
	}
	<-ctx.Done()
	_ = server.Notify(addr, "STOPPING=1")
}

// check refuses combinations the flags cannot mean.
func (o serveOptions) check(flags *config.Flags, profiles []string) error {
	if *o.format != "" || *o.detach {
		*o.printEnv = true
	}
	if *o.format != "" {
		if err := checkFormat(*o.format); err != nil {
			return err
		}
	}
	if flags[config.IDProfile] != "" && len(profiles) > 0 {
		return usageError("serve: give profiles either with --profile or as arguments, not both")
	}
	if *o.listen != "" {
		if err := server.CheckListenAddr(*o.listen); err != nil {
			return &config.Error{Msg: "serve: --listen " + err.Error(),
				Hint: "name one address: 127.0.0.1:PORT for this machine, or a link-local or container address such as 169.254.170.2:PORT"}
		}
	}
	return nil
}

// activated is the socket systemd passed (socket activation), or nil.
// With one, --listen may only repeat its address.
func (c *cli) activated(listen string) (net.Listener, error) {
	ln, err := server.Activated(os.Getenv, os.Unsetenv)
	if err != nil {
		return nil, &process.Error{Code: process.ExitFailure, Msg: "serve: " + err.Error(),
			Hint: "give the .socket unit one ListenStream= with an address such as 127.0.0.1:9911, and Accept=no"}
	}
	if ln != nil && listen != "" && listen != ln.Addr().String() {
		ln.Close()
		return nil, &config.Error{Msg: fmt.Sprintf("serve: --listen %s, but systemd passed a socket on %s", listen, ln.Addr()),
			Hint: "leave --listen out under socket activation: the .socket unit's ListenStream= says the address"}
	}
	return ln, nil
}

// unreachable reports whether every profile whose credentials could not be
// fetched failed only because Vault could not be reached.
func unreachable(err error) bool {
	var we *server.WarmError
	if !errors.As(err, &we) {
		return process.Unavailable(err)
	}
	for _, f := range we.Failures {
		if !process.Unavailable(f.Err) {
			return false
		}
	}
	return true
}

// listenFailed is the error of a listen address serve cannot bind. A token
// file an earlier server left where this one would write its own is
// removed: an SDK reading it would send its requests, and trust the
// answers, to whatever now holds the port (another user's server, after
// this one died uncleanly); without the file the SDK fails instead.
func (c *cli) listenFailed(err error, o serveOptions, cacheDir string) error {
	var removed []string
	for _, path := range c.tokenFileCandidates(*o.tokenFile, cacheDir, *o.listen) {
		if removeStaleTokenFile(path) {
			removed = append(removed, path)
		}
	}
	msg := "serve: " + err.Error()
	if len(removed) > 0 {
		msg += "; removed " + strings.Join(removed, " and ") + ", an earlier server's token file, so that its clients fail instead of asking whoever holds the port"
	}
	return &process.Error{Code: process.ExitFailure, Msg: msg, Err: err,
		Hint: "pick another --listen address, or leave it out for a free port on 127.0.0.1; for a port that must stay yours, let systemd hold it (socket activation, see docs/server.md)"}
}

// warmError is a server that could not get its first credentials.
type warmError struct {
	srv *server.Server
	err error
}

func (w *warmError) Error() string { return w.err.Error() }
func (w *warmError) Unwrap() error { return w.err }

// newServer resolves the settings of each profile (of the request the
// flags describe when there is none), makes the server and warms it: the
// credentials are fetched before anything listens; a failure to is a
// *warmError. command names the front end in the audit log; for exec
// (--server) the access log and successful refreshes stay out of stderr,
// which is the command's, unless --debug.
func (c *cli) newServer(ctx context.Context, flags *config.Flags, names []string, imds bool, command string) (*server.Server, *config.Settings, error) {
	if len(names) == 0 {
		names = []string{""}
	}
	var profiles []server.Profile
	var first *config.Settings
	for _, n := range names {
		f := *flags
		if n != "" {
			f[config.IDProfile] = n
		}
		s, err := c.settings(&f, false)
		if err != nil {
			return nil, nil, err
		}
		if n == "" {
			if n = s.Profile; n == "" {
				n = s.Role
			}
		}
		profiles = append(profiles, c.serverProfile(s, n, command))
		if first == nil {
			first = s
		}
	}
	var log io.Writer = c.stderr
	if command == "exec" && !c.debug {
		log = io.Discard
	}
	srv, err := server.New(server.Options{Profiles: profiles, IMDS: imds, Log: log, Errors: c.stderr})
	if err != nil {
		return nil, nil, usageError(command + ": " + err.Error())
	}
	if err := srv.Warm(ctx); err != nil {
		return nil, first, &warmError{srv: srv, err: err}
	}
	return srv, first, nil
}

// serverProfile is one profile of the server: each refresh is one run of
// the core, as credential_process makes it (the same cache, its lock and
// the audit log), bounded by --timeout. Only the first, in the
// foreground, may prompt at the terminal.
func (c *cli) serverProfile(s *config.Settings, name, command string) server.Profile {
	fetch := func(ctx context.Context, interactive bool) (*process.Credentials, process.CredentialSource, error) {
		return c.fetch(ctx, command, s, interactive)
	}
	// The lease look-up between refreshes, so that keys Vault revoked stop
	// being served within server.LeaseCheckInterval; bounded by --timeout.
	check := func(ctx context.Context, creds *process.Credentials) error {
		ctx, cancel := context.WithTimeout(ctx, s.Timeout)
		defer cancel()
		r := c.runnerFor(s, true)
		defer r.Close()
		return r.Check(ctx, creds)
	}
	return server.Profile{Name: name, Fetch: fetch, Check: check, Policy: process.PolicyOf(s)}
}

// writeTokenFile writes the authorization token to path, or to
// serve-PORT.token in the token folder (tokenDir), mode 0600 through the
// one atomic writer; it returns the path.
func (c *cli) writeTokenFile(path, cacheDir string, addr net.Addr, token string) (string, error) {
	if path == "" {
		dir, err := c.tokenDir(cacheDir)
		if err != nil {
			return "", &process.Error{Code: process.ExitFailure, Msg: "serve: the folder for the token file: " + err.Error(), Err: err,
				Hint: "pass --token-file PATH in a folder of your own, or --cache-dir"}
		}
		_, port, _ := net.SplitHostPort(addr.String())
		path = filepath.Join(dir, tokenFileName(port))
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		err = checkTokenFile(abs)
	}
	if err == nil {
		err = smallfile.WriteFile(abs, []byte(token), 0o600)
	}
	if err != nil {
		return "", &process.Error{Code: process.ExitFailure, Msg: fmt.Sprintf("serve: write the token file %s: %v", path, err), Err: err,
			Hint: "pass --token-file PATH in a folder of your own"}
	}
	return abs, nil
}

func tokenFileName(port string) string { return "serve-" + port + ".token" }

// runtimeSubdir is the helper's folder in $XDG_RUNTIME_DIR.
const runtimeSubdir = "vault-credential-process"

// tokenDir is the folder of token files: the helper's own in
// $XDG_RUNTIME_DIR, which the system empties at logout and reboot, so that
// no token file outlives the session; else (no such folder, or one that
// is not private to this user) the cache folder.
func (c *cli) tokenDir(cacheDir string) (string, error) {
	if rt := c.runtimeDir(); rt != "" {
		dir := filepath.Join(rt, runtimeSubdir)
		store, err := cache.Open(dir) // made 0700 if missing; refused if not the user's
		if err == nil {
			if fi, err := os.Lstat(dir); err == nil && fi.Mode().Perm()&0o077 == 0 || os.Chmod(dir, 0o700) == nil {
				return store.Dir(), nil
			}
		}
	}
	store, err := cache.Open(cacheDir)
	if err != nil {
		return "", err
	}
	return store.Dir(), nil
}

// runtimeDir is $XDG_RUNTIME_DIR if it is usable for secrets: an absolute
// path to a folder (not a symlink) of the current user's that no one else
// may enter; else "".
func (c *cli) runtimeDir() string {
	rt := c.getenv("XDG_RUNTIME_DIR")
	if rt == "" || !filepath.IsAbs(rt) {
		return ""
	}
	fi, err := os.Lstat(rt)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 {
		return ""
	}
	if _, err := cache.Open(rt); err != nil { // the owner check
		return ""
	}
	return rt
}

// tokenFileCandidates are the paths where a server listening at listen
// would keep its token file: --token-file; else, for a fixed port, the
// default in the runtime folder and in the cache folder (where earlier
// versions, or a session without the runtime folder, wrote it).
func (c *cli) tokenFileCandidates(flag, cacheDir, listen string) []string {
	if flag != "" {
		if abs, err := filepath.Abs(flag); err == nil {
			return []string{abs}
		}
		return nil
	}
	_, port, err := net.SplitHostPort(listen)
	if err != nil || port == "" || port == "0" {
		return nil
	}
	var paths []string
	if rt := c.runtimeDir(); rt != "" {
		paths = append(paths, filepath.Join(rt, runtimeSubdir, tokenFileName(port)))
	}
	return append(paths, filepath.Join(cacheDir, tokenFileName(port)))
}

// removeStaleTokenFile removes the file at path if it holds a server's
// token (and nothing else of the user's), and reports whether it did.
func removeStaleTokenFile(path string) bool {
	b, err := readSmall(path)
	return err == nil && tokenShape.Match(b) && os.Remove(path) == nil
}

// announce says where the server is: on stderr for people, and with
// --print-env as shell commands on stdout. The token itself goes to
// neither.
func (c *cli) announce(srv *server.Server, addr net.Addr, tokenFile string, o serveOptions) error {
	hostport := addr.String()
	fmt.Fprintf(c.stderr, "%s: serve: listening on %s, authorization token in %s\n", name, hostport, tokenFile)
	if ip := addr.(*net.TCPAddr).IP; !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
		c.warnf("serve: %s is not a loopback address: whoever reaches it with the token gets the credentials", hostport)
	}
	for _, n := range srv.Names() {
		fmt.Fprintf(c.stderr, "%s: serve: %s at %s\n", name, n, server.URL(hostport, n))
	}
	if *o.imds {
		fmt.Fprintf(c.stderr, "%s: serve: IMDSv2 at http://%s/ for %s (no token needed)\n", name, hostport, envIMDS)
	}
	if !*o.printEnv {
		return nil
	}
	out, err := exportServer(*o.format, srv.Names()[0], hostport, tokenFile, *o.imds)
	if err != nil {
		return err
	}
	for _, n := range srv.Names()[1:] {
		// A comment in every shell format: one variable names one profile.
		out += fmt.Sprintf("# %s of %s: %s\n", envFullURI, n, server.URL(hostport, n))
	}
	_, err = io.WriteString(c.stdout, out)
	return err
}

// exportServer renders the commands that point the SDKs at a server
// listening at hostport, for its profile name. Both token variables are
// set: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE for the clients that know it
// (current botocore, aws-sdk-go v1 and v2 and JS v3 read the file first, on
// every fetch, so they follow a restarted server), and
// AWS_CONTAINER_AUTHORIZATION_TOKEN for the clients released before 2023,
// which know only that one (Debian 12's aws CLI v2 and rclone, the JS SDK
// v2). The latter is read from the file when the shell runs the commands:
// the token is never printed.
func exportServer(format, name, hostport, tokenFile string, imds bool) (string, error) {
	vars := []shellenv.Var{{Name: envFullURI, Value: server.URL(hostport, name)}, {Name: envTokenFile, Value: tokenFile}}
	if imds {
		vars = append(vars, shellenv.Var{Name: envIMDS, Value: "http://" + hostport + "/"})
	}
	out, err := shellenv.ExportVars(format, vars, shadowing)
	if err != nil {
		return "", err
	}
	fromFile, err := shellenv.ExportFileVars(format, []shellenv.Var{{Name: envToken, Value: tokenFile}})
	return out + fromFile, err
}

// lockedWriter serialises the lines of the server's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// serveShutdown waits for a server started with Serve to end, at most
// ShutdownTimeout after its context ended.
func serveShutdown(done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-time.After(2 * server.ShutdownTimeout):
		return errors.New("the credentials server did not shut down in time")
	}
}

// tokenShape is what writeTokenFile writes: a server's token, 32 random
// bytes in base64url.
var tokenShape = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// checkTokenFile refuses to replace a file that is not a server's token
// file (a --token-file mistyped onto something of the user's): a missing
// file, or one holding an earlier server's token, may be replaced.
func checkTokenFile(path string) error {
	b, err := readSmall(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !tokenShape.Match(b):
		return fmt.Errorf("%s exists and holds no server token: refusing to replace it", path)
	}
	return nil
}

// removeTokenFile removes the token file at shutdown, unless it no longer
// holds this server's token (another server took the path since).
func removeTokenFile(path, token string) {
	if b, err := readSmall(path); err == nil && string(b) == token {
		_ = os.Remove(path)
	}
}

// readSmall reads a file of at most a few bytes, without following a
// FIFO's open: what is there may be anything.
func readSmall(path string) ([]byte, error) { return smallfile.Read(path, 1<<10) }

// stopSignals are the signals that shut serve down cleanly, the token file
// removed: also SIGQUIT (which would otherwise end it with a dump of its
// goroutines, leaving the file behind), and SIGHUP (the terminal of a
// background serve closed), unless nohup ignores it.
func stopSignals() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}
