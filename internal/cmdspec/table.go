package cmdspec

import (
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/shellenv"
)

// Table holds every command line, indexed by ID. It is read-only. Its
// values are constants and addresses only, so the linker lays it out and
// no code runs at start-up to build it.
var Table = [NumIDs]Command{
	Default: {
		Synopsis: []string{"[flags]"},
		Text: []string{`Prints AWS credentials from HashiCorp Vault's AWS secrets engine as the
credential_process JSON document, for the AWS CLI and SDKs. Credentials are
cached on disk until near expiry, so most runs never reach Vault. Each
command has its own -h.`},
		Flags: []*Flag{&requestFlags, &VersionFlag, &helpFlag},
		Notes: []string{`Every flag above but --version can also be set with
VAULT_CREDENTIAL_PROCESS_<FLAG>, such as VAULT_CREDENTIAL_PROCESS_ROLE.
Precedence: flag > environment > profile > defaults tables > built-in.
Vault itself is reached as the vault CLI would: VAULT_ADDR, VAULT_TOKEN (or
~/.vault-token or a token helper), VAULT_NAMESPACE, VAULT_CACERT, ... To
log in with approle, kubernetes, jwt, userpass, ldap, cert, oidc or aws
instead, see [vault.auth] in docs/configuration.md.`,
			`Exit status: 0 success, 1 failure at run time, 2 usage or configuration error.`},
		Examples: []string{
			"# In ~/.aws/config:",
			"#   [profile dev]",
			"#   credential_process = /usr/local/bin/vault-credential-process --role dev",
			"vault-credential-process --role dev",
			"vault-credential-process --role deploy --type assumed_role --ttl 1h --role-session-name ci",
			"vault-credential-process --profile prod --debug",
		},
	},

	Env: {
		Name:     "env",
		Synopsis: []string{"env [--format sh|fish|powershell] [flags]"},
		Text: []string{`Prints commands that export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN (unset when there is none) and AWS_CREDENTIAL_EXPIRATION,
each value quoted for the shell. The request flags are those of
vault-credential-process -h; the cache works as usual.`},
		Flags: []*Flag{&EnvFormat, &requestFlags},
		Examples: []string{
			`eval "$(vault-credential-process env --profile dev)"`,
			"vault-credential-process env --format fish --role dev | source",
			"vault-credential-process env --format powershell --role dev | Invoke-Expression",
		},
	},

	Exec: {
		Name:     "exec",
		Synopsis: []string{"exec [--server [--imds]] [flags] -- COMMAND [ARGS...]"},
		Text: []string{`Runs COMMAND with the credentials in AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION, and
without AWS_PROFILE, AWS_DEFAULT_PROFILE or any other AWS key variable it
inherited. On Unix the helper replaces itself with COMMAND, so signals and
the exit status are COMMAND's own; elsewhere it forwards interrupts and
exits with COMMAND's status. Nested use (exec inside exec) is refused.`,
			`With --server, COMMAND gets no keys: the helper serves the credentials on
127.0.0.1 (see serve -h), sets only AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN, and stays alive as COMMAND's parent,
refreshing the credentials in the background, so a COMMAND that outlives
them keeps working. The credentials are fetched (and an MFA prompt shown)
before COMMAND starts. Signals are passed on to COMMAND; the exit status is
COMMAND's (128 + the signal's number if a signal ended it).`},
		Flags: []*Flag{&ExecServer, &ExecIMDS, &requestFlags},
		Args:  Run,
		Examples: []string{
			"vault-credential-process exec --profile dev -- aws s3 ls",
			"vault-credential-process exec --role deploy --type assumed_role -- terraform apply",
			"vault-credential-process exec --server --profile deploy -- terraform apply",
		},
	},

	Serve: {
		Name: "serve",
		Synopsis: []string{"serve [--detach | --print-env] [--format sh|fish|powershell] [--listen ADDR]\n" +
			"[--imds] [--token-file PATH] [flags] [PROFILE...]"},
		Text: []string{`Serves AWS credentials over HTTP to the AWS CLI and SDKs, which ask for
new ones by themselves: the container credentials protocol
(AWS_CONTAINER_CREDENTIALS_FULL_URI with an authorization token), and with
--imds an emulation of EC2's instance metadata service (IMDSv2, for
AWS_EC2_METADATA_SERVICE_ENDPOINT). Each PROFILE of the configuration
file is served at /creds/PROFILE; without one, the request the flags
describe is served at /creds/ and its profile or role.`,
			`The credentials are fetched before the server listens (an MFA prompt or a
login happens then), kept in memory and refreshed in the background ahead
of expiry through the same cache as credential_process, so a request never
waits on Vault. While Vault is down the server serves what is still valid;
with nothing valid it answers 503. Every request needs the authorization
token (a random value written to a 0600 file) and a Host header naming the
listen address; a refusal closes its connection, and at most 256
connections are open at once. GET /healthz, without the token, answers
200 {"status":"ready"} or 503 {"status":"not_ready"} and nothing else.
stderr gets one line per request and per refresh, never a secret;
refusals past a few a second are counted and summed up every 10 seconds
instead. SIGINT, SIGTERM, SIGQUIT or SIGHUP shut it down and remove the
token file.`,
			`With --detach it runs in the background, as ssh-agent does: the command
returns once the credentials are in memory and the server listens, having
printed the commands that set the variables (with
VAULT_CREDENTIAL_PROCESS_SERVE_PID and VAULT_CREDENTIAL_PROCESS_SERVE_LOG);
the log goes to serve-PORT.log beside the token file. Stop it with
kill $VAULT_CREDENTIAL_PROCESS_SERVE_PID.`,
			`Under systemd: with socket activation (LISTEN_FDS and LISTEN_PID) it serves
on the socket systemd passed, which systemd holds while the server
restarts; as a Type=notify service it sends READY=1 once the credentials
are in memory and it listens.`},
		Flags: []*Flag{&ServeDetach, &ServePrintEnv, &ServeFormat, &ServeListen, &ServeTokenFile, &ServeIMDS, &requestFlags},
		Args:  Profiles,
		Examples: []string{
			`eval "$(vault-credential-process serve --profile dev --detach)"`,
			"aws sts get-caller-identity",
			`kill "$VAULT_CREDENTIAL_PROCESS_SERVE_PID"`,
			"vault-credential-process serve --listen 127.0.0.1:9911 dev prod",
			"vault-credential-process serve --role deploy --type assumed_role --imds --detach --format fish | source",
		},
	},

	// pod-agent is a command of its own, not a flag of serve: its callers
	// are many pods each proving who it is with its own JWT, where serve's
	// are one user's processes sharing one random token; it takes a
	// mapping file, not profiles and request flags; it keeps no cache
	// folder and has no --detach, --print-env or --token-file. As a serve
	// flag it would refuse nearly every other flag of serve.
	PodAgent: {
		Name:     "pod-agent",
		Synopsis: []string{"pod-agent --config PATH [--listen ADDR]..."},
		Text: []string{`A Kubernetes node agent, as EKS Pod Identity's: it serves the container
credentials protocol at /v1/credentials to pods that send their projected
service account token (a JWT) as the authorization token, that is with
AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials and
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE naming the token's file. Vault
verifies each token (its jwt or kubernetes auth method, as method in the
configuration says, with the role the configuration chooses from the
token's namespace and service account); the agent logs
in once per identity, mints that identity's AWS credentials once, keeps
them in memory and refreshes them ahead of expiry. A missing, expired,
forged or wrong-audience token gets 401, and a token Vault refused is
not sent to Vault again for 30 seconds. GET /healthz, without a token,
says whether Vault answers. Vault is reached as the vault CLI would
(VAULT_ADDR, VAULT_CACERT, VAULT_NAMESPACE, ...), with no token of the
agent's own. The log (stderr) has one line per request, never a secret.`},
		Flags: []*Flag{&PodAgentConfig, &PodAgentListen},
		Examples: []string{
			"vault-credential-process pod-agent --config /etc/vcp/agent.toml",
			"vault-credential-process pod-agent --config agent.toml --listen 169.254.170.23:80 --listen [fd00:ec2::23]:80",
		},
	},

	Cache: {
		Name: "cache",
		Text: []string{`list shows one row per cache entry: the profile or request, where the
credentials came from, when they expire, whether they are fresh, and what
else tells requests of one role apart (role_arn, role_session_name, ttl).
It never shows a secret; --json prints the same as a JSON array.`,
			`clear removes the entry of the request the flags describe (such as
--profile dev), or every entry and stored Vault login token with --all.
With --revoke it first revokes their leases in Vault: for iam_user
credentials Vault then deletes the IAM user; STS credentials stay valid
until they expire whatever Vault does. With --all --revoke it also revokes
each stored login token (with itself). Only what the Vault of this run
issued is revoked; what another Vault issued is kept, and the error's hint
says how to revoke it there.`},
		Examples: []string{
			"vault-credential-process cache list",
			"vault-credential-process cache clear --profile dev --revoke",
			"vault-credential-process cache clear --all",
		},
	},
	CacheList: {
		Name:     "list",
		Parent:   Cache,
		Synopsis: []string{"cache list [--json] [--cache-dir PATH] [--config PATH]"},
		Flags: []*Flag{&CacheListJSON,
			{Kind: KindSetting, Setting: config.IDCacheDir},
			{Kind: KindSetting, Setting: config.IDConfig},
			{Kind: KindSetting, Setting: config.IDRefreshWindow, Help: "an entry this close to expiry is stale, not fresh"}},
	},
	CacheClear: {
		Name:     "clear",
		Parent:   Cache,
		Synopsis: []string{"cache clear [--all | request flags] [--revoke]"},
		Flags:    []*Flag{&CacheClearAll, &CacheClearRevoke, &requestFlags},
	},

	Doctor: {
		Name:     "doctor",
		Synopsis: []string{"doctor [--fetch] [flags]"},
		Text: []string{`Answers "will my profile work?", one line per check, printed as each check
finishes: the configuration file; the Vault address, whether Vault answers,
is sealed, and its version; the local clock against Vault's; the token, its
source and how long it stays valid. With --profile or --role it resolves
the request as a run would and checks it with your token: that the mount
is an AWS secrets engine, that the role exists and issues the credential
type asked for, and that the token's policy allows the request. Then the
cache folder, and whether the AWS config file has a profile that runs this
helper. A check that waits more than two seconds says what it waits for;
each one gives up after --timeout.`,
			`Each failed check (✗) comes with a hint; a check doctor could not make is
marked - and says why. Exit status 1 when any check fails.`},
		Flags: []*Flag{&DoctorFetch, &requestFlags},
		Examples: []string{
			"vault-credential-process doctor",
			"vault-credential-process doctor --profile prod",
			"vault-credential-process doctor --role deploy --type assumed_role --fetch",
		},
	},

	AWSConfig: {
		Name: "aws-config",
		Synopsis: []string{
			"aws-config --profile NAME [--aws-profile NAME] [--config PATH] [--write [--force]]",
			"aws-config --all [--name TEMPLATE] [--region REGION] [--write] [--prune]",
		},
		Text: []string{`Prints the AWS config section for a profile of the helper's configuration
file, with the absolute path of this binary in credential_process, written
so that every major AWS client on this system runs it: on Unix blanks and
other special characters are escaped with a backslash, on Windows a path
with blanks is double-quoted. A path that no form suits for every client
(on Windows, one with blanks) gets a warning; one with a line break is not
written.`,
			`With --write it adds the section to the AWS config file (AWS_CONFIG_FILE,
else ~/.aws/config) atomically, leaving other profiles and comments as they
are. An existing profile of that name with another credential_process is
left alone unless --force, which replaces only its credential_process line.`,
			`With --all it lists the AWS secrets engines the Vault token can see and, in
each, the roles and static roles the token may list, and makes one profile
per role (per ARN for an assumed_role role with several role_arns, named
with the ARN's role name as a suffix), each under a comment line that marks
it as managed. It prints the change to the AWS config file as a unified
diff; --write makes it: new profiles are appended, managed ones updated in
place, every other line kept byte for byte. A managed profile whose role is
gone is removed only with --prune, and only when its mount was listed
completely. What the token may not list or read is reported on stderr with
the policy capability it lacks; the rest is still done. Any other failure
(Vault down, the deadline) changes nothing.`},
		Flags: []*Flag{
			{Kind: KindSetting, Setting: config.IDProfile, Help: "the helper's profile ([profiles.NAME])"},
			&AWSConfigAWSProfile,
			{Kind: KindSetting, Setting: config.IDConfig, Help: "the helper's configuration file"},
			&AWSConfigWrite, &AWSConfigForce, &AWSConfigAll, &AWSConfigName, &AWSConfigRegion, &AWSConfigPrune,
			{Kind: KindSetting, Setting: config.IDTimeout, Help: "with --all, limit for the whole listing"},
			{Kind: KindSetting, Setting: config.IDDebug, Help: "log each Vault request to stderr"},
		},
		Examples: []string{
			"vault-credential-process aws-config --profile dev",
			"vault-credential-process aws-config --profile dev --write",
			"vault-credential-process aws-config --all --region eu-west-1",
			"vault-credential-process aws-config --all --write --prune",
		},
	},

	Login: {
		Name:     "login",
		Synopsis: []string{"login [--stdout] [--destination URL] [--region R] [--duration D] [flags]"},
		Text: []string{`Opens the AWS Management Console, signed in with the credentials of the
request (from the cache, or from Vault). assumed_role and federation_token
credentials sign in directly; iam_user and static keys are first traded for
a federation token (sts:GetFederationToken, which the IAM user must be
allowed); session_token credentials cannot sign in to the console.`,
			`The sign-in URL is a credential for 15 minutes. The browser is not given
the URL but a page in a private temporary folder (mode 0600) that leads to
it, removed some seconds later; --stdout prints the URL instead. The
browser is $BROWSER if set, else xdg-open, open or the Windows handler.`},
		Flags: []*Flag{&LoginStdout, &LoginDestination, &LoginRegion, &LoginDuration, &LoginPolicy, &LoginPolicyARN,
			&LoginFederationEndpoint, &requestFlags},
		Notes: []string{`The STS endpoint of GetFederationToken is AWS_ENDPOINT_URL_STS, else
AWS_ENDPOINT_URL, else the region's.`},
		Examples: []string{
			"vault-credential-process login --profile prod",
			"vault-credential-process login --role deploy --type assumed_role --duration 4h",
			"vault-credential-process login --profile dev --stdout",
			"vault-credential-process login --profile dev --destination https://console.aws.amazon.com/s3/home",
		},
	},

	Completion: {
		Name:     "completion",
		Synopsis: []string{"completion bash|zsh|fish|powershell"},
		Words:    []string{"bash", "zsh", "fish", "powershell"},
		Text: []string{`Prints a script that completes the commands and flags of
vault-credential-process in that shell, and flag values: --type and
--format values, file names for paths, and for --profile the profiles of
the configuration file (the scripts ask "completion profiles", which prints
them one a line). The script is made from this version's own commands and
flags, so it matches the binary that printed it.`,
			`Install (the bash, zsh and PowerShell lines go in ~/.bashrc, ~/.zshrc after
compinit, and $PROFILE; they load this version's script at each start):
  bash        source <(vault-credential-process completion bash)
  zsh         source <(vault-credential-process completion zsh)
  fish        vault-credential-process completion fish > ~/.config/fish/completions/vault-credential-process.fish
  powershell  vault-credential-process completion powershell | Out-String | Invoke-Expression`},
		Examples: []string{
			"vault-credential-process completion bash > /etc/bash_completion.d/vault-credential-process",
			"vault-credential-process completion profiles --config ./config.toml",
		},
	},
	CompletionProfiles: {
		Name:     "profiles",
		Parent:   Completion,
		Synopsis: []string{"completion profiles [--config PATH]"},
		Flags:    []*Flag{{Kind: KindSetting, Setting: config.IDConfig}},
	},

	Version: {
		Name:     "version",
		Synopsis: []string{"version"},
		Text:     []string{"Prints the version, the commit it was built from and the Go version."},
	},

	Help: {
		Name:     "help",
		Synopsis: []string{"help [COMMAND]"},
		Text: []string{`Prints the usage, as -h does; with COMMAND, that command's usage, as
COMMAND -h does.`},
		Args: CommandName,
	},
}

