package mp

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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

// ringSize is the size of a queue's ring; pages that are never used take no
// memory.
const ringSize = 4 << 20

// A stream word holds a position in the byte stream (modulo 2^posBits, a
// multiple of ringSize) and a number of messages (modulo 2^(64-posBits),
// more than the ring can hold), so that one atomic store publishes both.
const (
	posBits = 40
	posMask = 1<<posBits - 1
	cntMask = 1<<(64-posBits) - 1
)

func streamWord(count, pos uint64) uint64 { return count<<posBits | pos&posMask }
func wordPos(w uint64) uint64             { return w & posMask }
func wordCount(w uint64) uint64           { return w >> posBits }

// dist is b - a in the stream, for a <= b.
func dist(a, b uint64) uint64 { return (b - a) & posMask }

// trailerSize is the size of the trailer of a message longer than the
// ring: 0 when the message is whole, 1 when its put was killed and a
// repair cut it short.
const trailerSize = 8

// streamed reports whether a message of n bytes is longer than the ring.
func streamed(n uint64) bool { return n > ringSize-headerSize }

// queueState is laid out so that what putters write, what getters write,
// and what both write are on separate cache lines.
type queueState struct {
	putLock    qlock
	tailp      atomic.Uint64 // stream word: bytes written and published, messages put
	headSeen   atomic.Uint64 // putters' cache of the position of headp (at most it)
	putStream  streamRecord
	pendTarget atomic.Uint64 // JoinableQueue: tailp once the put counted in pendingTask publishes
	_          [64]byte
	getLock    qlock
	headp      atomic.Uint64 // stream word: bytes read and freed, messages got
	tailSeen   atomic.Uint64 // getters' cache of the position of tailp (at most it)
	getStream  streamRecord
	_          [64]byte
	maxsize    uint32 // 0: unbounded
	joinable   uint32
	_          [64]byte
	dataSeq    atomic.Uint32 // bumped when tailp advances while getters sleep
	dataSpin   spinner
	_          [64]byte
	spaceSeq   atomic.Uint32 // bumped when headp advances while putters sleep
	spaceSpin  spinner
	_          [64]byte
	// unfinished is a JoinableQueue's count of tasks not done (low 32 bits,
	// futex word) and pendingTask, set while a put that has counted its
	// message has not published it.
	unfinished  atomic.Uint64
	joinWaiters atomic.Uint32
}

const pendingTask = 1 << 32

// A streamRecord describes the message longer than the ring that a put or
// get lock's holder is streaming, for whoever takes the lock over: start is
// the stream position of its header, end the one after its trailer.
type streamRecord struct {
	active     atomic.Uint32
	aborted    atomic.Uint32
	start, end atomic.Uint64
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
		wake(&s.dataSeq)
	}
	s.putLock.release()
	return nil
}

// putStreamed streams a message longer than the ring, whose header is
// written at tail, holding the put lock.
func (q *Queue) putStreamed(tail, puts uint64, b []byte) {
	s := q.s
	padEnd := tail + headerSize + pad(uint64(len(b)))
	end := padEnd + trailerSize
	s.putStream.start.Store(tail)
	s.putStream.end.Store(end)
	s.putStream.aborted.Store(0)
	s.putStream.active.Store(1)
	if s.joinable != 0 {
		s.pendTarget.Store(streamWord(puts, end))
		s.unfinished.Add(1 | pendingTask)
	}
	pos := tail + headerSize
	for len(b) > 0 {
		free := q.waitFree(pos, 1)
		n := min(free, uint64(len(b)))
		q.copyIn(pos, b[:n])
		b = b[n:]
		pos += n
		s.tailp.Store(streamWord(puts, pos))
		wake(&s.dataSeq)
		if queueHook != nil {
			queueHook("put.stream")
		}
	}
	q.finishStream(pos, puts, end, 0)
	if s.joinable != 0 {
		s.unfinished.Add(^uint64(pendingTask - 1))
	}
	s.putStream.active.Store(0)
}

