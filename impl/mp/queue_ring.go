package mp

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"time"
)

// A queue's ring: the stream of messages between the put lock's holder
// and the get lock's, and how each waits for the other.

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

func wordPos(w uint64) uint64 { return w & posMask }

func wordCount(w uint64) uint64 { return w >> posBits }

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
	data       wakeWord // woken when tailp advances
	dataSpin   spinState
	_          [64]byte
	space      wakeWord // woken when headp advances
	spaceSpin  spinState
	_          [64]byte
	// unfinished is a JoinableQueue's count of tasks not done (low 32 bits)
	// and pendingTask, set while a put that has counted its message has not
	// published it; joined is woken when the count comes to 0.
	unfinished atomic.Uint64
	joined     wakeWord
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
		s.data.wake()
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
	q.s.data.wake()
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
	wait(ctx, &s.space, &s.spaceSpin, func() bool { return freeNow() >= n })
	f := freeNow()
	return f, f >= n
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
	return wait(ctx, &s.space, &s.spaceSpin, func() bool { return q.room(need) })
}

// waitData waits, for a getter, until ready holds or ctx ends. A getter
// killed in a message longer than the ring may have read all that was
// published of it, and its putter may be dead too: then no byte comes, no
// live process holds a lock, and only a repair of the get lock moves the
// stream on. So a getter that waits long looks, every ownerCheck, for a
// dead holder of the get lock, and takes the lock over.
func (q *Queue) waitData(ctx context.Context) bool {
	s := q.s
	return waitChecking(ctx, &s.data, &s.dataSpin, q.ready, func() {
		if s.getLock.holderDead() && s.getLock.acquire(ctx, q.info, &q.getSeen, q.repairGet) {
			s.getLock.release()
		}
	})
}

// wait waits until ok holds or ctx ends: it spins (lockSpin), then sleeps
// on word, which whoever makes ok hold wakes.
func wait(ctx context.Context, word *wakeWord, spin *spinState, ok func() bool) bool {
	return waitChecking(ctx, word, spin, ok, nil)
}

// waitChecking is wait that also calls check, if not nil, every ownerCheck
// while it sleeps.
func waitChecking(ctx context.Context, word *wakeWord, spin *spinState, ok func() bool, check func()) bool {
	if ok() || lockSpin.spin(spin, ok) {
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	w := newWaiter(ctx, &word.seq)
	defer w.stop()
	if check == nil {
		return word.wait(&w, ok, nil, -1)
	}
	return word.wait(&w, ok, every(ownerCheck, check), ownerCheck)
}

// every returns a stop condition for wakeWord.wait that never holds, and
// calls f whenever period has passed since it last did.
func every(period time.Duration, f func()) func() bool {
	last := time.Now()
	return func() bool {
		if time.Since(last) >= period {
			f()
			last = time.Now()
		}
		return false
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
			s.space.wake()
			return false
		}
		n := min(dist(pos, t), uint64(len(b)))
		q.copyOut(pos, b[:n])
		b = b[n:]
		pos += n
		s.headp.Store(streamWord(gets-1, pos))
		s.space.wake()
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
	s.space.wake()
	return !cut
}
