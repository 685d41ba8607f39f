package mp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// These tests SIGKILL processes in the middle of Put and Get, at the points
// where a kill is the hardest to recover from (queueHook freezes a victim
// there, holding the queue's lock, until it is killed), or at random, and
// check that the survivors get every message of the surviving producers
// exactly once, intact, without deadlock.

// robustDeadline bounds every test: a deadlock fails it instead of hanging.
const robustDeadline = 60 * time.Second

// robustMsg is message k of size bytes: k, size, then bytes that depend on
// both, so that a torn or garbage message is seen.
func robustMsg(k uint64, size int) []byte {
	b := make([]byte, max(size, 16))
	binary.LittleEndian.PutUint64(b, k)
	binary.LittleEndian.PutUint64(b[8:], uint64(len(b)))
	for i := 16; i < len(b); i++ {
		b[i] = byte(uint64(i)*7 + k)
	}
	return b
}

// checkMsg returns the index of a message made by robustMsg, or an error.
func checkMsg(b []byte) (uint64, error) {
	if len(b) < 16 || binary.LittleEndian.Uint64(b[8:]) != uint64(len(b)) {
		return 0, fmt.Errorf("garbage message of %d bytes", len(b))
	}
	k := binary.LittleEndian.Uint64(b)
	if !bytes.Equal(b, robustMsg(k, len(b))) {
		return 0, fmt.Errorf("message %d of %d bytes corrupted", k, len(b))
	}
	return k, nil
}

// stopMsg tells a robust consumer to return.
const stopMsg = 1<<63 - 1

type robustArg struct {
	Q      *Queue
	J      *JoinableQueue
	Reply  *Queue // consumers put there the index of every message they get
	Frozen *Event // a victim sets it when it reaches its hook
	Hook   string // the victim's hook point
	HookAt int    // the victim freezes the HookAt-th time it reaches Hook
	From   uint64
	N      int
	Sizes  []int // message k has size Sizes[k%len(Sizes)] (16 if none)
}

func (a robustArg) queue() *Queue {
	if a.J != nil {
		return &a.J.Queue
	}
	return a.Q
}

// freezeAt makes this process freeze, holding whatever it holds, the n-th
// time it reaches point, after it sets ev.
func freezeAt(point string, n int, ev *Event) {
	if point == "" {
		return
	}
	var mu sync.Mutex
	queueHook = func(p string) {
		if p != point {
			return
		}
		mu.Lock()
		n--
		last := n == 0
		mu.Unlock()
		if last {
			ev.Set()
			for {
				time.Sleep(time.Hour) // until SIGKILL
			}
		}
	}
}

func (a robustArg) size(k uint64) int {
	if len(a.Sizes) == 0 {
		return 16
	}
	return a.Sizes[k%uint64(len(a.Sizes))]
}

var robustProducer = Register("qrobust.producer", func(a robustArg) error {
	freezeAt(a.Hook, a.HookAt, a.Frozen)
	q := a.queue()
	ctx := context.Background()
	for k := a.From; k < a.From+uint64(a.N); k++ {
		if err := q.PutBytes(ctx, robustMsg(k, a.size(k))); err != nil {
			return err
		}
	}
	return nil
})

// robustConsumer gets messages until stopMsg, checks each, and puts its
// index on Reply.
var robustConsumer = Register("qrobust.consumer", func(a robustArg) error {
	freezeAt(a.Hook, a.HookAt, a.Frozen)
	q := a.queue()
	ctx := context.Background()
	for {
		b, err := q.GetBytes(ctx)
		if err != nil {
			return err
		}
		k, err := checkMsg(b)
		if err != nil {
			return err
		}
		if a.J != nil {
			if err := a.J.TaskDone(); err != nil {
				return err
			}
		}
		if k == stopMsg {
			return nil
		}
		if err := a.Reply.PutBytes(ctx, b[:8]); err != nil {
			return err
		}
	}
})

