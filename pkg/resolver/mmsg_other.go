//go:build !linux

package resolver

import (
	"time"

	"golang.org/x/net/ipv4"
)

// sendScratch is what a batch's send needs besides its messages: nothing here.
type sendScratch struct{}

func (*sendScratch) clear() {}

// batchWriter is what a batch is sent with: x/net's WriteBatch.
func (s *muxSock) batchWriter(*batchScratch) batchWriter { return s.pc }

// readBatches reads answers into slab, several a system call where the system
// has one (x/net's ReadBatch), until an error, which it returns.
func (s *muxSock) readBatches(slab []byte) error {
	msgs := make([]ipv4.Message, readBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{slab[i*readSize : (i+1)*readSize : (i+1)*readSize]}
	}
	for {
		n, err := s.pc.ReadBatch(msgs, 0)
		if err != nil {
			return err
		}
		at := time.Now()
		for _, m := range msgs[:n] {
			s.received(m.Buffers[0], m.N, m.Flags, at)
		}
	}
}
