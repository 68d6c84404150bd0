// Package doctor examines a live wss:// (or https://, ws://) endpoint the way
// the article's checklist does by hand — openssl x509, openssl verify,
// openssl s_client — and predicts what Chrome will say about it, from a model
// of Chrome's certificate and WebSocket rules measured against real Chromium.
package doctor
