package awslogin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/sts"
)

// Keys the tests hand out; none is real.
const (
	testKeyID  = "AKIAAWSLOGINTEST0001"
	testSecret = "awslogin-test-secret-key-not-real"
	testToken  = "awslogin-test-session-token-not-real"
)

// source is a Source of kind reading only env, running credential_process
// children for real.
func source(kind, profile string, env map[string]string) *Source {
	return &Source{Kind: kind, Profile: profile, Getenv: func(k string) string { return env[k] },
		Executable: os.Executable, Run: runChild}
}

func runChild(ctx context.Context, stdout io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Stdout = MarkEnv(nil), stdout
	return cmd.Run()
}

// wantError checks err is an *Error of the given kind whose message holds msg.
func wantError(t *testing.T, err error, usage bool, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want an *awslogin.Error", err)
	}
	if e.Usage != usage || !strings.Contains(e.Msg, msg) {
		t.Errorf("error %q (usage %v), want usage %v and %q", e.Msg, e.Usage, usage, msg)
	}
	for _, secret := range []string{testSecret, testToken} {
		if strings.Contains(e.Msg+e.Hint, secret) {
			t.Errorf("the error shows a secret: %q %q", e.Msg, e.Hint)
		}
	}
}

func TestMarkEnv(t *testing.T) {
	got := MarkEnv([]string{"A=1", marker + "=7", "B=2"})
	if want := []string{"A=1", "B=2", marker + "=1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MarkEnv = %q, want %q", got, want)
	}
	if !slices.Contains(MarkEnv(nil), marker+"=1") {
		t.Error("MarkEnv(nil) has no marker")
	}
}

// TestMarkerRefuses: a helper started by a helper refuses every source, before
// reading or asking anything.
func TestMarkerRefuses(t *testing.T) {
	for _, kind := range []string{config.AWSFromEnv, config.AWSFromProfile, config.AWSFromContainer, config.AWSFromIMDS} {
		t.Run(kind, func(t *testing.T) {
			asked := false
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { asked = true }))
			defer srv.Close()
			s := source(kind, "p", map[string]string{marker: "1", "AWS_ACCESS_KEY_ID": testKeyID, "AWS_SECRET_ACCESS_KEY": testSecret,
				"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL, "AWS_EC2_METADATA_SERVICE_ENDPOINT": srv.URL})
			_, err := s.Identity()
			wantError(t, err, true, "started by vault-credential-process itself ("+marker)
			_, err = s.keys(context.Background())
			wantError(t, err, true, "started by vault-credential-process itself")
			if asked {
				t.Error("the endpoint was asked")
			}
		})
	}
}

func TestEnvSource(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want sts.Keys
		err  string // in the message; "" for success
	}{
		{"long-term keys", map[string]string{"AWS_ACCESS_KEY_ID": testKeyID, "AWS_SECRET_ACCESS_KEY": testSecret},
			sts.Keys{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, ""},
		{"session keys", map[string]string{"AWS_ACCESS_KEY_ID": testKeyID, "AWS_SECRET_ACCESS_KEY": testSecret, "AWS_SESSION_TOKEN": testToken},
			sts.Keys{AccessKeyID: testKeyID, SecretAccessKey: testSecret, SessionToken: testToken}, ""},
		{"no key id", map[string]string{"AWS_SECRET_ACCESS_KEY": testSecret}, sts.Keys{}, "AWS_ACCESS_KEY_ID is not set"},
		{"no secret", map[string]string{"AWS_ACCESS_KEY_ID": testKeyID}, sts.Keys{}, "AWS_SECRET_ACCESS_KEY is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := source(config.AWSFromEnv, "", tt.env).keys(context.Background())
			if tt.err != "" {
				wantError(t, err, true, tt.err)
				return
			}
			if err != nil || k != tt.want {
				t.Fatalf("keys = %+v, %v", k, err)
			}
			id, err := source(config.AWSFromEnv, "", tt.env).Identity()
			if err != nil || !reflect.DeepEqual(id, []string{"access_key_id", testKeyID}) {
				t.Errorf("Identity = %q, %v", id, err)
			}
		})
	}
}