// finishStream publishes the padding and trailer of a message longer than
// the ring, whose bytes are published up to pos.
func (q *Queue) finishStream(pos, puts, end, trailer uint64) {
	q.waitFree(pos, dist(pos, end))
	binary.LittleEndian.PutUint64(q.ring[(end-trailerSize)%ringSize:], trailer)
	q.s.tailp.Store(streamWord(puts, end))
	wake(&q.s.dataSeq)
}

// waitFree waits, for the put lock's holder, until the ring has n free bytes
// after pos, and returns how many it has.
func (q *Queue) waitFree(pos, n uint64) uint64 {
	f, _ := q.waitFreeCtx(context.Background(), pos, n)
	return f
}

// waitFreeCtx is waitFree until ctx ends: ok is false if it ended first.
func (q *Queue) waitFreeCtx(ctx context.Context, pos, n uint64) (free uint64, ok bool) {
	s := q.s
	freeNow := func() uint64 {
		h := wordPos(s.headp.Load())
		return ringSize - dist(h, pos)
	}
	if f := freeNow(); f >= n {
		return f, true
	}
	wait(ctx, &s.spaceSeq, &s.spaceSpin, func() bool { return freeNow() >= n })
	f := freeNow()
	return f, f >= n
}

// repairPut runs when this process has taken the put lock over from a dead
// process, or holds it with a repair left unfinished. A message longer than
// the ring that was streaming is completed with filler and a trailer that
// tells its getter to discard it; a JoinableQueue's task counted for a
// message never published is removed. Every step can be done again: a
// repairer killed in it, or one whose ctx ends while it waits for room (it
// reports false), leaves the next one the same work; a getter that streams
// the message in finishes it without waiting for room (waitStream).
func (q *Queue) repairPut(ctx context.Context) bool {
	s := q.s
	if s.putStream.active.Load() != 0 {
		end := s.putStream.end.Load()
		tp := s.tailp.Load()
		pos, puts := wordPos(tp), wordCount(tp)
		if pos == wordPos(s.putStream.start.Load()) {
			// Nothing was published: the message was never put.
			s.putStream.aborted.Store(1)
			q.fixPendingTask()
		} else if pos != wordPos(end) {
			s.putStream.aborted.Store(1)
			q.fixPendingTask()
			padEnd := end - trailerSize
			for wordPos(pos) != wordPos(padEnd) {
				free, ok := q.waitFreeCtx(ctx, pos, 1)
				if !ok {
					return false
				}
				pos += min(free, dist(pos, wordPos(padEnd)))
				s.tailp.Store(streamWord(puts, pos))
				wake(&s.dataSeq)
			}
			if _, ok := q.waitFreeCtx(ctx, pos, dist(pos, end)); !ok {
				return false
			}
			q.finishStream(pos, puts, end, 1)
		}
		s.putStream.active.Store(0)
	}
	q.fixPendingTask()
	return true
}

// fixPendingTask settles pendingTask, for the put lock's holder: the task
// stays if its message was published whole, and goes otherwise.
func (q *Queue) fixPendingTask() {
	s := q.s
	if s.joinable == 0 {
		return
	}
	for {
		u := s.unfinished.Load()
		if u&pendingTask == 0 {
			return
		}
		v := u &^ pendingTask
		published := s.tailp.Load() == s.pendTarget.Load() && s.putStream.aborted.Load() == 0
		if !published && uint32(v) != 0 {
			v--
		}
		if s.unfinished.CompareAndSwap(u, v) {
			if uint32(v) == 0 && s.joinWaiters.Load() != 0 {
				futexWake(q.unfinishedWord(), wakeAll)
			}
			return
		}
	}
}

// pad rounds n up to a multiple of 8.
func pad(n uint64) uint64 { return (n + 7) &^ 7 }

// room reports whether a put of need bytes may begin: the queue holds fewer
// than maxsize messages and the ring has need free bytes.
func (q *Queue) room(need uint64) bool {
	s := q.s
	tp := s.tailp.Load()
	if s.maxsize != 0 {
		if q.countAt(s.headp.Load(), tp) >= uint64(s.maxsize) {
			return false
		}
	}
	tail := wordPos(tp)
	if dist(s.headSeen.Load(), tail) <= ringSize-need {
		return true
	}
	h := wordPos(s.headp.Load())
	s.headSeen.Store(h)
	return dist(h, tail) <= ringSize-need
}

