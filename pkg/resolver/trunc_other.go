//go:build !unix

package resolver

// msgTrunc is 0 where the receive flags cannot say that a datagram was cut
// (Windows reports it as an error instead): a full buffer is taken as cut.
const msgTrunc = 0