// The flag entries that stand for flags declared elsewhere.
var (
	requestFlags = Flag{Kind: KindRequest}
	helpFlag     = Flag{Name: "help", Short: "h", Kind: KindHelp, Help: "show this help"}
)

// shells are the formats of env and serve --format.
var shells = []string{shellenv.FormatSh, shellenv.FormatFish, shellenv.FormatPowerShell}

// VersionFlag is the default command's own flag: print the version.
var VersionFlag = Flag{Name: "version", Kind: KindBool, Help: "print the version and exit"}

// EnvFormat is env's one flag of its own: the shell to write for.
var EnvFormat = Flag{Name: "format", Kind: KindString, Placeholder: "FORMAT", Values: shells,
	Help: "sh (default; bash, zsh, dash), fish or powershell"}

// The flags of exec.
var (
	ExecServer = Flag{Name: "server", Kind: KindBool,
		Help: "serve the credentials to COMMAND instead of putting keys in its environment"}
	ExecIMDS = Flag{Name: "imds", Kind: KindBool,
		Help: "with --server, also the IMDSv2 emulation, in AWS_EC2_METADATA_SERVICE_ENDPOINT"}
)

// The flags of serve.
var (
	ServeDetach = Flag{Name: "detach", Kind: KindBool,
		Help: "run in the background once ready, and print the variables (implies --print-env)"}
	ServePrintEnv = Flag{Name: "print-env", Kind: KindBool,
		Help: "print commands that set the variables for the server to stdout"}
	ServeFormat = Flag{Name: "format", Kind: KindString, Placeholder: "FORMAT", Values: shells,
		Help: "sh (default; bash, zsh, dash), fish or powershell; implies --print-env"}
	ServeListen = Flag{Name: "listen", Kind: KindString, Placeholder: "ADDR",
		Help: "address to listen on (default 127.0.0.1:0: loopback, a free port); an\n" +
			"address, not 0.0.0.0 or [::], which the whole network reaches"}
	ServeTokenFile = Flag{Name: "token-file", Kind: KindString, Placeholder: "PATH", Path: true,
		Help: "file for the authorization token (default: serve-PORT.token in\n" +
			"$XDG_RUNTIME_DIR/vault-credential-process, else in the cache folder)"}
	ServeIMDS = Flag{Name: "imds", Kind: KindBool,
		Help: "also serve the IMDSv2 emulation at /latest/; it asks for no authorization\n" +
			"token: any process that can reach the address gets the credentials"}
)