// ready reports whether a message is there to get.
func (q *Queue) ready() bool {
	s := q.s
	h := wordPos(s.headp.Load())
	if d := dist(h, s.tailSeen.Load()); d >= headerSize && d <= ringSize {
		return true
	}
	t := wordPos(s.tailp.Load())
	s.tailSeen.Store(t)
	return dist(h, t) >= headerSize
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

// waitRoom waits, for a putter, until room(need) holds or ctx ends.
func (q *Queue) waitRoom(ctx context.Context, need uint64) bool {
	s := q.s
	return wait(ctx, &s.spaceSeq, &s.spaceSpin, func() bool { return q.room(need) })
}

// waitData waits, for a getter, until ready holds or ctx ends. A getter
// killed in a message longer than the ring may have read all that was
// published of it, and its putter may be dead too: then no byte comes, no
// live process holds a lock, and only a repair of the get lock moves the
// stream on. So a getter that waits long looks, every ownerCheck, for a
// dead holder of the get lock, and takes the lock over.
func (q *Queue) waitData(ctx context.Context) bool {
	s := q.s
	return waitChecking(ctx, &s.dataSeq, &s.dataSpin, q.ready, func() {
		if s.getLock.holderDead() && s.getLock.acquire(ctx, q.info, &q.getSeen, q.repairGet) {
			s.getLock.release()
		}
	})
}

// sleepers is the bit of a sequence word that tells that processes may
// sleep on it. A process killed while it sleeps leaves the bit set, which
// costs the next wake one system call, and no more.
const sleepers = 1 << 31

// wait waits until ok holds or ctx ends: it spins, then sleeps on seq,
// which whoever makes ok hold bumps (and wakes when sleepers is set).
func wait(ctx context.Context, seq *atomic.Uint32, spin *spinner, ok func() bool) bool {
	return waitChecking(ctx, seq, spin, ok, nil)
}

// waitChecking is wait that also calls check, if not nil, every ownerCheck
// while it sleeps.
func waitChecking(ctx context.Context, seq *atomic.Uint32, spin *spinner, ok func() bool, check func()) bool {
	if ok() || spin.spin(ok) {
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	w := newWaiter(ctx, seq)
	defer w.stop()
	limit, checked := time.Duration(-1), time.Now()
	if check != nil {
		limit = ownerCheck
	}
	for {
		if check != nil && time.Since(checked) >= ownerCheck {
			check()
			checked = time.Now()
		}
		seen := seq.Load()
		if seen&sleepers == 0 {
			if !seq.CompareAndSwap(seen, seen|sleepers) {
				continue
			}
			seen |= sleepers
		}
		if ok() {
			return true
		}
		if !w.sleepMax(seq, seen, limit) {
			return ok()
		}
		if ok() {
			return true
		}
	}
}

// wake wakes the waiters of wait on seq, after a change that may make their
// condition hold. With no sleeper, it writes nothing: a waiter sets
// sleepers before it checks its condition, so either it sees the change or
// this sees the bit (all atomics are sequentially consistent).
func wake(seq *atomic.Uint32) {
	if v := seq.Load(); v&sleepers != 0 {
		wakeSlow(seq, v)
	}
}

func wakeSlow(seq *atomic.Uint32, v uint32) {
	for !seq.CompareAndSwap(v, (v+1)&^sleepers) {
		if v = seq.Load(); v&sleepers == 0 {
			return // another waker did it
		}
	}
	futexWake(seq, wakeAll)
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
			wake(&s.spaceSeq)
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

// getStreamed streams in a message longer than the ring, whose header is
// at head, holding the get lock. It reports false when the message was
// cut short by the kill of its putter.
func (q *Queue) getStreamed(head, gets uint64, b []byte) bool {
	s := q.s
	end := head + headerSize + pad(uint64(len(b))) + trailerSize
	s.getStream.start.Store(head)
	s.getStream.end.Store(end)
	s.getStream.active.Store(1)
	pos := head + headerSize
	for len(b) > 0 {
		t, cut := q.waitStream(pos, 1, end)
		if cut {
			s.headp.Store(streamWord(gets, end))
			s.getStream.active.Store(0)
			wake(&s.spaceSeq)
			return false
		}
		n := min(dist(pos, t), uint64(len(b)))
		q.copyOut(pos, b[:n])
		b = b[n:]
		pos += n
		s.headp.Store(streamWord(gets-1, pos))
		wake(&s.spaceSeq)
		if queueHook != nil {
			queueHook("get.stream")
		}
	}
	_, cut := q.waitStream(pos, dist(pos, wordPos(end)), end)
	if !cut {
		cut = binary.LittleEndian.Uint64(q.ring[(end-trailerSize)%ringSize:]) != 0
	}
	s.headp.Store(streamWord(gets, end))
	s.getStream.active.Store(0)
	wake(&s.spaceSeq)
	return !cut
}

// waitStream waits, for the get lock's holder in a message longer than the
// ring that ends at end, until the stream goes want bytes past pos; it
// returns the position of its end. When the message's putter is dead and
// no other putter repairs it, this process takes the put lock over and
// cuts the message short itself: it reports cut, with the stream at end.
func (q *Queue) waitStream(pos, want, end uint64) (tail uint64, cut bool) {
	s := q.s
	past := func() bool { return dist(pos, wordPos(s.tailp.Load())) >= want }
	for {
		ctx, cancel := context.WithTimeout(context.Background(), ownerCheck)
		ok := wait(ctx, &s.dataSeq, &s.dataSpin, past)
		cancel()
		if ok {
			return wordPos(s.tailp.Load()), false
		}
		if s.putStream.active.Load() == 0 || s.putStream.end.Load() != end {
			continue
		}
		// The putter is dead, or a repairer gave up (aborted, and the lock
		// free): nobody else will complete the message.
		if !s.putLock.takeOverDead(q.info) && !(s.putStream.aborted.Load() != 0 && s.putLock.tryAcquire(q.info)) {
			continue
		}
		if s.putStream.active.Load() == 0 || s.putStream.end.Load() != end {
			// Not this message's put after all (it cannot be, since the
			// stream has not reached end): repair what it left, wait on.
			q.repairPut(context.Background())
			s.putLock.release()
			continue
		}
		// No getter but this one will read the message: skip to its end.
		s.putStream.aborted.Store(1)
		q.fixPendingTask()
		s.tailp.Store(streamWord(wordCount(s.tailp.Load()), end))
		s.putStream.active.Store(0)
		s.putLock.release()
		wake(&s.dataSeq)
		return wordPos(end), true
	}
}

// repairGet runs when this process has taken the get lock over from a dead
// process: a message longer than the ring that it was streaming in, and
// had begun to free, is skipped to its end; one it had not begun to free
// stays for the next get.
func (q *Queue) repairGet() {
	s := q.s
	if s.getStream.active.Load() == 0 {
		return
	}
	end := s.getStream.end.Load()
	hp := s.headp.Load()
	pos, gets := wordPos(hp), wordCount(hp)
	if pos != wordPos(end) && pos != wordPos(s.getStream.start.Load()) {
		// The dead getter had freed part of the message: it is delivered.
		for dist(pos, wordPos(end)) != 0 {
			t, cut := q.waitStream(pos, 1, end)
			if cut {
				break
			}
			pos += min(dist(pos, t), dist(pos, wordPos(end)))
			s.headp.Store(streamWord(gets, pos))
			wake(&s.spaceSeq)
		}
		s.headp.Store(streamWord(gets+1, end))
		wake(&s.spaceSeq)
	}
	s.getStream.active.Store(0)
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

// A qlock is the put or get lock of a queue. Its word is 0 when free, and
// otherwise the holder's pid, with waitBit set once a process may sleep
// waiting for it (as a Lock's word). info is the holder's ownerInfo, written
// just after it acquires and cleared just before it releases: with the pid,
// it tells a process that reuses a dead holder's pid from the holder.
//
// A process that waits ownerCheck for a qlock checks that its holder is
// alive; when it is not, the first of the waiters that sees it takes the
// lock over with a compare-and-swap of the word, and repairs what the
// holder left half-done. The uncontended path makes no system call.
type qlock struct {
	word atomic.Uint32
	info atomic.Uint64
	spin spinner
}

// ownerCheck is how long a process waits for a queue's lock, or for the
// rest of a message, before it checks that the holder is alive.
const ownerCheck = 20 * time.Millisecond

// A heldSince remembers, in one process, which holder a call that gave up
// waiting for a qlock found, and since when: calls that do not wait long
// enough to check the holder themselves (PutNowait, short timeouts) do it
// when they find the same holder ownerCheck after the first one did.
type heldSince struct {
	word  atomic.Uint32
	since atomic.Int64 // time.Now().UnixNano()
}

func (l *qlock) acquire(ctx context.Context, info uint64, seen *heldSince, repair func()) bool {
	if l.word.CompareAndSwap(0, mypid) {
		l.info.Store(info)
		return true
	}
	return l.acquireSlow(ctx, info, seen, repair)
}

// tryAcquire takes the lock if it is free, without waiting.
func (l *qlock) tryAcquire(info uint64) bool {
	if l.word.CompareAndSwap(0, mypid) {
		l.info.Store(info)
		return true
	}
	return false
}

func (l *qlock) release() {
	l.info.Store(0)
	if v := l.word.Swap(0); v&waitBit != 0 {
		futexWake(&l.word, 1)
	}
}

func (l *qlock) acquireSlow(ctx context.Context, info uint64, seen *heldSince, repair func()) bool {
	if l.spin.spin(func() bool { return l.word.Load() == 0 && l.word.CompareAndSwap(0, mypid) }) {
		l.info.Store(info)
		return true
	}
	w := newWaiter(ctx, &l.word)
	defer w.stop()
	checked := time.Now()
	for {
		v := l.word.Load()
		if v == 0 {
			// Others may still sleep: whoever acquires after a sleep keeps
			// waitBit, so that its release wakes the next one.
			if l.word.CompareAndSwap(0, mypid|waitBit) {
				l.info.Store(info)
				return true
			}
			continue
		}
		if v&waitBit == 0 {
			if !l.word.CompareAndSwap(v, v|waitBit) {
				continue
			}
			v |= waitBit
		}
		if time.Since(checked) >= ownerCheck {
			if l.takeOverDead(info) {
				repair()
				return true
			}
			checked = time.Now()
		}
		if !w.sleepMax(&l.word, v, ownerCheck) {
			now := time.Now().UnixNano()
			if seen.word.Swap(v&pidMask) != v&pidMask {
				seen.since.Store(now)
			} else if now-seen.since.Load() >= int64(ownerCheck) {
				seen.since.Store(now)
				if l.takeOverDead(info) {
					repair()
					return true
				}
			}
			return false
		}
	}
}

// takeOverDead takes the lock over if its holder is dead, and reports
// whether it did.
// holderDead reports whether the lock is held by a process that is dead.
func (l *qlock) holderDead() bool {
	pid := l.word.Load() & pidMask
	return pid != 0 && pid != mypid && !alive(pid, l.info.Load())
}

func (l *qlock) takeOverDead(info uint64) bool {
	v := l.word.Load()
	pid := v & pidMask
	if pid == 0 || pid == mypid || alive(pid, l.info.Load()) {
		return false
	}
	if !l.word.CompareAndSwap(v, mypid|waitBit) {
		return false
	}
	l.info.Store(info)
	return true
}

// ownerInfo is pid<<32 | the low 32 bits of the process's start time (in
// clock ticks since boot, field 22 of /proc/pid/stat), or 0 if unknown.
var ownerInfo = sync.OnceValue(func() uint64 {
	start, _ := procStart(int(mypid))
	return uint64(mypid)<<32 | uint64(uint32(start))
})

// procStart returns the state and start time of process pid, from
// /proc/pid/stat; ok is false when there is no such process.
func procStat(pid uint32) (state byte, start uint64, ok bool, err error) {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, 0, false, nil
		}
		return 0, 0, true, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, true, fmt.Errorf("mp: malformed /proc/%d/stat", pid)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 {
		return 0, 0, true, fmt.Errorf("mp: malformed /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(string(f[19]), 10, 64)
	return f[0][0], start, true, err
}

func procStart(pid int) (uint64, error) {
	_, start, _, err := procStat(uint32(pid))
	return start, err
}

// alive reports whether the process pid, which held a lock with info, is
// still running: a zombie is dead, and so is a process whose start time
// is not the holder's (its pid was reused). When it cannot tell, it says
// alive.
func alive(pid uint32, info uint64) bool {
	if err := unix.Kill(int(pid), 0); err == unix.ESRCH {
		return false
	}
	state, start, exists, err := procStat(pid)
	if !exists || err != nil {
		return true // no /proc, or a race with the exit: kill says it runs
	}
	if state == 'Z' || state == 'X' || state == 'x' {
		return false
	}
	if uint32(info>>32) == pid && uint32(info) != 0 && uint32(start) != uint32(info) {
		return false
	}
	return true
}

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

// JoinableQueue is a Queue whose consumers acknowledge each message with
// TaskDone, so that Join waits until every message put has been processed,
// as CPython's multiprocessing.JoinableQueue.
type JoinableQueue struct{ Queue }

// NewJoinableQueue returns a new JoinableQueue of at most maxsize messages,
// or unbounded when maxsize <= 0.
func NewJoinableQueue(maxsize int) (*JoinableQueue, error) {
	q := &JoinableQueue{}
	if err := q.init(maxsize, true); err != nil {
		return nil, err
	}
	return q, nil
}

var errTaskDone = fmt.Errorf("%w: task_done() called too many times", ErrValue)

// unfinishedWord is the futex word of the count of unfinished tasks: the
// low half of unfinished (the machine is little-endian).
func (q *Queue) unfinishedWord() *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&q.s.unfinished))
}

// TaskDone tells that a message got from the queue has been processed. It
// fails with ErrValue when called more times than messages were put.
func (q *JoinableQueue) TaskDone() error {
	if !q.enter() {
		return fmt.Errorf("%w: task_done on a closed queue", ErrClosed)
	}
	defer q.leave()
	s := q.s
	for {
		u := s.unfinished.Load()
		if uint32(u) == 0 {
			return errTaskDone
		}
		if s.unfinished.CompareAndSwap(u, u-1) {
			if uint32(u) == 1 && s.joinWaiters.Load() != 0 {
				futexWake(q.unfinishedWord(), wakeAll)
			}
			return nil
		}
	}
}

// Join waits until every message put has had its TaskDone, or ctx ends:
// then it fails with ctx's error (and with ErrClosed on a closed handle). A
// ctx already done makes it only look.
func (q *JoinableQueue) Join(ctx context.Context) error {
	if !q.enter() {
		return fmt.Errorf("%w: join on a closed queue", ErrClosed)
	}
	defer q.leave()
	s := q.s
	word := q.unfinishedWord()
	w := newWaiter(ctx, word)
	defer w.stop()
	for {
		s.joinWaiters.Add(1)
		v := word.Load()
		if v == 0 {
			s.joinWaiters.Add(^uint32(0))
			return nil
		}
		// The put lock's holder may have died with its task pending: sleep
		// in slices, and repair it if no put does.
		slept := w.sleepMax(word, v, ownerCheck)
		s.joinWaiters.Add(^uint32(0))
		if !slept {
			return waitResult(ctx, word.Load() == 0)
		}
		// (A message longer than the ring is left to the getter that
		// streams it in, which repairs it without waiting for room.)
		if s.unfinished.Load()&pendingTask != 0 && s.putStream.active.Load() == 0 && s.putLock.takeOverDead(q.info) {
			q.repairPut(context.Background())
			s.putLock.release()
		}
	}
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
