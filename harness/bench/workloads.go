package bench

import (
	"fmt"

	s "github.com/mpconform/mpconform/harness/scenario"
)

// Throughput units. Each workload reports ns/op and one of these; their direction
// is declared in the results file (Units).
const (
	ProcsPerSec = "procs/s" // processes started and joined
	OpsPerSec   = "ops/s"   // lock pairs, round trips, manager requests, pool tasks
	MsgsPerSec  = "msgs/s"  // messages through a queue or a pipe
)

// Units maps every unit the workloads report to its direction (benchfmt's
// better=): ns/op is benchfmt's own, the throughputs are ours.
var Units = map[string]string{"ns/op": "lower", ProcsPerSec: "higher", OpsPerSec: "higher", MsgsPerSec: "higher"}

// sizes of the items of the queue and pipe workloads.
var sizes = []struct {
	name  string
	bytes int
}{{"8B", 8}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}}

// queueSize bounds the queues: an unbounded CPython queue buffers every item in
// the producer (its feeder thread lags), which would measure memory, not the queue.
const queueSize = 256

// Workloads returns every workload, in report order.
func Workloads() []Workload {
	ws := []Workload{
		{Name: "Process/start-join", Unit: ProcsPerSec, Features: []string{"control", "process"},
			Start: 8, Max: 20_000, build: startJoin},
		{Name: "Lock/uncontended", Unit: OpsPerSec, Features: []string{"control", "lock", "bulk"},
			Start: 10_000, Max: 1 << 30, build: lockUncontended},
		{Name: "Lock/contended/p=2", Unit: OpsPerSec, Features: []string{"control", "process", "lock", "barrier", "bulk"},
			Start: 2_000, Max: 1 << 30, build: func(n int) (*s.Scenario, int) { return lockContended(n, 2) }},
	}
	for _, pc := range [][2]int{{1, 1}, {2, 2}} {
		for _, z := range sizes {
			p, c, size := pc[0], pc[1], z.bytes
			ws = append(ws, Workload{Name: fmt.Sprintf("Queue/p=%d/c=%d/size=%s", p, c, z.name), Unit: MsgsPerSec,
				Features: []string{"control", "process", "queue", "barrier", "bulk"}, Start: 500, Max: maxItems(size),
				build: func(n int) (*s.Scenario, int) { return queuePC(n, p, c, size) }})
		}
	}
	for _, z := range sizes {
		size := z.bytes
		ws = append(ws, Workload{Name: "Pipe/roundtrip/size=" + z.name, Unit: OpsPerSec,
			Features: []string{"control", "process", "pipe", "bulk"}, Start: 200, Max: maxItems(size),
			build: func(n int) (*s.Scenario, int) { return pipeRoundtrip(n, 1, size) }})
	}
	for _, z := range sizes {
		size := z.bytes
		ws = append(ws, Workload{Name: "Pipe/stream/size=" + z.name, Unit: MsgsPerSec,
			Features: []string{"control", "process", "pipe", "barrier", "bulk"}, Start: 500, Max: maxItems(size),
			build: func(n int) (*s.Scenario, int) { return pipeStream(n, size) }})
	}
	for _, c := range []int{1, 2, 4} {
		ws = append(ws, Workload{Name: fmt.Sprintf("Manager/dict/clients=%d", c), Unit: OpsPerSec,
			Features: []string{"control", "process", "manager", "barrier", "bulk"}, Start: 200, Max: 1 << 22,
			build: func(n int) (*s.Scenario, int) { return managerDict(n, c) }})
	}
	for _, op := range []string{"apply_async", "map"} {
		for _, w := range []int{1, 2, 4} {
			ws = append(ws, Workload{Name: fmt.Sprintf("Pool/%s/workers=%d", op, w), Unit: OpsPerSec,
				Features: []string{"control", "pool", "bulk"}, Start: 100, Max: 1 << 22,
				build: func(n int) (*s.Scenario, int) { return pool(n, op, w) }})
		}
	}
	ws = append(ws,
		Workload{Name: "Value/incr-locked", Unit: OpsPerSec, Features: []string{"control", "sharedctypes", "bulk"},
			Start: 10_000, Max: 1 << 30, build: valueIncrLocked},
		Workload{Name: "Array/copy/size=1MiB", Unit: OpsPerSec, Features: []string{"control", "sharedctypes", "bulk"},
			Start: 100, Max: 1 << 22, build: arrayCopy})
	// The parallel sweep: p independent copies of a workload, each on its own
	// primitive, so the total throughput shows how the implementation scales with
	// processes (and, past the CPU count, how it shares the CPUs).
	for _, p := range []int{1, 2, 4} {
		ws = append(ws,
			Workload{Name: fmt.Sprintf("Parallel/process/p=%d", p), Unit: ProcsPerSec,
				Features: []string{"control", "process", "barrier"}, Start: 8, Max: 20_000,
				build: func(n int) (*s.Scenario, int) { return parallelStartJoin(n, p) }},
			Workload{Name: fmt.Sprintf("Parallel/lock/p=%d", p), Unit: OpsPerSec,
				Features: []string{"control", "process", "lock", "barrier", "bulk"}, Start: 10_000, Max: 1 << 30,
				build: func(n int) (*s.Scenario, int) { return parallelLock(n, p) }},
			Workload{Name: fmt.Sprintf("Parallel/queue/p=%d", p), Unit: MsgsPerSec,
				Features: []string{"control", "process", "queue", "barrier", "bulk"}, Start: 500, Max: 1 << 26,
				build: func(n int) (*s.Scenario, int) { return parallelQueue(n, p) }},
			Workload{Name: fmt.Sprintf("Parallel/pipe/p=%d", p), Unit: OpsPerSec,
				Features: []string{"control", "process", "pipe", "barrier", "bulk"}, Start: 200, Max: 1 << 26,
				build: func(n int) (*s.Scenario, int) { return pipeRoundtrip(n, p, 8) }},
		)
	}
	// The loaded sweep: one workload of each area that waits, with every CPU
	// busy with another program.
	for _, w := range ws {
		switch w.Name {
		case "Process/start-join", "Lock/contended/p=2", "Queue/p=2/c=2/size=8B", "Pipe/roundtrip/size=8B",
			"Pipe/stream/size=1KiB", "Manager/dict/clients=1", "Manager/dict/clients=2", "Manager/dict/clients=4",
			"Pool/apply_async/workers=2", "Pool/map/workers=2":
			ws = append(ws, loaded(w))
		}
	}
	return ws
}

