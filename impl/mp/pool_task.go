package mp

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
)

// Tasks, and the worker process that runs them: it reads a job from its
// link, runs the task on each item, and writes the results back.

// workerArg is what a worker is started with.
type workerArg struct {
	Link     *link    `json:"link"`
	MaxTasks int      `json:"max_tasks"`
	Init     string   `json:"init"`
	InitArg  lazyJSON `json:"init_arg"`
}

// lazyJSON is a value encoded when the worker's argument is, so that the
// handles it holds pass their descriptors to that worker; a worker gets it
// raw, for the initializer's runner to decode.
type lazyJSON struct {
	v   any
	raw json.RawMessage
}

func (l lazyJSON) MarshalJSON() ([]byte, error) {
	if l.raw != nil {
		return l.raw, nil
	}
	return json.Marshal(l.v)
}

func (l *lazyJSON) UnmarshalJSON(data []byte) error {
	l.raw = append(json.RawMessage(nil), data...)
	return nil
}

var poolWorker = Register("mp.pool.worker", runWorker)

// A Task is a function registered with RegisterTask, that pool workers run:
// it takes an A and returns an R.
type Task[A, R any] struct {
	name string
	arg  codec[A]
	res  codec[R]
}

// Name returns the name the task was registered under.
func (t Task[A, R]) Name() string { return t.name }

// taskRunner runs one item of a task in a worker: it decodes the argument
// from in and appends the encoded result to out.
type taskRunner func(in, out []byte) ([]byte, error)

var tasks struct {
	sync.Mutex
	byName map[string]taskRunner
}

// RegisterTask makes fn runnable by pool workers under name, as Register
// does for a Process's target, and with the same rules: call it at package
// level, so that it runs in workers too. Ints, floats, bools, strings,
// byte slices and struct{} travel in a compact binary form, and so does a
// type whose pointer implements encoding.BinaryAppender and
// encoding.BinaryUnmarshaler, in its own (UnmarshalBinary's argument is
// valid only during the call); any other A or R travels with
// encoding/json, so it must round-trip through it. An error
// fn returns, or a panic, fails the call with a *TaskError that holds its
// message.
func RegisterTask[A, R any](name string, fn func(A) (R, error)) Task[A, R] {
	if mainCalled.Load() {
		panic("mp: RegisterTask(" + name + ") after Main: register tasks at package level")
	}
	t := Task[A, R]{name: name, arg: codecFor[A](), res: codecFor[R]()}
	tasks.Lock()
	defer tasks.Unlock()
	if _, dup := tasks.byName[name]; dup {
		panic("mp: RegisterTask called twice for task " + name)
	}
	if tasks.byName == nil {
		tasks.byName = map[string]taskRunner{}
	}
	tasks.byName[name] = func(in, out []byte) ([]byte, error) {
		var a A
		if err := t.arg.dec(in, &a); err != nil {
			return out, fmt.Errorf("decoding the argument: %v", err)
		}
		r, err := fn(a)
		if err != nil {
			return out, err
		}
		return t.res.enc(out, &r), nil
	}
	return t
}

func lookupTask(name string) taskRunner {
	tasks.Lock()
	defer tasks.Unlock()
	return tasks.byName[name]
}

// workerExit holds the functions AtWorkerExit registered.
var workerExit []func()

// AtWorkerExit registers f to run in a pool worker when it exits of its own
// accord (after Close, or MaxTasksPerChild): an initializer's counterpart,
// for instance to flush what it opened. A worker that is killed runs
// nothing. Call it from the initializer or a task.
func AtWorkerExit(f func()) { workerExit = append(workerExit, f) }

// jobEnd holds the functions AtJobEnd registered.
var jobEnd []func()

// AtJobEnd registers f to run in a pool worker after the last task of each
// job (a task call, or a chunk of a Map), before the job's results go back
// to the pool: a task that buffers what it writes flushes it there, so that
// no result is seen before what its task wrote. Call it from the
// initializer or a task.
func AtJobEnd(f func()) { jobEnd = append(jobEnd, f) }

// runWorker is a worker process's target: the initializer, then jobs until
// told to exit or MaxTasksPerChild is reached.
func runWorker(a workerArg) error {
	if a.Init != "" {
		run, ok := lookupTarget(a.Init)
		if !ok {
			return fmt.Errorf("mp: pool initializer %q is not registered", a.Init)
		}
		if err := run(a.InitArg.raw); err != nil {
			return fmt.Errorf("mp: pool initializer: %w", err)
		}
	}
	l := a.Link
	rd := ringReader{r: l.tasks()}
	results := l.results()
	var out []byte
	for n := 0; a.MaxTasks == 0 || n < a.MaxTasks; n++ {
		m := poolMessage(rd.read())
		if m.u8() != msgTask {
			break
		}
		id := m.u64()
		name := string(m.take(m.u16()))
		count := m.u32()
		if m.err != nil {
			return m.err
		}
		l.st.running.Store(id)
		run := lookupTask(name)
		out = binary.LittleEndian.AppendUint64(append(out[:0], 0, 0, 0, 0, 0, 0, 0, 0), id)
		out = binary.LittleEndian.AppendUint32(out, uint32(count))
		if need := len(m.b) + 5*count + 64; cap(out) < need {
			out = append(make([]byte, 0, need), out...)
		}
		for done := 0; done < count; {
			out, done = runItems(run, name, &m, done, count, out)
		}
		for _, f := range jobEnd {
			f()
		}
		results.write(out, nil)
		l.st.running.Store(0)
		if cap(out) > 1<<20 {
			out = nil
		}
	}
	for _, f := range workerExit {
		f()
	}
	return nil
}

// runItems runs the calls of a job from item i on, and appends each
// one's status and result (or error message) to out. It returns at the end
// of the job, or after a call that panicked, with the index of the next
// item: one deferred recover covers a whole run of calls, which costs less
// than one per call.
func runItems(run taskRunner, name string, m *wireReader, i, count int, buf []byte) (out []byte, next int) {
	out = buf
	at := len(out)
	defer func() {
		if r := recover(); r != nil {
			out = appendFailure(out[:at], fmt.Errorf("panic: %v", r))
			next = i + 1
		}
	}()
	if run == nil {
		err := fmt.Errorf("no task %q is registered (RegisterTask must run at package level)", name)
		for ; i < count; i++ {
			m.bytes()
			out = appendFailure(out, err)
		}
		return out, count
	}
	for ; i < count; i++ {
		at = len(out)
		res, err := run(m.bytes(), append(out, 0, 0, 0, 0, 0))
		if err != nil {
			out = appendFailure(out[:at], err)
			continue
		}
		out = res
		binary.LittleEndian.PutUint32(out[at+1:], uint32(len(out)-at-5))
	}
	return out, count
}

func appendFailure(out []byte, err error) []byte {
	out = append(out, 1)
	return appendItem(out, func(b []byte) []byte { return append(b, err.Error()...) })
}

// decodeItem decodes one result item of a result message: the value, or
// the task's error.
func decodeItem[R any](m *wireReader, task string, c codec[R], v *R) error {
	status := m.u8()
	b := m.bytes()
	if m.err != nil {
		return m.err
	}
	if status != 0 {
		return &TaskError{Task: task, Message: string(b)}
	}
	if err := c.dec(b, v); err != nil {
		return fmt.Errorf("mp: task %s: decoding the result: %w", task, err)
	}
	return nil
}
