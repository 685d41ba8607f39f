package mp

import (
	"context"
	"sync/atomic"
)

// eventState is an event: bit 0 of word is the flag, and the rest counts
// the times it was set, so that a waiter knows it was set even if it was
// cleared again before the waiter woke; waiters sleep on woken.
type eventState struct {
	word  atomic.Uint32
	woken wakeWord
}

func (e *eventState) set() {
	for {
		w := e.word.Load()
		if w&1 != 0 {
			return
		}
		if e.word.CompareAndSwap(w, w+3) { // one more setting, and the flag
			break
		}
	}
	e.woken.wake()
}

func (e *eventState) clear() {
	for {
		w := e.word.Load()
		if w&1 == 0 || e.word.CompareAndSwap(w, w&^1) {
			return
		}
	}
}

func (e *eventState) wait(ctx context.Context) bool {
	w := e.word.Load()
	if w&1 != 0 {
		return true
	}
	// From an unset word, only set changes it.
	wt := newWaiter(ctx, &e.woken.seq)
	defer wt.stop()
	return e.woken.wait(&wt, func() bool { return e.word.Load() != w }, nil, -1)
}

// Event is a flag shared by processes, as CPython's multiprocessing.Event:
// Wait waits until it is set.
type Event struct {
	seg *segment
	s   *eventState
}

// NewEvent returns a new Event, not set.
func NewEvent() (*Event, error) {
	seg, err := newSegment("event")
	if err != nil {
		return nil, err
	}
	return &Event{seg, at[eventState](seg)}, nil
}

// Set sets the flag and wakes every waiter.
func (e *Event) Set() { e.s.set() }

// Clear clears the flag.
func (e *Event) Clear() { e.s.clear() }

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool { return e.s.isSet() }

func (e *eventState) isSet() bool { return e.word.Load()&1 != 0 }

// Wait waits until the flag is set or ctx ends. It returns nil if the flag
// was set, before the call or while it waited (even if it was cleared again
// before the waiter woke, as threading.Event.wait), and ctx's error if ctx
// ended first, never before ctx's deadline. A ctx already done makes it only
// look.
func (e *Event) Wait(ctx context.Context) error {
	if e.s.isSet() {
		return nil
	}
	return e.waitSlow(ctx)
}

// waitSlow is Wait's wait, out of line as Lock's.
func (e *Event) waitSlow(ctx context.Context) error { return waitResult(ctx, e.s.wait(ctx)) }

// Close unmaps the Event in this process.
func (e *Event) Close() error { return closeHandle(&e.seg, &e.s) }

// MarshalJSON encodes the Event for a child being started.
func (e *Event) MarshalJSON() ([]byte, error) { return marshalSegment("event", e.seg, nil) }

// UnmarshalJSON maps, in a child, the Event its parent passed.
func (e *Event) UnmarshalJSON(data []byte) error {
	return unmarshalHandle("event", data, &e.seg, &e.s)
}
