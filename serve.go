package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/server"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const serveUsage = `Usage:
  vault-credential-process serve [--listen ADDR] [--imds] [--print-env [--format sh|fish|powershell]]
                                 [--token-file PATH] [flags] [PROFILE...]

Serves AWS credentials over HTTP to the AWS CLI and SDKs, which ask for
new ones by themselves: the container credentials protocol
(AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE),
and with --imds an emulation of EC2's instance metadata service (IMDSv2,
for AWS_EC2_METADATA_SERVICE_ENDPOINT). Each PROFILE of the configuration
file is served at /creds/PROFILE; without one, the request the flags
describe is served at /creds/ and its profile or role.

The credentials are fetched before the server listens (an MFA prompt or a
login happens then), kept in memory and refreshed in the background ahead
of expiry through the same cache as credential_process, so a request never
waits on Vault. While Vault is down the server serves what is still valid;
with nothing valid it answers 503. Every request needs the authorization
token (a random value written to a 0600 file) and a Host header naming the
listen address. stderr gets one line per request and per refresh, never a
secret. SIGINT or SIGTERM shut it down.

Flags:
  --listen ADDR             address to listen on (default 127.0.0.1:0: loopback, a free port)
  --print-env               print commands that set the variables for the server to stdout
  --format FORMAT           sh (default; bash, zsh, dash), fish or powershell; implies --print-env
  --token-file PATH         file for the authorization token (default: serve-PORT.token in the cache folder)
  --imds                    also serve the IMDSv2 emulation at /latest/; it asks for no authorization
                            token: any process that can reach the address gets the credentials
` + requestFlagsUsage + `
Examples:
  vault-credential-process serve --profile dev --print-env > ~/.aws-serve.env &
  . ~/.aws-serve.env && aws sts get-caller-identity
  vault-credential-process serve --listen 127.0.0.1:9911 dev prod
  vault-credential-process serve --role deploy --type assumed_role --imds --print-env --format fish | source
`

// serveOptions are the flags of serve beyond the request flags.
type serveOptions struct {
	listen, format, tokenFile *string
	printEnv, imds            *bool
}

func serveFlags(fs interface {
	String(name, value, usage string) *string
	Bool(name string, value bool, usage string) *bool
}) serveOptions {
	return serveOptions{
		listen: fs.String("listen", "", ""), format: fs.String("format", "", ""), tokenFile: fs.String("token-file", "", ""),
		printEnv: fs.Bool("print-env", false, ""), imds: fs.Bool("imds", false, ""),
	}
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
	"AWS_CREDENTIAL_EXPIRATION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", envToken}

func (c *cli) serve(ctx context.Context, args []string) int {
	fs := flagSet("serve", true)
	o := serveFlags(fs)
	flags, code, done := c.parseCommand(fs, args, "serve", serveUsage, true)
	if done {
		return code
	}
	if err := o.check(flags, fs.Args()); err != nil {
		return c.report(err)
	}
	c.stderr = &lockedWriter{w: c.stderr}
	ctx, stop := signal.NotifyContext(ctx, stopSignals()...)
	defer stop()
	srv, first, err := c.newServer(ctx, flags, fs.Args(), *o.imds, "serve")
	var warm *warmError
	if errors.As(err, &warm) && process.Unavailable(warm.err) {
		// Vault cannot be reached yet (serve started with the session,
		// before the network): serve anyway, answering 503 until the
		// background refresh gets through. A refusal ends the start.
		c.warnf("serve: %v; answering 503 until Vault can be reached", warm.err)
		srv, err = warm.srv, nil
	}
	if err != nil {
		return c.report(err)
	}
	ln, err := server.Listen(*o.listen)
	if err != nil {
		return c.report(&process.Error{Code: exitFailure, Msg: "serve: " + err.Error(), Err: err,
			Hint: "pick another --listen address, or leave it out for a free port on 127.0.0.1"})
	}
	defer ln.Close()
	tokenFile, err := writeTokenFile(*o.tokenFile, first.CacheDir, ln.Addr(), srv.Token())
	if err != nil {
		return c.report(err)
	}
	defer removeTokenFile(tokenFile, srv.Token())
	if err := c.announce(srv, ln.Addr(), tokenFile, o); err != nil {
		return c.report(err)
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return c.report(fmt.Errorf("serve: %w", err))
	}
	fmt.Fprintf(c.stderr, "%s: serve: shut down\n", name)
	return exitOK
}

// check refuses combinations the flags cannot mean.
func (o serveOptions) check(flags map[string]string, profiles []string) error {
	if *o.format != "" {
		*o.printEnv = true
	}
	if *o.format != "" {
		if err := checkFormat(*o.format); err != nil {
			return err
		}
	}
	if _, ok := flags[config.IDProfile.Setting().Name]; ok && len(profiles) > 0 {
		return usageError("serve: give profiles either with --profile or as arguments, not both")
	}
	return nil
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
func (c *cli) newServer(ctx context.Context, flags map[string]string, names []string, imds bool, command string) (*server.Server, *config.Settings, error) {
	if len(names) == 0 {
		names = []string{""}
	}
	var profiles []server.Profile
	var first *config.Settings
	for _, n := range names {
		f := maps.Clone(flags)
		if n != "" {
			f[config.IDProfile.Setting().Name] = n
		}
		s, err := c.settings(f, false)
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
	fetch := func(ctx context.Context, interactive bool) (*process.Credentials, string, error) {
		return c.fetch(ctx, command, s, interactive)
	}
	// The lease look-up between refreshes, so that keys Vault revoked stop
	// being served within server.LeaseCheckInterval; bounded by --timeout.
	check := func(ctx context.Context, creds *process.Credentials) error {
		ctx, cancel := context.WithTimeout(ctx, s.Timeout)
		defer cancel()
		return c.unattendedRunner(s).Check(ctx, creds)
	}
	return server.Profile{Name: name, Fetch: fetch, Check: check, Policy: process.PolicyOf(s)}
}

// writeTokenFile writes the authorization token to path, or to
// serve-PORT.token in the cache folder, mode 0600 through the one atomic
// writer; it returns the path.
func writeTokenFile(path, cacheDir string, addr net.Addr, token string) (string, error) {
	if path == "" {
		store, err := cache.Open(cacheDir)
		if err != nil {
			return "", &process.Error{Code: exitFailure, Msg: "serve: the folder for the token file: " + err.Error(), Err: err,
				Hint: "pass --token-file PATH in a folder of your own, or --cache-dir"}
		}
		_, port, _ := net.SplitHostPort(addr.String())
		path = filepath.Join(store.Dir(), "serve-"+port+".token")
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		err = checkTokenFile(abs)
	}
	if err == nil {
		err = cache.WriteFile(abs, []byte(token), 0o600)
	}
	if err != nil {
		return "", &process.Error{Code: exitFailure, Msg: fmt.Sprintf("serve: write the token file %s: %v", path, err), Err: err,
			Hint: "pass --token-file PATH in a folder of your own"}
	}
	return abs, nil
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
	vars := []process.EnvVar{{Name: envFullURI, Value: server.URL(hostport, srv.Names()[0])}, {Name: envTokenFile, Value: tokenFile}}
	if *o.imds {
		vars = append(vars, process.EnvVar{Name: envIMDS, Value: "http://" + hostport + "/"})
	}
	out, err := process.ExportVars(*o.format, vars, shadowing)
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
func readSmall(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return io.ReadAll(io.LimitReader(f, 1<<10))
}

// stopSignals are the signals that shut serve down cleanly: also SIGHUP
// (the terminal of a background serve closed), unless nohup ignores it.
func stopSignals() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}
