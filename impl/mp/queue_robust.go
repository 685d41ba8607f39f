package mp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// How a queue survives a process killed in a put or a get: its locks
// record their holder, and whoever takes a dead holder's lock over repairs
// what it left half-done.

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
				s.data.wake()
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
			if uint32(v) == 0 {
				s.joined.wake()
			}
			return
		}
	}
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
		ok := wait(ctx, &s.data, &s.dataSpin, past)
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
		s.data.wake()
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
			s.space.wake()
		}
		s.headp.Store(streamWord(gets+1, end))
		s.space.wake()
	}
	s.getStream.active.Store(0)
}

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
	spin spinState
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
	if lockSpin.spin(&l.spin, func() bool { return l.word.Load() == 0 && l.word.CompareAndSwap(0, mypid) }) {
		l.info.Store(info)
		return true
	}
	w := newWaiter(ctx, &l.word)
	defer w.stop()
	checked := time.Now()
	for {
		v, acquired := contend(&l.word)
		if acquired {
			l.info.Store(info)
			return true
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

// holderDead reports whether the lock is held by a process that is dead.
func (l *qlock) holderDead() bool {
	pid := l.word.Load() & pidMask
	return pid != 0 && pid != mypid && !alive(pid, l.info.Load())
}

// takeOverDead takes the lock over if its holder is dead, and reports
// whether it did.
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

// procStat returns the state and start time of process pid, from
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
