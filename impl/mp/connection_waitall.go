package mp

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// A Waitable is what Wait waits on: a *Conn, ready when it has something
// to receive (a message, or its end of file), or a *Process, ready once it
// has exited (CPython's Process.sentinel).
type Waitable interface{ waitable() }

func (*Conn) waitable()    {}
func (*Process) waitable() {}

// Wait waits until one of objects is ready, or ctx ends, and returns the
// ready ones, in the order given, as CPython's
// multiprocessing.connection.wait. When ctx ends first it returns ctx's
// error (CPython's wait returns [] on a timeout); a ctx already done makes
// it only look. A closed Conn fails with ErrClosed, a write-only one or a
// Process not started with ErrNotAllowed.
//
// A duplex Pipe's Conn may hold a small message in its mailbox while its
// socket is not readable (connection_box.go): Wait looks there first, and
// while it sleeps it counts itself a sleeper of each Conn, as a receive
// does, so that what is sent meanwhile goes through the socket and wakes
// it.
func Wait(ctx context.Context, objects ...Waitable) ([]Waitable, error) {
	var conns []*Conn
	var procs []*Process
	for _, o := range objects {
		switch o := o.(type) {
		case *Conn:
			if err := o.checkWait(); err != nil {
				return nil, err
			}
			conns = append(conns, o)
		case *Process:
			if o.Done() == nil {
				return nil, fmt.Errorf("%w: can only wait for a started process", ErrNotAllowed)
			}
			procs = append(procs, o)
		default:
			return nil, fmt.Errorf("%w: Wait on a %T", ErrValue, o)
		}
	}
	fds := make([]unix.PollFd, len(conns), len(conns)+1)
	for {
		if ready, err := readyNow(objects, conns, fds); err != nil || len(ready) > 0 {
			return ready, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := sleepOn(ctx, conns, procs, fds); err != nil {
			return nil, err
		}
	}
}

// checkWait fails a Conn that Wait cannot wait on.
func (c *Conn) checkWait() error {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.closed {
		return errConnClose
	}
	if !c.readable {
		return errWriteOnly
	}
	return nil
}

// readyNow returns the objects ready now, without waiting.
func readyNow(objects []Waitable, conns []*Conn, fds []unix.PollFd) ([]Waitable, error) {
	for i, c := range conns {
		fds[i] = unix.PollFd{Fd: int32(c.fd), Events: unix.POLLIN}
	}
	if len(fds) > 0 {
		if _, err := pollFds(fds, 0); err != nil {
			return nil, err
		}
	}
	var ready []Waitable
	k := 0
	for _, o := range objects {
		switch o := o.(type) {
		case *Conn:
			if fds[k].Revents != 0 || o.boxPending() {
				ready = append(ready, o)
			}
			k++
		case *Process:
			select {
			case <-o.Done():
				ready = append(ready, o)
			default:
			}
		}
	}
	return ready, nil
}

// sleepOn waits in poll(2) until a Conn's socket is readable, a Process
// exits, or ctx ends (then it returns ctx's error); it may return nil
// early, and the caller looks again. A Conn whose mailbox fills as it is
// about to sleep makes it return at once.
func sleepOn(ctx context.Context, conns []*Conn, procs []*Process, fds []unix.PollFd) error {
	var slept []*Conn
	defer func() {
		for _, c := range slept {
			c.wake()
		}
	}()
	for _, c := range conns {
		if !c.sleep() {
			return nil // its mailbox holds a message
		}
		slept = append(slept, c)
	}
	deadline, timed := ctx.Deadline()
	if len(procs) == 0 && ctx.Done() == nil {
		_, err := pollFds(fds, -1)
		return err
	}
	// Exits and a cancellation write an eventfd polled beside the Conns.
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("mp: Wait: eventfd: %w", err)
	}
	ring := func() {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		unix.Write(efd, one[:])
	}
	stop := make(chan struct{})
	var watchers sync.WaitGroup
	for _, p := range procs {
		watchers.Add(1)
		go func() {
			defer watchers.Done()
			select {
			case <-p.Done():
				ring()
			case <-stop:
			}
		}()
	}
	if ctx.Done() != nil {
		watchers.Add(1)
		go func() {
			defer watchers.Done()
			select {
			case <-ctx.Done():
				ring()
			case <-stop:
			}
		}()
	}
	// The watchers write efd: it is closed only once they are gone.
	defer func() {
		close(stop)
		watchers.Wait()
		unix.Close(efd)
	}()
	ms := -1
	if timed {
		left := time.Until(deadline)
		if left <= 0 {
			return waitEnded(ctx)
		}
		ms = int((left + time.Millisecond - 1) / time.Millisecond)
	}
	all := append(fds, unix.PollFd{Fd: int32(efd), Events: unix.POLLIN})
	_, err = pollFds(all, ms)
	return err
}
