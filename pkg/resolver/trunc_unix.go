//go:build unix

package resolver

import "golang.org/x/sys/unix"

// msgTrunc is the receive flag that says a datagram was longer than its buffer.
const msgTrunc = unix.MSG_TRUNC
