package mp

import (
	"context"
	"fmt"
)

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
			if uint32(u) == 1 {
				s.joined.wake()
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
	done := func() bool { return uint32(s.unfinished.Load()) == 0 }
	if done() {
		return nil
	}
	w := newWaiter(ctx, &s.joined.seq)
	defer w.stop()
	// The put lock's holder may have died with its task pending: sleep in
	// slices, and repair it if no put does. (A message longer than the ring
	// is left to the getter that streams it in, which repairs it without
	// waiting for room.)
	return waitResult(ctx, s.joined.wait(&w, done, every(ownerCheck, func() {
		if s.unfinished.Load()&pendingTask != 0 && s.putStream.active.Load() == 0 && s.putLock.takeOverDead(q.info) {
			q.repairPut(context.Background())
			s.putLock.release()
		}
	}), ownerCheck))
}
