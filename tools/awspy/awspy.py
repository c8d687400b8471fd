"""awspy is the boto3 client of the vault-credential-process integration tests.

One long-lived STS client from boto3.Session(profile_name=NAME), whose credentials
come from the profile's credential_process, the way a Python service gets them.

Usage: python3 awspy.py --profile NAME

Each line on stdin is one request: call GetCallerIdentity now. Each call prints one
JSON line on stdout, {"Arn", "Account", "UserId", "AccessKeyId"}, where AccessKeyId is
the key botocore signed that request with; a failed call prints {"Error": "..."}.
Exits 0 at the end of stdin. Region and endpoint_url come from the profile.
"""

import argparse
import json
import re
import sys

import boto3

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


def main():
    parser = argparse.ArgumentParser(prog="awspy")
    parser.add_argument("--profile", required=True, help="shared config profile")
    args = parser.parse_args()

    client = boto3.Session(profile_name=args.profile).client("sts")

    # before-send fires after signing, with the request as it goes on the wire.
    signed_with = {"key": ""}

    def record_key(request, **_):
        auth = request.headers.get("Authorization", b"")
        if isinstance(auth, bytes):
            auth = auth.decode("ascii", "replace")
        m = _CREDENTIAL.search(auth)
        signed_with["key"] = m.group(1) if m else ""

    client.meta.events.register("before-send.sts.GetCallerIdentity", record_key)

    for _ in sys.stdin:
        try:
            signed_with["key"] = ""
            ident = client.get_caller_identity()
            out = {
                "Arn": ident["Arn"],
                "Account": ident["Account"],
                "UserId": ident["UserId"],
                "AccessKeyId": signed_with["key"],
            }
        except Exception as e:  # report and keep serving; the test decides
            out = {"Error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
