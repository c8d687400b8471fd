package process

import (
	"encoding/json"
	"time"
)

// Document is the credential_process output the AWS CLI and SDKs read
// (Version 1). SessionToken and AccountId are left out when empty; the
// expiration is always there, so clients know when to run us again.
type Document struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken,omitempty"`
	Expiration      string `json:"Expiration"`
	AccountID       string `json:"AccountId,omitempty"`
}

// Marshal renders the document as one line of JSON and a newline.
func (c *Credentials) Marshal() ([]byte, error) {
	b, err := json.Marshal(Document{
		Version:         1,
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
		Expiration:      c.Expiration.UTC().Format(time.RFC3339),
		AccountID:       c.AccountID,
	})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
