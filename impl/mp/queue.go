package mp

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sync/atomic"
)

// Queue is CPython's multiprocessing.Queue over shared memory: a FIFO of
// messages (byte strings; Put and Get encode values with encoding/json) that
// any number of processes put and get.
//
// Design. A queue is one memfd segment: a page of state, then a ring of
// ringSize bytes that carries the messages as a byte stream, each its
// length (8 bytes) then its bytes, padded to 8 bytes. Putters take turns
// with a put lock, getters with a get lock (the futex locks of Lock); between
// them the ring is a single-producer single-consumer ring: the putter
// publishes what it wrote by advancing tail, the getter frees what it read
// by advancing head, each with one atomic store. A message longer than the
// free space, or than the whole ring, streams through it in parts while its
// putter keeps the put lock and its getter the get lock, so messages never
// interleave and any size works. A putter or getter that finds the ring full
// or empty spins briefly, then sleeps on a futex word that the other side
// bumps (and wakes only when someone sleeps).
//
// The number of messages in the queue (Qsize) is puts - gets: each counter
// is written by the holder of one lock only, on that side's cache line, so
// that putters and getters do not contend for a shared counter. It is
// bounded by maxsize when that is not 0: a put waits while it is maxsize.
//
// Differences from CPython. There is no feeder thread: a put writes into
// shared memory at once, so a put on an unbounded queue waits (and
// PutNowait fails with ErrFull) only while the ring (ringSize bytes) is full
// of messages nobody gets. JoinThread and CancelJoinThread therefore have
// nothing to wait for or cancel: they are no-ops. Close marks this
// process's handle closed: a later Put or Get on it fails with ErrClosed;
// other processes are not affected.
//
// Crashes. Processes wait for room or for a message without holding a
// lock, so a process killed while it waits in Put or Get loses nothing and
// breaks nothing. A process killed while it holds the put or get lock (in
// the copy of one message, or while a message larger than the free ring
// streams through) leaves it held, as a process that dies holding a Lock
// does: the others then wait for ever. No item is ever lost or duplicated
// by a kill outside those windows.
type Queue struct {
	seg    *segment
	s      *queueState
	ring   []byte
	closed atomic.Bool
}

// ringSize is the size of a queue's ring; pages that are never used take no
// memory.
const ringSize = 4 << 20

// queueState is laid out so that what putters write, what getters write,
// and what both write are on separate cache lines.
type queueState struct {
	putLock     mutexState
	tail        atomic.Uint64 // bytes written, published
	puts        atomic.Uint64 // messages begun by putters
	unfinished  atomic.Uint32 // JoinableQueue: puts without task_done
	_           [64]byte
	getLock     mutexState
	head        atomic.Uint64 // bytes read, freed
	gets        atomic.Uint64 // messages got
	_           [64]byte
	maxsize     uint32 // 0: unbounded
	_           [64]byte
	dataSeq     atomic.Uint32 // bumped when tail advances while getters wait
	getWaiters  atomic.Uint32
	dataSpin    spinner
	_           [64]byte
	spaceSeq    atomic.Uint32 // bumped when head or gets advance while putters wait
	putWaiters  atomic.Uint32
	spaceSpin   spinner
	_           [64]byte
	joinWaiters atomic.Uint32
}

// NewQueue returns a new Queue of at most maxsize messages, or unbounded
// when maxsize <= 0.
func NewQueue(maxsize int) (*Queue, error) {
	q := &Queue{}
	return q, q.init(maxsize)
}

func (q *Queue) init(maxsize int) error {
	seg, err := newSegmentSize("queue", segmentSize+ringSize)
	if err != nil {
		return err
	}
	q.attach(seg)
	q.s.maxsize = uint32(min(max(maxsize, 0), math.MaxInt32))
	return nil
}

func (q *Queue) attach(seg *segment) {
	q.seg = seg
	q.s = at[queueState](seg)
	q.ring = seg.mem[segmentSize:]
}

