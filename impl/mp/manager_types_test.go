package mp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpconform/mpconform/impl/mp"
)

var barrierParty = mp.Register("test.barrier-party", func(b *mp.BarrierProxy) error {
	_, err := b.Wait(context.Background())
	return err
})

func TestManagedTypes(t *testing.T) {
	m, err := mp.NewManager()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	bg := context.Background()
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(bg, 20*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}

	q, _ := m.Queue(1)
	if err := q.Put(bg, "a"); err != nil {
		t.Fatal(err)
	}
	if err := q.Put(short(), "b"); !errors.Is(err, mp.ErrFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("put on a full queue: %v", err)
	}
	if v, err := q.Get(bg); v != "a" || err != nil {
		t.Errorf("get: %v, %v", v, err)
	}
	if err := q.TaskDone(); err != nil {
		t.Errorf("task_done: %v", err)
	}
	if err := q.TaskDone(); !errors.Is(err, mp.ErrValue) {
		t.Errorf("task_done too often: %v", err)
	}
	if err := q.Join(bg); err != nil {
		t.Errorf("join: %v", err)
	}

	e, _ := m.Event()
	if err := e.Wait(short()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait on a clear event: %v", err)
	}
	e.Set()
	if err := e.Wait(bg); err != nil {
		t.Errorf("wait on a set event: %v", err)
	}

	s, _ := m.BoundedSemaphore(1)
	if !s.TryAcquire() || s.TryAcquire() {
		t.Error("a bounded semaphore of 1 has one holder")
	}
	if err := s.Acquire(short()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("acquire of a held semaphore: %v", err)
	}
	s.Release()
	if err := s.Release(); !errors.Is(err, mp.ErrValue) {
		t.Errorf("release over the bound: %v", err)
	}

	b, _ := m.Barrier(2, 0)
	p := mp.New(barrierParty, b)
	p.Start()
	if _, err := b.Wait(bg); err != nil {
		t.Errorf("barrier wait: %v", err)
	}
	p.Join(bg)
	if code, _ := p.ExitCode(); code != 0 {
		t.Errorf("the other party exited %d", code)
	}
	if _, err := b.Wait(short()); !errors.Is(err, mp.ErrBroken) {
		t.Errorf("a lone party's timed wait: %v", err)
	}
	if broken, _ := b.Broken(); !broken {
		t.Error("a timed-out wait breaks the barrier")
	}

	a, _ := m.Array("i", []any{1, 2, 3})
	a.Set(-1, 9)
	if v, _ := a.Copy(); len(v) != 3 || v[2] != int64(9) {
		t.Errorf("array: %v", v)
	}
	if _, err := a.Get(3); !errors.Is(err, mp.ErrIndex) {
		t.Errorf("array index out of range: %v", err)
	}

	if _, err := m.Managed("no.such.type"); !errors.Is(err, mp.ErrValue) {
		t.Errorf("an unregistered type: %v", err)
	}
}