func robustQueue(t *testing.T, maxsize int) *Queue {
	t.Helper()
	q, err := NewQueue(maxsize)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func robustEvent(t *testing.T) *Event {
	t.Helper()
	ev, err := NewEvent()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ev.Close() })
	return ev
}

func robustStart(t *testing.T, a robustArg, consumer bool) *Process {
	t.Helper()
	p := New(robustProducer, a)
	if consumer {
		p = New(robustConsumer, a)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		p.Join(context.Background())
	})
	return p
}

// robustJoin waits for p to exit with status 0.
func robustJoin(t *testing.T, ctx context.Context, p *Process) {
	t.Helper()
	if err := p.Join(ctx); err != nil {
		t.Fatalf("%s did not exit: %v (deadlock?)", p.Name(), err)
	}
	if code, _ := p.ExitCode(); code != 0 {
		t.Fatalf("%s exited %d", p.Name(), code)
	}
}

// killFrozen waits until the victim has frozen at its hook, waits for
// others to wait for what it holds, and kills it.
func killFrozen(ctx context.Context, victim *Process, frozen *Event) error {
	if frozen.Wait(ctx) != nil {
		return errors.New("the victim never reached its hook")
	}
	time.Sleep(3 * ownerCheck) // the holder is alive: no one takes its lock
	victim.Kill()
	return victim.Join(ctx)
}

// tally counts how many times each index is got.
type tally map[uint64]int

func (c tally) add(t *testing.T, b []byte) {
	t.Helper()
	k, err := checkMsg(b)
	if err != nil {
		t.Fatal(err)
	}
	c[k]++
}

// exactlyOnce checks that indexes from..from+n-1 were each got once.
func (c tally) exactlyOnce(t *testing.T, from uint64, n int) {
	t.Helper()
	for k := from; k < from+uint64(n); k++ {
		if c[k] != 1 {
			t.Fatalf("message %d got %d times", k, c[k])
		}
	}
}

// TestQueueKilledPutter: a putter killed holding the put lock, before it
// publishes its message or just after, leaves the others to put and get
// every message of theirs exactly once; its own messages are got exactly
// once up to the one it was killed in, which is got once if it was
// published and never otherwise. A JoinableQueue's Join returns once every
// message got has had its TaskDone.
func TestQueueKilledPutter(t *testing.T) {
	for _, c := range []struct {
		hook      string
		joinable  bool
		published bool
		maxsize   int
	}{
		{"put", false, false, 0},
		{"put", false, false, 20},
		{"put", true, false, 0},
		{"put.published", true, true, 10},
	} {
		t.Run(fmt.Sprintf("%s/joinable=%v/maxsize=%d", c.hook, c.joinable, c.maxsize), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), robustDeadline)
			defer cancel()
			var a robustArg
			if c.joinable {
				j, err := NewJoinableQueue(c.maxsize)
				if err != nil {
					t.Fatal(err)
				}
				a.J = j
			} else {
				a.Q = robustQueue(t, c.maxsize)
			}
			q := a.queue()
			frozen := robustEvent(t)
			const per, victimAt = 2000, 50
			v := a
			v.Frozen, v.Hook, v.HookAt, v.From, v.N = frozen, c.hook, victimAt, 1<<40, 100
			victim := robustStart(t, v, false)
			var ps []*Process
			for i := range 2 {
				s := a
				s.From, s.N = uint64(i*per), per
				ps = append(ps, robustStart(t, s, false))
			}
			killed := make(chan error, 1)
			go func() { killed <- killFrozen(ctx, victim, frozen) }()
			got := tally{}
			want := 2*per + victimAt - 1
			if c.published {
				want++
			}
			for range want {
				b, err := q.GetBytes(ctx)
				if err != nil {
					t.Fatalf("after %d messages: %v", len(got), err)
				}
				got.add(t, b)
				if a.J != nil {
					a.J.TaskDone()
				}
			}
			if err := <-killed; err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				robustJoin(t, ctx, p)
			}
			got.exactlyOnce(t, 0, 2*per)
			got.exactlyOnce(t, 1<<40, want-2*per)
			if b, err := q.GetBytesNowait(); !errors.Is(err, ErrEmpty) {
				t.Fatalf("an extra message (%d bytes, %v) after the kill", len(b), err)
			}
			if n := q.Qsize(); n != 0 {
				t.Fatalf("qsize %d, want 0", n)
			}
			if a.J != nil && a.J.Join(ctx) != nil {
				t.Fatal("join did not return: a task of the killed put is left")
			}
			// The queue works on.
			if err := q.PutBytes(ctx, robustMsg(7, 16)); err != nil {
				t.Fatal(err)
			}
			if b, err := q.GetBytes(ctx); err != nil || !bytes.Equal(b, robustMsg(7, 16)) {
				t.Fatalf("after the repair: %v %v", b, err)
			}
		})
	}
}

