// Package e2e drives the real dingchat binary over the network with the
// official and community DingTalk SDKs. Run it with `go test ./e2e/`; under
// -short every test is skipped.
package e2e
