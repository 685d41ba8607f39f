package mp

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
)

// A SharedMemoryManager makes segments and lists and unlinks them all at
// Shutdown, as CPython's multiprocessing.managers.SharedMemoryManager. It
// needs no server process: the segments are the calling process's, and a
// process killed before Shutdown leaves them to the shared-memory tracker,
// which unlinks them when the program ends. It is safe for concurrent use.
type SharedMemoryManager struct {
	mu    sync.Mutex
	names []string // the segments made, in order; nil after Shutdown
	down  bool
}

// NewSharedMemoryManager returns a started manager (CPython's start()).
func NewSharedMemoryManager() *SharedMemoryManager { return &SharedMemoryManager{} }

// SharedMemory creates a segment of size bytes under a fresh name, which
// Shutdown unlinks. After Shutdown it fails with ErrClosed.
func (m *SharedMemoryManager) SharedMemory(size int) (*SharedMemory, error) {
	return managed(m, func() (*SharedMemory, error) { return CreateSharedMemory("", size) },
		(*SharedMemory).Name)
}

// ShareableList creates a list of items under a fresh name, which Shutdown
// unlinks. After Shutdown it fails with ErrClosed.
func (m *SharedMemoryManager) ShareableList(items []any) (*ShareableList, error) {
	return managed(m, func() (*ShareableList, error) { return NewShareableList("", items) },
		func(l *ShareableList) string { return l.shm.Name() })
}

func managed[T any](m *SharedMemoryManager, make func() (T, error), name func(T) string) (T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		var zero T
		return zero, fmt.Errorf("%w: the shared memory manager is shut down", ErrClosed)
	}
	v, err := make()
	if err == nil {
		m.names = append(m.names, name(v))
	}
	return v, err
}

// Shutdown unlinks every segment the manager made that is still there (a
// segment unlinked already is no error); the handles stay mapped until
// closed. Shutting down twice does nothing.
func (m *SharedMemoryManager) Shutdown() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, name := range m.names {
		if err := unlinkShm(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	m.names, m.down = nil, true
	return errors.Join(errs...)
}
