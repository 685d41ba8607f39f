package mp_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/mpconform/mpconform/impl/mp"
)

// binPoint travels in its own binary form: its fields are unexported, so
// through encoding/json it would arrive as the zero binPoint.
type binPoint struct{ x, y int64 }

var errNoPoint = errors.New("no binPoint here")

func (p *binPoint) AppendBinary(b []byte) ([]byte, error) {
	if p.x < 0 {
		return b, errNoPoint
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(p.x))
	return binary.LittleEndian.AppendUint64(b, uint64(p.y)), nil
}

func (p *binPoint) UnmarshalBinary(b []byte) error {
	if len(b) != 16 {
		return errors.New("a binPoint is 16 bytes")
	}
	p.x, p.y = int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	return nil
}

var swap = mp.RegisterTask("test.swap", func(p binPoint) (binPoint, error) { return binPoint{p.y, p.x}, nil })

func TestPoolBinaryCodec(t *testing.T) {
	p := newPool(t, mp.Processes(1))
	ctx := ctxFor(t)
	got, err := mp.Apply(ctx, p, swap, binPoint{1, 2})
	if err != nil || got != (binPoint{2, 1}) {
		t.Fatalf("Apply = %v, %v; want {2 1}", got, err)
	}
	items := []binPoint{{1, 2}, {3, 4}, {5, 6}}
	list, err := mp.Map(ctx, p, swap, items, mp.Chunksize(2))
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range list {
		if q != (binPoint{items[i].y, items[i].x}) {
			t.Errorf("item %d: %v", i, q)
		}
	}
	// An argument that cannot be encoded fails its call, not the pool.
	if _, err := mp.Apply(ctx, p, swap, binPoint{-1, 0}); !errors.Is(err, mp.ErrValue) || !strings.Contains(err.Error(), errNoPoint.Error()) {
		t.Errorf("Apply of an unencodable binPoint: %v, want ErrValue with %q", err, errNoPoint)
	}
	if got, err := mp.Apply(ctx, p, swap, binPoint{7, 8}); err != nil || got != (binPoint{8, 7}) {
		t.Errorf("Apply after the failure = %v, %v", got, err)
	}
	closeJoin(t, p)
}

// jobsEnded counts, in a worker, the jobs it has finished (AtJobEnd).
var jobsEnded int

var poolInitJobEnd = mp.Register("test.poolInitJobEnd", func(struct{}) error {
	mp.AtJobEnd(func() { jobsEnded++ })
	return nil
})

var jobsSoFar = mp.RegisterTask("test.jobsSoFar", func(struct{}) (int, error) { return jobsEnded, nil })

// TestPoolAtJobEnd checks that the hook runs once after each job, after
// its last task and before the next job's first.
func TestPoolAtJobEnd(t *testing.T) {
	p := newPool(t, mp.Processes(1), mp.Initializer(poolInitJobEnd, struct{}{}))
	got, err := mp.Map(ctxFor(t), p, jobsSoFar, make([]struct{}, 20), mp.Chunksize(5))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range got {
		if n != i/5 {
			t.Errorf("item %d ran after %d jobs jobsSoFar, want %d", i, n, i/5)
		}
	}
	closeJoin(t, p)
}
