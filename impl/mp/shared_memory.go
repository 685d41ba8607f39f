package mp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// shmDir is where POSIX shared memory lives on Linux: shm_open(3) is an
// open(2) of a file there.
const shmDir = "/dev/shm/"

// A SharedMemory is a named segment of shared memory, as CPython's
// multiprocessing.shared_memory.SharedMemory: a file of /dev/shm mapped
// MAP_SHARED, so that every process that attaches by its name sees the same
// bytes. Unlike the primitives' anonymous segments it outlives its handles:
// the name stays until some process calls Unlink, once, whoever created it.
//
// A segment created by a process that is killed before Unlink, or never
// unlinked, is unlinked when the program ends by the program's
// shared-memory tracker, a process of mp's own, as CPython's resource
// tracker does (shared_memory_tracker.go).
//
// A SharedMemory is safe for concurrent use; Buf's bytes are shared with
// other processes without any lock, as CPython's buf is.
type SharedMemory struct {
	name    string
	size    int
	created bool

	mu  sync.RWMutex
	mem []byte // nil once closed
}

// CreateSharedMemory creates a segment of at least size bytes (zeroed)
// under name, or under a fresh random name when name is "", as
// SharedMemory(name, create=True, size=size). A name that is taken fails
// with an error for which errors.Is(err, fs.ErrExist) holds; a size of 0
// or less, or a name that is no file name, with ErrValue.
func CreateSharedMemory(name string, size int) (*SharedMemory, error) {
	if size <= 0 {
		return nil, fmt.Errorf("%w: shared memory size %d: it must be positive", ErrValue, size)
	}
	if name == "" {
		for {
			m, err := createSegment(randomShmName(), size)
			if !errors.Is(err, fs.ErrExist) {
				return m, err
			}
		}
	}
	if err := checkShmName(name); err != nil {
		return nil, err
	}
	return createSegment(name, size)
}

// AttachSharedMemory maps the segment called name, as SharedMemory(name).
// A name that does not exist fails with an error for which
// errors.Is(err, fs.ErrNotExist) holds.
func AttachSharedMemory(name string) (*SharedMemory, error) {
	if err := checkShmName(name); err != nil {
		return nil, err
	}
	fd, err := unix.Open(shmDir+name, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("mp: attaching shared memory %q: %w", name, err)
	}
	return mapShm(fd, name, false)
}

func createSegment(name string, size int) (*SharedMemory, error) {
	// Registered first: a process killed between the open and the
	// registration would leave the file to no one.
	track(trackRegister, name)
	fd, err := unix.Open(shmDir+name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		track(trackUnregister, name)
		return nil, fmt.Errorf("mp: creating shared memory %q: %w", name, err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		unlinkShm(name)
		return nil, fmt.Errorf("mp: creating shared memory %q: ftruncate: %w", name, err)
	}
	m, err := mapShm(fd, name, true)
	if err != nil {
		unlinkShm(name)
	}
	return m, err
}

// mapShm maps the whole of the file fd, and closes fd: the mapping keeps
// the memory.
func mapShm(fd int, name string, created bool) (*SharedMemory, error) {
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("mp: shared memory %q: %w", name, err)
	}
	if st.Size == 0 {
		// CPython's mmap refuses an empty file too.
		return nil, fmt.Errorf("%w: shared memory %q is empty", ErrValue, name)
	}
	mem, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mp: mapping shared memory %q: %w", name, err)
	}
	return &SharedMemory{name: name, size: int(st.Size), created: created, mem: mem}, nil
}

// Name returns the name other processes attach by.
func (m *SharedMemory) Name() string { return m.name }

// Size returns the segment's size in bytes: at least the size asked for.
func (m *SharedMemory) Size() int { return m.size }

// Buf returns the segment's memory, or nil once the handle is closed. The
// slice is valid until Close: do not use it after.
func (m *SharedMemory) Buf() []byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.mem
}

// ReadAt copies the bytes at off into p, as io.ReaderAt; it fails with
// ErrClosed once the handle is closed and with ErrValue for a range past
// the end.
func (m *SharedMemory) ReadAt(p []byte, off int64) (int, error) {
	return m.access(p, off, func(mem []byte) int { return copy(p, mem) })
}

// WriteAt copies p into the segment at off, as io.WriterAt; it fails as
// ReadAt does.
func (m *SharedMemory) WriteAt(p []byte, off int64) (int, error) {
	return m.access(p, off, func(mem []byte) int { return copy(mem, p) })
}

func (m *SharedMemory) access(p []byte, off int64, do func(mem []byte) int) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.mem == nil {
		return 0, fmt.Errorf("%w: shared memory %q", ErrClosed, m.name)
	}
	if off < 0 || off > int64(len(m.mem)) || int64(len(p)) > int64(len(m.mem))-off {
		return 0, fmt.Errorf("%w: %d bytes at %d: shared memory %q has %d", ErrValue, len(p), off, m.name, len(m.mem))
	}
	return do(m.mem[off:]), nil
}

// Close unmaps this handle's memory; the segment stays for the other
// handles, and under its name until Unlink. Closing twice does nothing.
func (m *SharedMemory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mem == nil {
		return nil
	}
	err := unix.Munmap(m.mem)
	m.mem = nil
	return err
}

// Unlink removes the segment's name, so that no process can attach any
// more; the memory goes when the last mapping does. Call it once across
// all processes: a name already unlinked fails with an error for which
// errors.Is(err, fs.ErrNotExist) holds.
func (m *SharedMemory) Unlink() error { return unlinkShm(m.name) }

func unlinkShm(name string) error {
	if err := unix.Unlink(shmDir + name); err != nil {
		return fmt.Errorf("mp: unlinking shared memory %q: %w", name, err)
	}
	track(trackUnregister, name)
	return nil
}

// String is the handle as CPython's repr shows it.
func (m *SharedMemory) String() string {
	return fmt.Sprintf("SharedMemory(%q, size=%d)", m.name, m.size)
}

// shmJSON is how a handle travels in a process's argument: by name, and the
// child attaches, as CPython pickles a SharedMemory.
type shmJSON struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// MarshalJSON encodes the handle by its name.
func (m *SharedMemory) MarshalJSON() ([]byte, error) {
	return json.Marshal(shmJSON{Type: "shared_memory", Name: m.name})
}

// UnmarshalJSON attaches to the segment the JSON names.
func (m *SharedMemory) UnmarshalJSON(data []byte) error {
	var j shmJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Type != "shared_memory" {
		return fmt.Errorf("mp: decoding a shared memory from a %q", j.Type)
	}
	a, err := AttachSharedMemory(j.Name)
	if err != nil {
		return err
	}
	m.name, m.size, m.mem = a.name, a.size, a.mem
	return nil
}

// randomShmName is a name as CPython's, with a prefix of mp's own.
func randomShmName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "mp_" + hex.EncodeToString(b)
}

// checkShmName rejects a name that is no single file name of /dev/shm.
func checkShmName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 255 || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%w: %q is no shared memory name", ErrValue, name)
	}
	return nil
}