// maxItems caps a sample's items at about 4 GiB of payload.
func maxItems(size int) int { return min(1<<26, (4<<30)/size) }

// Every workload brackets what it measures with marks: each measuring process
// records Begin just before and End just after its bulk op, and a sample lasts
// from the first Begin to the last End. Processes that measure together first
// meet at a barrier, so that none begins while another is still starting.
const (
	Begin = "begin"
	End   = "end"
)

// measured wraps steps in the marks.
func measured(steps ...s.Step) []s.Step {
	return append(append([]s.Step{s.Mark(Begin)}, steps...), s.Mark(End))
}

// synced wraps steps in the marks, after the barrier B.
func synced(steps ...s.Step) []s.Step {
	return append([]s.Step{s.On("wait", "B")}, measured(steps...)...)
}

// split rounds n up to a multiple of k and returns the share of each of k parts.
func split(n, k int) int { return max(1, (n+k-1)/k) }

// children makes main spawn every worker (as the group "w"), start them and join
// them; each worker is a program and its args.
type worker struct {
	program string
	args    []any
}

func children(sc *s.Scenario, ws []worker, before ...s.Step) *s.Scenario {
	main := before
	for _, w := range ws {
		main = append(main, s.Spawn("w", w.program, w.args...))
	}
	return sc.Main(append(main, s.Start("w"), s.Join("w"))...)
}

func refs(names ...string) []any {
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = s.Ref(n)
	}
	return out
}

