package interp

import (
	"context"
	"errors"
	"math"
	"slices"

	"github.com/mpconform/mpconform/impl/mp"
)

// The manager and manager.remote families (protocol.md §5, §6): a manager
// resource is an mp.Manager started by main; dict, list, namespace, value
// and lock resources are its proxies, each exposed on the server under its
// resource name, so that manager.proxy can find it through a connection
// and a proxy read back from a managed object is recorded as the {"ref"}
// of its resource.
//
// Values cross as mp's: Float as float64, Bytes as []byte, Dict as
// mp.Items, and a {"ref"} to a proxy resource as the proxy (a nested,
// shared object).

// proxyTypes lists the resource types of managed objects.
var proxyTypes = []string{"manager.dict", "manager.list", "manager.namespace", "manager.value", "manager.lock",
	"manager.queue", "manager.joinable_queue", "manager.event", "manager.semaphore", "manager.bounded_semaphore",
	"manager.barrier", "manager.array", "manager.custom", "manager.rlock", "manager.condition"}

// managerOps are the ops of the manager and manager.remote families.
func managerOps() map[string]Op {
	ops := map[string]Op{}
	dict := []string{"manager.dict"}
	list := []string{"manager.list"}
	ns := []string{"manager.namespace"}
	value := []string{"manager.value"}
	key := Field{Value, true}
	val := Field{Value, true}
	incr := map[string]Field{"by": {Number, false}, "lock": {ResourceName, false}}

	ops["dict.set"] = Op{Fields: on(map[string]Field{"key": key, "value": val}), On: dict, Run: func(c *Call) (any, error) {
		k, v, err := c.mpArgs("key", "value")
		if err != nil {
			return nil, err
		}
		return nil, c.On.Dict.Set(k, v)
	}}
	ops["dict.get"] = Op{Fields: on(map[string]Field{"key": key, "default": {Value, false}}), On: dict, Run: func(c *Call) (any, error) {
		k, def, err := c.mpArgs("key", "default")
		if err != nil {
			return nil, err
		}
		if _, ok := c.In["default"]; ok {
			return c.fromMP(c.On.Dict.GetDefault(k, def))
		}
		return c.fromMP(c.On.Dict.Get(k))
	}}
	ops["dict.del"] = Op{Fields: on(map[string]Field{"key": key}), On: dict, Run: func(c *Call) (any, error) {
		k, _, err := c.mpArgs("key", "")
		if err != nil {
			return nil, err
		}
		return nil, c.On.Dict.Delete(k)
	}}
	ops["dict.pop"] = Op{Fields: on(map[string]Field{"key": key}), On: dict, Run: func(c *Call) (any, error) {
		k, _, err := c.mpArgs("key", "")
		if err != nil {
			return nil, err
		}
		return c.fromMP(c.On.Dict.Pop(k))
	}}
	ops["dict.setdefault"] = Op{Fields: on(map[string]Field{"key": key, "value": val}), On: dict, Run: func(c *Call) (any, error) {
		k, v, err := c.mpArgs("key", "value")
		if err != nil {
			return nil, err
		}
		return c.fromMP(c.On.Dict.SetDefault(k, v))
	}}
	ops["dict.update"] = Op{Fields: on(map[string]Field{"value": val}), On: dict, Run: func(c *Call) (any, error) {
		v, _, err := c.mpArgs("value", "")
		if err != nil {
			return nil, err
		}
		items, ok := v.(mp.Items)
		if !ok {
			return nil, errorf("ValueError", "dict.update wants a dict value")
		}
		return nil, c.On.Dict.Update(items)
	}}
	ops["dict.len"] = Op{Fields: on(nil), On: dict, Run: func(c *Call) (any, error) {
		n, err := c.On.Dict.Len()
		return int64(n), err
	}}
	ops["dict.contains"] = Op{Fields: on(map[string]Field{"key": key}), On: dict, Run: func(c *Call) (any, error) {
		k, _, err := c.mpArgs("key", "")
		if err != nil {
			return nil, err
		}
		return c.On.Dict.Contains(k)
	}}
	ops["dict.copy"] = Op{Fields: on(nil), On: dict, Run: func(c *Call) (any, error) {
		items, err := c.On.Dict.Copy()
		if err != nil {
			return nil, err
		}
		return c.fromMP(items, nil)
	}}
	ops["dict.incr"] = Op{Fields: on(map[string]Field{"key": key, "by": incr["by"], "lock": incr["lock"]}), Blocks: true, On: dict,
		Run: func(c *Call) (any, error) {
			k, _, err := c.mpArgs("key", "")
			if err != nil {
				return nil, err
			}
			d := c.On.Dict
			return c.incr(func() (any, error) { return d.Get(k) }, func(v any) error { return d.Set(k, v) })
		}}

	ops["list.append"] = Op{Fields: on(map[string]Field{"value": val}), On: list, Run: func(c *Call) (any, error) {
		v, _, err := c.mpArgs("value", "")
		if err != nil {
			return nil, err
		}
		return nil, c.On.List.Append(v)
	}}
	ops["list.extend"] = Op{Fields: on(map[string]Field{"value": val}), On: list, Run: func(c *Call) (any, error) {
		v, _, err := c.mpArgs("value", "")
		if err != nil {
			return nil, err
		}
		items, ok := v.([]any)
		if !ok {
			return nil, errorf("ValueError", "list.extend wants a list value")
		}
		return nil, c.On.List.Extend(items)
	}}
	index := Field{Int, true}
	ops["list.get"] = Op{Fields: on(map[string]Field{"index": index}), On: list, Run: func(c *Call) (any, error) {
		i, _ := c.int("index")
		return c.fromMP(c.On.List.Get(clampIndex(i)))
	}}
	ops["list.set"] = Op{Fields: on(map[string]Field{"index": index, "value": val}), On: list, Run: func(c *Call) (any, error) {
		v, _, err := c.mpArgs("value", "")
		if err != nil {
			return nil, err
		}
		i, _ := c.int("index")
		return nil, c.On.List.Set(clampIndex(i), v)
	}}
	ops["list.pop"] = Op{Fields: on(map[string]Field{"index": {Int, false}}), On: list, Run: func(c *Call) (any, error) {
		i, ok := c.int("index")
		if !ok {
			i = -1
		}
		return c.fromMP(c.On.List.Pop(clampIndex(i)))
	}}
	ops["list.insert"] = Op{Fields: on(map[string]Field{"index": index, "value": val}), On: list, Run: func(c *Call) (any, error) {
		v, _, err := c.mpArgs("value", "")
		if err != nil {
			return nil, err
		}
		i, _ := c.int("index")
		return nil, c.On.List.Insert(clampIndex(i), v)
	}}
	ops["list.remove"] = Op{Fields: on(map[string]Field{"value": val}), On: list, Run: func(c *Call) (any, error) {
		v, _, err := c.mpArgs("value", "")
		if err != nil {
			return nil, err
		}
		return nil, c.On.List.Remove(v)
	}}
	ops["list.reverse"] = Op{Fields: on(nil), On: list, Run: func(c *Call) (any, error) { return nil, c.On.List.Reverse() }}
	ops["list.len"] = Op{Fields: on(nil), On: list, Run: func(c *Call) (any, error) {
		n, err := c.On.List.Len()
		return int64(n), err
	}}
	ops["list.copy"] = Op{Fields: on(nil), On: list, Run: func(c *Call) (any, error) {
		items, err := c.On.List.Copy()
		if err != nil {
			return nil, err
		}
		return c.fromMP(items, nil)
	}}

	attr := Field{String, true}
	ops["ns.set"] = Op{Fields: on(map[string]Field{"attr": attr, "value": val}), On: ns, Run: func(c *Call) (any, error) {
		v, _, err := c.mpArgs("value", "")
		if err != nil {
			return nil, err
		}
		return nil, c.On.Namespace.Set(c.In["attr"].(string), v)
	}}
	ops["ns.get"] = Op{Fields: on(map[string]Field{"attr": attr}), On: ns, Run: func(c *Call) (any, error) {
		return c.fromMP(c.On.Namespace.Get(c.In["attr"].(string)))
	}}

	ops["value.get"] = Op{Fields: on(nil), On: value, Run: func(c *Call) (any, error) { return c.fromMP(c.On.MValue.Get()) }}
	ops["value.set"] = Op{Fields: on(map[string]Field{"value": val}), On: value, Run: func(c *Call) (any, error) {
		v, _, err := c.mpArgs("value", "")
		if err != nil {
			return nil, err
		}
		return nil, c.On.MValue.Set(v)
	}}
	ops["value.incr"] = Op{Fields: on(incr), Blocks: true, On: value, Run: func(c *Call) (any, error) {
		v := c.On.MValue
		return c.incr(v.Get, v.Set)
	}}

	ops["manager.shutdown"] = Op{Fields: on(nil), Blocks: true, On: []string{"manager"}, Run: func(c *Call) (any, error) {
		return nil, c.On.Manager.Shutdown()
	}}
	ops["manager.connect"] = Op{Fields: on(map[string]Field{"authkey": {String, false}, "as": {Name, true}}), Blocks: true,
		On: []string{"manager"}, Run: connect}
	ops["manager.restart"] = Op{Fields: on(nil), Blocks: true, On: []string{"manager"}, Run: restart}
	ops["manager.proxy"] = Op{Fields: on(map[string]Field{"name": {String, true}, "as": {Name, true}}),
		On: []string{"manager.connection"}, Run: proxyOp}

	many := map[string]Field{"n": {Int, true}, "start": {Int, false}}
	ops["dict.set_many"] = Op{Fields: on(many), Blocks: true, On: dict, Run: func(c *Call) (any, error) {
		n, _ := c.int("n")
		start, _ := c.int("start")
		for k := start; k < start+n; k++ {
			if err := c.On.Dict.Set(k, k); err != nil {
				return nil, err
			}
		}
		return n, nil
	}}
	ops["dict.get_many"] = Op{Fields: on(many), Blocks: true, On: dict, Run: func(c *Call) (any, error) {
		n, _ := c.int("n")
		start, _ := c.int("start")
		for k := start; k < start+n; k++ {
			if _, err := c.On.Dict.Get(k); err != nil {
				return nil, err
			}
		}
		return n, nil
	}}
	return ops
}