// The flags of pod-agent.
var (
	PodAgentConfig = Flag{Name: "config", Kind: KindString, Placeholder: "PATH", Path: true,
		Help: "the agent's TOML file: method, auth_mount, aws_mount, max_identities,\n" +
			"idle_timeout, [[rule]] and [default] (see docs/server.md, \"Kubernetes\")"}
	PodAgentListen = Flag{Name: "listen", Kind: KindList, Placeholder: "ADDR",
		Help: "address to listen on, repeatable (default 169.254.170.23:80)"}
)

// The flags of cache list and cache clear.
var (
	CacheListJSON    = Flag{Name: "json", Kind: KindBool, Help: "print the entries as a JSON array"}
	CacheClearAll    = Flag{Name: "all", Kind: KindBool, Help: "every entry and stored Vault login token, not one request's entry"}
	CacheClearRevoke = Flag{Name: "revoke", Kind: KindBool, Help: "first revoke their leases in Vault (with --all, the login tokens too)"}
)

// DoctorFetch is doctor's one flag of its own: get the credentials too.
var DoctorFetch = Flag{Name: "fetch", Kind: KindBool,
	Help: "also get the credentials, through the cache, as\n" +
		"the AWS client would, and show their access key\n" +
		"id, type, expiry and source (never a secret)"}

