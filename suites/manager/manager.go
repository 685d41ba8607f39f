// Package manager holds the specs for a Manager's shared objects: the
// tutorial's dict and list, linearizability of concurrent histories (checked
// with porcupine), nested proxies, Namespace, Value, locks, shutdown and
// serving on an address with an authkey (docs/behaviours.md, area "manager").
package manager

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mpconform/mpconform/harness/catalogue"
	"github.com/mpconform/mpconform/harness/check"
	. "github.com/mpconform/mpconform/harness/scenario"
	"github.com/mpconform/mpconform/harness/trace"
	"github.com/mpconform/mpconform/suites/suite"
)

var (
	finalState = catalogue.Add(catalogue.Behaviour{
		ID: "manager.final-state", Profile: catalogue.Core, Features: []string{"control", "process", "manager"},
		Rule: "ten processes writing one managed dict and list leave d = {0..9: '1', '2': 2, 0.25: None} " +
			"and l = [0..4] followed by a permutation of 0..9",
		Source: "tutorial, program 7 (Manager); CPython docs: 'Sharing state between processes', Server process",

		CPythonTests: []string{"_TestContainers.test_dict", "TestSyncManagerTypes.test_dict", "TestSyncManagerTypes.test_list"},
	})
	typedKeys = catalogue.Add(catalogue.Behaviour{
		ID: "manager.typed-keys", Profile: catalogue.Core, Features: []string{"control", "process", "manager"},
		Rule:   "the keys 2, '2' and 0.25 of a managed dict stay distinct keys of their own types, and None is a value",
		Source: "tutorial, program 7; CPython docs: Manager.dict",
	})
	linearizable = catalogue.Add(catalogue.Behaviour{
		ID: "manager.linearizable", Profile: catalogue.Extended, Features: []string{"process", "manager"},
		Rule:   "random concurrent histories of dict and list operations from four processes are linearizable",
		Source: "CPython docs: managers ('a server process ... holds Python objects'); checked with porcupine",
	})
	nested = catalogue.Add(catalogue.Behaviour{
		ID: "manager.nested", Profile: catalogue.Extended, Features: []string{"process", "manager"},
		Rule:   "a list proxy stored in a managed dict is the shared list itself, not a copy: it reads back as that list, and appends through the list show in it",
		Source: "CPython docs: 'Changed in version 3.6: Shared objects are capable of being nested'",

		CPythonTests: []string{"_TestContainers.test_list", "_TestContainers.test_list_proxy_in_list"},
	})
	namespace = catalogue.Add(catalogue.Behaviour{
		ID: "manager.namespace", Profile: catalogue.Extended, Features: []string{"process", "manager"},
		Rule:   "a Namespace attribute set in one process is read in another; a missing attribute is a KeyError",
		Source: "CPython docs: Manager.Namespace",

		CPythonTests: []string{"_TestContainers.test_namespace", "TestSyncManagerTypes.test_namespace"},
	})
	value = catalogue.Add(catalogue.Behaviour{
		ID: "manager.value", Profile: catalogue.Extended, Features: []string{"process", "manager"},
		Rule:   "a managed Value of typecode 'i' or 'd' set in one process is read in another, its type kept",
		Source: "CPython docs: Manager.Value",

		CPythonTests: []string{"TestSyncManagerTypes.test_value"},
	})
	lockedIncrement = catalogue.Add(catalogue.Behaviour{
		ID: "manager.locked-increment", Profile: catalogue.Extended, Features: []string{"control", "process", "manager"},
		Rule: "d[k] += 1 from four processes, 100 times each: never more than 400 without a lock " +
			"(read and write are two operations), exactly 400 with a manager Lock held around each",
		Source: "CPython docs: Programming guidelines, 'Avoid shared state'; Manager.Lock",
	})
	shutdown = catalogue.Add(catalogue.Behaviour{
		ID: "manager.shutdown", Profile: catalogue.Extended, Features: []string{"process", "manager", "event"},
		Rule:   "after shutdown every proxy operation fails with Closed, in the process that shut it down and in another, and none hangs",
		Source: "CPython docs: BaseManager.shutdown",
	})
	remote = catalogue.Add(catalogue.Behaviour{
		ID: "manager.remote", Profile: catalogue.Extended, Features: []string{"process", "manager", "manager.remote"},
		Rule:   "a manager served on a unix or TCP address with an authkey: a process that connects with the key gets a proxy to the same dict",
		Source: "CPython docs: 'Using a remote manager'; BaseManager(address, authkey), connect",

		CPythonTests: []string{"_TestRemoteManager.test_remote"},
	})
	stress = catalogue.Add(catalogue.Behaviour{
		ID: "manager.stress", Profile: catalogue.Robust, Features: []string{"control", "process", "manager", "bulk"},
		Rule: "16 clients each set the same 100 keys of their own, 10 then 100 times over: every set is acknowledged, " +
			"the dict ends with exactly 1 600 keys, and no process's peak memory grows by more than half (plus 16 MiB) with the work",
		Source: "mpconform robust profile",
	})
	authRefused = catalogue.Add(catalogue.Behaviour{
		ID: "manager.auth-refused", Profile: catalogue.Extended, Features: []string{"process", "manager", "manager.remote"},
		Rule:   "connecting with a wrong authkey fails with AuthError, and the served objects are untouched",
		Source: "CPython docs: multiprocessing.connection, Authentication keys (deliver_challenge, answer_challenge)",
	})
)