// TestProfileSource reads static keys and credential_process from the shared files
// as the SDKs do, and refuses what the helper does not follow.
func TestProfileSource(t *testing.T) {
	dir := t.TempDir()
	process := filepath.Join(dir, "creds.sh")
	doc := fmt.Sprintf(`{"Version":1,"AccessKeyId":%q,"SecretAccessKey":%q,"SessionToken":%q}`, "ASIAPROCESS", testSecret, testToken)
	if err := os.WriteFile(process, []byte("#!/bin/sh\necho '"+doc+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	credsFile := `# comment
[static]
aws_access_key_id = AKIACREDSFILE
aws_secret_access_key = ` + testSecret + `

[both]
aws_access_key_id = AKIAFROMCREDS
aws_secret_access_key = ` + testSecret + `
`
	configFile := `[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = ` + testSecret + `

[profile both]
aws_access_key_id = AKIAFROMCONFIG
aws_secret_access_key = x

[profile conf]
region = eu-west-1
aws_access_key_id = AKIACONFIG
aws_secret_access_key = ` + testSecret + `
aws_session_token = ` + testToken + `
s3 =
  max_concurrent_requests = 20

[profile proc]
credential_process = ` + process + ` --flag

[profile bad-json]
credential_process = echo not-json

[profile failing]
credential_process = sh -c 'exit 3'

[profile sso]
sso_session = corp
sso_account_id = 123456789012

[profile assume]
role_arn = arn:aws:iam::123456789012:role/x
source_profile = static

[profile empty]
region = us-east-1

[static]
aws_access_key_id = AKIANOTAPROFILE
`
	env := map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"), "AWS_CONFIG_FILE": filepath.Join(dir, "config")}
	writeFile(t, env["AWS_SHARED_CREDENTIALS_FILE"], credsFile)
	writeFile(t, env["AWS_CONFIG_FILE"], configFile)

	tests := []struct {
		profile string
		want    sts.Keys
		id      []string
		err     string
		usage   bool
	}{
		{"static", sts.Keys{AccessKeyID: "AKIACREDSFILE", SecretAccessKey: testSecret}, []string{"profile", "static", "access_key_id", "AKIACREDSFILE"}, "", false},
		{"both", sts.Keys{AccessKeyID: "AKIAFROMCREDS", SecretAccessKey: testSecret}, []string{"profile", "both", "access_key_id", "AKIAFROMCREDS"}, "", false},
		{"conf", sts.Keys{AccessKeyID: "AKIACONFIG", SecretAccessKey: testSecret, SessionToken: testToken}, []string{"profile", "conf", "access_key_id", "AKIACONFIG"}, "", false},
		{"default", sts.Keys{AccessKeyID: "AKIADEFAULT", SecretAccessKey: testSecret}, []string{"profile", "default", "access_key_id", "AKIADEFAULT"}, "", false},
		{"proc", sts.Keys{AccessKeyID: "ASIAPROCESS", SecretAccessKey: testSecret, SessionToken: testToken},
			[]string{"profile", "proc", "credential_process", process + " --flag"}, "", false},
		{"bad-json", sts.Keys{}, nil, "did not print a Version 1 document", false},
		{"failing", sts.Keys{}, nil, "credential_process failed: exit status 3", false},
		{"sso", sts.Keys{}, nil, "gets its keys with sso_session, which the helper does not follow", true},
		{"assume", sts.Keys{}, nil, "gets its keys with role_arn", true},
		{"empty", sts.Keys{}, nil, "neither aws_access_key_id nor credential_process", true},
		{"missing", sts.Keys{}, nil, "no profile missing in", true},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			s := source(config.AWSFromProfile, tt.profile, env)
			k, err := s.keys(context.Background())
			if tt.err != "" {
				wantError(t, err, tt.usage, tt.err)
				return
			}
			if err != nil || k != tt.want {
				t.Fatalf("keys = %+v, %v", k, err)
			}
			if id, err := s.Identity(); err != nil || !reflect.DeepEqual(id, tt.id) {
				t.Errorf("Identity = %q, %v; want %q", id, err, tt.id)
			}
		})
	}
	t.Run("the sso hint names the CLI's export", func(t *testing.T) {
		_, err := source(config.AWSFromProfile, "sso", env).Identity()
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(e.Hint, "credential_process = aws configure export-credentials --profile sso --format process") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("~/.aws without the variables", func(t *testing.T) {
		home := t.TempDir()
		writeFile(t, filepath.Join(home, ".aws", "credentials"), credsFile)
		k, err := source(config.AWSFromProfile, "static", map[string]string{"HOME": home}).keys(context.Background())
		if err != nil || k.AccessKeyID != "AKIACREDSFILE" {
			t.Errorf("keys = %+v, %v", k, err)
		}
	})
}

// TestProfileRunsSelf: a credential_process that runs this helper is refused, by
// name, by path, through a link of another name and through PATH; another
// program is not.
func TestProfileRunsSelf(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "bin", "renamed-helper")
	writeFile(t, self, "#!/bin/sh\nexit 0\n")
	if err := os.Chmod(self, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "creds-link")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", filepath.Join(dir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, tt := range []struct {
		command string
		self    bool
	}{
		{"/usr/local/bin/vault-credential-process --role x", true},
		{"'/opt/my tools/vault-credential-process' --profile p", true},
		{"env AWS_PROFILE=x vault-credential-process", true},
		{"aws-vault exec ops -- vault-credential-process --role r", true},
		{self + " --role x", true},
		{link + " --role x", true},
		{"renamed-helper --role x", true},
		{"aws configure export-credentials --profile sso --format process", false},
		{"/usr/bin/other-tool --role vault-credential-processor", false},
	} {
		t.Run(tt.command, func(t *testing.T) {
			s := &Source{Getenv: func(string) string { return "" }, Executable: func() (string, error) { return self, nil }}
			if got := s.runsSelf(tt.command); got != tt.self {
				t.Errorf("runsSelf = %v, want %v", got, tt.self)
			}
		})
	}
	t.Run("refused before it runs", func(t *testing.T) {
		marker := filepath.Join(dir, "ran")
		env := map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"), "AWS_CONFIG_FILE": filepath.Join(dir, "config")}
		writeFile(t, env["AWS_CONFIG_FILE"], "[profile loop]\ncredential_process = "+link+" --touch "+marker+"\n")
		s := source(config.AWSFromProfile, "loop", env)
		s.Executable = func() (string, error) { return self, nil }
		s.Run = func(context.Context, io.Writer, string, ...string) error {
			t.Error("the credential_process ran")
			return nil
		}
		_, err := s.Identity()
		wantError(t, err, true, "the profile's credential_process runs vault-credential-process")
		_, err = s.keys(context.Background())
		wantError(t, err, true, "runs vault-credential-process")
	})
}

