package mp_test

import (
	"testing"

	"github.com/mpconform/mpconform/impl/mp"
)

// TestNoFDGrowth creates and closes 10 000 of each primitive: the process must
// keep neither a file descriptor nor a shared mapping for any of them.
func TestNoFDGrowth(t *testing.T) {
	if testing.Short() {
		t.Skip("10 000 creations of each primitive")
	}
	const n = 10_000
	for _, c := range []struct {
		name string
		make func() error
	}{
		{"Lock", func() error {
			l, err := mp.NewLock()
			if err != nil {
				return err
			}
			return l.Close()
		}},
		{"Semaphore", func() error {
			s, err := mp.NewSemaphore(1)
			if err != nil {
				return err
			}
			return s.Close()
		}},
		{"Queue", func() error {
			q, err := mp.NewQueue(0)
			if err != nil {
				return err
			}
			return q.Close()
		}},
		{"Pipe", func() error {
			a, b, err := mp.Pipe(true)
			if err != nil {
				return err
			}
			a.Close()
			return b.Close()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, maps := openFDs(t), mappings(t)
			for i := range n {
				if err := c.make(); err != nil {
					t.Fatalf("creation %d: %v", i, err)
				}
			}
			if after := openFDs(t); after > before+8 {
				t.Errorf("%d creations and closes: %d file descriptors open, %d before", n, after, before)
			}
			if after := mappings(t); after > maps+8 {
				t.Errorf("%d creations and closes: %d shared mappings, %d before", n, after, maps)
			}
		})
	}
}
