package mp_test

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// socketPair returns the two ends of a SOCK_STREAM unix socket with the
// buffers of a duplex mp.Pipe: this process's end as a bare descriptor,
// used with bare read and write calls, and the child's as a file.
func socketPair() (int, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, nil, fmt.Errorf("floor: socketpair: %w", err)
	}
	for _, fd := range fds {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20)
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	}
	return fds[0], os.NewFile(uintptr(fds[1]), "floor-socket"), nil
}

// readSome is one read(2), again after a signal; 0 is the end of the stream.
func readSome(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Read(fd, buf)
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

// readFull reads len(buf) bytes; io.ErrUnexpectedEOF if the stream ends first.
func readFull(fd int, buf []byte) error {
	for len(buf) > 0 {
		n, err := readSome(fd, buf)
		if err != nil {
			return fmt.Errorf("floor: read: %w", err)
		}
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		buf = buf[n:]
	}
	return nil
}

func writeAll(fd int, buf []byte) error {
	for len(buf) > 0 {
		n, err := unix.Write(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("floor: write: %w", err)
		}
		buf = buf[n:]
	}
	return nil
}

// echoSocket sends back what it reads until the end of the stream.
func echoSocket(f *os.File, _ int, _ func() bool) error {
	fd := int(f.Fd())
	buf := make([]byte, 4096)
	for {
		n, err := readSome(fd, buf)
		if err != nil || n == 0 {
			return err
		}
		if err := writeAll(fd, buf[:n]); err != nil {
			return err
		}
	}
}

// streamSize is the size of a streamed message, BenchmarkPipeStream's.
const streamSize = 1 << 20

// sinkSocket writes a byte to say it is ready, reads n messages of
// streamSize bytes into one buffer, and writes a byte to say it has them.
func sinkSocket(f *os.File, n int, _ func() bool) error {
	fd := int(f.Fd())
	if err := writeAll(fd, []byte{1}); err != nil {
		return err
	}
	buf := make([]byte, streamSize)
	for range n {
		if err := readFull(fd, buf); err != nil {
			return err
		}
	}
	return writeAll(fd, []byte{1})
}

// withSocketPeer runs op on this process's end of a socket whose other end
// is a child's in role, then closes it (the child's end of the stream)
// and waits for the child's exit.
func withSocketPeer(role string, n int, op func(fd int) error) error {
	fd, theirs, err := socketPair()
	if err != nil {
		return err
	}
	p, err := startPeer(role, theirs, n)
	theirs.Close()
	if err != nil {
		unix.Close(fd)
		return err
	}
	defer p.stop()
	err = op(fd)
	unix.Close(fd)
	return endPeer(err, p)
}

// socketRoundTripFloor is n round trips with an echoing child; round trip
// 0, which waits for the child to start, is not timed.
func socketRoundTripFloor(n int, t timer) error {
	return withSocketPeer("echo", 0, func(fd int) error {
		msg, back := []byte("ping"), make([]byte, 4)
		for k := range n + 1 {
			if k == 1 {
				t.ResetTimer()
			}
			if err := writeAll(fd, msg); err != nil {
				return err
			}
			if err := readFull(fd, back); err != nil {
				return err
			}
		}
		t.StopTimer()
		return nil
	})
}

// socketStreamFloor times n messages of streamSize bytes, from when the
// child says it is ready to when it says it has them all.
func socketStreamFloor(n int, t timer) error {
	return withSocketPeer("sink", n, func(fd int) error {
		one := make([]byte, 1)
		if err := readFull(fd, one); err != nil {
			return err
		}
		msg := make([]byte, streamSize)
		t.ResetTimer()
		for range n {
			if err := writeAll(fd, msg); err != nil {
				return err
			}
		}
		if err := readFull(fd, one); err != nil {
			return err
		}
		t.StopTimer()
		return nil
	})
}
