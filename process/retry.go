package process

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/hashicorp/vault/api"
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
