package mp

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// Queue is CPython's multiprocessing.Queue over shared memory: a FIFO of
// messages (byte strings; Put and Get encode values with encoding/json) that
// any number of processes put and get.
//
// Design. A queue is one memfd segment: a page of state, then a ring of
// ringSize bytes that carries the messages as a byte stream, each its
// length (8 bytes) then its bytes, padded to 8 bytes. Putters take turns
// with a put lock, getters with a get lock; between them the ring is a
// single-producer single-consumer ring. A putter copies a message past the
// published end of the stream, then publishes it with one atomic store of a
// word that holds both the end of the stream and the number of messages put;
// a getter copies a message out, then frees it with one atomic store of a
// word that holds both the start of the stream and the number of messages
// got. Each side caches the other's word and reads it again only when the
// cached one says the ring is full or empty, so that putters and getters
// share cache lines only through the ring itself. A message longer than the
// ring streams through it in parts, followed by an 8-byte trailer, while its
// putter keeps the put lock and its getter the get lock, so that messages
// never interleave and any size works. A putter or getter that finds the
// ring full or empty spins briefly, then sleeps on a futex word that the
// other side bumps, with a system call only when someone sleeps.
//
// Qsize is the number of messages put minus the number got. It is bounded
// by maxsize when that is not 0: a put waits while it is maxsize.
//
// Differences from CPython. There is no feeder thread: a put writes into
// shared memory at once, so a put on an unbounded queue waits (and
// PutNowait fails with ErrFull) only while the ring (ringSize bytes) is full
// of messages nobody gets. JoinThread and CancelJoinThread therefore have
// nothing to wait for or cancel: they are no-ops. Close marks this
// process's handle closed: a later Put or Get on it fails with ErrClosed,
// and the handle's memory and descriptor are released once the calls in
// progress in this process return; other processes are not affected.
//
// Crashes. A process killed at any point of a put or a get, SIGKILL
// included, neither deadlocks the queue nor makes it lose or duplicate any
// message but the one it was putting or getting: the put and get locks
// record their holder's pid and start time, and a process that has waited
// ownerCheck (20 ms) for a lock whose holder has died takes it over and
// repairs what the holder left half-done. A message whose put is killed is
// delivered whole, exactly once, if the put had published it (one atomic
// store, after the copy), and never otherwise; a message longer than the
// ring that had begun to stream through it is cut short and discarded by its
// getter. A message whose get is killed stays in the queue for the next get,
// unless the get had freed it (one atomic store, after the copy) or, for a
// message longer than the ring, part of it: then it counts as delivered, to
// the dead process. Qsize, maxsize and a JoinableQueue's count of unfinished
// tasks stay consistent with the messages in the queue: a put killed before
// it published leaves no task to be done (a message got by a process killed
// before its TaskDone stays a task not done, as in CPython). PutNowait and
// GetNowait do not wait for a repair: they fail with ErrFull or ErrEmpty
// until a call of their process finds the same dead holder ownerCheck after
// a first one did, and takes the lock over. A put whose repair of a long
// message needs room that no getter makes gives up when its context ends
// (ErrFull); the next put, or the getter that streams the message in, goes
// on from there.
type Queue struct {
	seg              *segment
	s                *queueState
	ring             []byte
	info             uint64 // this process as a lock's holder: see ownerInfo
	putSeen, getSeen heldSince
	closed           atomic.Bool
	// refs counts the handle (until Close) and the calls in progress; the
	// last to go releases the segment.
	refs    atomic.Int64
	release sync.Once
}

// NewQueue returns a new Queue of at most maxsize messages, or unbounded
// when maxsize <= 0.
func NewQueue(maxsize int) (*Queue, error) {
	q := &Queue{}
	return q, q.init(maxsize, false)
}

func (q *Queue) init(maxsize int, joinable bool) error {
	seg, err := newSegmentSize("queue", segmentSize+ringSize)
	if err != nil {
		return err
	}
	q.attach(seg)
	q.s.maxsize = uint32(min(max(maxsize, 0), math.MaxInt32))
	if joinable {
		q.s.joinable = 1
	}
	return nil
}

