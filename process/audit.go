package process

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// AuditRecord is one line of the audit trail: which credentials a run
// handed out and where they came from. It holds no secret: the access key
// id names the credentials, the secret key and session token stay out.
type AuditRecord struct {
	Time         time.Time `json:"time"`
	Command      string    `json:"command"`
	Profile      string    `json:"profile,omitempty"`
	VaultAddress string    `json:"vault_address"`
	Namespace    string    `json:"vault_namespace,omitempty"`
	Mount        string    `json:"mount"`
	Role         string    `json:"role"`
	Type         string    `json:"type,omitempty"`
	Source       string    `json:"source"`
	AccessKeyID  string    `json:"access_key_id"`
	LeaseID      string    `json:"lease_id,omitempty"`
	Expiration   time.Time `json:"expiration"`
	PID          int       `json:"pid"`
}

// NewAuditRecord describes credentials c, obtained from source, for the
// run's settings.
func (r *Runner) NewAuditRecord(command string, c *Credentials, source string) AuditRecord {
	s := r.Settings
	return AuditRecord{
		Time: r.Now().UTC(), Command: command, Profile: s.Profile, VaultAddress: s.Address,
		Namespace: s.Namespace, Mount: s.Mount, Role: s.Role, Type: s.Type, Source: source,
		AccessKeyID: c.AccessKeyID, LeaseID: c.LeaseID, Expiration: c.Expiration.UTC(), PID: os.Getpid(),
	}
}

// AppendAudit appends rec to the audit log at path as one JSON line. The
// file is created 0600; the line goes out in a single O_APPEND write, so
// lines of parallel runs never interleave.
func AppendAudit(path string, rec AuditRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode audit record: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write audit log: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}
