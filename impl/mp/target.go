package mp

import (
	"encoding/json"
	"fmt"
	"sync"
)

// A Target is a function registered with Register, that a child process
// runs. Its type parameter is the type of the argument it takes.
type Target[A any] struct {
	name string
}

// Name returns the name the target was registered under.
func (t Target[A]) Name() string { return t.name }

// runner decodes an encoded argument and calls a target with it.
type runner func(arg []byte) error

var targets struct {
	sync.Mutex
	byName map[string]runner
}

// Register makes fn runnable in a child process under name, and returns the
// Target to pass to New. A child is a fresh execution of the same binary, so
// it knows fn only if Register runs there too before Main: call Register at
// package level (var worker = mp.Register(...)) or in an init function.
// Register panics if name is already taken or if Main has already run.
//
// The argument travels to the child encoded with encoding/json, so A should be
// a type that round-trips through it (exported fields, no channels or funcs).
// fn returning a non-nil error makes the child exit with status 1.
func Register[A any](name string, fn func(A) error) Target[A] {
	if mainCalled.Load() {
		panic("mp: Register(" + name + ") after Main: register targets at package level")
	}
	targets.Lock()
	defer targets.Unlock()
	if _, dup := targets.byName[name]; dup {
		panic("mp: Register called twice for target " + name)
	}
	if targets.byName == nil {
		targets.byName = make(map[string]runner)
	}
	targets.byName[name] = func(raw []byte) error {
		var arg A
		if err := json.Unmarshal(raw, &arg); err != nil {
			return fmt.Errorf("mp: decoding the argument of %s: %w", name, err)
		}
		return fn(arg)
	}
	return Target[A]{name: name}
}

func lookupTarget(name string) (runner, bool) {
	targets.Lock()
	defer targets.Unlock()
	r, ok := targets.byName[name]
	return r, ok
}
