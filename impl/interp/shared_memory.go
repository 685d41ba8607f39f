package interp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"sync"

	"github.com/mpconform/mpconform/impl/mp"
)

// The shared_memory family (protocol.md §5, §6): segments, shareable lists
// and shared-memory managers of mp. A segment or list travels to a child by
// its name and the child attaches, as CPython pickles them; a manager stays
// in the process that made it.

// shmTypes are the resource types of segments: a list's shm.* ops act on
// its segment.
var shmTypes = []string{"shared_memory", "shareable_list"}

// shmBindingOps bind "as" to a resource of the process that runs them.
var shmBindingOps = []string{"shm.create", "shm.attach", "sl.attach", "smm.shared_memory", "smm.shareable_list"}

func sharedMemoryOps() map[string]Op {
	ops := map[string]Op{}
	list := []string{"shareable_list"}
	smm := []string{"shared_memory_manager"}
	as := Field{Name, true}
	index := Field{Int, true}
	value := Field{Value, true}

	ops["shm.create"] = Op{Fields: map[string]Field{"as": as, "size": {Int, true}, "name": {String, false}},
		Run: func(c *Call) (any, error) {
			name, _ := c.In["name"].(string)
			size, _ := c.int("size")
			m, err := mp.CreateSharedMemory(name, clampSize(size))
			return c.bindShm(m, nil, err)
		}}
	ops["shm.attach"] = Op{Fields: map[string]Field{"as": as, "name": {String, false}, "on": {ResourceName, false}},
		OneOf: []string{"name", "on"}, On: shmTypes, Run: func(c *Call) (any, error) {
			m, err := mp.AttachSharedMemory(c.shmName())
			return c.bindShm(m, nil, err)
		}}
	ops["shm.name"] = Op{Fields: on(nil), On: shmTypes, Run: func(c *Call) (any, error) { return c.On.shm().Name(), nil }}
	ops["shm.size"] = Op{Fields: on(nil), On: shmTypes, Run: func(c *Call) (any, error) { return int64(c.On.shm().Size()), nil }}
	ops["shm.write"] = Op{Fields: on(map[string]Field{"value": value, "offset": {Int, false}}), On: shmTypes,
		Run: func(c *Call) (any, error) {
			b, ok := c.In["value"].(Bytes)
			if !ok {
				return nil, errorf("Error", "shm.write: the value is %s, not bytes", describe(c.In["value"]))
			}
			off, _ := c.int("offset")
			_, err := c.On.shm().WriteAt(b, off)
			return nil, err
		}}
	ops["shm.read"] = Op{Fields: on(map[string]Field{"offset": {Int, false}, "n": {Int, false}}), On: shmTypes,
		Run: func(c *Call) (any, error) {
			m := c.On.shm()
			off, _ := c.int("offset")
			// A slice of the buffer, as in Python: cut at the end.
			off = min(off, int64(m.Size()))
			n, ok := c.int("n")
			if !ok || n > int64(m.Size())-off {
				n = int64(m.Size()) - off
			}
			b := make(Bytes, clampSize(n))
			if _, err := m.ReadAt(b, off); err != nil {
				return nil, err
			}
			return b, nil
		}}
	ops["shm.close"] = Op{Fields: on(nil), On: shmTypes, Run: func(c *Call) (any, error) { return nil, c.On.shm().Close() }}
	ops["shm.unlink"] = Op{Fields: on(nil), On: shmTypes, Run: func(c *Call) (any, error) { return nil, c.On.shm().Unlink() }}

	ops["sl.attach"] = Op{Fields: map[string]Field{"as": as, "name": {String, false}, "on": {ResourceName, false}},
		OneOf: []string{"name", "on"}, On: list, Run: func(c *Call) (any, error) {
			l, err := mp.AttachShareableList(c.shmName())
			return c.bindShm(nil, l, err)
		}}
	ops["sl.get"] = Op{Fields: on(map[string]Field{"index": index}), On: list, Run: func(c *Call) (any, error) {
		i, _ := c.int("index")
		return fromItem(c.On.SList.Get(clampIndex(i)))
	}}
	ops["sl.set"] = Op{Fields: on(map[string]Field{"index": index, "value": value}), On: list, Run: func(c *Call) (any, error) {
		i, _ := c.int("index")
		v, err := toItem(c.In["value"])
		if err != nil {
			return nil, err
		}
		return nil, c.On.SList.Set(clampIndex(i), v)
	}}
	ops["sl.len"] = Op{Fields: on(nil), On: list, Run: func(c *Call) (any, error) { return int64(c.On.SList.Len()), nil }}
	ops["sl.count"] = Op{Fields: on(map[string]Field{"value": value}), On: list, Run: func(c *Call) (any, error) {
		v, err := toItem(c.In["value"])
		if err != nil {
			return int64(0), nil // no item is of a type a list cannot hold
		}
		n, err := c.On.SList.Count(v)
		return int64(n), err
	}}
	ops["sl.index"] = Op{Fields: on(map[string]Field{"value": value}), On: list, Run: func(c *Call) (any, error) {
		v, err := toItem(c.In["value"])
		if err != nil {
			return nil, errorf("ValueError", "%s is not in the list", describe(c.In["value"]))
		}
		i, err := c.On.SList.Index(v)
		return int64(i), err
	}}
	ops["sl.format"] = Op{Fields: on(nil), On: list, Run: func(c *Call) (any, error) { return c.On.SList.Format() }}
	ops["sl.list"] = Op{Fields: on(nil), On: list, Run: func(c *Call) (any, error) {
		items, err := c.On.SList.Items()
		if err != nil {
			return nil, err
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[i], _ = fromItem(it, nil)
		}
		return out, nil
	}}

	ops["smm.shared_memory"] = Op{Fields: on(map[string]Field{"as": as, "size": {Int, true}}), On: smm,
		Run: func(c *Call) (any, error) {
			size, _ := c.int("size")
			m, err := c.On.SMM.SharedMemory(clampSize(size))
			return c.bindShm(m, nil, err)
		}}
	ops["smm.shareable_list"] = Op{Fields: on(map[string]Field{"as": as, "init": {List, true}}), On: smm,
		Run: func(c *Call) (any, error) {
			items, err := toItems(c.In["init"])
			if err != nil {
				return nil, err
			}
			l, err := c.On.SMM.ShareableList(items)
			return c.bindShm(nil, l, err)
		}}
	ops["smm.shutdown"] = Op{Fields: on(nil), Blocks: true, On: smm, Run: func(c *Call) (any, error) {
		return nil, c.On.SMM.Shutdown()
	}}
	return ops
}