// TestQueueKilledGetter: a getter killed holding the get lock before it
// frees its message leaves it to the others; one killed after has it
// delivered (to itself): every other message is got exactly once.
func TestQueueKilledGetter(t *testing.T) {
	for _, c := range []struct {
		hook      string
		delivered bool
	}{{"get", false}, {"get.committed", true}} {
		t.Run(c.hook, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), robustDeadline)
			defer cancel()
			const n, consumers = 3000, 2
			q := robustQueue(t, 0)
			reply := robustQueue(t, 0)
			for k := range uint64(n) {
				q.PutBytes(ctx, robustMsg(k, 16+int(k%40)))
			}
			frozen := robustEvent(t)
			a := robustArg{Q: q, Reply: reply}
			v := a
			v.Frozen, v.Hook, v.HookAt = frozen, c.hook, 20
			victim := robustStart(t, v, true)
			if frozen.Wait(ctx) != nil {
				t.Fatal("the victim never reached its hook")
			}
			var cs []*Process
			for range consumers {
				cs = append(cs, robustStart(t, a, true))
			}
			if err := killFrozen(ctx, victim, frozen); err != nil {
				t.Fatal(err)
			}
			for range consumers {
				q.PutBytes(ctx, robustMsg(stopMsg, 16))
			}
			got := tally{}
			want := n
			if c.delivered {
				want--
			}
			for range want {
				b, err := reply.GetBytes(ctx)
				if err != nil {
					t.Fatalf("after %d messages: %v", len(got), err)
				}
				got[binary.LittleEndian.Uint64(b)]++
			}
			for _, p := range cs {
				robustJoin(t, ctx, p)
			}
			missing := 0
			for k := range uint64(n) {
				switch got[k] {
				case 0:
					missing++
				case 1:
				default:
					t.Fatalf("message %d got %d times", k, got[k])
				}
			}
			if missing != n-want {
				t.Fatalf("%d messages missing, want %d", missing, n-want)
			}
			if _, err := reply.GetBytesNowait(); !errors.Is(err, ErrEmpty) {
				t.Fatalf("more replies than messages: %v", err)
			}
			if q.Qsize() != 0 {
				t.Fatalf("qsize %d, want 0", q.Qsize())
			}
		})
	}
}

