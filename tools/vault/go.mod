// This module only builds the Vault server the integration tests run against.
// It is separate so the product's go.mod stays small; see `make vault`.
module github.com/vault-credential-process/vault-credential-process/tools/vault

go 1.25.1

require github.com/hashicorp/vault v1.21.0

replace github.com/99designs/keyring => github.com/Jeffail/keyring v1.2.3

replace github.com/ma314smith/signedxml v1.1.1 => github.com/moov-io/signedxml v1.1.1