// pairs reads a dict value as canonical key -> canonical value.
func pairs(v any) map[string]string {
	out := map[string]string{}
	list, _ := trace.Field(v, "dict").([]any)
	for _, p := range list {
		if kv, ok := p.([]any); ok && len(kv) == 2 {
			out[trace.JSON(kv[0])] = trace.JSON(kv[1])
		}
	}
	return out
}

var _ = Describe("manager", func() {
	// The tutorial: ten processes each set d[i] = '1', d['2'] = 2,
	// d[0.25] = None and append i to l = [0..4]; main reads them back.
	var tutorialTrace *trace.Trace
	tutorial := func() *trace.Trace {
		GinkgoHelper()
		if tutorialTrace == nil {
			tutorialTrace = suite.Run(New("manager/tutorial").
				Resource("m", "manager").
				Resource("d", "manager.dict", "manager", "m").
				Resource("l", "manager.list", "manager", "m", "init", []any{0, 1, 2, 3, 4}).
				Program("f", []string{"d", "l", "i"},
					On("dict.set", "d", "key", Param("i"), "value", "1"),
					On("dict.set", "d", "key", "2", "value", 2),
					On("dict.set", "d", "key", 0.25, "value", nil),
					On("list.append", "l", "value", Param("i"))).
				Main(
					Repeat(10, "i", Spawn("p", "f", Ref("d"), Ref("l"), Param("i"))), Start("p"), Join("p"),
					On("dict.copy", "d"), On("list.copy", "l"), On("dict.len", "d"),
					On("dict.get", "d", "key", 2), On("dict.get", "d", "key", "2"), On("dict.get", "d", "key", 0.25),
				))
		}
		return tutorialTrace
	}

	suite.Spec(finalState, "the tutorial's ten processes", func() {
		t := tutorial()
		m := suite.Main(t).Pid
		d := t.Values(m, "dict.copy")
		Expect(d).To(HaveLen(1))
		want := map[string]string{`"2"`: "2", "0.25": "null"}
		for i := range 10 {
			want[fmt.Sprint(i)] = `"1"`
		}
		Expect(pairs(d[0])).To(Equal(want), "the dict")
		l := t.Values(m, "list.copy")
		Expect(l).To(HaveLen(1))
		items, _ := l[0].([]any)
		var got []string
		for _, x := range items {
			got = append(got, trace.JSON(x))
		}
		Expect(got).To(HaveLen(15), "the list: %v", got)
		Expect(got[:5]).To(Equal([]string{"0", "1", "2", "3", "4"}), "the list's first five items")
		rest := slices.Clone(got[5:])
		Expect(rest).To(ConsistOf("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), "the appended items")
	})

	suite.Spec(typedKeys, "2, '2' and 0.25 read back with their own values", func() {
		t := tutorial()
		m := suite.Main(t).Pid
		Expect(t.Values(m, "dict.len")).To(Equal([]any{trace.IntValue(12)}), "len(d)")
		var got []string
		for _, v := range t.Values(m, "dict.get") {
			got = append(got, trace.JSON(v))
		}
		Expect(got).To(Equal([]string{`"1"`, "2", "null"}), "d[2], d['2'], d[0.25]")
		for _, r := range t.Done(m, "dict.get") {
			Expect(r.OK).To(BeTrue(), "%s", r)
		}
	})

	suite.Spec(linearizable, "four processes, 40 random dict and list operations each", func() {
		seed := GinkgoRandomSeed()
		rng := rand.New(rand.NewPCG(uint64(seed), 5))
		keys := []any{0, 1, "1", 0.5}
		sc := New("manager/linearizable").
			Resource("m", "manager").
			Resource("d", "manager.dict", "manager", "m").
			Resource("l", "manager.list", "manager", "m")
		var main []Step
		for c := range 4 {
			var steps []Step
			for s := range 40 {
				v := c*1000 + s // every write is told apart
				k := keys[rng.IntN(len(keys))]
				switch x := rng.IntN(100); {
				case x < 25:
					steps = append(steps, On("dict.set", "d", "key", k, "value", v))
				case x < 45:
					steps = append(steps, On("dict.get", "d", "key", k))
				case x < 52:
					steps = append(steps, On("dict.pop", "d", "key", k))
				case x < 56:
					steps = append(steps, On("dict.setdefault", "d", "key", k, "value", v))
				case x < 60:
					steps = append(steps, On("dict.contains", "d", "key", k))
				case x < 78:
					steps = append(steps, On("list.append", "l", "value", v))
				case x < 86:
					steps = append(steps, On("list.len", "l"))
				case x < 94:
					steps = append(steps, On("list.get", "l", "index", rng.IntN(8)))
				default:
					steps = append(steps, On("list.pop", "l"))
				}
			}
			name := fmt.Sprintf("client%d", c)
			sc.Program(name, []string{"d", "l"}, steps...)
			main = append(main, Spawn("c", name, Ref("d"), Ref("l")))
		}
		t := suite.Run(sc.Main(append(main, Start("c"), Join("c"))...))
		dictOps := []string{"dict.set", "dict.get", "dict.pop", "dict.setdefault", "dict.contains"}
		listOps := []string{"list.append", "list.len", "list.get", "list.pop"}
		dh, lh := check.History(t, dictOps...), check.History(t, listOps...)
		Expect(len(dh)+len(lh)).To(Equal(160), "operations recorded")
		for _, h := range []struct {
			name    string
			check   func() ([]byte, error)
			history int
		}{
			{"dict", func() ([]byte, error) { return check.Linearizable(check.DictModel, dh, 30*time.Second) }, len(dh)},
			{"list", func() ([]byte, error) { return check.Linearizable(check.ListModel, lh, 30*time.Second) }, len(lh)},
		} {
			html, err := h.check()
			if err != nil {
				suite.Attach(suite.VisualisationEntry, string(html))
			}
			Expect(err).NotTo(HaveOccurred(), "the %s history (seed %d); porcupine's visualisation is attached", h.name, seed)
		}
	})

	suite.Spec(nested, "l stored in d; a child appends to l", func() {
		t := suite.Run(New("manager/nested").
			Resource("m", "manager").
			Resource("d", "manager.dict", "manager", "m").
			Resource("l", "manager.list", "manager", "m").
			Program("add", []string{"l"}, On("list.append", "l", "value", 7)).
			Main(
				On("dict.set", "d", "key", "inner", "value", Ref("l")),
				Spawn("c", "add", Ref("l")), Start("c"), Join("c"),
				On("dict.get", "d", "key", "inner"), On("list.copy", "l"),
			))
		m := suite.Main(t).Pid
		Expect(t.Values(m, "dict.get")).To(Equal([]any{map[string]any{"ref": "l"}}), "d['inner'] is the list l itself")
		Expect(t.Values(m, "list.copy")).To(Equal([]any{[]any{trace.IntValue(7)}}), "the child's append")
	})

	suite.Spec(namespace, "a child sets ns.x; main reads it and a missing attribute", func() {
		t := suite.Run(New("manager/namespace").
			Resource("m", "manager").
			Resource("ns", "manager.namespace", "manager", "m").
			Program("set", []string{"ns"}, On("ns.set", "ns", "attr", "x", "value", []any{1, "a", 0.5})).
			Main(Spawn("c", "set", Ref("ns")), Start("c"), Join("c"), On("ns.get", "ns", "attr", "x"), On("ns.get", "ns", "attr", "y")))
		gets := t.Done(suite.Main(t).Pid, "ns.get")
		Expect(gets).To(HaveLen(2))
		Expect(trace.JSON(gets[0].Value)).To(Equal(`[1,"a",0.5]`), "%s", gets[0])
		Expect(gets[1].Kind()).To(Equal("KeyError"), "%s", gets[1])
	})

	suite.Spec(value, "Value('i', 1) and Value('d', 0.5) set by a child", func() {
		t := suite.Run(New("manager/value").
			Resource("m", "manager").
			Resource("vi", "manager.value", "manager", "m", "typecode", "i", "init", 1).
			Resource("vd", "manager.value", "manager", "m", "typecode", "d", "init", 0.5).
			Program("set", []string{"vi", "vd"}, On("value.set", "vi", "value", 42), On("value.set", "vd", "value", 2.5)).
			Main(
				On("value.get", "vi"), On("value.get", "vd"),
				Spawn("c", "set", Ref("vi"), Ref("vd")), Start("c"), Join("c"),
				On("value.get", "vi"), On("value.get", "vd"),
			))
		var got []string
		for _, v := range t.Values(suite.Main(t).Pid, "value.get") {
			got = append(got, trace.JSON(v))
		}
		Expect(got).To(Equal([]string{"1", "0.5", "42", "2.5"}))
	})

	suite.Spec(lockedIncrement, "four processes × 100 increments, without and with a manager Lock", func() {
		t := suite.Run(New("manager/locked-increment").
			Resource("m", "manager").
			Resource("d", "manager.dict", "manager", "m", "init", Dict([2]any{"free", 0}, [2]any{"locked", 0})).
			Resource("L", "manager.lock", "manager", "m").
			Program("free", []string{"d"}, Repeat(100, "", On("dict.incr", "d", "key", "free"))).
			Program("locked", []string{"d", "L"}, Repeat(100, "", On("dict.incr", "d", "key", "locked", "lock", "L"))).
			Main(
				Repeat(4, "", Spawn("p", "free", Ref("d")), Spawn("p", "locked", Ref("d"), Ref("L"))),
				Start("p"), Join("p"),
				On("dict.get", "d", "key", "free"), On("dict.get", "d", "key", "locked"),
			))
		got := t.Values(suite.Main(t).Pid, "dict.get")
		Expect(got).To(HaveLen(2))
		free, _ := trace.Int(got[0])
		locked, _ := trace.Int(got[1])
		suite.Figures("%d of 400 increments kept without a lock", free)
		Expect(free).To(BeNumerically("<=", 400), "more increments than were made")
		// Not 100: a stale write of another process can undo a process's own
		// increments too, and under load it does. The last write keeps one.
		Expect(free).To(BeNumerically(">=", 1), "no increment kept")
		Expect(locked).To(Equal(int64(400)), "with the lock held around each read and write")
	})

	suite.Spec(shutdown, "main shuts the manager down while a child holds proxies", func() {
		t := suite.Run(New("manager/shutdown").
			Resource("m", "manager").
			Resource("d", "manager.dict", "manager", "m").
			Resource("e", "event").Resource("done", "event").
			Program("child", []string{"d", "e", "done"},
				On("dict.set", "d", "key", 1, "value", 1), On("set", "e"),
				On("wait", "done"), On("dict.get", "d", "key", 1), On("dict.set", "d", "key", 2, "value", 2)).
			Main(
				Spawn("c", "child", Ref("d"), Ref("e"), Ref("done")), Start("c"), On("wait", "e"),
				On("manager.shutdown", "m"), On("set", "done"),
				On("dict.get", "d", "key", 1), On("dict.len", "d"),
				Join("c"),
			))
		m, c := suite.Main(t).Pid, suite.Program(t, "child").Pid
		Expect(t.Done(m, "manager.shutdown")[0].OK).To(BeTrue())
		for _, pid := range []int{m, c} {
			for _, op := range []string{"dict.get", "dict.len", "dict.set"} {
				for _, r := range t.Done(pid, op) {
					if r.T0 > t.Done(m, "manager.shutdown")[0].T1 {
						Expect(r.Kind()).To(Equal("Closed"), "%s", r)
					}
				}
			}
		}
		Expect(t.Done(c, "dict.get")).To(HaveLen(1), "the child's get after shutdown returned")
	})

	for _, serve := range []string{"unix", "tcp"} {
		suite.Spec(remote, "served on "+serve+": a child connects with the key and writes", func() {
			t := suite.Run(New("manager/remote-"+serve).
				Resource("m", "manager", "serve", serve, "authkey", "s3cret").
				Resource("d", "manager.dict", "manager", "m").
				Program("client", []string{"m"},
					On("manager.connect", "m", "authkey", "s3cret", "as", "conn"),
					On("manager.proxy", "conn", "name", "d", "as", "rd"),
					On("dict.set", "rd", "key", "from", "value", "client")).
				Main(Spawn("c", "client", Ref("m")), Start("c"), Join("c"), On("dict.get", "d", "key", "from")))
			c := suite.Program(t, "client").Pid
			for _, op := range []string{"manager.connect", "manager.proxy", "dict.set"} {
				rs := t.Done(c, op)
				Expect(rs).To(HaveLen(1), op)
				Expect(rs[0].OK).To(BeTrue(), "%s", rs[0])
			}
			Expect(t.Values(suite.Main(t).Pid, "dict.get")).To(Equal([]any{"client"}))
		})
	}

	suite.Spec(authRefused, "a child connects with a wrong key", func() {
		t := suite.Run(New("manager/auth-refused").
			Resource("m", "manager", "serve", "unix", "authkey", "s3cret").
			Resource("d", "manager.dict", "manager", "m", "init", Dict([2]any{"k", "v"})).
			Program("client", []string{"m"}, On("manager.connect", "m", "authkey", "guess", "as", "conn")).
			Main(Spawn("c", "client", Ref("m")), Start("c"), Join("c"), On("dict.copy", "d")))
		rs := t.Done(suite.Program(t, "client").Pid, "manager.connect")
		Expect(rs).To(HaveLen(1))
		Expect(rs[0].Kind()).To(Equal("AuthError"), "%s", rs[0])
		Expect(pairs(t.Values(suite.Main(t).Pid, "dict.copy")[0])).To(Equal(map[string]string{`"k"`: `"v"`}))
	})

	suite.Spec(stress, "16 clients × 100 keys, 10 and 100 rounds: counts and peak memory", func() {
		peak := func(rounds int) int64 {
			GinkgoHelper()
			sc := New(fmt.Sprintf("manager/stress-%d", rounds)).
				Resource("m", "manager").
				Resource("d", "manager.dict", "manager", "m")
			var main []Step
			for c := range 16 {
				name := fmt.Sprintf("client%d", c)
				sc.Program(name, []string{"d"}, Repeat(rounds, "", On("dict.set_many", "d", "n", 100, "start", c*1000)))
				main = append(main, Spawn("c", name, Ref("d")))
			}
			t := suite.RunWithin(300_000, sc.Main(append(main, Start("c"), Join("c"), On("dict.len", "d"), On("dict.get", "d", "key", 15_099))...))
			m := suite.Main(t).Pid
			var sets int64
			for _, p := range t.Processes() {
				for _, v := range t.Values(p.Pid, "dict.set_many") {
					n, _ := trace.Int(v)
					sets += n
				}
			}
			Expect(sets).To(Equal(int64(16*100*rounds)), "sets acknowledged")
			Expect(t.Values(m, "dict.len")).To(Equal([]any{trace.IntValue(1600)}), "keys in the dict")
			Expect(t.Values(m, "dict.get")).To(Equal([]any{trace.IntValue(15_099)}), "d[15099]")
			return t.PeakRSS()
		}
		small, large := peak(10), peak(100)
		suite.Figures("peak RSS of the largest process traced: %d KiB after 16 000 sets, %d KiB after 160 000", small, large)
		Expect(large).To(BeNumerically("<=", small*3/2+16<<10), "peak memory grew with the work (KiB)")
	})
})