// TestQueueKilledStreaming: a putter killed while a message longer than the
// ring streams through it leaves the message cut short and discarded, and
// the others' messages intact; so does a getter killed in the middle of
// one, whose message counts as delivered.
func TestQueueKilledStreaming(t *testing.T) {
	const big = 6<<20 + 3
	t.Run("put", func(t *testing.T) {
		for _, getterRepairs := range []bool{false, true} {
			t.Run(fmt.Sprint("getter-repairs=", getterRepairs), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), robustDeadline)
				defer cancel()
				q := robustQueue(t, 0)
				frozen := robustEvent(t)
				victim := robustStart(t, robustArg{Q: q, Frozen: frozen, Hook: "put.stream", HookAt: 1,
					From: 1 << 40, N: 1, Sizes: []int{big}}, false)
				// A get is under way while the victim streams: the getter is
				// in the middle of the message when the victim dies.
				type result struct {
					b   []byte
					err error
				}
				first := make(chan result, 1)
				go func() {
					b, err := q.GetBytes(ctx)
					first <- result{b, err}
				}()
				if err := killFrozen(ctx, victim, frozen); err != nil {
					t.Fatal(err)
				}
				var sizes []int
				if !getterRepairs {
					// Another putter comes, and repairs the message.
					sizes = []int{16, big, 100}
					robustStart(t, robustArg{Q: q, N: 3, Sizes: sizes}, false)
				} else {
					// No putter comes before the getter repairs: it waits for
					// the rest of the message, then finds its putter dead.
					time.Sleep(3 * ownerCheck)
					sizes = []int{16, big}
					go func() {
						for k := range uint64(2) {
							q.PutBytes(ctx, robustMsg(k, sizes[k]))
						}
					}()
				}
				r := <-first
				if r.err != nil {
					t.Fatal(r.err)
				}
				got := tally{}
				got.add(t, r.b)
				for range len(sizes) - 1 {
					b, err := q.GetBytes(ctx)
					if err != nil {
						t.Fatal(err)
					}
					got.add(t, b)
				}
				got.exactlyOnce(t, 0, len(sizes))
				if b, err := q.GetBytesNowait(); !errors.Is(err, ErrEmpty) {
					t.Fatalf("an extra message (%d bytes) after the kill: %v", len(b), err)
				}
			})
		}
	})
	t.Run("get", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), robustDeadline)
		defer cancel()
		q := robustQueue(t, 0)
		reply := robustQueue(t, 0)
		frozen := robustEvent(t)
		sizes := []int{big, 16, big, 24}
		putDone := make(chan error, 1)
		go func() {
			for k := range uint64(len(sizes)) {
				if err := q.PutBytes(ctx, robustMsg(k, sizes[k])); err != nil {
					putDone <- err
					return
				}
			}
			putDone <- nil
		}()
		victim := robustStart(t, robustArg{Q: q, Reply: reply, Frozen: frozen, Hook: "get.stream", HookAt: 1}, true)
		if err := killFrozen(ctx, victim, frozen); err != nil {
			t.Fatal(err)
		}
		got := tally{}
		for range len(sizes) - 1 {
			b, err := q.GetBytes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got.add(t, b)
		}
		if err := <-putDone; err != nil {
			t.Fatal(err)
		}
		got.exactlyOnce(t, 1, len(sizes)-1)
		if _, err := q.GetBytesNowait(); !errors.Is(err, ErrEmpty) {
			t.Fatalf("an extra message after the kill: %v", err)
		}
	})
}

// killBothInStream kills a putter of a message of size bytes (longer than
// the ring) after the first part it streams, and a getter after it has read
// that part: the ring is left empty, in the middle of the message.
func killBothInStream(t *testing.T, ctx context.Context, q *Queue, size int) {
	t.Helper()
	reply := robustQueue(t, 0)
	putFrozen, getFrozen := robustEvent(t), robustEvent(t)
	putter := robustStart(t, robustArg{Q: q, Frozen: putFrozen, Hook: "put.stream", HookAt: 1,
		From: 1 << 40, N: 1, Sizes: []int{size}}, false)
	if putFrozen.Wait(ctx) != nil {
		t.Fatal("the putter never reached its hook")
	}
	getter := robustStart(t, robustArg{Q: q, Reply: reply, Frozen: getFrozen, Hook: "get.stream", HookAt: 1}, true)
	if err := killFrozen(ctx, getter, getFrozen); err != nil {
		t.Fatal(err)
	}
	if err := killFrozen(ctx, putter, putFrozen); err != nil {
		t.Fatal(err)
	}
}