// The flags of aws-config.
var (
	AWSConfigAWSProfile = Flag{Name: "aws-profile", Kind: KindString, Placeholder: "NAME",
		Help: "the AWS profile to write (default: the same name)"}
	AWSConfigWrite = Flag{Name: "write", Kind: KindBool, Help: "write into the AWS config file instead of printing"}
	AWSConfigForce = Flag{Name: "force", Kind: KindBool, Help: "with --write, replace another credential_process"}
	AWSConfigAll   = Flag{Name: "all", Kind: KindBool, Help: "a profile for every role the Vault token can list"}
	AWSConfigName  = Flag{Name: "name", Kind: KindString, Placeholder: "TEMPLATE",
		Help: "with --all, the profile names: {mount} and {role} are\n" +
			"replaced, / and other characters that are not letters,\n" +
			"digits, '_', '.' or '-' become '-' (default \"{mount}-{role}\")"}
	AWSConfigRegion = Flag{Name: "region", Kind: KindString, Placeholder: "REGION", Help: "with --all, the region of every profile"}
	AWSConfigPrune  = Flag{Name: "prune", Kind: KindBool, Help: "with --all, remove managed profiles whose role is gone"}
)

// The flags of login.
var (
	LoginStdout      = Flag{Name: "stdout", Kind: KindBool, Help: "print the sign-in URL instead of opening a browser"}
	LoginDestination = Flag{Name: "destination", Kind: KindString, Placeholder: "URL",
		Help: "console page to open (default: the console home of the region)"}
	LoginRegion = Flag{Name: "region", Kind: KindString, Placeholder: "R",
		Help: "region of the console and of STS (default: AWS_REGION,\n" +
			"AWS_DEFAULT_REGION, else us-east-1); it picks the partition"}
	LoginDuration = Flag{Name: "duration", Kind: KindString, Placeholder: "D",
		Help: "console session: 15m to 12h for assumed_role (default:\n" +
			"AWS's), 15m to 36h for iam_user and static (default 1h);\n" +
			"none for federation_token (it lasts as long as the credentials)"}
	LoginPolicy = Flag{Name: "policy", Kind: KindString, Placeholder: "JSON",
		Help: "iam_user and static: session policy of the federation token\n" +
			"(default: allow all, which leaves the user's own permissions)"}
	LoginPolicyARN = Flag{Name: "policy-arn", Kind: KindList, Placeholder: "ARN",
		Help: "iam_user and static: managed session policy; repeatable"}
	LoginFederationEndpoint = Flag{Name: "federation-endpoint", Kind: KindString, Placeholder: "URL",
		Help: "the federation endpoint (default: the region's partition's)"}
)

// Status is an exit status of the program and what it means.
type Status struct {
	Code    int
	Meaning string
}

// ExitStatus are the exit statuses of every command.
var ExitStatus = []Status{
	{0, "success"},
	{1, "failure at run time: Vault refused or could not be reached, the cache is unusable"},
	{2, "usage or configuration error, found before any network call"},
	{127, "exec: the command was not found or is not executable; any other status of exec is the command's own"},
}
