package ding

import "sync/atomic"

// Calls counts the API calls a node is serving, so that background work
// (event delivery) can give way to them when the node is short of CPU.
// The zero value is ready; a nil *Calls counts nothing.
type Calls struct{ n atomic.Int64 }

// Begin marks a call started.
func (c *Calls) Begin() {
	if c != nil {
		c.n.Add(1)
	}
}

// End marks a call finished.
func (c *Calls) End() {
	if c != nil {
		c.n.Add(-1)
	}
}

// InFlight is how many calls are being served now.
func (c *Calls) InFlight() int64 {
	if c == nil {
		return 0
	}
	return c.n.Load()
}
