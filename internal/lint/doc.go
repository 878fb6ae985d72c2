// Package lint holds the tests that check the whole tree with linters:
// staticcheck (when installed; .ci/run installs v0.8.2, which reports itself as 2026.2.2)
// and gofmt.
package lint