// clampIndex keeps an index an int (a huge one is out of range anyway).
func clampIndex(i int64) int { return int(max(min(i, math.MaxInt32), math.MinInt32)) }

// newManager starts a manager resource's server.
func newManager(spec ResourceSpec) (*mp.Manager, error) {
	var opts []mp.ManagerOption
	if spec.Serve != "" {
		opts = append(opts, mp.ManagerServe(spec.Serve, ""))
	}
	if spec.AuthKey != nil {
		opts = append(opts, mp.ManagerAuthKey([]byte(*spec.AuthKey)))
	}
	return mp.NewManager(append(opts, driver.ManagerOptions...)...)
}

// newProxy makes a managed object on its manager and exposes it under the
// resource's name.
func newProxy(r *Resource, spec ResourceSpec, made map[string]*Resource) error {
	m := made[spec.Manager].Manager
	c := &Call{r: &runner{resources: made}}
	init, err := c.toMP(spec.Init)
	if err != nil {
		return err
	}
	var p mp.Proxy
	switch spec.Type {
	case "manager.dict":
		items, _ := init.(mp.Items)
		r.Dict, err = m.Dict(items)
		p = r.Dict
	case "manager.list":
		list, _ := init.([]any)
		r.List, err = m.List(list)
		p = r.List
	case "manager.namespace":
		r.Namespace, err = m.Namespace()
		p = r.Namespace
	case "manager.value":
		if spec.Init == nil {
			init = int64(0)
			if spec.Typecode == "d" || spec.Typecode == "f" {
				init = 0.0
			}
		}
		r.MValue, err = m.Value(spec.Typecode, init)
		p = r.MValue
	case "manager.lock":
		r.MLock, err = m.Lock()
		p = r.MLock
	}
	if err != nil {
		return err
	}
	return m.Expose(spec.Name, p)
}