func startJoin(n int) (*s.Scenario, int) {
	sc := s.New("bench/process/start-join").Program("noop", nil, s.Return(nil))
	return sc.Main(measured(s.Repeat(n, "k",
		s.Spawn("c", "noop"),
		s.Op("start", "proc", "c", "index", s.Param("k")),
		s.Op("join", "proc", "c", "index", s.Param("k")),
	))...), n
}

// valueIncrLocked is n increments of a Value, each under its lock.
func valueIncrLocked(n int) (*s.Scenario, int) {
	sc := s.New("bench/value/incr-locked").Resource("V", "value", "typecode", "q")
	return sc.Main(measured(s.On("shared.incr_many", "V", "n", n))...), n
}

// arrayCopy is n copies of a 1 MiB 'c' Array out of shared memory.
func arrayCopy(n int) (*s.Scenario, int) {
	sc := s.New("bench/array/copy").Resource("A", "array", "typecode", "c", "size", 1<<20)
	return sc.Main(measured(s.On("array.copy_many", "A", "n", n))...), n
}

func lockUncontended(n int) (*s.Scenario, int) {
	sc := s.New("bench/lock/uncontended").Resource("L", "lock")
	return sc.Main(measured(s.On("acquire_release_many", "L", "n", n))...), n
}

func lockContended(n, p int) (*s.Scenario, int) {
	each := split(n, p)
	sc := s.New("bench/lock/contended").Resource("L", "lock").Resource("B", "barrier", "parties", p).
		Program("locker", []string{"l", "b"}, synced(s.On("acquire_release_many", "L", "n", each))...)
	var ws []worker
	for range p {
		ws = append(ws, worker{"locker", refs("L", "B")})
	}
	return children(sc, ws), each * p
}

// queuePC: p producers and c consumers on one queue; n items in all.
func queuePC(n, p, c, size int) (*s.Scenario, int) {
	n = split(n, p*c) * p * c
	sc := s.New("bench/queue").Resource("Q", "queue", "maxsize", queueSize).
		Resource("B", "barrier", "parties", p+c).
		Program("producer", []string{"q", "b", "start"},
			synced(s.On("put_many", "Q", "n", n/p, "start", s.Param("start"), "size", size))...).
		Program("consumer", []string{"q", "b"}, synced(s.On("get_many", "Q", "n", n/c))...)
	var ws []worker
	for i := range p {
		ws = append(ws, worker{"producer", append(refs("Q", "B"), i*(n/p))})
	}
	for range c {
		ws = append(ws, worker{"consumer", refs("Q", "B")})
	}
	return children(sc, ws), n
}

// pipeRoundtrip: p pairs of processes, each on its own pipe: one sends and waits
// for the echo of the other, n round trips in all. A first round trip, before
// the barrier, waits for the echoing process to start.
func pipeRoundtrip(n, p, size int) (*s.Scenario, int) {
	each := split(n, p)
	sc := s.New("bench/pipe/roundtrip").Resource("B", "barrier", "parties", p)
	var ws []worker
	for i := range p {
		pipe := fmt.Sprintf("P%d", i)
		sc.Resource(pipe, "pipe")
		sc.Program("echo"+pipe, []string{"c"}, s.On("echo_many", pipe+".1", "n", each+1))
		sc.Program("trip"+pipe, []string{"c", "b"}, append(
			[]s.Step{s.On("roundtrip_many", pipe+".0", "n", 1, "size", size)},
			synced(s.On("roundtrip_many", pipe+".0", "n", each, "size", size))...)...)
		ws = append(ws, worker{"echo" + pipe, refs(pipe + ".1")}, worker{"trip" + pipe, refs(pipe+".0", "B")})
	}
	return children(sc, ws), each * p
}