// shm returns the segment of a shared_memory or shareable_list resource.
func (r *Resource) shm() *mp.SharedMemory {
	if r.SList != nil && r.SharedMemory == nil {
		return r.SList.SharedMemory()
	}
	return r.SharedMemory
}

// shmName is the name an attach op attaches by: its "name", or the name of
// the segment its "on" holds.
func (c *Call) shmName() string {
	if c.On != nil {
		return c.On.shm().Name()
	}
	return c.In["name"].(string)
}

// bindShm binds the step's "as" to a segment or list just made or attached.
func (c *Call) bindShm(m *mp.SharedMemory, l *mp.ShareableList, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	as := c.In["as"].(string)
	r := &Resource{Name: as, Type: "shared_memory", SharedMemory: m}
	if l != nil {
		r = &Resource{Name: as, Type: "shareable_list", SList: l}
	}
	c.r.resources[as] = r
	return nil, nil
}

// shmErrorKind maps the errors of the file system that segments meet to
// their kinds: FileNotFoundError and FileExistsError in CPython.
func shmKind(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "NotFound"
	case errors.Is(err, fs.ErrExist):
		return "Exists"
	}
	return ""
}

// clampSize keeps a size in an int, negative sizes included: mp rejects
// those itself.
func clampSize(n int64) int { return int(max(min(n, math.MaxInt32), math.MinInt32)) }

// toItem converts a value to a list item of mp's.
func toItem(v any) (any, error) {
	switch v := v.(type) {
	case nil, bool, int64, string:
		return v, nil
	case Float:
		return float64(v), nil
	case Bytes:
		return []byte(v), nil
	}
	return nil, errorf("ValueError", "a shareable list holds no %s", describe(v))
}

func toItems(v any) ([]any, error) {
	list, _ := v.([]any)
	items := make([]any, len(list))
	for i, x := range list {
		var err error
		if items[i], err = toItem(x); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// fromItem converts a list item of mp's to a value.
func fromItem(v any, err error) (any, error) {
	switch x := v.(type) {
	case float64:
		return Float(x), err
	case []byte:
		return Bytes(x), err
	}
	return v, err
}

// newShmResource makes a declared shared_memory, shareable_list or
// shared_memory_manager; a manager is shut down at the program's end.
func newShmResource(r *Resource, spec ResourceSpec) (err error) {
	switch spec.Type {
	case "shared_memory":
		r.SharedMemory, err = mp.CreateSharedMemory(spec.ShmName, clampSize(spec.size()))
	case "shareable_list":
		var items []any
		if items, err = toItems(spec.Init); err == nil {
			r.SList, err = mp.NewShareableList(spec.ShmName, items)
		}
	case "shared_memory_manager":
		r.SMM = mp.NewSharedMemoryManager()
		liveSMMs.Lock()
		liveSMMs.list = append(liveSMMs.list, r.SMM)
		liveSMMs.Unlock()
	}
	return err
}

// liveSMMs are the shared-memory managers this process made: CPython's
// finalizer shuts a manager down at exit, which unlinks its segments.
var liveSMMs struct {
	sync.Mutex
	list []*mp.SharedMemoryManager
}

func shutdownSMMs() {
	liveSMMs.Lock()
	defer liveSMMs.Unlock()
	for _, m := range liveSMMs.list {
		m.Shutdown()
	}
	liveSMMs.list = nil
}

// setShm validates field k of a segment or list resource.
func (spec *ResourceSpec) setShm(where, k string, raw any) error {
	wrong := func(want string) error {
		return errorAt(where, "%s.%s: want %s, got %s", spec.Type, k, want, describe(raw))
	}
	switch k {
	case "size":
		n, ok := raw.(json.Number)
		if !ok {
			return wrong("an integer")
		}
		v, err := decodeNumber(n)
		if i, isInt := v.(int64); err == nil && isInt && i >= 1 && i <= math.MaxInt32 {
			spec.Size = &i
			return nil
		}
		return wrong(fmt.Sprintf("an integer from 1 to %d", math.MaxInt32))
	case "shm_name":
		s, ok := raw.(string)
		if !ok || s == "" {
			return wrong("a non-empty string")
		}
		spec.ShmName = s
	case "init":
		v, err := decodeValue(raw, false)
		list, ok := v.([]any)
		if err != nil || !ok {
			return wrong("a list")
		}
		if _, err := toItems(list); err != nil {
			return errorAt(where, "%s.init: %v", spec.Type, err)
		}
		spec.Init = list
	}
	return nil
}

// isShmType reports whether a resource type is this family's.
func isShmType(typ string) bool {
	return slices.Contains([]string{"shared_memory", "shareable_list", "shared_memory_manager"}, typ)
}

// size is the size a shared_memory resource asks for (required: 0 if absent).
func (spec *ResourceSpec) size() int64 {
	if spec.Size == nil {
		return 0
	}
	return *spec.Size
}