func (q *Queue) attach(seg *segment) {
	q.refs.Store(1)
	q.seg = seg
	q.s = at[queueState](seg)
	q.ring = seg.mem[segmentSize:]
	q.info = ownerInfo()
}

// canceled is the context of the calls that must not wait.
var canceled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// queueHook, when not nil, is called at the points of Put and Get where a
// kill is the hardest to recover from; tests set it in children.
var queueHook func(point string)

// PutBytes puts the message b, waiting while the queue is full until ctx
// ends: then it fails with ErrFull and ctx's error. A ctx already done
// makes it only try.
func (q *Queue) PutBytes(ctx context.Context, b []byte) error {
	if !q.enter() {
		return fmt.Errorf("%w: put on a closed queue", ErrClosed)
	}
	defer q.leave()
	s := q.s
	// The whole message (or for a long one, as much of it as the ring holds)
	// must fit before it is begun: after that the put completes whatever ctx
	// says. Waits for room happen without the put lock; the lock holder
	// checks again.
	size := uint64(len(b))
	need := min(headerSize+pad(size), ringSize)
	for {
		if !q.room(need) && !q.waitRoom(ctx, need) {
			return timedOut(ctx, ErrFull)
		}
		if !s.putLock.acquire(ctx, q.info, &q.putSeen, func() { q.repairPut(ctx) }) {
			return timedOut(ctx, ErrFull)
		}
		if s.putStream.active.Load() != 0 && !q.repairPut(ctx) {
			// A repair that needs room nobody makes (no getter) waits
			// no longer than ctx; whoever takes the lock next goes on.
			s.putLock.release()
			return timedOut(ctx, ErrFull)
		}
		if q.room(need) {
			break
		}
		s.putLock.release()
	}
	tp := s.tailp.Load()
	tail, puts := wordPos(tp), wordCount(tp)+1
	binary.LittleEndian.PutUint64(q.ring[tail%ringSize:], size)
	if streamed(size) {
		q.putStreamed(tail, puts, b)
	} else {
		end := tail + headerSize + pad(size)
		q.copyIn(tail+headerSize, b)
		if queueHook != nil {
			queueHook("put")
		}
		if s.joinable != 0 {
			s.pendTarget.Store(streamWord(puts, end))
			s.unfinished.Add(1 | pendingTask)
		}
		s.tailp.Store(streamWord(puts, end))
		if s.joinable != 0 {
			if queueHook != nil {
				queueHook("put.published")
			}
			s.unfinished.Add(^uint64(pendingTask - 1))
		}
		s.data.wake()
	}
	s.putLock.release()
	return nil
}

// GetBytes gets a message, waiting while the queue is empty until ctx ends:
// then it fails with ErrEmpty and ctx's error. A ctx already done makes it
// only try.
func (q *Queue) GetBytes(ctx context.Context) ([]byte, error) {
	return q.get(ctx, nil, true)
}

// GetBytesInto is GetBytes that returns the message in buf's memory when
// its capacity is enough (buf[:n]), and in new memory otherwise, so that a
// loop that passes back what it got allocates nothing.
func (q *Queue) GetBytesInto(ctx context.Context, buf []byte) ([]byte, error) {
	return q.get(ctx, buf, false)
}