// pipeStream: one process sends n messages, another receives them.
func pipeStream(n, size int) (*s.Scenario, int) {
	sc := s.New("bench/pipe/stream").Resource("P", "pipe").Resource("B", "barrier", "parties", 2).
		Program("sender", []string{"c", "b"}, synced(s.On("send_many", "P.1", "n", n, "size", size))...).
		Program("receiver", []string{"c", "b"}, synced(s.On("recv_many", "P.0", "n", n))...)
	return children(sc, []worker{{"sender", refs("P.1", "B")}, {"receiver", refs("P.0", "B")}}), n
}

// managerDict: c clients each set then get their own n/c keys of one managed
// dict; every request counts.
func managerDict(n, c int) (*s.Scenario, int) {
	each := split(n, 2*c)
	sc := s.New("bench/manager/dict").Resource("M", "manager").Resource("D", "manager.dict", "manager", "M").
		Resource("B", "barrier", "parties", c).
		Program("client", []string{"d", "b", "start"}, synced(
			s.On("dict.set_many", "D", "n", each, "start", s.Param("start")),
			s.On("dict.get_many", "D", "n", each, "start", s.Param("start")),
		)...)
	var ws []worker
	for i := range c {
		ws = append(ws, worker{"client", append(refs("D", "B"), i*each)})
	}
	return children(sc, ws), 2 * each * c
}

// pool: n tasks through a pool of w workers, one apply_async round trip after
// another, or in one map. A first map of 2w tasks waits for the workers to start.
func pool(n int, op string, w int) (*s.Scenario, int) {
	sc := s.New("bench/pool/"+op).Resource("P", "pool", "processes", w).
		Program("ident", []string{"x"}, s.Return(s.Param("x")))
	var run s.Step
	if op == "map" {
		run = s.On("pool.map", "P", "program", "ident", "range", n)
	} else {
		run = s.On("pool.apply_many", "P", "program", "ident", "n", n, "args", []any{1})
	}
	main := []s.Step{s.On("pool.map", "P", "program", "ident", "range", 2*w)}
	main = append(main, measured(run)...)
	return sc.Main(append(main, s.On("pool.close", "P"), s.On("pool.join", "P"))...), n
}

func parallelStartJoin(n, p int) (*s.Scenario, int) {
	each := split(n, p)
	sc := s.New("bench/parallel/process").Resource("B", "barrier", "parties", p).
		Program("noop", nil, s.Return(nil)).
		Program("starter", []string{"b"}, synced(s.Repeat(each, "k",
			s.Spawn("c", "noop"),
			s.Op("start", "proc", "c", "index", s.Param("k")),
			s.Op("join", "proc", "c", "index", s.Param("k")),
		))...)
	var ws []worker
	for range p {
		ws = append(ws, worker{"starter", refs("B")})
	}
	return children(sc, ws), each * p
}

func parallelLock(n, p int) (*s.Scenario, int) {
	each := split(n, p)
	sc := s.New("bench/parallel/lock").Resource("B", "barrier", "parties", p)
	var ws []worker
	for i := range p {
		l := fmt.Sprintf("L%d", i)
		sc.Resource(l, "lock").
			Program("locker"+l, []string{"l", "b"}, synced(s.On("acquire_release_many", l, "n", each))...)
		ws = append(ws, worker{"locker" + l, refs(l, "B")})
	}
	return children(sc, ws), each * p
}

// parallelQueue: p producer-consumer pairs, each on its own queue of 8-byte items.
func parallelQueue(n, p int) (*s.Scenario, int) {
	each := split(n, p)
	sc := s.New("bench/parallel/queue").Resource("B", "barrier", "parties", 2*p)
	var ws []worker
	for i := range p {
		q := fmt.Sprintf("Q%d", i)
		sc.Resource(q, "queue", "maxsize", queueSize).
			Program("producer"+q, []string{"q", "b"}, synced(s.On("put_many", q, "n", each, "size", 8))...).
			Program("consumer"+q, []string{"q", "b"}, synced(s.On("get_many", q, "n", each))...)
		ws = append(ws, worker{"producer" + q, refs(q, "B")}, worker{"consumer" + q, refs(q, "B")})
	}
	return children(sc, ws), each * p
}
