package mp

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// How a Conn waits under a context.
//
// A Conn's file descriptor stays blocking: its flags belong to the open file
// description, which every copy of the end in every process shares, so
// O_NONBLOCK (and with it the runtime poller) is not this process's to set.
// Under a context that cannot end (context.Background), a send or receive
// makes the blocking system call, as it would without a context: no
// goroutine, no timer, no allocation. Under one that can end, it waits
// first for the descriptor to be ready, with poll(2) (waitFd), then makes a
// call that cannot block long: on a duplex Conn's socket, MSG_DONTWAIT says
// so per call, and costs no system call more than the blocking one when the
// socket is ready; a pipe has no such flag, and is polled once before the
// call.
//
// The context bounds only the wait for a message to begin: once a send has
// written its first bytes, or a receive read them, the message is sent or
// received whole, for the stream carries messages end to end, and a message
// cut short would make the receiver take what follows for its rest.

// writeBegin writes the first bytes of b, waiting for room until ctx ends.
// It returns how many it wrote: on a pipe none, once it has room, for the
// blocking write that follows then writes at once.
func (c *Conn) writeBegin(ctx context.Context, b []byte) (int, error) {
	for {
		if c.out != nil {
			n, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_DONTWAIT, 0, 0)
			switch errno {
			case 0:
				return int(n), nil
			case unix.EAGAIN, unix.EINTR:
			case unix.EPIPE:
				return 0, errPeerClose
			default:
				return 0, fmt.Errorf("mp: Conn: send: %w", errno)
			}
		}
		if err := waitFd(ctx, c.fd, unix.POLLOUT); err != nil {
			return 0, err
		}
		if c.out == nil {
			return 0, nil
		}
	}
}

// recvBegin is the end of recvSpin under a context that can end: it waits
// for the first bytes of a message until ctx ends, and reads them into b.
func (c *Conn) recvBegin(ctx context.Context, b []byte) (int, error) {
	for {
		if err := waitFd(ctx, c.fd, unix.POLLIN); err != nil {
			return 0, err
		}
		if c.in == nil {
			// A readable pipe: the read blocks only if another process
			// that reads the same end takes the message first.
			return c.readSome(b)
		}
		n, err := c.recvNow(b)
		if err != unix.EAGAIN && err != unix.EINTR {
			return n, err
		}
		// Another process took it first.
	}
}

// waitFd waits until fd is ready for events (or hung up, or failed: the
// call that follows sees why), or until ctx ends: then it returns ctx's
// error, never before ctx's deadline. It looks once before it waits, and
// does no more if ctx is already done.
func waitFd(ctx context.Context, fd int, events int16) error {
	fds := [2]unix.PollFd{{Fd: int32(fd), Events: events}}
	if ctx.Done() == nil {
		for {
			if ready, err := pollFds(fds[:1], -1); ready || err != nil {
				return err
			}
		}
	}
	if ready, err := pollFds(fds[:1], 0); ready || err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// poll(2) sees the deadline; a cancellation is an eventfd, polled beside
	// fd, that context.AfterFunc writes. It is closed only once written, or
	// once the write can no longer happen.
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("mp: Conn: eventfd: %w", err)
	}
	written := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		unix.Write(efd, one[:])
		close(written)
	})
	defer func() {
		if !stop() {
			<-written
		}
		unix.Close(efd)
	}()
	fds[1] = unix.PollFd{Fd: int32(efd), Events: unix.POLLIN}
	deadline, timed := ctx.Deadline()
	for {
		ms := -1
		if timed {
			left := time.Until(deadline)
			if left <= 0 {
				return waitEnded(ctx)
			}
			ms = int((left + time.Millisecond - 1) / time.Millisecond)
		}
		if ready, err := pollFds(fds[:], ms); ready || err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// pollFds polls fds for at most ms milliseconds (as long as it takes if
// negative), and reports whether the first is ready. A signal ends it
// early: callers poll again.
func pollFds(fds []unix.PollFd, ms int) (bool, error) {
	_, err := unix.Poll(fds, ms)
	if err == unix.EINTR {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mp: Conn: poll: %w", err)
	}
	return fds[0].Revents != 0, nil
}
