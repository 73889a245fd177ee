// Package kubernetes holds no code: its test checks the manifests beside it
// (the sweep's shards, the exporter's replicas and Prometheus's hashmod agree).
package kubernetes
