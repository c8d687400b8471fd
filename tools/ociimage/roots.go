package main

import (
	"bytes"
	"encoding/pem"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// rootsPEM returns the root certificates of Mozilla's NSS trust store, as
// golang.org/x/crypto/x509roots/fallback/bundle holds them at the version
// pinned in go.mod, in one PEM file: the CA bundle a static Go binary on
// an empty base needs to check an https server's certificate (Go reads
// /etc/ssl/certs/ca-certificates.crt on Linux). A root that NSS trusts
// only with a constraint a PEM file cannot say (distrust of certificates
// issued after a date) is left out, which is stricter than NSS, never
// looser. Same version, same bytes: the bundle's order is fixed.
func rootsPEM() []byte {
	var buf bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate}) // a bytes.Buffer does not fail
	}
	return buf.Bytes()
}