// setManaged validates and sets the string and value fields of the
// manager resources.
func (spec *ResourceSpec) setManaged(where, k string, raw any, types map[string]string) error {
	wrong := func(want string) error {
		return errorAt(where, "%s.%s: want %s, got %s", spec.Type, k, want, describe(raw))
	}
	switch k {
	case "serve":
		s, ok := raw.(string)
		if !ok || (s != "unix" && s != "tcp") {
			return wrong(`"unix" or "tcp"`)
		}
		spec.Serve = s
	case "authkey":
		s, ok := raw.(string)
		if !ok {
			return wrong("a string")
		}
		spec.AuthKey = &s
	case "typecode":
		s, ok := raw.(string)
		if !ok || s == "" {
			return wrong("a typecode")
		}
		spec.Typecode = s
	case "typeid":
		s, ok := raw.(string)
		if _, known := customTypes[s]; !ok || !known {
			return wrong("a custom type of protocol.md §5 (counter)")
		}
		spec.Typeid = s
	case "init":
		v, err := decodeValue(raw, true)
		if err != nil {
			return errorAt(where, "%s.init: %v", spec.Type, err)
		}
		err = walkValue(v, func(x any) error {
			switch x := x.(type) {
			case param, blob:
				return errorAt(where, "%s.init: no param or blob in a resource", spec.Type)
			case ref:
				if t := types[string(x)]; t == "" || !isProxyType(t) {
					return errorAt(where, "%s.init: %q is no managed object declared before it", spec.Type, string(x))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		switch _, isDict := v.(Dict); {
		case spec.Type == "manager.dict" && !isDict:
			return wrong("a dict value")
		case spec.Type == "manager.list" || spec.Type == "manager.array":
			if _, ok := v.([]any); !ok {
				return wrong("a list")
			}
		}
		spec.Init = v
	}
	return nil
}

func isProxyType(t string) bool {
	for _, p := range proxyTypes {
		if p == t {
			return true
		}
	}
	return false
}

// defaultManager gives a managed object without a "manager" field the only
// manager declared before it.
func (spec *ResourceSpec) defaultManager(where string, types map[string]string) error {
	if !isProxyType(spec.Type) || spec.Manager != "" {
		return nil
	}
	for _, name := range sortedKeys(types) {
		if types[name] != "manager" {
			continue
		}
		if spec.Manager != "" {
			return errorAt(where, `%s: several managers are declared: say which with "manager"`, spec.Type)
		}
		spec.Manager = name
	}
	if spec.Manager == "" {
		return errorAt(where, `%s: no manager resource is declared before it`, spec.Type)
	}
	return nil
}

// boundResources returns the names that manager.connect and manager.proxy
// (and listener.accept and connection.client, listener.go) bind with "as"
// in steps: resources of the process that runs them.
func boundResources(steps []*step) map[string]bool {
	bound := map[string]bool{}
	walkSteps(steps, func(s *step) {
		if s.op == "manager.connect" || s.op == "manager.proxy" || slices.Contains(shmBindingOps, s.op) ||
			bindsConnection[s.op] {
			if as, ok := s.fields["as"].(string); ok {
				bound[as] = true
			}
		}
	})
	return bound
}

// mpArgs converts the step's fields a and b (b may be "") to mp values.
func (c *Call) mpArgs(a, b string) (any, any, error) {
	x, err := c.toMP(c.In[a])
	if err != nil || b == "" {
		return x, nil, err
	}
	y, err := c.toMP(c.In[b])
	return x, y, err
}

// toMP converts a value of the protocol to mp's: a ref to a proxy
// resource becomes the proxy, so the object is stored nested and shared.
func (c *Call) toMP(v any) (any, error) {
	switch v := v.(type) {
	case Float:
		return float64(v), nil
	case Bytes:
		return []byte(v), nil
	case []any:
		list := make([]any, len(v))
		for i, x := range v {
			var err error
			if list[i], err = c.toMP(x); err != nil {
				return nil, err
			}
		}
		return list, nil
	case Dict:
		items := make(mp.Items, len(v))
		for i, p := range v {
			k, err := c.toMP(p.Key)
			if err != nil {
				return nil, err
			}
			x, err := c.toMP(p.Value)
			if err != nil {
				return nil, err
			}
			items[i] = mp.Item{Key: k, Value: x}
		}
		return items, nil
	case ref:
		r := c.r.resources[string(v)]
		if r == nil {
			return nil, c.r.notHeld(string(v))
		}
		if p := r.proxy(); p != nil {
			return p, nil
		}
		return nil, errorf("ValueError", "%s: a %s cannot be stored in a managed object", r.Name, r.Type)
	}
	return v, nil
}

// proxy returns the resource's proxy, or nil.
func (r *Resource) proxy() mp.Proxy {
	switch {
	case r.Dict != nil:
		return r.Dict
	case r.List != nil:
		return r.List
	case r.Namespace != nil:
		return r.Namespace
	case r.MValue != nil:
		return r.MValue
	case r.MLock != nil:
		return r.MLock
	}
	return r.servedProxy()
}

// fromMP converts a value read from a managed object to the protocol's; a
// nested proxy is the {"ref"} of the resource exposed as its object.
func (c *Call) fromMP(v any, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case float64:
		return Float(v), nil
	case []byte:
		return Bytes(v), nil
	case []any:
		list := make([]any, len(v))
		for i, x := range v {
			if list[i], err = c.fromMP(x, nil); err != nil {
				return nil, err
			}
		}
		return list, nil
	case mp.Items:
		d := make(Dict, len(v))
		for i, it := range v {
			k, err := c.fromMP(it.Key, nil)
			if err != nil {
				return nil, err
			}
			x, err := c.fromMP(it.Value, nil)
			if err != nil {
				return nil, err
			}
			d[i] = Pair{k, x}
		}
		return d, nil
	case mp.Proxy:
		name, err := v.ExposedName()
		if err != nil {
			return nil, err
		}
		if name == "" {
			return nil, errorf("Error", "a managed object that no resource names")
		}
		return ref(name), nil
	}
	return v, nil
}

// incr reads, adds "by" (default 1) and writes back: two requests, not
// atomic, unless "lock" names a lock held around them.
func (c *Call) incr(get func() (any, error), set func(any) error) (any, error) {
	if name, ok := c.In["lock"].(string); ok {
		r := c.r.resources[name]
		if r == nil {
			return nil, c.r.notHeld(name)
		}
		l := r.locker()
		if l == nil {
			return nil, errorf("Error", "%s: a %s is no lock", name, r.Type)
		}
		if err := l.Acquire(context.Background()); err != nil {
			return nil, err
		}
		defer l.Release()
	}
	v, err := get()
	if err != nil {
		return nil, err
	}
	by, ok := c.In["by"]
	if !ok || by == nil {
		by = int64(1)
	}
	var sum any
	switch x := v.(type) {
	case int64:
		switch y := by.(type) {
		case int64:
			sum = x + y
		case Float:
			sum = float64(x) + float64(y)
		}
	case float64:
		switch y := by.(type) {
		case int64:
			sum = x + float64(y)
		case Float:
			sum = x + float64(y)
		}
	}
	if sum == nil {
		w, _ := c.fromMP(v, nil)
		return nil, errorf("ValueError", "cannot add %s to %s", appendValue(nil, by, true), appendValue(nil, w, true))
	}
	if err := set(sum); err != nil {
		return nil, err
	}
	return c.fromMP(sum, nil)
}

// connect is manager.connect: a connection to a manager's address, bound
// as a resource of this process.
func connect(c *Call) (any, error) {
	m := c.On.Manager
	network, address := m.Addr()
	if network == "" {
		return nil, errorf("Error", "manager %s has no serve: it cannot be connected to", c.On.Name)
	}
	key := m.AuthKey()
	if k, ok := c.In["authkey"].(string); ok {
		key = []byte(k)
	}
	conn, err := mp.ConnectManager(network, address, key, driver.ManagerOptions...)
	if err != nil {
		return nil, err
	}
	c.r.resources[c.In["as"].(string)] = &Resource{Name: c.In["as"].(string), Type: "manager.connection", Manager: conn}
	return nil, nil
}

// restart is manager.restart: a new manager on the address of the one it
// shuts down, as _test_multiprocessing.py's _TestManagerRestart.
func restart(c *Call) (any, error) {
	m := c.On.Manager
	network, address := m.Addr()
	if network == "" {
		return nil, errorf("Error", "manager %s has no serve: it cannot be restarted on its address", c.On.Name)
	}
	key := m.AuthKey()
	if err := m.Shutdown(); err != nil {
		return nil, err
	}
	opts := append([]mp.ManagerOption{mp.ManagerServe(network, address), mp.ManagerAuthKey(key)}, driver.ManagerOptions...)
	nm, err := mp.NewManager(opts...)
	if err != nil {
		return nil, err
	}
	c.On.Manager = nm
	return nil, nil
}

// proxyOp is manager.proxy: a proxy, through a connection, of the object
// that a resource of the manager names.
func proxyOp(c *Call) (any, error) {
	name := c.In["name"].(string)
	p, err := c.On.Manager.Proxy(name)
	if errors.Is(err, mp.ErrKey) {
		// As the CPython driver's TypeError: no portable kind says this.
		return nil, errorf("Error", "manager.proxy: %q is not served by manager connection %s", name, c.On.Name)
	}
	if err != nil {
		return nil, err
	}
	as := c.In["as"].(string)
	r := &Resource{Name: as}
	switch p := p.(type) {
	case *mp.DictProxy:
		r.Type, r.Dict = "manager.dict", p
	case *mp.ListProxy:
		r.Type, r.List = "manager.list", p
	case *mp.NamespaceProxy:
		r.Type, r.Namespace = "manager.namespace", p
	case *mp.ValueProxy:
		r.Type, r.MValue = "manager.value", p
	case *mp.LockProxy:
		r.Type, r.MLock = "manager.lock", p
	default:
		setServedProxy(r, p, c.r.sc.resources)
	}
	c.r.resources[as] = r
	return nil, nil
}
