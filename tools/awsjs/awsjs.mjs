// awsjs is the AWS SDK for JavaScript v3 client of the integration tests: one long-lived
// STS client whose credentials come from a profile's credential_process, the way a
// Node.js service gets them.
//
// Usage: node awsjs.mjs --profile NAME [--provider ini|process|default] [--endpoint URL]
//
// Each line on stdin is one request: call GetCallerIdentity now. Each call prints one
// JSON line on stdout, {"Arn", "Account", "UserId", "AccessKeyId"}, where AccessKeyId is
// the key the SDK signed that request with; a failed call prints {"Error": "..."}.
// Exits 0 at the end of stdin.
//
// --provider picks how the client gets its credentials: fromIni({profile}) (default),
// fromProcess({profile}), or the SDK's default chain with the client's profile option.
// --endpoint is passed to the client: this SDK does not take endpoint_url from the
// profile when the credentials come from fromIni/fromProcess.
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromIni, fromProcess } from "@aws-sdk/credential-providers";

function usage(msg) {
  process.stderr.write(`awsjs: ${msg}\nusage: node awsjs.mjs --profile NAME [--provider ini|process|default] [--endpoint URL]\n`);
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      profile: { type: "string" },
      provider: { type: "string", default: "ini" },
      endpoint: { type: "string" },
    },
  }).values;
} catch (err) {
  usage(err.message);
}
if (!opts.profile) {
  usage("--profile is required");
}

const config = { profile: opts.profile };
switch (opts.provider) {
  case "ini":
    config.credentials = fromIni({ profile: opts.profile });
    break;
  case "process":
    config.credentials = fromProcess({ profile: opts.profile });
    break;
  case "default":
    break; // the client's default chain, for config.profile
  default:
    usage(`unknown --provider ${JSON.stringify(opts.provider)}`);
}
if (opts.endpoint) {
  config.endpoint = opts.endpoint;
}
const client = new STSClient(config);

// The deserialize step runs after finalizeRequest, where the request is signed: the
// Authorization header names the access key this request was really signed with.
let signedWith = "";
client.middlewareStack.add(
  (next) => async (args) => {
    const headers = args.request?.headers ?? {};
    const auth = headers.authorization ?? headers.Authorization ?? "";
    const m = /Credential=([^/,\s]+)\//.exec(auth);
    signedWith = m ? m[1] : "";
    return next(args);
  },
  { step: "deserialize", name: "vcpSignedWith", priority: "low" },
);

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const _ of lines) {
  let out;
  try {
    signedWith = "";
    const id = await client.send(new GetCallerIdentityCommand({}));
    out = { Arn: id.Arn, Account: id.Account, UserId: id.UserId, AccessKeyId: signedWith };
  } catch (err) {
    out = { Error: `${err.name}: ${err.message}` };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