func (q *Queue) get(ctx context.Context, buf []byte, alloc bool) ([]byte, error) {
	if !q.enter() {
		return nil, fmt.Errorf("%w: get on a closed queue", ErrClosed)
	}
	defer q.leave()
	s := q.s
	for {
		// As PutBytes, wait for a message without the get lock.
		for {
			if !q.ready() && !q.waitData(ctx) {
				return nil, timedOut(ctx, ErrEmpty)
			}
			if !s.getLock.acquire(ctx, q.info, &q.getSeen, q.repairGet) {
				return nil, timedOut(ctx, ErrEmpty)
			}
			if q.ready() {
				break
			}
			s.getLock.release()
		}
		hp := s.headp.Load()
		head, gets := wordPos(hp), wordCount(hp)+1
		size := binary.LittleEndian.Uint64(q.ring[head%ringSize:])
		var b []byte
		if alloc || uint64(cap(buf)) < size {
			b = make([]byte, size)
		} else {
			b = buf[:size]
		}
		if !streamed(size) {
			q.copyOut(head+headerSize, b)
			if queueHook != nil {
				queueHook("get")
			}
			s.headp.Store(streamWord(gets, head+headerSize+pad(size)))
			if queueHook != nil {
				queueHook("get.committed")
			}
			s.space.wake()
			s.getLock.release()
			return b, nil
		}
		ok := q.getStreamed(head, gets, b)
		s.getLock.release()
		if ok {
			return b, nil
		}
		// The put was killed: the message was cut short. Get the next one.
	}
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
// others put and get); 0 once this handle is closed.
func (q *Queue) Qsize() int { return int(q.count()) }

// count is puts - gets; gets is read first, so that it never passes puts.
func (q *Queue) count() uint64 {
	if !q.enter() {
		return 0
	}
	defer q.leave()
	hp := q.s.headp.Load()
	return q.countAt(hp, q.s.tailp.Load())
}

func (q *Queue) countAt(hp, tp uint64) uint64 {
	return (wordCount(tp) - wordCount(hp)) & cntMask
}

// Empty reports whether the queue is empty (approximately).
func (q *Queue) Empty() bool { return q.count() == 0 }

// Closed reports whether this process's handle is closed. Empty and Qsize
// cannot fail, so a caller that must refuse them on a closed handle, as
// CPython's SimpleQueue.empty does (its pipe is closed: OSError), asks here.
func (q *Queue) Closed() bool { return q.closed.Load() }

// Full reports whether the queue holds maxsize messages (approximately).
func (q *Queue) Full() bool {
	bound := q.Maxsize()
	return bound != 0 && q.count() >= uint64(bound)
}

// Maxsize returns the queue's bound, 0 when unbounded (or closed).
func (q *Queue) Maxsize() int {
	if !q.enter() {
		return 0
	}
	defer q.leave()
	return int(q.s.maxsize)
}

// Close marks this process's handle closed: later calls on it fail with
// ErrClosed. Its shared memory and descriptor are released as soon as the
// calls still in progress in other goroutines return.
func (q *Queue) Close() error {
	if !q.closed.Swap(true) {
		q.leave()
	}
	return nil
}

// enter counts a call in, unless the handle is closed.
func (q *Queue) enter() bool {
	q.refs.Add(1)
	if q.closed.Load() {
		q.leave()
		return false
	}
	return true
}

// leave counts a call (or, from Close, the handle) out; the last one
// releases the segment.
func (q *Queue) leave() {
	if q.refs.Add(-1) == 0 {
		q.release.Do(func() { q.seg.close() })
	}
}

// JoinThread is a no-op: a put has written its message when it returns,
// so there is no feeder thread to wait for.
func (q *Queue) JoinThread() {}

// CancelJoinThread is a no-op, as JoinThread is.
func (q *Queue) CancelJoinThread() {}

// MarshalJSON encodes the queue for a child being started; it fails in any
// other use.
func (q *Queue) MarshalJSON() ([]byte, error) {
	if !q.enter() {
		return nil, fmt.Errorf("%w: passing a closed queue", ErrClosed)
	}
	defer q.leave()
	return marshalSegment("queue", q.seg, nil)
}

// UnmarshalJSON maps, in a child, the queue its parent passed.
func (q *Queue) UnmarshalJSON(data []byte) error {
	s, _, err := unmarshalSegment("queue", data)
	if err != nil {
		return err
	}
	q.attach(s)
	return nil
}

// SimpleQueue is an unbounded Queue, as CPython's multiprocessing.SimpleQueue
// (which has only put, get, empty and close).
type SimpleQueue struct{ Queue }

// NewSimpleQueue returns a new SimpleQueue.
func NewSimpleQueue() (*SimpleQueue, error) {
	q := &SimpleQueue{}
	if err := q.init(0, false); err != nil {
		return nil, err
	}
	return q, nil
}