// canceled is the context of the calls that must not wait.
var canceled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// PutBytes puts the message b, waiting while the queue is full until ctx
// ends: then it fails with ErrFull.
func (q *Queue) PutBytes(ctx context.Context, b []byte) error {
	if q.closed.Load() {
		return fmt.Errorf("%w: put on a closed queue", ErrClosed)
	}
	s := q.s
	// The header and the first part must fit before the message is begun:
	// after that the put completes whatever ctx says. Waits for room happen
	// without the put lock, so that a putter killed while it waits leaves
	// the queue usable; the lock holder checks again.
	first := min(pad(len(b)), len(q.ring)-headerSize)
	room := func() bool {
		return (s.maxsize == 0 || q.count() < uint64(s.maxsize)) && q.hasSpace(s.tail.Load(), headerSize+first)
	}
	for {
		if !room() && !q.waitSpace(ctx, room) {
			return ErrFull
		}
		if !s.putLock.acquire(ctx) {
			return ErrFull
		}
		if room() {
			break
		}
		s.putLock.release()
	}
	defer s.putLock.release()
	tail := s.tail.Load()
	binary.LittleEndian.PutUint64(q.ring[tail%ringSize:], uint64(len(b)))
	tail += headerSize
	s.puts.Store(s.puts.Load() + 1) // only the put lock's holder writes it
	s.unfinished.Add(1)
	for {
		// Copy what fits, publish it, and wait for room for the rest. The
		// last part's padding must fit too: tail never passes head+ringSize.
		free := ringSize - int(tail-s.head.Load())
		n := min(free, len(b))
		if n == len(b) && n > 0 && pad(int(tail%8)+n)-int(tail%8) > free {
			n--
		}
		q.copyIn(tail, b[:n])
		b = b[n:]
		tail += uint64(n)
		if len(b) == 0 {
			tail = (tail + 7) &^ 7
		}
		s.tail.Store(tail)
		wake(&s.dataSeq, &s.getWaiters)
		if len(b) == 0 {
			return nil
		}
		t, need := tail, min(len(b)+7, 64)
		q.waitSpace(context.Background(), func() bool { return q.hasSpace(t, need) })
	}
}

// pad rounds n up to a multiple of 8.
func pad(n int) int { return (n + 7) &^ 7 }

func (q *Queue) hasSpace(tail uint64, n int) bool {
	return ringSize-int(tail-q.s.head.Load()) >= n
}

// copyIn copies b into the ring at stream position pos.
func (q *Queue) copyIn(pos uint64, b []byte) {
	i := int(pos % ringSize)
	n := copy(q.ring[i:], b)
	copy(q.ring, b[n:])
}

// copyOut copies the ring at stream position pos into b.
func (q *Queue) copyOut(pos uint64, b []byte) {
	i := int(pos % ringSize)
	n := copy(b, q.ring[i:])
	copy(b[n:], q.ring)
}

// waitSpace waits, for a putter, until ok holds or ctx ends.
func (q *Queue) waitSpace(ctx context.Context, ok func() bool) bool {
	s := q.s
	return wait(ctx, &s.spaceSeq, &s.putWaiters, &s.spaceSpin, ok)
}

// waitData waits, for a getter, until ok holds or ctx ends.
func (q *Queue) waitData(ctx context.Context, ok func() bool) bool {
	s := q.s
	return wait(ctx, &s.dataSeq, &s.getWaiters, &s.dataSpin, ok)
}

