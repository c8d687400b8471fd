// Command floorhttp is the cold-miss benchmark's floor: one process that
// makes the one HTTP request a cold miss needs (POST <mount>/creds/<role> to
// VAULT_ADDR with VAULT_TOKEN) and prints the answer. No retries, no cache,
// no validation: the least any helper asking Vault can cost.
package main

import (
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	req, err := http.NewRequest("POST", os.Getenv("VAULT_ADDR")+"/v1/"+os.Args[1], strings.NewReader("{}"))
	if err != nil {
		os.Exit(1)
	}
	req.Header.Set("X-Vault-Token", os.Getenv("VAULT_TOKEN"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		os.Exit(1)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(os.Stdout, resp.Body); err != nil || resp.StatusCode != 200 {
		os.Exit(1)
	}
}
