package vault

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxResponseSize bounds what the helper reads of any one Vault answer. A
// real answer is a few KiB (an STS session token is the largest part); a
// hostile or broken server must not make the helper buffer, print or cache
// gigabytes.
const maxResponseSize = 4 << 20

// errResponseTooLarge marks a Vault answer cut off at maxResponseSize.
var errResponseTooLarge = fmt.Errorf("the answer is larger than %d MiB", maxResponseSize>>20)

// errOtherHost marks a request the helper refused to send because it was
// for another server than the Vault address the run resolved.
var errOtherHost = errors.New("refused to send a request to another server")

// pinnedTransport sends requests only to the scheme and host of the Vault
// address the run resolved, and reads answers only up to maxResponseSize.
//
// vault/api follows one redirect from Vault (a standby pointing at the
// active node) by itself, token header and login body included; pinning
// the host here means no token or login secret ever reaches a server the
// user did not name, whatever a server answers.
type pinnedTransport struct {
	next   http.RoundTripper
	scheme string
	host   string // as url.URL.Host: host[:port], lower case
}

// CloseIdleConnections closes the idle connections of the transport
// underneath (http.Client.CloseIdleConnections reaches it through this).
func (t *pinnedTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *pinnedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Scheme, t.scheme) || !strings.EqualFold(req.URL.Host, t.host) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%w: %s://%s is not the Vault address %s://%s (a redirect?)",
			errOtherHost, req.URL.Scheme, req.URL.Host, t.scheme, t.host)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	if resp.ContentLength > maxResponseSize {
		resp.Body.Close()
		return nil, errResponseTooLarge
	}
	resp.Body = &limitedBody{rc: resp.Body, left: maxResponseSize}
	return resp, nil
}

// limitedBody fails a read past its limit instead of returning a short
// body: a cut-off JSON document must never parse as a smaller valid one.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errResponseTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