// wait waits until ok holds or ctx ends: it spins, then sleeps on seq,
// which whoever makes ok hold bumps (and wakes when waiters is not 0).
func wait(ctx context.Context, seq, waiters *atomic.Uint32, spin *spinner, ok func() bool) bool {
	if ok() || spin.spin(ok) {
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	w := newWaiter(ctx, seq)
	defer w.stop()
	for {
		waiters.Add(1)
		seen := seq.Load()
		if ok() {
			waiters.Add(^uint32(0))
			return true
		}
		slept := w.sleep(seq, seen)
		waiters.Add(^uint32(0))
		if !slept {
			return ok()
		}
	}
}

// wake wakes the waiters of wait on seq, after a change that may make their
// condition hold. With no waiter, it writes nothing: a waiter counts itself
// before it reads seq and checks its condition, so either it sees the
// change or this sees it (all atomics are sequentially consistent).
func wake(seq, waiters *atomic.Uint32) {
	if waiters.Load() != 0 {
		seq.Add(1)
		futexWake(seq, wakeAll)
	}
}

// GetBytes gets a message, waiting while the queue is empty until ctx ends:
// then it fails with ErrEmpty.
func (q *Queue) GetBytes(ctx context.Context) ([]byte, error) {
	if q.closed.Load() {
		return nil, fmt.Errorf("%w: get on a closed queue", ErrClosed)
	}
	s := q.s
	// As PutBytes, wait for a message without the get lock.
	ready := func() bool {
		h := s.head.Load()
		return s.tail.Load()-h >= headerSize
	}
	for {
		if !ready() && !q.waitData(ctx, ready) {
			return nil, ErrEmpty
		}
		if !s.getLock.acquire(ctx) {
			return nil, ErrEmpty
		}
		if ready() {
			break
		}
		s.getLock.release()
	}
	defer s.getLock.release()
	head := s.head.Load()
	size := binary.LittleEndian.Uint64(q.ring[head%ringSize:])
	head += headerSize
	b := make([]byte, size)
	rest := b
	for {
		avail := int(s.tail.Load() - head)
		n := min(avail, len(rest))
		q.copyOut(head, rest[:n])
		rest = rest[n:]
		head += uint64(n)
		if len(rest) == 0 {
			head = (head + 7) &^ 7
		}
		s.head.Store(head)
		if len(rest) == 0 {
			break
		}
		wake(&s.spaceSeq, &s.putWaiters)
		h := head
		q.waitData(context.Background(), func() bool { return s.tail.Load() > h })
	}
	s.gets.Store(s.gets.Load() + 1) // only the get lock's holder writes it
	wake(&s.spaceSeq, &s.putWaiters)
	return b, nil
}

// PutBytesNowait puts b if the queue has room for it now, or fails with
// ErrFull.
func (q *Queue) PutBytesNowait(b []byte) error { return q.PutBytes(canceled, b) }

// GetBytesNowait gets a message if there is one now, or fails with ErrEmpty.
func (q *Queue) GetBytesNowait() ([]byte, error) { return q.GetBytes(canceled) }

// Put puts v, encoded with encoding/json, as PutBytes does.
func (q *Queue) Put(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return q.PutBytes(ctx, b)
}

// Get gets a message put by Put and decodes it into v, as GetBytes does.
func (q *Queue) Get(ctx context.Context, v any) error {
	b, err := q.GetBytes(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// PutNowait is Put without waiting.
func (q *Queue) PutNowait(v any) error { return q.Put(canceled, v) }

// GetNowait is Get without waiting.
func (q *Queue) GetNowait(v any) error { return q.Get(canceled, v) }

// Qsize returns the number of messages in the queue (approximately, while
// others put and get).
func (q *Queue) Qsize() int { return int(q.count()) }

// count is puts - gets; gets is read first, so that it never passes puts.
func (q *Queue) count() uint64 {
	g := q.s.gets.Load()
	return q.s.puts.Load() - g
}

// Empty reports whether the queue is empty (approximately).
func (q *Queue) Empty() bool { return q.count() == 0 }

// Full reports whether the queue holds maxsize messages (approximately).
func (q *Queue) Full() bool {
	return q.s.maxsize != 0 && q.count() >= uint64(q.s.maxsize)
}

// Maxsize returns the queue's bound, 0 when unbounded.
func (q *Queue) Maxsize() int { return int(q.s.maxsize) }

// Close marks this process's handle closed: later Puts and Gets on it fail
// with ErrClosed. The shared memory stays mapped until the process exits,
// so that a call still waiting in another goroutine stays safe.
func (q *Queue) Close() error {
	q.closed.Store(true)
	return nil
}

// JoinThread is a no-op: a put has written its message when it returns,
// so there is no feeder thread to wait for.
func (q *Queue) JoinThread() {}

// CancelJoinThread is a no-op, as JoinThread is.
func (q *Queue) CancelJoinThread() {}

// MarshalJSON encodes the queue for a child being started; it fails in any
// other use.
func (q *Queue) MarshalJSON() ([]byte, error) { return marshalSegment("queue", q.seg, nil) }

// UnmarshalJSON maps, in a child, the queue its parent passed.
func (q *Queue) UnmarshalJSON(data []byte) error {
	s, _, err := unmarshalSegment("queue", data)
	if err != nil {
		return err
	}
	q.attach(s)
	return nil
}

// JoinableQueue is a Queue whose consumers acknowledge each message with
// TaskDone, so that Join waits until every message put has been processed,
// as CPython's multiprocessing.JoinableQueue.
type JoinableQueue struct{ Queue }

// NewJoinableQueue returns a new JoinableQueue of at most maxsize messages,
// or unbounded when maxsize <= 0.
func NewJoinableQueue(maxsize int) (*JoinableQueue, error) {
	q := &JoinableQueue{}
	if err := q.init(maxsize); err != nil {
		return nil, err
	}
	return q, nil
}

var errTaskDone = fmt.Errorf("%w: task_done() called too many times", ErrValue)

// TaskDone tells that a message got from the queue has been processed. It
// fails with ErrValue when called more times than messages were put.
func (q *JoinableQueue) TaskDone() error {
	s := q.s
	for {
		v := s.unfinished.Load()
		if v == 0 {
			return errTaskDone
		}
		if s.unfinished.CompareAndSwap(v, v-1) {
			if v == 1 && s.joinWaiters.Load() != 0 {
				futexWake(&s.unfinished, wakeAll)
			}
			return nil
		}
	}
}

// Join waits until every message put has had its TaskDone, or ctx ends: it
// reports whether they had.
func (q *JoinableQueue) Join(ctx context.Context) bool {
	s := q.s
	w := newWaiter(ctx, &s.unfinished)
	defer w.stop()
	for {
		s.joinWaiters.Add(1)
		v := s.unfinished.Load()
		if v == 0 {
			s.joinWaiters.Add(^uint32(0))
			return true
		}
		slept := w.sleep(&s.unfinished, v)
		s.joinWaiters.Add(^uint32(0))
		if !slept {
			return s.unfinished.Load() == 0
		}
	}
}

// SimpleQueue is an unbounded Queue, as CPython's multiprocessing.SimpleQueue
// (which has only put, get, empty and close).
type SimpleQueue struct{ Queue }

// NewSimpleQueue returns a new SimpleQueue.
func NewSimpleQueue() (*SimpleQueue, error) {
	q := &SimpleQueue{}
	if err := q.init(0); err != nil {
		return nil, err
	}
	return q, nil
}
