// awsjs2 is the AWS SDK for JavaScript v2 (npm aws-sdk) client of the integration tests.
// That SDK reached its end of support in 2025, but many Node.js programs still use it,
// and it predates AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE. The version is the one
// package.json pins, from 2022.
//
// Usage: node awsjs2.js --endpoint URL [--region REGION]
//
// It gets its credentials through the SDK's default chain (environment, shared files,
// the container endpoint, credential_process, instance metadata), as a v2 program does,
// calls STS GetCallerIdentity once at the endpoint, and prints one JSON line
// {"Arn", "Account", "UserId", "AccessKeyId"} on stdout, where AccessKeyId is the key
// the request was signed with, and exits 0; or prints the error on stderr and exits 1.
"use strict";

const { parseArgs } = require("node:util");
const AWS = require("aws-sdk");

let opts;
try {
  opts = parseArgs({
    options: { endpoint: { type: "string" }, region: { type: "string", default: "us-east-1" } },
  }).values;
} catch (err) {
  process.stderr.write(`awsjs2: ${err.message}\nusage: node awsjs2.js --endpoint URL [--region REGION]\n`);
  process.exit(2);
}
if (!opts.endpoint) {
  process.stderr.write("awsjs2: --endpoint is required\n");
  process.exit(2);
}

const sts = new AWS.STS({ endpoint: opts.endpoint, region: opts.region, maxRetries: 0 });
const req = sts.getCallerIdentity({});
let signedWith = "";
// "send" comes after "sign": the Authorization header names the key really used.
req.on("send", (resp) => {
  const m = /Credential=([^/,\s]+)\//.exec(resp.request.httpRequest.headers.Authorization || "");
  signedWith = m ? m[1] : "";
});
req.promise().then(
  (id) => {
    process.stdout.write(JSON.stringify({ Arn: id.Arn, Account: id.Account, UserId: id.UserId, AccessKeyId: signedWith }) + "\n");
  },
  (err) => {
    process.stderr.write(`awsjs2: error: ${err.code || ""}: ${err.message}\n`);
    process.exit(1);
  },
);