// TestQueueKilledBothStreaming: the putter and the getter of a message
// longer than the ring are both killed in the middle of it, the getter
// having read all that was published: nobody holds a lock alive and no byte
// is there to read, yet a bounded queue that counts the message as queued
// must not stay full and empty for ever. The next get repairs it.
func TestQueueKilledBothStreaming(t *testing.T) {
	const big = 6<<20 + 3
	ctx, cancel := context.WithTimeout(context.Background(), robustDeadline)
	defer cancel()
	q := robustQueue(t, 1)
	killBothInStream(t, ctx, q, big)
	go q.PutBytes(ctx, robustMsg(7, 16))
	b, err := q.GetBytes(ctx)
	if err != nil {
		t.Fatalf("get after both were killed: %v (the queue stayed stuck)", err)
	}
	got := tally{}
	got.add(t, b)
	got.exactlyOnce(t, 7, 1)
	if b, err := q.GetBytesNowait(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("an extra message (%d bytes) after the kills: %v", len(b), err)
	}
}

// TestQueueRepairWithoutGetter: the putter and the getter of a message
// longer than the ring are killed in it, the getter having emptied the ring;
// the rest of the message does not fit in the ring, and no getter is left to
// make room. A timed put that takes the put lock over fails with ErrFull at
// its timeout instead of waiting for ever to repair the message; a getter
// that comes later discards it, and the next put and get work.
func TestQueueRepairWithoutGetter(t *testing.T) {
	const big = 3 * ringSize
	ctx, cancel := context.WithTimeout(context.Background(), robustDeadline)
	defer cancel()
	q := robustQueue(t, 0)
	killBothInStream(t, ctx, q, big)

	timedOut := make(chan error, 1)
	go func() {
		timed, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		timedOut <- q.PutBytes(timed, robustMsg(7, 16))
	}()
	select {
	case err := <-timedOut:
		if !errors.Is(err, ErrFull) {
			t.Fatalf("the timed put: %v, want ErrFull", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a put with a timeout of 500 ms still waits after 30 s (repairing without a getter)")
	}

	type result struct {
		b   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		b, err := q.GetBytes(ctx)
		got <- result{b, err}
	}()
	if err := q.PutBytes(ctx, robustMsg(8, 16)); err != nil {
		t.Fatalf("put once a getter came: %v", err)
	}
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	tl := tally{}
	tl.add(t, r.b)
	tl.exactlyOnce(t, 8, 1)
	if b, err := q.GetBytesNowait(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("an extra message (%d bytes) after the kills: %v", len(b), err)
	}
}

// TestQueueRandomKills kills putters and getters at random moments, again
// and again, while two putters and two getters go on: every message is got
// at most once, intact, and every message of the surviving putters is got,
// but for at most one per getter killed (the one it had got and not yet
// reported).
func TestQueueRandomKills(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), robustDeadline)
	defer cancel()
	const per, consumers, rounds, maxRounds = 50000, 2, 12, 400
	q := robustQueue(t, 64)
	reply := robustQueue(t, 0)
	a := robustArg{Q: q, Reply: reply, Sizes: []int{16, 40, 16, 1000, 16, 24}}
	var ps, cs []*Process
	for i := range 2 {
		s := a
		s.From, s.N = uint64(i*per), per
		ps = append(ps, robustStart(t, s, false))
	}
	for range consumers {
		cs = append(cs, robustStart(t, a, true))
	}
	got := tally{}
	var mu sync.Mutex
	collected := make(chan error, 1)
	go func() {
		for {
			b, err := reply.GetBytes(ctx)
			if err != nil {
				collected <- err
				return
			}
			k := binary.LittleEndian.Uint64(b)
			if k == stopMsg {
				collected <- nil
				return
			}
			mu.Lock()
			got[k]++
			mu.Unlock()
		}
	}()
	killedGetters := 0
	running := func() bool {
		for _, p := range ps {
			select {
			case <-p.Done():
			default:
				return true
			}
		}
		return false
	}
	for r := 0; r < rounds || (running() && r < maxRounds); r++ {
		v := a
		v.From, v.N = uint64(r+1)<<40, 1<<30
		if r%3 == 2 {
			v.Sizes = []int{16, 5 << 20, 16} // streams too
		}
		getter := r%4 == 1
		if getter {
			killedGetters++
		}
		victim := robustStart(t, v, getter)
		time.Sleep(time.Duration(5+rand.IntN(30)) * time.Millisecond)
		victim.Kill()
		victim.Join(ctx)
	}
	for _, p := range ps {
		robustJoin(t, ctx, p)
	}
	for range consumers {
		if err := q.PutBytes(ctx, robustMsg(stopMsg, 16)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range cs {
		robustJoin(t, ctx, p)
	}
	reply.PutBytes(ctx, robustMsg(stopMsg, 16)[:8])
	if err := <-collected; err != nil {
		t.Fatal(err)
	}
	missing, victims := 0, 0
	for k := range uint64(2 * per) {
		missing += 1 - got[k]
	}
	for k, n := range got {
		if n != 1 {
			t.Fatalf("message %x got %d times", k, n)
		}
		if k >= 1<<40 {
			victims++
		}
	}
	if missing > killedGetters {
		t.Fatalf("%d messages of the survivors lost, with %d getters killed", missing, killedGetters)
	}
	t.Logf("%d messages of the victims got; %d lost with %d getters killed", victims, missing, killedGetters)
	if q.Qsize() != 0 {
		t.Fatalf("qsize %d after draining", q.Qsize())
	}
}

// TestQueueKilledHolderNowait: calls that do not wait take over a lock
// left by a dead process too, once they have found it held for ownerCheck.
func TestQueueKilledHolderNowait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), robustDeadline)
	defer cancel()
	q := robustQueue(t, 0)
	frozen := robustEvent(t)
	victim := robustStart(t, robustArg{Q: q, Frozen: frozen, Hook: "put", HookAt: 3, N: 10}, false)
	if err := killFrozen(ctx, victim, frozen); err != nil {
		t.Fatal(err)
	}
	for {
		err := q.PutBytesNowait(robustMsg(100, 16))
		if err == nil {
			break
		}
		if !errors.Is(err, ErrFull) || ctx.Err() != nil {
			t.Fatalf("put_nowait after the kill: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	got := tally{}
	for range 3 {
		b, err := q.GetBytesNowait()
		if err != nil {
			t.Fatal(err)
		}
		got.add(t, b)
	}
	got.exactlyOnce(t, 0, 2)
	got.exactlyOnce(t, 100, 1)
	if _, err := q.GetBytesNowait(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("an extra message: %v", err)
	}
}

// TestJoinableQueueKilledPutterJoin: Join returns when the only putter was
// killed with a task counted for a message it never published, though no
// other put comes to repair the queue.
func TestJoinableQueueKilledPutterJoin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), robustDeadline)
	defer cancel()
	j, err := NewJoinableQueue(0)
	if err != nil {
		t.Fatal(err)
	}
	frozen := robustEvent(t)
	victim := robustStart(t, robustArg{J: j, Frozen: frozen, Hook: "put", HookAt: 3, N: 10}, false)
	if err := killFrozen(ctx, victim, frozen); err != nil {
		t.Fatal(err)
	}
	got := tally{}
	for range 2 {
		b, err := j.GetBytes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got.add(t, b)
		if err := j.TaskDone(); err != nil {
			t.Fatal(err)
		}
	}
	got.exactlyOnce(t, 0, 2)
	if j.Join(ctx) != nil {
		t.Fatal("join did not return: the killed put's task is left")
	}
	if err := j.TaskDone(); !errors.Is(err, ErrValue) {
		t.Fatalf("task_done with no task left: %v", err)
	}
}
