// Package auth decides who may use seer: bearer tokens, stored as their
// SHA-256 hashes, each with a name and a role (read, ingest, operate,
// admin). The API routes and every receiver ask it for a permission; the
// name of the token is the identity written into the audit trail.
package auth