func TestShellWords(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{`'a b' "c \"d\"" e\ f`, []string{"a b", `c "d"`, "e f"}},
		{`x;y|z&&w`, []string{"x", "y", "z", "w"}},
		{`''`, []string{""}},
	} {
		if got := shellWords("linux", tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("shellWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestShellWordsWindows: a Windows path keeps its backslashes, and is known by its
// base name.
func TestShellWordsWindows(t *testing.T) {
	got := shellWords("windows", `"C:\Program Files\vcp\vault-credential-process.exe" --profile p`)
	if want := []string{`C:\Program Files\vcp\vault-credential-process.exe`, "--profile", "p"}; !reflect.DeepEqual(got, want) {
		t.Errorf("shellWords = %q, want %q", got, want)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// credsJSON is what the container endpoint and instance metadata answer.
func credsJSON(keyID string) string {
	return fmt.Sprintf(`{"Code":"Success","AccessKeyId":%q,"SecretAccessKey":%q,"Token":%q,"Expiration":"2030-01-01T00:00:00Z"}`,
		keyID, testSecret, testToken)
}

// TestContainerSource asks an httptest container endpoint, with the authorization
// token from the file or the variable, and refuses what the SDKs refuse.
func TestContainerSource(t *testing.T) {
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/creds":
			fmt.Fprint(w, credsJSON("ASIACONTAINER"))
		case "/denied":
			http.Error(w, "no", http.StatusForbidden)
		case "/big":
			w.Write([]byte(strings.Repeat("x", maxRead+10)))
		case "/redirect":
			http.Redirect(w, r, "/creds", http.StatusFound)
		case "/empty":
			fmt.Fprint(w, `{"AccessKeyId":""}`)
		}
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, tokenFile, "token-from-file\n")

	tests := []struct {
		name     string
		env      map[string]string
		auth     string // Authorization the endpoint saw
		err      string
		usage    bool
		noAnswer bool // refused before asking
	}{
		{"full URI and token file", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds",
			"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored"}, "token-from-file", "", false, false},
		{"token variable", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds",
			"AWS_CONTAINER_AUTHORIZATION_TOKEN": "token-from-env"}, "token-from-env", "", false, false},
		{"no token", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds"}, "", "", false, false},
		{"refused", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/denied"}, "", "answered 403", false, false},
		{"too large", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/big"}, "", "larger than 1024 KiB", false, false},
		{"redirect", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/redirect",
			"AWS_CONTAINER_AUTHORIZATION_TOKEN": "t"}, "t", "redirected elsewhere", false, false},
		{"no keys", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/empty"}, "", "holds no credentials", false, false},
		{"not set", nil, "", "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor", true, true},
		{"plain http elsewhere", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/creds"}, "", "plain http to example.com", true, true},
		{"token with a line break", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds",
			"AWS_CONTAINER_AUTHORIZATION_TOKEN": "a\nb"}, "", "line break", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotAuth = nil
			k, err := source(config.AWSFromContainer, "", tt.env).keys(context.Background())
			switch {
			case tt.err != "":
				wantError(t, err, tt.usage, tt.err)
			case err != nil || k != (sts.Keys{AccessKeyID: "ASIACONTAINER", SecretAccessKey: testSecret, SessionToken: testToken}):
				t.Fatalf("keys = %+v, %v", k, err)
			}
			if tt.noAnswer != (len(gotAuth) == 0) {
				t.Errorf("endpoint asked %d times; refused before asking: %v", len(gotAuth), tt.noAnswer)
			}
			if len(gotAuth) > 0 && gotAuth[0] != tt.auth {
				t.Errorf("Authorization %q, want %q", gotAuth[0], tt.auth)
			}
		})
	}
	t.Run("relative URI is ECS's address", func(t *testing.T) {
		s := source(config.AWSFromContainer, "", map[string]string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
			"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds"})
		id, err := s.Identity()
		if err != nil || !reflect.DeepEqual(id, []string{"container", "http://169.254.170.2/v2/credentials/abc"}) {
			t.Errorf("Identity = %q, %v", id, err)
		}
	})
}

// TestIMDSSource walks IMDSv2 on an httptest server: the session token, then the
// role, then its credentials, each GET with the token.
func TestIMDSSource(t *testing.T) {
	const sessionToken = "imds-session-token"
	var steps []string
	role := "web-role"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		steps = append(steps, r.Method+" "+r.URL.Path)
		if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
			if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
				http.Error(w, "no ttl", http.StatusBadRequest)
				return
			}
			fmt.Fprint(w, sessionToken)
			return
		}
		if r.Header.Get("X-aws-ec2-metadata-token") != sessionToken {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/latest/meta-data/iam/security-credentials/":
			fmt.Fprint(w, role)
		case "/latest/meta-data/iam/security-credentials/web-role":
			fmt.Fprint(w, credsJSON("ASIAIMDS"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	t.Run("IMDSv2", func(t *testing.T) {
		steps = nil
		s := source(config.AWSFromIMDS, "", map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": srv.URL + "/"})
		k, err := s.keys(context.Background())
		if err != nil || k != (sts.Keys{AccessKeyID: "ASIAIMDS", SecretAccessKey: testSecret, SessionToken: testToken}) {
			t.Fatalf("keys = %+v, %v", k, err)
		}
		want := []string{"PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/", "GET /latest/meta-data/iam/security-credentials/web-role"}
		if !reflect.DeepEqual(steps, want) {
			t.Errorf("requests %q, want %q", steps, want)
		}
		if id, err := s.Identity(); err != nil || !reflect.DeepEqual(id, []string{"imds", srv.URL}) {
			t.Errorf("Identity = %q, %v", id, err)
		}
	})
	t.Run("no role", func(t *testing.T) {
		role = "../x"
		defer func() { role = "web-role" }()
		_, err := source(config.AWSFromIMDS, "", map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": srv.URL}).keys(context.Background())
		wantError(t, err, false, "names no instance profile role")
	})
	t.Run("disabled", func(t *testing.T) {
		steps = nil
		_, err := source(config.AWSFromIMDS, "", map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": srv.URL,
			"AWS_EC2_METADATA_DISABLED": "true"}).keys(context.Background())
		wantError(t, err, true, "AWS_EC2_METADATA_DISABLED is true")
		if len(steps) != 0 {
			t.Errorf("asked %q", steps)
		}
	})
	t.Run("default endpoint", func(t *testing.T) {
		if id, err := source(config.AWSFromIMDS, "", nil).Identity(); err != nil || id[1] != "http://169.254.169.254" {
			t.Errorf("Identity = %q, %v", id, err)
		}
	})
}

func TestResolve(t *testing.T) {
	for _, tt := range []struct {
		r                Request
		endpoint, region string
		err              string
	}{
		{Request{}, "https://sts.amazonaws.com", "us-east-1", ""},
		{Request{Region: "eu-west-1"}, "https://sts.eu-west-1.amazonaws.com", "eu-west-1", ""},
		{Request{Region: "cn-north-1"}, "https://sts.cn-north-1.amazonaws.com.cn", "cn-north-1", ""},
		{Request{Endpoint: "https://sts.example.com"}, "https://sts.example.com", "us-east-1", ""},
		{Request{Endpoint: "http://127.0.0.1:5000", Region: "eu-west-1"}, "http://127.0.0.1:5000", "eu-west-1", ""},
		{Request{Endpoint: "http://sts.example.com"}, "", "", "plain http to a host other than this machine"},
	} {
		e, r, err := tt.r.resolve()
		if tt.err != "" {
			wantError(t, err, true, tt.err)
			continue
		}
		if err != nil || e != tt.endpoint || r != tt.region {
			t.Errorf("%+v: resolve = %q %q %v", tt.r, e, r, err)
		}
	}
}

// decoded is a login body with its base64 fields decoded.
type decoded struct {
	role, method, url, body string
	headers                 http.Header
}

func decode(t *testing.T, data map[string]any) decoded {
	t.Helper()
	field := func(k string) string {
		s, _ := data[k].(string)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("%s is not base64: %v", k, err)
		}
		return string(b)
	}
	d := decoded{role: data["role"].(string), method: data["iam_http_request_method"].(string),
		url: field("iam_request_url"), body: field("iam_request_body")}
	if err := json.Unmarshal([]byte(field("iam_request_headers")), &d.headers); err != nil {
		t.Fatalf("iam_request_headers: %v", err)
	}
	return d
}

// TestLoginData: the body Vault's iam login reads, signed for the region with the
// server id header among the signed ones.
func TestLoginData(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		keys   sts.Keys
		r      Request
		url    string
		scope  string
		signed string
	}{
		{"defaults", sts.Keys{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, Request{Role: "r"},
			"https://sts.amazonaws.com/", "20261204/us-east-1/sts/aws4_request", "content-length;content-type;host;x-amz-date"},
		{"session, server id, region", sts.Keys{AccessKeyID: testKeyID, SecretAccessKey: testSecret, SessionToken: testToken},
			Request{Role: "ci", ServerID: "vault.example.com", Region: "eu-west-1"},
			"https://sts.eu-west-1.amazonaws.com/", "20261204/eu-west-1/sts/aws4_request",
			"content-length;content-type;host;x-amz-date;x-amz-security-token;x-vault-aws-iam-server-id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data, err := loginData(context.Background(), tt.keys, tt.r, now)
			if err != nil {
				t.Fatal(err)
			}
			d := decode(t, data)
			if d.role != tt.r.Role || d.method != "POST" || d.url != tt.url || d.body != "Action=GetCallerIdentity&Version=2011-06-15" {
				t.Errorf("login body %+v", d)
			}
			auth := d.headers.Get("Authorization")
			if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+testKeyID+"/"+tt.scope+", SignedHeaders="+tt.signed+", Signature=") {
				t.Errorf("Authorization %q", auth)
			}
			if d.headers.Get("X-Amz-Date") != "20261204T100000Z" || d.headers.Get("Content-Type") != sts.FormType {
				t.Errorf("headers %v", d.headers)
			}
			if got := d.headers.Get("X-Amz-Security-Token"); got != tt.keys.SessionToken {
				t.Errorf("X-Amz-Security-Token %q", got)
			}
			if got := d.headers.Get(serverIDHeader); got != tt.r.ServerID {
				t.Errorf("%s %q", serverIDHeader, got)
			}
			if strings.Contains(fmt.Sprint(data), testSecret) {
				t.Error("the login body holds the secret key")
			}
		})
	}
}

// TestLoginAsksSTS: a login asks STS whom the keys belong to; STS's refusal fails
// it with STS's code, an unreachable STS does not.
func TestLoginAsksSTS(t *testing.T) {
	refuse := false
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "text/xml")
		if refuse {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>`)
			return
		}
		fmt.Fprint(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`)
	}))
	defer srv.Close()
	env := map[string]string{"AWS_ACCESS_KEY_ID": testKeyID, "AWS_SECRET_ACCESS_KEY": testSecret}
	var debug []string
	src := source(config.AWSFromEnv, "", env)
	src.Debugf = func(f string, a ...any) { debug = append(debug, fmt.Sprintf(f, a...)) }

	data, err := Login(context.Background(), src, Request{Role: "r", Endpoint: srv.URL})
	if err != nil || decode(t, data).url != srv.URL+"/" {
		t.Fatalf("Login = %v, %v", data, err)
	}
	if calls != 1 || !slices.ContainsFunc(debug, func(s string) bool { return strings.Contains(s, "arn:aws:iam::123456789012:user/ci") }) {
		t.Errorf("%d STS calls; debug %q", calls, debug)
	}

	refuse = true
	_, err = Login(context.Background(), src, Request{Role: "r", Endpoint: srv.URL})
	wantError(t, err, false, "InvalidClientTokenId: The security token included in the request is invalid.")

	srv.Close()
	if _, err := Login(context.Background(), src, Request{Role: "r", Endpoint: srv.URL}); err != nil {
		t.Errorf("Login with STS unreachable = %v, want the login body", err)
	}
}
