package vault

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
)

// retryPolicy is vault/api's retry policy (connection errors, 5xx, 429, 412),
// except that it gives up at once when Vault asks, with Retry-After, for a
// wait that would end after the run's deadline. Waiting could only end in a
// timeout blamed on the network, after sitting out the rest of --timeout;
// giving up reports what Vault answered.
func retryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if errors.Is(err, errOtherHost) || errors.Is(err, errResponseTooLarge) {
		return false, err // refused here: asking again gets the same answer
	}
	retry, rerr := api.DefaultRetryPolicy(ctx, resp, err)
	if !retry || resp == nil {
		return retry, rerr
	}
	// With no minimum wait, DefaultBackoff is Retry-After's wait on 429 and
	// 503, else zero.
	wait := retryablehttp.DefaultBackoff(0, 0, 0, resp)
	if deadline, ok := ctx.Deadline(); ok && wait > 0 && time.Until(deadline) < wait {
		return false, nil
	}
	return retry, rerr
}

// Retry waits between attempts; each wait is drawn from the upper half of
// an exponentially growing interval.
var (
	minRetryWait = 250 * time.Millisecond
	maxRetryWait = 4 * time.Second
)

// jitterBackoff is exponential backoff with jitter: the wait before attempt
// n is drawn from [d/2, d] with d = min·2ⁿ capped at max. A Retry-After
// header on 429 or 503 is obeyed as retryablehttp does.
func jitterBackoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	d := retryablehttp.DefaultBackoff(min, max, attempt, resp)
	if resp != nil && resp.Header.Get("Retry-After") != "" {
		return d
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// retryLogger shows vault/api's retry decisions in --debug output. What it
// is given holds URLs and errors, never tokens or response bodies; a URL's
// query is cut off (kvs), since one may carry a secret (the oidc callback's
// code), and go-retryablehttp logs a failed request even when it will not
// retry it.
type retryLogger struct{ debugf func(string, ...any) }

func (l retryLogger) Error(msg string, kv ...any) { l.debugf("%s%s", msg, kvs(kv)) }

func (l retryLogger) Info(msg string, kv ...any) { l.debugf("%s%s", msg, kvs(kv)) }

func (l retryLogger) Debug(msg string, kv ...any) {
	// "performing request" repeats what Fetch logs; keep the retries.
	if strings.HasPrefix(msg, "retrying") {
		l.debugf("%s%s", msg, kvs(kv))
	}
}

func (l retryLogger) Warn(msg string, kv ...any) { l.debugf("%s%s", msg, kvs(kv)) }

// kvs renders key/value pairs as " k=v k=v" (with the leading space), or "".
func kvs(kv []any) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	if b.Len() == 0 {
		return ""
	}
	return " " + urlQuery().ReplaceAllString(config.OneLine(b.String()), "$1?...")
}

// urlQuery matches a URL's query, to cut it off; compiled on first use, on
// the miss path only.
var urlQuery = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(\w+://[^\s"?]*)\?[^\s"]*`) })
