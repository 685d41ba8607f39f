package protocol

import (
	"maps"
	"slices"
)

// A Kind is the type of a field. Each is a $defs entry of the same name in
// harness/schema/scenario.schema.json; a consumer of ops.json fails on a kind it
// does not know. The scalar kinds but ident and signal may also be a {"param"}
// (§4), resolved when the step runs.
type Kind string

// The kinds.
const (
	Bool     Kind = "bool"
	Count    Kind = "count"
	Duration Kind = "duration"
	Ident    Kind = "ident"
	Int      Kind = "int"
	Number   Kind = "number"
	Resource Kind = "resource"
	Signal   Kind = "signal"
	Step     Kind = "step"
	Steps    Kind = "steps"
	String   Kind = "string"
	Timeout  Kind = "timeout"
	Value    Kind = "value"
	Values   Kind = "values"
)

// kinds says what each kind is, for the table of §6.
var kinds = map[Kind]string{
	Bool:     "`true` or `false`",
	Count:    "an int from 0 to 2^31−1 (counts, sizes, indices)",
	Duration: "milliseconds, an int or a float from 0 to 10^12",
	Ident: "a non-empty string that binds or selects a name (`as`, `program`, `proc`, `var`...); " +
		"never a `{\"param\"}`",
	Int:      "a 64-bit int",
	Number:   "an int or a float",
	Resource: "the name of a resource (§5), or of a pipe's end (`NAME.0`, `NAME.1`)",
	Signal:   "a signal's name: `\"SIGTERM\"`, `\"SIGKILL\"`...; never a `{\"param\"}`",
	Step:     "one step, run by the op itself: not recorded in `in`",
	Steps:    "a list of steps, run by the op itself: not recorded in `in`",
	String:   "a string",
	Timeout:  "a duration that bounds a wait; absent, the op waits forever",
	Value:    "a value (§4)",
	Values:   "a list of values",
}

// Kinds returns every kind, sorted.
func Kinds() []Kind { return slices.Sorted(maps.Keys(kinds)) }

// About says what values of the kind are, in markdown.
func (k Kind) About() string { return kinds[k] }
